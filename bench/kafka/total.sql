-- The clicks counted in the topic ${OUT} (committed results only), to check a benchmark run.
CREATE TABLE counts (
    window_start TIMESTAMP(3),
    page         INT,
    clicks       BIGINT
) WITH (
    'connector' = 'kafka',
    'topic' = '${OUT}',
    'properties.bootstrap.servers' = '${BOOTSTRAP}',
    'properties.group.id' = '${OUT}-check',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = 'latest-offset',
    'format' = 'json'
);

SELECT SUM(clicks) AS total FROM counts;
