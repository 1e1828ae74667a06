-- The seeds' CDN log statistics (PyFlink's cdn_demo.py) in Flink SQL: per province, the
-- number of accesses, the bytes downloaded and the average download speed, from access logs
-- "uuid,client_ip,request_time,response_size,uri". The province comes from the Rust scalar
-- UDF ip_to_province (registered by src/bin/cdn_log_statistics.rs). The seed reads Kafka
-- and writes MySQL; here the log is a CSV file (${INPUT}) and the statistics, an updating
-- result keyed by province, are printed as Flink's SQL client prints them.

CREATE TABLE cdn_access_log (
    uuid          VARCHAR,
    client_ip     VARCHAR,
    request_time  BIGINT,
    response_size BIGINT,
    uri           VARCHAR
) WITH (
    'connector' = 'filesystem',
    'path' = '${INPUT}',
    'format' = 'csv'
);

SELECT province,
       COUNT(uuid) AS access_count,
       SUM(response_size) AS total_download,
       SUM(response_size) * 1.0 / SUM(request_time) AS download_speed
FROM (
    SELECT uuid, ip_to_province(client_ip) AS province, response_size, request_time
    FROM cdn_access_log
)
GROUP BY province;
