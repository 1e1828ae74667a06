-- Non-windowed aggregations under Flink's mini-batch and two-phase switches: the same
-- queries without mini-batch, with mini-batch in one phase, and with mini-batch in two phases
-- (a local pre-aggregation, then a global one merging its partial accumulators), at
-- parallelism 2, with COUNT/SUM/MIN/MAX, DISTINCT and FILTER, over an updating input (an
-- aggregate of an aggregate: retractions, and groups that disappear) and without keys.
-- Mini-batches of 7 rows end within the input. Intermediate changes depend on batching and
-- on the interleaving of the subtasks, so the final results are compared.
-- compare: final
SET 'parallelism.default' = '2';

CREATE TABLE readings (
  id INT,
  sensor STRING,
  v INT
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/readings.csv', 'format' = 'csv');

-- 1. Without mini-batch.
SELECT sensor, COUNT(*) AS n, SUM(v) AS total, MIN(v) AS lo, MAX(v) AS hi,
  COUNT(DISTINCT v) AS dv, COUNT(*) FILTER (WHERE v > 50) AS big,
  COUNT(DISTINCT v) FILTER (WHERE v < 30) AS small_dv
FROM readings GROUP BY sensor;

SELECT n, COUNT(*) AS sensors, MIN(lo) AS lo, MAX(hi) AS hi, COUNT(DISTINCT hi) AS his,
  SUM(total) AS total
FROM (SELECT sensor, COUNT(*) AS n, MIN(v) AS lo, MAX(v) AS hi, SUM(v) AS total
      FROM readings WHERE id % 10 <> 3 GROUP BY sensor)
GROUP BY n;

SELECT COUNT(*) AS n, COUNT(DISTINCT sensor) AS sensors, SUM(v) AS total, MAX(v) AS hi
FROM readings;

SELECT DISTINCT sensor, v FROM readings WHERE v < 2;

-- 2. Mini-batch, one phase.
SET 'table.exec.mini-batch.enabled' = 'true';
SET 'table.exec.mini-batch.allow-latency' = '10 s';
SET 'table.exec.mini-batch.size' = '7';
SET 'table.optimizer.agg-phase-strategy' = 'ONE_PHASE';

SELECT sensor, COUNT(*) AS n, SUM(v) AS total, MIN(v) AS lo, MAX(v) AS hi,
  COUNT(DISTINCT v) AS dv, COUNT(*) FILTER (WHERE v > 50) AS big,
  COUNT(DISTINCT v) FILTER (WHERE v < 30) AS small_dv
FROM readings GROUP BY sensor;

SELECT n, COUNT(*) AS sensors, MIN(lo) AS lo, MAX(hi) AS hi, COUNT(DISTINCT hi) AS his,
  SUM(total) AS total
FROM (SELECT sensor, COUNT(*) AS n, MIN(v) AS lo, MAX(v) AS hi, SUM(v) AS total
      FROM readings WHERE id % 10 <> 3 GROUP BY sensor)
GROUP BY n;

SELECT COUNT(*) AS n, COUNT(DISTINCT sensor) AS sensors, SUM(v) AS total, MAX(v) AS hi
FROM readings;

SELECT DISTINCT sensor, v FROM readings WHERE v < 2;

-- 3. Mini-batch, two phases.
SET 'table.optimizer.agg-phase-strategy' = 'TWO_PHASE';

SELECT sensor, COUNT(*) AS n, SUM(v) AS total, MIN(v) AS lo, MAX(v) AS hi,
  COUNT(DISTINCT v) AS dv, COUNT(*) FILTER (WHERE v > 50) AS big,
  COUNT(DISTINCT v) FILTER (WHERE v < 30) AS small_dv
FROM readings GROUP BY sensor;

SELECT n, COUNT(*) AS sensors, MIN(lo) AS lo, MAX(hi) AS hi, COUNT(DISTINCT hi) AS his,
  SUM(total) AS total
FROM (SELECT sensor, COUNT(*) AS n, MIN(v) AS lo, MAX(v) AS hi, SUM(v) AS total
      FROM readings WHERE id % 10 <> 3 GROUP BY sensor)
GROUP BY n;

SELECT COUNT(*) AS n, COUNT(DISTINCT sensor) AS sensors, SUM(v) AS total, MAX(v) AS hi
FROM readings;

SELECT DISTINCT sensor, v FROM readings WHERE v < 2;
