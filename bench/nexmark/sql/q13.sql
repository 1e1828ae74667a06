-- Q13 Bounded side input join: bids enriched with a value from a fixed side table keyed by
-- auction mod 10,000. The reference joins `FOR SYSTEM_TIME AS OF` a processing-time
-- attribute (`p_time AS PROCTIME()`), which Flink 2.3 refuses on a filesystem table (not a
-- lookup source): "Temporal Table Join requires primary key in versioned table" without a
-- key, "Processing-time temporal join is not supported yet" with one (checked 2026-11-23).
-- With a side input that never changes, a regular join gives the same rows.
-- Variable: ${SIDE_INPUT_PATH} (CSV lines `key,value`).
CREATE TABLE side_input (key BIGINT, `value` VARCHAR) WITH (
    'connector' = 'filesystem', 'path' = '${SIDE_INPUT_PATH}', 'format' = 'csv'
);

CREATE TABLE nexmark_q13 (
    auction BIGINT, bidder BIGINT, price BIGINT, `dateTime` TIMESTAMP(3), `value` VARCHAR
) WITH (${SINK});

INSERT INTO nexmark_q13
SELECT B.auction, B.bidder, B.price, B.`dateTime`, S.`value`
FROM bid AS B
JOIN side_input AS S ON MOD(B.auction, 10000) = S.key;
