-- Interval joins on event time: rows of the same key whose times are within the bounds join
-- (an insert-only result); outer interval joins emit a row padded with NULLs once the
-- watermark shows that it can no longer find a match. Both files are in time order, so no row
-- is late and the result is deterministic.
-- compare: multiset
CREATE TABLE orders (
  id INT,
  customer STRING,
  amount INT,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/orders.csv', 'format' = 'csv');

CREATE TABLE shipments (
  order_id INT,
  ship_ts TIMESTAMP(3),
  WATERMARK FOR ship_ts AS ship_ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/shipments.csv', 'format' = 'csv');

SELECT o.id, o.customer, o.ts, s.ship_ts FROM orders o JOIN shipments s
  ON o.id = s.order_id AND s.ship_ts BETWEEN o.ts AND o.ts + INTERVAL '10' SECOND;

SELECT o.id, s.ship_ts FROM orders o, shipments s
  WHERE o.id = s.order_id AND o.ts >= s.ship_ts - INTERVAL '5' SECOND AND o.ts < s.ship_ts;

SELECT o.id, o.amount, s.ship_ts FROM orders o JOIN shipments s
  ON o.id = s.order_id AND o.amount > 4
  AND o.ts BETWEEN s.ship_ts - INTERVAL '10' SECOND AND s.ship_ts;

SELECT o.id, s.ship_ts FROM orders o LEFT JOIN shipments s
  ON o.id = s.order_id AND s.ship_ts BETWEEN o.ts AND o.ts + INTERVAL '10' SECOND;

SELECT o.id, s.order_id, s.ship_ts FROM orders o FULL JOIN shipments s
  ON o.id = s.order_id AND s.ship_ts > o.ts AND s.ship_ts <= o.ts + INTERVAL '5' SECOND;

CREATE VIEW shipped AS SELECT o.id, o.ts, s.ship_ts FROM orders o, shipments s
  WHERE o.id = s.order_id AND s.ship_ts BETWEEN o.ts AND o.ts + INTERVAL '10' SECOND;

SELECT window_start, window_end, COUNT(*) AS shipped
FROM TABLE(TUMBLE(TABLE shipped, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end;
