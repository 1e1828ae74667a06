-- Projections, filters and scalar functions (DataFusion's and Flink's) over a CSV file.
-- compare: changelog
CREATE TABLE orders (
  id INT,
  customer STRING,
  amount INT,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/orders.csv', 'format' = 'csv');

SELECT id, UPPER(customer) AS c, amount * 2 AS doubled, amount + 0.5 AS plus_half
FROM orders WHERE amount > 4 AND customer <> 'carol';

SELECT id, CONCAT(customer, '-', CAST(id AS STRING)) AS tag,
       CASE WHEN amount >= 10 THEN 'big' ELSE 'small' END AS size,
       CHAR_LENGTH(customer) AS len, ABS(amount - 10) AS dist, MOD(amount, 3) AS m
FROM orders;

SELECT id, DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm') AS minute_text, FLOOR(ts TO MINUTE) AS floored,
       TO_TIMESTAMP_LTZ(1704103201000 + id, 3) AS ltz
FROM orders WHERE id <= 3;
