-- RANK() and DENSE_RANK() Top-N in batch mode (Flink refuses them in streaming mode): rows of
-- equal amount share a rank; RANK() skips the ranks they used, DENSE_RANK() does not. With
-- and without the rank column, bounded above or on both sides, over an insert-only or an
-- updating input (a GROUP BY, whose updates move rows between ranks). Fruit and veg each
-- have a tie.
-- mode: batch
CREATE TABLE sales (
  id INT,
  category STRING,
  product STRING,
  amount INT,
  ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/sales.csv', 'format' = 'csv');

SELECT * FROM (
  SELECT category, product, amount,
    RANK() OVER (PARTITION BY category ORDER BY amount DESC) AS r
  FROM sales)
WHERE r <= 3;

SELECT * FROM (
  SELECT category, product, amount,
    DENSE_RANK() OVER (PARTITION BY category ORDER BY amount DESC) AS r
  FROM sales)
WHERE r <= 3;

SELECT category, product, amount FROM (
  SELECT category, product, amount,
    RANK() OVER (PARTITION BY category ORDER BY amount DESC) AS r
  FROM sales)
WHERE r <= 2;

SELECT category, product FROM (
  SELECT *, DENSE_RANK() OVER (PARTITION BY category ORDER BY amount) AS r FROM sales)
WHERE r BETWEEN 2 AND 3;

SELECT * FROM (
  SELECT category, product, total,
    RANK() OVER (PARTITION BY category ORDER BY total DESC) AS r
  FROM (SELECT category, product, SUM(amount) AS total FROM sales GROUP BY category, product))
WHERE r <= 2;
