-- The json format (a missing field reads NULL) and the csv format with
-- 'csv.ignore-parse-errors' (bad lines are skipped); computed columns.
-- compare: multiset
CREATE TABLE events (
  `user` STRING,
  clicks INT,
  score DOUBLE,
  ok BOOLEAN,
  ts TIMESTAMP(3),
  doubled AS clicks * 2
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/events.json', 'format' = 'json');

SELECT `user`, clicks, score, ok, ts, doubled FROM events;

SELECT `user`, COUNT(*) AS n, SUM(clicks) AS clicks FROM events GROUP BY `user`;

CREATE TABLE fruit (
  id INT,
  name STRING,
  price DOUBLE
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/dirty.csv', 'format' = 'csv',
        'csv.ignore-parse-errors' = 'true');

SELECT id, name, price FROM fruit;
