//! A Top-N's partitions live in Weir's keyed state: a job stopped with a savepoint and resumed
//! from it with another parallelism (so the partitions' key groups move between subtasks)
//! ranks the rows that arrive after the savepoint together with those that came before. The
//! final result is compared with the top rows computed directly from the generated rows.

mod savepoint_support;

use savepoint_support::{check_last_pair_resumes, last_pair, start_query, Started};
use weir_core::config::Configuration;

const ROWS: i64 = 1000;
const KEYS: i64 = 50;
const TOP: i64 = 3;

const SOURCE: &str = "CREATE TABLE src (id BIGINT, k AS id % 50, v AS (id * 37) % 101) \
    WITH ('connector' = 'datagen', 'rows-per-second' = '250', 'fields.id.kind' = 'sequence', \
    'fields.id.start' = '0', 'fields.id.end' = '999')";

/// How many rows the top 3 of every partition hold, and the sum of their ids: the Top-N's
/// changelog folded by an aggregation into one updating row.
const QUERY: &str = "SELECT COUNT(*) AS n, SUM(id) AS ids FROM (
    SELECT id FROM (
        SELECT id, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rownum FROM src)
    WHERE rownum <= 3)";

/// Starts the query; the last row of its result is collected on another thread.
fn start(config: Configuration) -> Started {
    start_query(config, &[SOURCE], QUERY, last_pair)
}

/// The query's result computed from its definition.
fn expected() -> (i64, i64) {
    let mut ids = 0;
    for k in 0..KEYS {
        let mut partition: Vec<i64> = (0..ROWS).filter(|id| id % KEYS == k).collect();
        partition.sort_by_key(|id| std::cmp::Reverse((id * 37) % 101));
        ids += partition.iter().take(TOP as usize).sum::<i64>();
    }
    (KEYS * TOP, ids)
}

#[test]
fn a_top_n_resumes_from_a_savepoint_on_another_parallelism() {
    check_last_pair_resumes("rank", start, expected());
}
