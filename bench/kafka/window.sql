-- The benchmark job: clicks from Kafka, a count per page and 1 s tumbling event-time window,
-- JSON results to the topic ${OUT} with the sink's ${GUARANTEE} delivery guarantee. The
-- watermarks are generated per partition in the source (the clicks of one partition are in
-- order, the partitions are not in step). The job ends at the input topic's current end.
CREATE TABLE clicks (
    seq  BIGINT,
    page INT,
    ts   TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'clicks',
    'properties.bootstrap.servers' = '${BOOTSTRAP}',
    'properties.group.id' = '${OUT}',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = 'latest-offset',
    'format' = 'csv'
);

CREATE TABLE counts (
    window_start TIMESTAMP(3),
    page         INT,
    clicks       BIGINT
) WITH (
    'connector' = 'kafka',
    'topic' = '${OUT}',
    'properties.bootstrap.servers' = '${BOOTSTRAP}',
    'format' = 'json',
    'sink.delivery-guarantee' = '${GUARANTEE}',
    'sink.transactional-id-prefix' = '${OUT}'
);

INSERT INTO counts
SELECT window_start, page, COUNT(*)
FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' SECOND))
GROUP BY window_start, window_end, page;
