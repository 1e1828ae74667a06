//! A join's rows live in Weir's keyed state: a job stopped with a savepoint and resumed from
//! it (here with another parallelism, so the join's key groups move between subtasks) joins
//! the rows that arrive after the savepoint with those that came before. The final result is
//! compared with the join computed directly from the generated rows.

mod savepoint_support;

use savepoint_support::{check_last_pair_resumes, last_pair, start_query, Started};
use weir_core::config::Configuration;

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
fn start(config: Configuration) -> Started {
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
    check_last_pair_resumes("join", start, expected());
}
