-- Input for the spend report: 200 random transactions of accounts 1 to 5 over the last
-- three hours, written as CSV to the `transactions` topic.

CREATE TABLE generated (
    account_id       BIGINT,
    amount           BIGINT,
    transaction_time TIMESTAMP(3)
) WITH (
    'connector' = 'datagen',
    'number-of-rows' = '200',
    'fields.account_id.min' = '1',
    'fields.account_id.max' = '5',
    'fields.amount.min' = '1',
    'fields.amount.max' = '1000',
    'fields.transaction_time.max-past' = '10800000'
);

CREATE TABLE transactions (
    account_id       BIGINT,
    amount           BIGINT,
    transaction_time TIMESTAMP(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'transactions',
    'properties.bootstrap.servers' = '${BOOTSTRAP}',
    'format' = 'csv'
);

INSERT INTO transactions SELECT * FROM generated;
