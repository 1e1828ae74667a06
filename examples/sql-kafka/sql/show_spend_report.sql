-- The records of the `spend_report` topic, in the order the report wrote them: every update
-- of an (account, hour) is a new record under the same key; the last one is the current
-- amount (what a compacted topic keeps).

CREATE TABLE spend_report_records (
    account_id BIGINT,
    log_ts     TIMESTAMP(3),
    amount     BIGINT
) WITH (
    'connector' = 'kafka',
    'topic' = 'spend_report',
    'properties.bootstrap.servers' = '${BOOTSTRAP}',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = 'latest-offset',
    'value.format' = 'json'
);

SELECT * FROM spend_report_records;
