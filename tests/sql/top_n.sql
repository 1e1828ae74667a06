-- Top-N (ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...) filtered by the row number):
-- an updating result. With the row number selected, a row that enters the top N shifts the
-- rows after it (-U/+U per row number); without it, the row pushed out is deleted and the new
-- one inserted. Equal amounts keep their arrival order. Over an updating input (a GROUP BY),
-- a retracted row lets the next one into the top N. Parallelism 1 over one file: Flink's
-- order is deterministic.
-- compare: changelog
CREATE TABLE sales (
  id INT,
  category STRING,
  product STRING,
  amount INT,
  ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/sales.csv', 'format' = 'csv');

SELECT * FROM (
  SELECT category, product, amount,
    ROW_NUMBER() OVER (PARTITION BY category ORDER BY amount DESC) AS rownum
  FROM sales)
WHERE rownum <= 2;

SELECT category, product, amount FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY category ORDER BY amount DESC) AS rownum
  FROM sales)
WHERE rownum < 3;

SELECT id, amount, rn FROM (
  SELECT id, amount, ROW_NUMBER() OVER (ORDER BY amount ASC, id DESC) AS rn FROM sales) t
WHERE rn <= 3 AND amount > 1;

SELECT * FROM (
  SELECT category, product, total,
    ROW_NUMBER() OVER (PARTITION BY category ORDER BY total DESC) AS rownum
  FROM (SELECT category, product, SUM(amount) AS total FROM sales GROUP BY category, product))
WHERE rownum <= 2;

SELECT category, product, total FROM (
  SELECT category, product, total,
    ROW_NUMBER() OVER (PARTITION BY category ORDER BY total DESC) AS rownum
  FROM (SELECT category, product, SUM(amount) AS total FROM sales GROUP BY category, product))
WHERE rownum = 1;
