-- Window table-valued functions over the Bid table of Flink's documentation: TUMBLE, HOP
-- and CUMULATE aggregations (one row per window, emitted when the watermark passes).
-- compare: multiset
CREATE TABLE Bid (
  bidtime TIMESTAMP(3),
  price DECIMAL(10, 2),
  item STRING,
  supplier_id STRING,
  WATERMARK FOR bidtime AS bidtime - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/bids.csv', 'format' = 'csv');

SELECT window_start, window_end, SUM(price) AS total_price
FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
GROUP BY window_start, window_end;

SELECT window_start, window_end, SUM(price) AS total_price
FROM TABLE(HOP(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES, INTERVAL '10' MINUTES))
GROUP BY window_start, window_end;

SELECT window_start, window_end, SUM(price) AS total_price
FROM TABLE(CUMULATE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES, INTERVAL '10' MINUTES))
GROUP BY window_start, window_end;

SELECT window_start, window_end, supplier_id, COUNT(*) AS bids, MAX(price) AS top
FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
GROUP BY window_start, window_end, supplier_id;

SELECT bidtime, price, item, window_start, window_end, window_time
FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES));

-- Cascading window aggregation (Flink's documentation): 5-minute sums per supplier in a
-- view, whose window_time is the time attribute of 10-minute windows over them.
CREATE VIEW window1 AS
SELECT window_start AS window_5mintumble_start, window_end AS window_5mintumble_end,
       window_time AS rowtime, SUM(price) AS partial_price
FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES))
GROUP BY supplier_id, window_start, window_end, window_time;

SELECT window_start, window_end, SUM(partial_price) AS total_price
FROM TABLE(TUMBLE(TABLE window1, DESCRIPTOR(rowtime), INTERVAL '10' MINUTES))
GROUP BY window_start, window_end;

-- A window aggregation's window_time stays an event-time attribute: session windows per
-- supplier over its 2-minute sums.
CREATE VIEW window2 AS
SELECT supplier_id, window_start AS small_start, window_time AS rowtime, SUM(price) AS partial_price
FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES))
GROUP BY supplier_id, window_start, window_end, window_time;

SELECT supplier_id, window_start, window_end, SUM(partial_price) AS total_price, COUNT(*) AS windows
FROM TABLE(SESSION(TABLE window2 PARTITION BY supplier_id, DESCRIPTOR(rowtime), INTERVAL '5' MINUTES))
GROUP BY supplier_id, window_start, window_end;
