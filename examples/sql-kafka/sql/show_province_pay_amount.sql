-- The records of the `province_pay_amount` topic: every update of a province's total is a
-- new record under its key; the last one is the current total.

CREATE TABLE province_pay_amount_records (
    province   VARCHAR,
    pay_amount DOUBLE
) WITH (
    'connector' = 'kafka',
    'topic' = 'province_pay_amount',
    'properties.bootstrap.servers' = '${BOOTSTRAP}',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = 'latest-offset',
    'value.format' = 'json'
);

SELECT * FROM province_pay_amount_records;
