-- A 15 s TUMBLE count per page over a CSV of `page,timestamp_ms` lines: the benchmark of
-- bench/sql/tumble.sh (Weir and Flink run this same text). ${INPUT} is the CSV file, ${OUT}
-- the directory the counts are written to.
CREATE TABLE clicks (
  page STRING,
  ts_ms BIGINT,
  ts AS TO_TIMESTAMP_LTZ(ts_ms, 3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${INPUT}', 'format' = 'csv');

CREATE TABLE counts (
  page STRING,
  window_start TIMESTAMP(3),
  window_end TIMESTAMP(3),
  cnt BIGINT
) WITH ('connector' = 'filesystem', 'path' = '${OUT}', 'format' = 'csv');

INSERT INTO counts
SELECT page, window_start, window_end, COUNT(*) AS cnt
FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '15' SECONDS))
GROUP BY page, window_start, window_end;
