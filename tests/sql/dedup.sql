-- Deduplication (ROW_NUMBER() ordered by a time attribute, = 1, without the row number):
-- keeping the first row in processing time is insert-only; keeping the last row, or the first
-- in event time (an earlier row can arrive late, out of order), updates the result.
-- compare: changelog
CREATE TABLE sales (
  id INT,
  category STRING,
  product STRING,
  amount INT,
  ts TIMESTAMP(3),
  pt AS PROCTIME(),
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/sales.csv', 'format' = 'csv');

SELECT id, product, amount FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY product ORDER BY pt ASC) AS rn FROM sales)
WHERE rn = 1;

SELECT id, product, amount FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY product ORDER BY pt DESC) AS rn FROM sales)
WHERE rn = 1;

SELECT id, category, product, ts FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY category ORDER BY ts ASC) AS rn FROM sales)
WHERE rn = 1;

SELECT id, category, product, ts FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY category ORDER BY ts DESC) AS rn FROM sales)
WHERE rn <= 1;
