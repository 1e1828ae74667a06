-- Regular inner joins of insert-only tables, on two parallel subtasks: every result row is an
-- insert, whatever the order in which the two inputs arrive.
-- compare: multiset
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

CREATE VIEW big_orders AS SELECT id, customer, amount FROM orders WHERE amount >= 5;

SELECT o.id, o.customer, c.city FROM orders o JOIN customers c ON o.customer = c.name;

SELECT o.id, c.city, c.tier FROM orders o INNER JOIN customers c
  ON o.customer = c.name AND o.amount > c.tier * 4;

SELECT o.id, c.city FROM orders o, customers c WHERE o.customer = c.name AND c.tier = 1;

SELECT o.id, c.city, t.label FROM big_orders o
  JOIN customers c ON o.customer = c.name
  JOIN tiers t ON c.tier = t.tier;

SELECT a.id AS first_id, b.id AS later_id, a.customer FROM orders a
  JOIN orders b ON a.customer = b.customer AND a.id < b.id;

SELECT o.id, x.city FROM orders o
  JOIN (SELECT UPPER(name) AS uname, city FROM customers WHERE tier IS NOT NULL) x
  ON UPPER(o.customer) = x.uname;

SELECT c.name, t.label FROM customers c JOIN tiers t ON c.tier = t.tier;

SELECT o.id, t.label FROM orders o JOIN tiers t ON o.amount < t.tier * 3;
