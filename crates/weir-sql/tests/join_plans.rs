//! How joins are planned: `EXPLAIN` names the join operator, its join type, key and
//! condition, and the hash exchange of each input on its key; a condition that bounds two
//! event-time attributes makes an interval join, anything else a regular join.

mod support;

use support::{assert_contains, run_after};
use weir_core::config::Configuration;
use weir_sql::{SqlError, TableEnvironment};

const TABLES: &str = "CREATE TABLE orders (id INT, customer STRING, amount INT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/orders.csv', 'format' = 'csv');
CREATE TABLE shipments (order_id INT, ship_ts TIMESTAMP(3),
  WATERMARK FOR ship_ts AS ship_ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/shipments.csv', 'format' = 'csv');
CREATE TABLE customers (name STRING, city STRING, tier INT)
WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/customers.csv', 'format' = 'csv');
CREATE TABLE plain_shipments (order_id INT, ship_ts TIMESTAMP(3))
WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/shipments.csv', 'format' = 'csv');";

fn run(statements: &str) -> Result<String, SqlError> {
    run_after(TABLES, statements)
}

#[test]
fn explain_shows_a_regular_join_with_an_exchange_per_input() {
    let out = run(
        "EXPLAIN SELECT o.id, c.city FROM orders o LEFT JOIN customers c \
                   ON o.customer = c.name AND o.amount > c.tier;",
    )
    .unwrap();
    assert_contains(
        &out,
        &[
            "Join(joinType=[LeftOuterJoin], where=[customer = name AND o.amount > c.tier]",
            "Exchange(distribution=[hash[customer]])",
            "Exchange(distribution=[hash[name]])",
        ],
    );
}

#[test]
fn explain_shows_an_interval_join_with_its_bounds() {
    let out = run("EXPLAIN SELECT o.id, s.ship_ts FROM orders o, shipments s \
                   WHERE o.id = s.order_id AND s.ship_ts BETWEEN o.ts AND o.ts + INTERVAL '10' SECOND;")
    .unwrap();
    assert_contains(
        &out,
        &[
            "IntervalJoin(joinType=[InnerJoin], windowBounds=[isRowTime=true, \
             leftLowerBound=-10000, leftUpperBound=0, leftTimeIndex=3, rightTimeIndex=1]",
            "Exchange(distribution=[hash[id]])",
            "Exchange(distribution=[hash[order_id]])",
        ],
    );
}

#[test]
fn bounds_on_timestamps_that_are_not_time_attributes_make_a_regular_join() {
    let out = run(
        "EXPLAIN SELECT o.id FROM orders o JOIN plain_shipments s ON o.id = s.order_id \
                   AND s.ship_ts BETWEEN o.ts AND o.ts + INTERVAL '10' SECOND;",
    )
    .unwrap();
    assert!(out.contains("Join(joinType=[InnerJoin]"), "{out}");
    assert!(!out.contains("IntervalJoin"), "{out}");
}

#[test]
fn a_join_without_equality_runs_on_one_subtask() {
    let out = run("EXPLAIN SELECT o.id, c.name FROM orders o CROSS JOIN customers c;").unwrap();
    assert_contains(
        &out,
        &[
            "Join(joinType=[InnerJoin], where=[true]",
            "Exchange(distribution=[single])",
        ],
    );
}

#[test]
fn window_tvfs_joined_on_their_windows_make_a_window_join() {
    let out = run("EXPLAIN SELECT L.id, R.ship_ts FROM \
        (SELECT * FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '10' SECOND))) L \
        JOIN (SELECT * FROM TABLE(TUMBLE(TABLE shipments, DESCRIPTOR(ship_ts), INTERVAL '10' SECOND))) R \
        ON L.window_start = R.window_start AND L.window_end = R.window_end AND L.id = R.order_id;")
    .unwrap();
    assert_contains(
        &out,
        &[
            "WindowJoin(joinType=[InnerJoin], where=[window_start = window_start AND window_end = window_end AND id = order_id]",
            "WindowTableFunction(window=[TUMBLE(time_col=[ship_ts]",
        ],
    );
}

#[test]
fn a_temporal_join_is_refused_with_its_position() {
    let mut env = TableEnvironment::new(Configuration::new());
    let Err(err) = env.execute_sql(
        "SELECT o.id, c.city FROM orders o\n  JOIN customers FOR SYSTEM_TIME AS OF o.ts AS c ON o.customer = c.name",
    ) else {
        panic!("a temporal join was accepted");
    };
    let err = err.to_string();
    assert!(
        err.contains("temporal joins (FOR SYSTEM_TIME AS OF) are not supported"),
        "{err}"
    );
    assert!(err.contains("line 2, column 18"), "{err}");
}
