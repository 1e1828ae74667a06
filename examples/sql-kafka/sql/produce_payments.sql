-- Input for payments per province: 200 random payments as JSON in the `payment_msg` topic.

CREATE TABLE generated (
    createTime  VARCHAR,
    orderId     BIGINT,
    payAmount   DOUBLE,
    payPlatform INT,
    provinceId  INT
) WITH (
    'connector' = 'datagen',
    'number-of-rows' = '200',
    'fields.createTime.length' = '8',
    'fields.orderId.kind' = 'sequence',
    'fields.orderId.start' = '1',
    'fields.orderId.end' = '200',
    'fields.payAmount.min' = '1',
    'fields.payAmount.max' = '500',
    'fields.payPlatform.min' = '0',
    'fields.payPlatform.max' = '1',
    'fields.provinceId.min' = '0',
    'fields.provinceId.max' = '6'
);

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
    'format' = 'json'
);

INSERT INTO payment_msg SELECT * FROM generated;
