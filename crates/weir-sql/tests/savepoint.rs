//! A SQL aggregation's groups live in Weir's keyed state: a job stopped with a savepoint and
//! started again from it continues every group where the savepoint saw it, and the source
//! resumes after the rows it had read: the final result counts every row exactly once.

use std::collections::BTreeMap;
use std::thread;
use std::time::Duration;

use arrow::array::{Array, Int64Array};
use weir_core::config::{options, Configuration};
use weir_sql::{ChangeBatch, RowKind, StatementResult, TableEnvironment};

const ROWS: i64 = 4000;
const KEYS: i64 = 4;

const SOURCE: &str = "CREATE TABLE src (id BIGINT, k AS id % 4) WITH ('connector' = 'datagen', \
    'rows-per-second' = '1000', 'fields.id.kind' = 'sequence', 'fields.id.start' = '0', \
    'fields.id.end' = '3999')";
const QUERY: &str = "SELECT k, COUNT(*) AS c, SUM(id) AS s FROM src GROUP BY k";

/// (kind, k, count, sum) of each row of the result.
type Change = (RowKind, i64, i64, i64);

fn changes(batch: &ChangeBatch) -> Vec<Change> {
    let column = |i: usize| {
        batch
            .rows
            .column(i)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("BIGINT")
            .clone()
    };
    let (k, c, s) = (column(0), column(1), column(2));
    (0..k.len())
        .map(|r| (batch.kind(r), k.value(r), c.value(r), s.value(r)))
        .collect()
}

/// Starts the query; its changes are collected on another thread.
fn start(config: Configuration) -> (weir_runtime::JobHandle, thread::JoinHandle<Vec<Change>>) {
    let mut env = TableEnvironment::new(config);
    env.execute_sql(SOURCE).unwrap();
    let StatementResult::Query(query) = env.execute_sql(QUERY).unwrap() else {
        panic!("a query returns rows");
    };
    let rows = query.rows;
    let collector = thread::spawn(move || rows.iter().flat_map(|b| changes(&b)).collect());
    (query.job, collector)
}

#[test]
fn group_aggregate_resumes_from_a_savepoint() {
    let dir = std::env::temp_dir().join(format!("weir-sql-savepoint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let (job, collector) = start(Configuration::new());
    thread::sleep(Duration::from_millis(400));
    let savepoint = job
        .stop_with_savepoint(Some(&dir.display().to_string()), false)
        .unwrap();
    job.wait().unwrap();
    let first = collector.join().unwrap();
    assert!(
        !first.is_empty(),
        "the first run produced nothing before the savepoint"
    );

    let mut config = Configuration::new();
    config.set(&options::SAVEPOINT_PATH, savepoint);
    let (job, collector) = start(config);
    job.wait().unwrap();
    let second = collector.join().unwrap();

    // The second run starts from the groups as the savepoint saw them: its first change of a
    // group the first run had emitted is the retraction of one of the first run's results
    // (rows the first run emitted after the savepoint are not part of it and are redone).
    let mut result: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for (kind, k, c, s) in second {
        match kind {
            RowKind::Insert | RowKind::UpdateAfter => {
                assert!(result.insert(k, (c, s)).is_none(), "group {k} has two rows");
            }
            RowKind::UpdateBefore | RowKind::Delete => match result.remove(&k) {
                Some(previous) => assert_eq!(previous, (c, s), "retracted a row that is not there"),
                None => assert!(
                    first
                        .iter()
                        .any(|f| f.1 == k && (f.2, f.3) == (c, s) && f.0 != RowKind::UpdateBefore),
                    "the restored group {k} = ({c}, {s}) is not a result of the first run"
                ),
            },
        }
    }
    for (_, k, _, _) in &first {
        assert!(
            result.contains_key(k),
            "group {k} of the first run is missing"
        );
    }
    let mut expected = BTreeMap::new();
    for id in 0..ROWS {
        let e: &mut (i64, i64) = expected.entry(id % KEYS).or_default();
        e.0 += 1;
        e.1 += id;
    }
    assert_eq!(result, expected);
    let _ = std::fs::remove_dir_all(&dir);
}
