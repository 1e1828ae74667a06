//! An OVER aggregation keeps its partitions (the rows waiting for the watermark, the rows in
//! the window, the accumulators) and its timers in Weir's keyed state: a job stopped with a
//! savepoint part way and resumed from it with another parallelism (so the partitions' key
//! groups move between subtasks) emits every row with the aggregates of its window, the rows
//! before the savepoint included. The windows are computed here from the generated rows.

mod savepoint_support;

use std::collections::BTreeMap;
use std::thread;

use arrow::array::{Array, Int64Array};
use arrow::datatypes::DataType;
use savepoint_support::{start_query, stop_part_way};
use weir_core::config::{options, Configuration};
use weir_runtime::JobHandle;
use weir_sql::ChangeBatch;

const ROWS: i64 = 2000;
const KEYS: i64 = 4;

fn value(id: i64) -> i64 {
    (id * 37) % 101
}

const SOURCE: &str = "CREATE TABLE src (id BIGINT, k AS id % 4, v AS (id * 37) % 101, \
    ts AS TO_TIMESTAMP_LTZ(id * 100, 3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) \
    WITH ('connector' = 'datagen', 'rows-per-second' = '500', 'fields.id.kind' = 'sequence', \
    'fields.id.start' = '0', 'fields.id.end' = '1999')";

const QUERY: &str = "SELECT id, \
    SUM(v) OVER w AS s, COUNT(*) OVER w AS c, MAX(v) OVER w AS m \
    FROM src WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)";

/// Each emitted id with its sum, count and maximum.
type Results = BTreeMap<i64, (i64, i64, i64)>;

/// Collects the result rows, failing on an id seen twice.
fn collect(rows: crossbeam_channel::Receiver<ChangeBatch>) -> Results {
    let mut seen = Results::new();
    for batch in rows.iter() {
        let column = |i: usize| {
            let c = arrow::compute::cast(batch.rows.column(i), &DataType::Int64).unwrap();
            c.as_any().downcast_ref::<Int64Array>().unwrap().clone()
        };
        let (id, s, c, m) = (column(0), column(1), column(2), column(3));
        for r in 0..id.len() {
            let row = (s.value(r), c.value(r), m.value(r));
            assert!(
                seen.insert(id.value(r), row).is_none(),
                "id {} emitted twice",
                id.value(r)
            );
        }
    }
    seen
}

fn start(config: Configuration) -> (JobHandle, thread::JoinHandle<Results>) {
    start_query(config, &[SOURCE], QUERY, collect)
}

/// Each id's window: itself and the two rows of its key before it.
fn expected() -> Results {
    (0..ROWS)
        .map(|id| {
            let window: Vec<i64> = (0..3)
                .map(|back| id - back * KEYS)
                .filter(|i| *i >= 0)
                .map(value)
                .collect();
            let sum = window.iter().sum();
            let max = window.iter().copied().max().unwrap_or_default();
            (id, (sum, window.len() as i64, max))
        })
        .collect()
}

#[test]
fn an_over_aggregation_resumes_from_a_savepoint_on_another_parallelism() {
    let dir = std::env::temp_dir().join(format!("weir-sql-over-savepoint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let (job, collector) = start(Configuration::new());
    let savepoint = stop_part_way(job, &dir);
    let first = collector.join().unwrap();
    assert!(
        !first.is_empty() && first.len() < ROWS as usize,
        "the first run should stop part way, it emitted {} rows",
        first.len()
    );

    let mut config = Configuration::new();
    config.set(&options::SAVEPOINT_PATH, savepoint);
    config.set(&options::PARALLELISM_DEFAULT, 2);
    let (job, collector) = start(config);
    job.wait().unwrap();
    // The second run starts from the partitions as the savepoint saw them: the rows the
    // first run had emitted by then are not emitted again, and the rows after them are
    // aggregated with the earlier rows of their windows. The sources read nothing after the
    // savepoint's barrier, so no row is emitted by both runs.
    let mut all = collector.join().unwrap();
    assert!(
        first.contains_key(&0) && !all.contains_key(&0),
        "the second run should resume after the rows the first run had read"
    );
    for (id, row) in first {
        let again = all.insert(id, row);
        assert!(again.is_none(), "row {id} was emitted by both runs");
    }
    assert_eq!(all, expected());
    let _ = std::fs::remove_dir_all(&dir);
}
