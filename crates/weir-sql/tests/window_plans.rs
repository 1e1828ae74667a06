//! How session windows and legacy group windows are planned: `EXPLAIN` shows the window
//! assignment, the session or window aggregation and its hash exchange; a window over a
//! column that is not a time attribute, a session aggregation that does not group by its
//! `PARTITION BY` columns, and a session TVF outside an aggregation are refused with errors
//! that say what to change.

mod support;

use support::{assert_contains, run_after};
use weir_sql::SqlError;

const TABLES: &str = "CREATE TABLE clicks (name STRING, url STRING, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '10' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/clicks.csv', 'format' = 'csv');
CREATE TABLE plain_clicks (name STRING, url STRING, ts TIMESTAMP(3))
WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/clicks.csv', 'format' = 'csv');";

fn run(statements: &str) -> Result<String, SqlError> {
    run_after(TABLES, statements)
}

fn error_of(statements: &str) -> String {
    match run(statements) {
        Ok(out) => panic!("accepted:\n{out}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn explain_shows_a_session_window_aggregation() {
    let out = run(
        "EXPLAIN SELECT window_start, window_end, name, COUNT(*) AS n \
        FROM TABLE(SESSION(TABLE clicks PARTITION BY name, DESCRIPTOR(ts), INTERVAL '5' MINUTES)) \
        GROUP BY window_start, window_end, name;",
    )
    .unwrap();
    assert_contains(
        &out,
        &[
            "WindowAggregate(groupBy=[name], window=[SESSION(gap=[300000 ms])], \
             select=[name, window_start, window_end, count(*)], emit=[on watermark])",
            "Exchange(distribution=[hash[name]])",
            "WindowTableFunction(window=[SESSION(time_col=[ts], gap=[300000 ms])])",
        ],
    );
}

#[test]
fn explain_shows_legacy_group_windows_as_window_aggregations() {
    let out = run(
        "EXPLAIN SELECT name, TUMBLE_START(ts, INTERVAL '5' MINUTE) AS s, COUNT(*) AS n \
        FROM clicks GROUP BY TUMBLE(ts, INTERVAL '5' MINUTE), name;",
    )
    .unwrap();
    assert_contains(
        &out,
        &[
            "WindowAggregate(groupBy=[window_start, window_end, name]",
            "WindowTableFunction(window=[TUMBLE(time_col=[ts], size=[300000 ms])])",
        ],
    );
    let out = run(
        "EXPLAIN SELECT name, SESSION_END(ts, INTERVAL '1' MINUTE) AS e, COUNT(*) AS n \
        FROM clicks GROUP BY name, SESSION(ts, INTERVAL '1' MINUTE);",
    )
    .unwrap();
    assert_contains(
        &out,
        &[
            "WindowAggregate(groupBy=[name], window=[SESSION(gap=[60000 ms])]",
            "WindowTableFunction(window=[SESSION(time_col=[ts], gap=[60000 ms])])",
        ],
    );
}

#[test]
fn windows_over_a_column_that_is_not_a_time_attribute_are_refused() {
    for (query, function) in [
        (
            "SELECT name, COUNT(*) AS n FROM plain_clicks GROUP BY name, SESSION(ts, INTERVAL '1' MINUTE);",
            "SESSION",
        ),
        (
            "SELECT COUNT(*) AS n FROM plain_clicks GROUP BY HOP(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE);",
            "HOP",
        ),
        (
            "SELECT window_start, window_end, COUNT(*) AS n \
             FROM TABLE(SESSION(TABLE plain_clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) \
             GROUP BY window_start, window_end;",
            "SESSION",
        ),
        (
            "SELECT COUNT(*) AS n FROM (SELECT ts + INTERVAL '1' SECOND AS ts FROM clicks) \
             GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE);",
            "TUMBLE",
        ),
    ] {
        let err = error_of(query);
        assert_contains(
            &err,
            &[
                &format!("{function}: column 'ts' is not a time attribute"),
                "WATERMARK FOR",
            ],
        );
    }
}

#[test]
fn a_session_aggregation_must_group_by_its_partition_keys() {
    let err = error_of(
        "SELECT window_start, window_end, name, COUNT(*) AS n \
         FROM TABLE(SESSION(TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' MINUTES)) \
         GROUP BY window_start, window_end, name;",
    );
    assert_contains(
        &err,
        &[
            "exactly the PARTITION BY columns of its SESSION TVF ([])",
            "groups by [name]",
        ],
    );
}

#[test]
fn a_session_tvf_outside_an_aggregation_is_refused() {
    let err = error_of(
        "SELECT * FROM TABLE(SESSION(TABLE clicks PARTITION BY name, DESCRIPTOR(ts), INTERVAL '5' MINUTES));",
    );
    assert_contains(
        &err,
        &["SESSION window TVF is supported by Weir only in a window aggregation"],
    );
}

#[test]
fn a_group_window_outside_group_by_is_refused() {
    let err = error_of("SELECT TUMBLE(ts, INTERVAL '1' MINUTE) AS w FROM clicks;");
    assert_contains(&err, &["can only be used in GROUP BY"]);
}
