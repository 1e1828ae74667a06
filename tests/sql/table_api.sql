-- The SQL that the Table API writes for the programs of crates/weir-sql/tests/table_api.rs
-- (flink_checked_programs; that test checks the statements below are exactly what the programs
-- produce, and their results against this file's Flink output): group windows with their
-- bounds, an updating aggregation, a join with its condition in `where`, a left outer join,
-- and a distinct union, over derived tables as the Table API nests them.
-- compare: final
CREATE TABLE Orders (id INT, customer STRING, amount INT, order_time TIMESTAMP(3), WATERMARK FOR order_time AS order_time - INTERVAL '1' SECOND) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/orders.csv', 'format' = 'csv');

SELECT `customer`, TUMBLE_START(`order_time`, INTERVAL '10' SECOND) AS `window_start`, TUMBLE_END(`order_time`, INTERVAL '10' SECOND) AS `window_end`, SUM(`amount`) AS `total`, COUNT(`id`) AS `n` FROM (SELECT * FROM `Orders`) AS t GROUP BY TUMBLE(`order_time`, INTERVAL '10' SECOND), `customer`;

SELECT HOP_END(`order_time`, INTERVAL '5' SECOND, INTERVAL '10' SECOND) AS `window_end`, MAX(`amount`) AS `top` FROM (SELECT * FROM `Orders`) AS t GROUP BY HOP(`order_time`, INTERVAL '5' SECOND, INTERVAL '10' SECOND);

SELECT `customer`, MIN(`amount`) AS `low`, COUNT(DISTINCT `id`) AS `ids` FROM (SELECT * FROM `Orders`) AS t GROUP BY `customer`;

SELECT `id`, `big_id`, (`amount` + 1) AS `amount1` FROM (SELECT * FROM (SELECT * FROM `Orders`) AS l JOIN (SELECT `id` AS `big_id`, `customer` AS `big_customer` FROM (SELECT * FROM (SELECT * FROM `Orders`) AS t WHERE (`amount` >= 7)) AS t) AS r ON (`customer` = `big_customer`)) AS t;

SELECT `id`, `big_customer` FROM (SELECT * FROM (SELECT * FROM `Orders`) AS l LEFT JOIN (SELECT `id` AS `big_id`, `customer` AS `big_customer` FROM (SELECT * FROM (SELECT * FROM `Orders`) AS t WHERE (`amount` >= 7)) AS t) AS r ON (`id` = `big_id`)) AS t;

SELECT DISTINCT * FROM (SELECT * FROM (SELECT `customer` FROM (SELECT * FROM `Orders`) AS t) AS a UNION ALL SELECT * FROM (SELECT `big_customer` FROM (SELECT `id` AS `big_id`, `customer` AS `big_customer` FROM (SELECT * FROM (SELECT * FROM `Orders`) AS t WHERE (`amount` >= 7)) AS t) AS t) AS b) AS t;

