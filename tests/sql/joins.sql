-- Regular joins with an updating result: outer joins (a row without a match is padded with
-- NULLs, retracted when a match arrives) and joins of updating inputs (aggregations). The
-- order in which Flink's two inputs arrive is not deterministic, so the final results are
-- compared (every retraction must remove a row emitted before). Two parallel subtasks.
-- compare: final
SET 'parallelism.default' = '2';

CREATE TABLE orders (
  id INT,
  customer STRING,
  amount INT,
  ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/orders.csv', 'format' = 'csv');

CREATE TABLE customers (
  name STRING,
  city STRING,
  tier INT
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/customers.csv', 'format' = 'csv',
        'csv.null-literal' = 'null');

CREATE TABLE tiers (
  tier INT,
  label STRING
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/tiers.csv', 'format' = 'csv');

SELECT o.id, o.amount, c.city FROM orders o LEFT JOIN customers c
  ON o.customer = c.name AND o.amount > c.tier * 4;

SELECT c.name, c.city, o.id FROM orders o RIGHT JOIN customers c ON o.customer = c.name;

SELECT o.id, c.name, c.city FROM orders o FULL OUTER JOIN customers c ON o.customer = c.name;

SELECT c.name, t.label FROM customers c LEFT JOIN tiers t ON c.tier = t.tier;

SELECT c.name, c.city, s.total FROM customers c
  JOIN (SELECT customer, SUM(amount) AS total FROM orders GROUP BY customer) s
  ON c.name = s.customer;

SELECT s.customer, s.cnt, c.city FROM
  (SELECT customer, COUNT(*) AS cnt FROM orders GROUP BY customer) s
  LEFT JOIN customers c ON s.customer = c.name AND c.tier < s.cnt;

SELECT a.customer, a.n, b.tier, b.m FROM
  (SELECT customer, COUNT(*) AS n FROM orders GROUP BY customer) a
  FULL JOIN (SELECT tier, COUNT(*) AS m FROM customers GROUP BY tier) b ON a.n = b.tier;

SELECT c.city, COUNT(*) AS n, SUM(o.amount) AS total FROM orders o
  LEFT JOIN customers c ON o.customer = c.name GROUP BY c.city;

SELECT o.id, c.city, t.label FROM orders o
  LEFT JOIN customers c ON o.customer = c.name
  LEFT JOIN tiers t ON c.tier = t.tier;
