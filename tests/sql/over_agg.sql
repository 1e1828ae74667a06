-- OVER aggregations: each input row once, with aggregates over the rows of its partition that
-- precede it in event time. data/over_events.csv arrives out of order with watermarks 2
-- seconds behind: a's 10:00:02 row comes after its 10:00:03 row and is put back in order;
-- a's 10:00:03 row (after 10:00:09) and b's 10:00:08 row (after 10:00:10) are late and
-- dropped; a has two rows at 10:00:05 and two at 10:00:16 (ties: ROWS counts them in arrival
-- order, RANGE takes both at once, RANK() and DENSE_RANK() give them one rank). In processing
-- time (pt) rows are aggregated in arrival order, late ones included. The last query runs at
-- parallelism 2.
-- compare: multiset
CREATE TABLE events (
  k STRING,
  v INT,
  ts TIMESTAMP(3),
  pt AS PROCTIME(),
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/over_events.csv', 'format' = 'csv');

SELECT k, v, ts,
  COUNT(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS cnt,
  SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS total,
  MIN(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS lo,
  MAX(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS hi
FROM events;

SELECT k, v, ts,
  COUNT(*) OVER w AS cnt,
  SUM(v) OVER w AS total,
  MAX(v) OVER w AS hi,
  AVG(CAST(v AS DOUBLE)) OVER w AS mean
FROM events
WINDOW w AS (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '3' SECOND PRECEDING AND CURRENT ROW);

SELECT k, v,
  SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_total
FROM events;

SELECT k, v,
  SUM(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_total,
  MIN(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS lo
FROM events;

SELECT k, v, COUNT(*) OVER (ORDER BY ts) AS seen, v * 2 + 1 AS w
FROM events WHERE v <> 4;

SELECT k, total * 10 AS scaled FROM (
  SELECT k, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS total
  FROM events)
WHERE total > 5;

SELECT k, v, ts, RANK() OVER w AS r, DENSE_RANK() OVER w AS dr, COUNT(*) OVER w AS c
FROM events WINDOW w AS (PARTITION BY k ORDER BY ts);

SELECT k, v, COUNT(*) OVER w AS arrived, SUM(v) OVER w AS last_two
FROM events WINDOW w AS (PARTITION BY k ORDER BY pt ROWS BETWEEN 1 PRECEDING AND CURRENT ROW);

SET 'parallelism.default' = '2';

SELECT k, v, ts,
  COUNT(*) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '4' SECOND PRECEDING AND CURRENT ROW) AS cnt,
  SUM(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '4' SECOND PRECEDING AND CURRENT ROW) AS total
FROM events;
