//! A join's rows live in Weir's keyed state: a job stopped with a savepoint and resumed from
//! it (here with another parallelism, so the join's key groups move between subtasks) joins
//! the rows that arrive after the savepoint with those that came before. The final result is
//! compared with the join computed directly from the generated rows.

mod savepoint_support;

use std::thread;

use savepoint_support::{last_pair, start_query, stop_part_way};
use weir_core::config::{options, Configuration};
use weir_runtime::JobHandle;

const ROWS: i64 = 1000;
const KEYS: i64 = 50;

fn source(name: &str) -> String {
    format!(
        "CREATE TABLE {name} (id BIGINT, k AS id % {KEYS}) WITH ('connector' = 'datagen', \
         'rows-per-second' = '250', 'fields.id.kind' = 'sequence', 'fields.id.start' = '0', \
         'fields.id.end' = '{}')",
        ROWS - 1
    )
}

/// The number of rows (pairs, and rows of `a` without a match) and the sum of `a.id * b.id`
/// over the pairs.
const QUERY: &str = "SELECT COUNT(*) AS pairs, SUM(a.id * b.id) AS total \
    FROM a LEFT JOIN b ON a.k = b.k AND a.id <= b.id";

/// Starts the query; the last row of its result is collected on another thread.
fn start(config: Configuration) -> (JobHandle, thread::JoinHandle<Option<(i64, i64)>>) {
    start_query(config, &[&source("a"), &source("b")], QUERY, last_pair)
}

/// The query's result computed from its definition.
fn expected() -> (i64, i64) {
    let (mut pairs, mut total) = (0, 0);
    for a in 0..ROWS {
        let matches: Vec<i64> = (0..ROWS)
            .filter(|b| b % KEYS == a % KEYS && a <= *b)
            .collect();
        if matches.is_empty() {
            pairs += 1;
        }
        for b in matches {
            pairs += 1;
            total += a * b;
        }
    }
    (pairs, total)
}

#[test]
fn a_join_resumes_from_a_savepoint_on_another_parallelism() {
    let dir = std::env::temp_dir().join(format!("weir-sql-join-savepoint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let expected = expected();

    let (job, collector) = start(Configuration::new());
    let savepoint = stop_part_way(job, &dir);
    let first = collector.join().unwrap();
    assert!(
        first.is_some_and(|f| f != expected),
        "the first run should stop part way, it ended with {first:?}"
    );

    let mut config = Configuration::new();
    config.set(&options::SAVEPOINT_PATH, savepoint);
    config.set(&options::PARALLELISM_DEFAULT, 2);
    let (job, collector) = start(config);
    job.wait().unwrap();
    assert_eq!(collector.join().unwrap(), Some(expected));
    let _ = std::fs::remove_dir_all(&dir);
}
