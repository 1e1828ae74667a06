-- Batch mode (execution.runtime-mode: batch) over bounded files: each query's result is its
-- final rows, printed without the op column: an updating aggregation, a retraction chain
-- and an outer join give their final rows only, and no row is late for a window (the
-- clicks at 10:00:06 and 10:00:09 would be dropped in streaming mode). Two subtasks.
-- mode: batch
SET 'parallelism.default' = '2';

CREATE TABLE orders (
  id INT,
  customer STRING,
  amount INT,
  ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/orders.csv', 'format' = 'csv');

CREATE TABLE customers (
  name STRING,
  city STRING,
  tier INT
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/customers.csv', 'format' = 'csv',
        'csv.null-literal' = 'null');

CREATE TABLE clicks (
  user_name STRING,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/late_clicks.csv', 'format' = 'csv');

SELECT customer, COUNT(*) AS cnt, SUM(amount) AS total, MIN(amount) AS lo, MAX(amount) AS hi
FROM orders GROUP BY customer;

SELECT cnt, COUNT(*) AS customers FROM (
  SELECT customer, COUNT(*) AS cnt FROM orders GROUP BY customer
) GROUP BY cnt;

SELECT o.id, o.customer, c.city FROM orders AS o LEFT JOIN customers AS c ON o.customer = c.name;

SELECT DISTINCT customer FROM orders;

SELECT window_start, window_end, COUNT(*) AS clicks
FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' SECONDS))
GROUP BY window_start, window_end;

SELECT user_name, COUNT(*) AS clicks FROM clicks WHERE ts > TIMESTAMP '2024-01-01 10:00:05'
GROUP BY user_name;
