-- Non-windowed GROUP BY: an updating changelog with retraction (-U/+U), and a retraction
-- chain (an aggregate over an aggregate). Parallelism 1 over one file: Flink's order is
-- deterministic.
-- compare: changelog
CREATE TABLE orders (
  id INT,
  customer STRING,
  amount INT,
  ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/orders.csv', 'format' = 'csv');

SELECT customer, COUNT(*) AS cnt, SUM(amount) AS total, MIN(amount) AS lo, MAX(amount) AS hi
FROM orders GROUP BY customer;

SELECT cnt, COUNT(*) AS customers FROM (
  SELECT customer, COUNT(*) AS cnt FROM orders GROUP BY customer
) GROUP BY cnt;

SELECT COUNT(*) AS n, SUM(amount) AS total FROM orders WHERE amount < 10;

-- AVG of an INT column is an INT (the sum divided by the count, truncated); of a DOUBLE, a DOUBLE.
SELECT customer, AVG(amount) AS avg_amount FROM orders GROUP BY customer;

SELECT customer, AVG(CAST(amount AS DOUBLE)) AS avg_exact FROM orders GROUP BY customer;
