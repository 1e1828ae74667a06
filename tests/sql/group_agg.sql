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
