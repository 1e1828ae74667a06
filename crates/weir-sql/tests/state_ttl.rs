//! `table.exec.state.ttl` on the keyed SQL operators that keep state per key forever
//! otherwise: group aggregation and Top-N. A source paced at 2 rows per second sends rows of
//! one key 500 ms apart; with a TTL of 200 ms every row finds its key's state expired, so each
//! starts its group afresh (`+I`) instead of updating it (`-U`/`+U`), as in Flink. Each case
//! also runs without a TTL, where the same query updates, so the test tells the two apart.
//! Both state backends are covered when the `rocksdb` feature is on.

use std::collections::HashMap;

use weir_core::config::Configuration;
use weir_sql::{run_script, TableEnvironment};

/// Four rows of key 1 with `v` = 1, 2, 3, 4, one every 500 ms.
const PACED: &str = "CREATE TABLE t (v BIGINT) WITH ('connector' = 'datagen', \
     'rows-per-second' = '2', 'fields.v.kind' = 'sequence', 'fields.v.start' = '1', \
     'fields.v.end' = '4');
     CREATE VIEW one_key AS SELECT 1 AS k, v FROM t;";

/// The printed changelog rows (`op` first) of the script's one query, in order.
fn changelog(query: &str, backend: &str, ttl: Option<&str>) -> Vec<String> {
    let mut config = Configuration::new();
    config.set_string("state.backend.type", backend);
    if let Some(ttl) = ttl {
        config.set_string("table.exec.state.ttl", ttl);
    }
    let mut env = TableEnvironment::new(config);
    let mut out = Vec::new();
    run_script(
        &mut env,
        &format!("{PACED}\n{query}"),
        &HashMap::new(),
        &mut out,
    )
    .expect("the script runs");
    let out = String::from_utf8(out).expect("UTF-8");
    out.lines()
        .filter(|l| l.starts_with("| +") || l.starts_with("| -"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

fn group_aggregation_restarts_expired_groups(backend: &str) {
    let query = "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM one_key GROUP BY k;";
    assert_eq!(
        changelog(query, backend, None),
        [
            "+I,1,1,1",
            "-U,1,1,1",
            "+U,1,2,3",
            "-U,1,2,3",
            "+U,1,3,6",
            "-U,1,3,6",
            "+U,1,4,10"
        ],
        "without a TTL the group keeps counting"
    );
    assert_eq!(
        changelog(query, backend, Some("200 ms")),
        ["+I,1,1,1", "+I,1,1,2", "+I,1,1,3", "+I,1,1,4"],
        "each row comes after its group's state expired"
    );
}

fn top_n_forgets_expired_partitions(backend: &str) {
    let query =
        "SELECT k, v FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) \
                 AS rn FROM one_key) WHERE rn <= 1;";
    assert_eq!(
        changelog(query, backend, None),
        ["+I,1,1", "-D,1,1", "+I,1,2", "-D,1,2", "+I,1,3", "-D,1,3", "+I,1,4"],
        "without a TTL each larger v replaces the top row"
    );
    assert_eq!(
        changelog(query, backend, Some("200 ms")),
        ["+I,1,1", "+I,1,2", "+I,1,3", "+I,1,4"],
        "each row comes after its partition's state expired"
    );
}

#[test]
fn group_aggregation_on_the_heap() {
    group_aggregation_restarts_expired_groups("hashmap");
}

#[test]
fn top_n_on_the_heap() {
    top_n_forgets_expired_partitions("hashmap");
}

#[cfg(feature = "rocksdb")]
#[test]
fn group_aggregation_on_rocksdb() {
    group_aggregation_restarts_expired_groups("rocksdb");
}

#[cfg(feature = "rocksdb")]
#[test]
fn top_n_on_rocksdb() {
    top_n_forgets_expired_partitions("rocksdb");
}
