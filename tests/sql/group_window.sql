-- Legacy group windows: GROUP BY TUMBLE(ts, size) / HOP(ts, slide, size) / SESSION(ts, gap)
-- with the _START, _END and _ROWTIME functions, over the Bid table of Flink's documentation,
-- the out-of-order clicks of session_window.sql (late rows dropped), the example of Flink's
-- documentation (group window aggregation over Orders) and Nexmark's q11 over nested rows.
-- They give the same results as the window TVFs.
-- compare: multiset
CREATE TABLE Bid (
  bidtime TIMESTAMP(3),
  price DECIMAL(10, 2),
  item STRING,
  supplier_id STRING,
  WATERMARK FOR bidtime AS bidtime - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/bids.csv', 'format' = 'csv');

CREATE TABLE clicks (
  name STRING,
  url STRING,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '10' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/clicks.csv', 'format' = 'csv');

CREATE TABLE Orders (
  id INT,
  customer STRING,
  amount INT,
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '1' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/orders.csv', 'format' = 'csv');

CREATE TABLE nexmark (
    event_type INT,
    person ROW<id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR, city VARCHAR,
        state VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR>,
    auction ROW<id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT,
        reserve BIGINT, `dateTime` TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT,
        category BIGINT, extra VARCHAR>,
    bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
        `dateTime` TIMESTAMP(3), extra VARCHAR>,
    `dateTime` AS CASE
        WHEN event_type = 0 THEN person.`dateTime`
        WHEN event_type = 1 THEN auction.`dateTime`
        ELSE bid.`dateTime`
    END,
    WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/nexmark.json', 'format' = 'json');

CREATE VIEW bid AS
SELECT bid.auction, bid.bidder, bid.price, bid.channel, bid.url, `dateTime`, bid.extra
FROM nexmark WHERE event_type = 2;

SELECT TUMBLE_START(bidtime, INTERVAL '10' MINUTE) AS wstart,
  TUMBLE_END(bidtime, INTERVAL '10' MINUTE) AS wend,
  TUMBLE_ROWTIME(bidtime, INTERVAL '10' MINUTE) AS rt, SUM(price) AS total
FROM Bid GROUP BY TUMBLE(bidtime, INTERVAL '10' MINUTE);

SELECT supplier_id, HOP_START(bidtime, INTERVAL '5' MINUTE, INTERVAL '10' MINUTE) AS wstart,
  HOP_END(bidtime, INTERVAL '5' MINUTE, INTERVAL '10' MINUTE) AS wend,
  HOP_ROWTIME(bidtime, INTERVAL '5' MINUTE, INTERVAL '10' MINUTE) AS rt,
  COUNT(*) AS bids, SUM(price) AS total
FROM Bid GROUP BY HOP(bidtime, INTERVAL '5' MINUTE, INTERVAL '10' MINUTE), supplier_id;

SELECT supplier_id, SESSION_START(bidtime, INTERVAL '2' MINUTE) AS wstart,
  SESSION_END(bidtime, INTERVAL '2' MINUTE) AS wend,
  SESSION_ROWTIME(bidtime, INTERVAL '2' MINUTE) AS rt, MAX(price) AS top
FROM Bid GROUP BY supplier_id, SESSION(bidtime, INTERVAL '2' MINUTE);

SELECT name, SESSION_START(ts, INTERVAL '5' MINUTE) AS s, SESSION_END(ts, INTERVAL '5' MINUTE) AS e,
  SESSION_ROWTIME(ts, INTERVAL '5' MINUTE) AS rt, COUNT(*) AS clicks
FROM clicks GROUP BY name, SESSION(ts, INTERVAL '5' MINUTE);

SELECT name, TUMBLE_END(ts, INTERVAL '5' MINUTE) AS wend, COUNT(*) AS clicks, MAX(url) AS last_url
FROM clicks WHERE url <> '/help'
GROUP BY TUMBLE(ts, INTERVAL '5' MINUTE), name HAVING COUNT(*) >= 1;

SELECT customer, TUMBLE_START(order_time, INTERVAL '1' DAY) AS wStart, SUM(amount) AS total
FROM Orders GROUP BY TUMBLE(order_time, INTERVAL '1' DAY), customer;

SELECT B.bidder, COUNT(*) AS bid_count,
       SESSION_START(B.`dateTime`, INTERVAL '10' SECOND) AS starttime,
       SESSION_END(B.`dateTime`, INTERVAL '10' SECOND) AS endtime
FROM bid AS B
GROUP BY B.bidder, SESSION(B.`dateTime`, INTERVAL '10' SECOND);
