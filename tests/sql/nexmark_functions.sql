-- What the Nexmark queries need beyond projections and filters: Flink's HOUR,
-- REGEXP_EXTRACT and SPLIT_INDEX, CHAR_LENGTH/REPLACE, and aggregate calls with
-- FILTER (WHERE ...), plain and DISTINCT (q14, q15-q17, q21, q22).
-- compare: final
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
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/nexmark.csv', 'format' = 'csv');

CREATE VIEW bid AS
SELECT bid.auction, bid.bidder, bid.price, bid.channel, bid.url, `dateTime`, bid.extra
FROM nexmark WHERE event_type = 2;

SELECT auction, HOUR(`dateTime`) AS h,
       SPLIT_INDEX(url, '/', 1) AS empty_part, SPLIT_INDEX(url, '/', 3) AS dir1,
       SPLIT_INDEX(url, '/', 7) AS missing,
       REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2) AS channel_id,
       REGEXP_EXTRACT(url, 'item\.(htm)', 1) AS ext,
       REGEXP_EXTRACT(channel, 'o+') AS os,
       CAST(CHAR_LENGTH(url) - CHAR_LENGTH(REPLACE(url, 'm', '')) AS BIGINT) AS m_counts
FROM bid;

SELECT auction,
       COUNT(*) AS total,
       COUNT(*) FILTER (WHERE price < 1000) AS cheap,
       COUNT(DISTINCT bidder) FILTER (WHERE price >= 900) AS rich_bidders,
       SUM(price) FILTER (WHERE channel = 'Google') AS google_sum,
       MAX(price) FILTER (WHERE price < 1000) AS max_cheap
FROM bid
GROUP BY auction;

SELECT window_start, COUNT(*) FILTER (WHERE bidder = 1001) AS by_1001
FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
GROUP BY window_start, window_end;
