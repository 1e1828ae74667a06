-- Input of the Kafka benchmark: ${EVENTS} clicks, click `seq` at `seq` ms of event time (`ts`)
-- on one of six pages, written as CSV to the topic `clicks`.
CREATE TABLE generated (
    seq  BIGINT,
    page INT
) WITH (
    'connector' = 'datagen',
    'number-of-rows' = '${EVENTS}',
    'rows-per-second' = '1000000000',
    'fields.seq.kind' = 'sequence',
    'fields.seq.start' = '0',
    'fields.seq.end' = '${LAST}',
    'fields.page.min' = '1',
    'fields.page.max' = '6'
);

CREATE TABLE clicks (
    seq  BIGINT,
    page INT,
    ts   TIMESTAMP(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'clicks',
    'properties.bootstrap.servers' = '${BOOTSTRAP}',
    'format' = 'csv'
);

INSERT INTO clicks
SELECT seq, page, CAST(TO_TIMESTAMP_LTZ(seq, 3) AS TIMESTAMP(3)) FROM generated;
