-- DISTINCT, COUNT(DISTINCT ...) and UNION ALL.
-- compare: multiset
CREATE TABLE orders (
  id INT,
  customer STRING,
  amount INT,
  ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/orders.csv', 'format' = 'csv');

SELECT DISTINCT customer FROM orders;

SELECT COUNT(DISTINCT customer) AS customers FROM orders;

SELECT id, customer FROM orders WHERE amount > 9
UNION ALL
SELECT id * 100, customer FROM orders WHERE amount < 4;
