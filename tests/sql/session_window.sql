-- Session window TVFs (SESSION(TABLE t [PARTITION BY k], DESCRIPTOR(ts), gap)) aggregated once
-- per session when the watermark passes its end. data/clicks.csv arrives out of order with
-- watermarks 10 minutes behind: alice's 08:07:30 click comes after her 08:12 click and bridges
-- her two sessions into one; carol's clicks 5 minutes apart touch and make one session; bob's
-- 08:05:30 click comes after his first session fired and opens a new one; bob's 08:02 and
-- 08:16 clicks are late (their sessions fired) and dropped. The last queries are the examples
-- of Flink's documentation (window aggregation over the Bid table).
-- compare: multiset
CREATE TABLE clicks (
  name STRING,
  url STRING,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '10' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/clicks.csv', 'format' = 'csv');

CREATE TABLE Bid (
  bidtime TIMESTAMP(3),
  price DECIMAL(10, 2),
  item STRING,
  supplier_id STRING,
  WATERMARK FOR bidtime AS bidtime - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/bids.csv', 'format' = 'csv');

CREATE VIEW page_clicks AS SELECT name, url, ts FROM clicks WHERE url <> '/help';

SELECT window_start, window_end, name, COUNT(*) AS clicks, COUNT(DISTINCT url) AS pages,
  MIN(url) AS first_url, MAX(ts) AS last_click
FROM TABLE(SESSION(TABLE clicks PARTITION BY name, DESCRIPTOR(ts), INTERVAL '5' MINUTES))
GROUP BY window_start, window_end, name;

SELECT window_start, window_end, COUNT(*) AS clicks
FROM TABLE(SESSION(TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' MINUTES))
GROUP BY window_start, window_end;

SELECT name, window_end, window_start, COUNT(*) AS clicks
FROM TABLE(SESSION(TABLE page_clicks PARTITION BY (name), DESCRIPTOR(ts), INTERVAL '3' MINUTES))
GROUP BY name, window_end, window_start;

SELECT window_start, window_end, supplier_id, SUM(price) AS total_price
FROM TABLE(SESSION(TABLE Bid PARTITION BY supplier_id, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES))
GROUP BY window_start, window_end, supplier_id;

SELECT window_start, window_end, SUM(price) AS total_price
FROM TABLE(SESSION(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES))
GROUP BY window_start, window_end;
