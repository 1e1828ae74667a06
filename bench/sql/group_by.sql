-- GROUP BY k over generated rows: the benchmark of bench/sql/run.sh (Weir and Flink run this
-- same text). ${ROWS} rows, ids 1..ROWS, k = id % ${KEYS}.
CREATE TABLE src (
  id BIGINT,
  k AS id % ${KEYS}
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '1000000000',
  'fields.id.kind' = 'sequence',
  'fields.id.start' = '1',
  'fields.id.end' = '${ROWS}'
);

CREATE TABLE sink (k BIGINT, c BIGINT, s BIGINT) WITH ('connector' = 'blackhole');

INSERT INTO sink SELECT k, COUNT(*) AS c, SUM(id) AS s FROM src GROUP BY k;
