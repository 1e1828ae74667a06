-- The seed's PyFlink job `log_processing`: payment amounts summed per province, the
-- province's name coming from the scalar UDF `province_id_to_name` (registered by
-- src/bin/payments_by_province.rs). The seed writes to Elasticsearch (document id = the
-- province); here the sink is the upsert-kafka topic `province_pay_amount`, keyed by province.
-- The seed starts at 'latest-offset'; this reads the topic from its start to its current end.

CREATE TABLE payment_msg (
    createTime  VARCHAR,
    orderId     BIGINT,
    payAmount   DOUBLE,
    payPlatform INT,
    provinceId  INT
) WITH (
    'connector' = 'kafka',
    'topic' = 'payment_msg',
    'properties.bootstrap.servers' = '${BOOTSTRAP}',
    'properties.group.id' = 'test_3',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = 'latest-offset',
    'format' = 'json'
);

CREATE TABLE province_pay_amount (
    province   VARCHAR,
    pay_amount DOUBLE,
    PRIMARY KEY (province) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka',
    'topic' = 'province_pay_amount',
    'properties.bootstrap.servers' = '${BOOTSTRAP}',
    'key.format' = 'json',
    'value.format' = 'json'
);

INSERT INTO province_pay_amount
SELECT province, SUM(payAmount) AS pay_amount
FROM (SELECT province_id_to_name(provinceId) AS province, payAmount FROM payment_msg)
GROUP BY province;
