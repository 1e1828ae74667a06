-- The seed's SpendReport (Flink's Table API walkthrough) as SQL: the spend of every account
-- per hour, from the `transactions` topic. The seed writes the report to MySQL through JDBC;
-- here it goes to the upsert-kafka topic `spend_report`, keyed by (account_id, log_ts).
-- 'scan.bounded.mode' makes the job end at the topic's current end; without it the job
-- keeps reading, as the seed's does.

CREATE TABLE transactions (
    account_id       BIGINT,
    amount           BIGINT,
    transaction_time TIMESTAMP(3),
    WATERMARK FOR transaction_time AS transaction_time - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'transactions',
    'properties.bootstrap.servers' = '${BOOTSTRAP}',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = 'latest-offset',
    'format' = 'csv'
);

CREATE TABLE spend_report (
    account_id BIGINT,
    log_ts     TIMESTAMP(3),
    amount     BIGINT,
    PRIMARY KEY (account_id, log_ts) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka',
    'topic' = 'spend_report',
    'properties.bootstrap.servers' = '${BOOTSTRAP}',
    'key.format' = 'json',
    'value.format' = 'json'
);

INSERT INTO spend_report
SELECT account_id, FLOOR(transaction_time TO HOUR) AS log_ts, SUM(amount) AS amount
FROM transactions
GROUP BY account_id, FLOOR(transaction_time TO HOUR);
