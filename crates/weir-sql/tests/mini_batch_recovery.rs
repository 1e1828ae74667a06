//! Mini-batch aggregations are exactly-once: a task fails while the aggregations hold rows in
//! their mini-batch buffers (their latency is an hour: only a checkpoint barrier, the size
//! or the end of the input ends a mini-batch), the job restarts from its latest checkpoint,
//! and the final result counts every row once, in one phase and in two phases. The expected
//! result is computed here from the sequence the source generates.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use arrow::array::{Array, ArrayRef, Int64Array};
use arrow::datatypes::DataType;
use datafusion_common::DataFusionError;
use datafusion_expr::{create_udf, ColumnarValue, Volatility};
use weir_core::config::Configuration;
use weir_sql::{ChangeBatch, RowKind, StatementResult, TableEnvironment};

const ROWS: i64 = 6000;
const KEYS: i64 = 7;
/// The row whose first processing fails.
const FAIL_AT: i64 = 4000;

const SOURCE: &str = "CREATE TABLE src (id BIGINT, k AS id % 7) WITH ('connector' = 'datagen', \
    'rows-per-second' = '3000', 'fields.id.kind' = 'sequence', 'fields.id.start' = '0', \
    'fields.id.end' = '5999')";
const QUERY: &str = "SELECT k, COUNT(*) AS c, SUM(id) AS s, COUNT(DISTINCT id % 100) AS d \
    FROM (SELECT k, fail_once(id) AS id FROM src) GROUP BY k";

/// `fail_once(BIGINT) -> BIGINT`: its argument, except that the first call that sees
/// [`FAIL_AT`] fails. Counts the rows it sees in `seen`.
fn fail_once(failed: Arc<AtomicBool>, seen: Arc<AtomicUsize>) -> datafusion_expr::ScalarUDF {
    create_udf(
        "fail_once",
        vec![DataType::Int64],
        DataType::Int64,
        Volatility::Volatile,
        Arc::new(move |args: &[ColumnarValue]| {
            let ids = match &args[0] {
                ColumnarValue::Array(array) => array.clone(),
                ColumnarValue::Scalar(scalar) => scalar.to_array()?,
            };
            let values = ids
                .as_any()
                .downcast_ref::<Int64Array>()
                .ok_or_else(|| DataFusionError::Execution("fail_once expects a BIGINT".into()))?;
            seen.fetch_add(values.len(), Ordering::SeqCst);
            if values.iter().any(|v| v == Some(FAIL_AT)) && !failed.swap(true, Ordering::SeqCst) {
                return Err(DataFusionError::Execution("injected failure".into()));
            }
            Ok(ColumnarValue::Array(ids as ArrayRef))
        }),
    )
}

/// Runs the query with the aggregation phase strategy `strategy`; the final (k → (count,
/// sum, distinct)) of its changelog, the job's restarts and how many rows reached
/// `fail_once`.
fn run(strategy: &str) -> (BTreeMap<i64, (i64, i64, i64)>, u64, usize) {
    let checkpoints = std::env::temp_dir().join(format!(
        "weir-sql-mini-batch-recovery-{}-{strategy}",
        std::process::id()
    ));
    let mut config = Configuration::new();
    for (key, value) in [
        ("parallelism.default", "2"),
        ("execution.checkpointing.interval", "100 ms"),
        (
            "execution.checkpointing.dir",
            &checkpoints.display().to_string(),
        ),
        ("restart-strategy.type", "fixed-delay"),
        ("restart-strategy.fixed-delay.delay", "10 ms"),
        ("table.exec.mini-batch.enabled", "true"),
        ("table.exec.mini-batch.allow-latency", "1 h"),
        ("table.exec.mini-batch.size", "100000"),
        ("table.optimizer.agg-phase-strategy", strategy),
    ] {
        config.set_string(key, value);
    }
    let (failed, seen) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut env = TableEnvironment::new(config);
    (env.functions_mut()).register_scalar(fail_once(failed.clone(), seen.clone()));
    env.execute_sql(SOURCE).unwrap();
    let StatementResult::Query(query) = env.execute_sql(QUERY).unwrap() else {
        panic!("a query returns rows");
    };
    let rows = query.rows;
    let collector = thread::spawn(move || rows.iter().collect::<Vec<ChangeBatch>>());
    let restarts = query.job.wait().unwrap().num_restarts;
    let _ = std::fs::remove_dir_all(&checkpoints);
    assert!(
        failed.load(Ordering::SeqCst),
        "the failure was not injected"
    );
    (
        upserted(&collector.join().unwrap()),
        restarts,
        seen.load(Ordering::SeqCst),
    )
}

/// The last row of each key in a changelog (a restarted job emits again the changes after
/// its checkpoint, so the changelog as a whole is not exactly-once: its final rows are).
fn upserted(batches: &[ChangeBatch]) -> BTreeMap<i64, (i64, i64, i64)> {
    let mut result = BTreeMap::new();
    for batch in batches {
        let column = |i: usize| {
            (batch.rows.column(i).as_any())
                .downcast_ref::<Int64Array>()
                .expect("BIGINT")
                .clone()
        };
        let (k, c, s, d) = (column(0), column(1), column(2), column(3));
        for row in 0..k.len() {
            match batch.kind(row) {
                RowKind::Insert | RowKind::UpdateAfter => {
                    result.insert(k.value(row), (c.value(row), s.value(row), d.value(row)));
                }
                RowKind::Delete => {
                    result.remove(&k.value(row));
                }
                RowKind::UpdateBefore => {}
            }
        }
    }
    result
}

/// The result computed from the generated sequence.
fn expected() -> BTreeMap<i64, (i64, i64, i64)> {
    let mut groups: BTreeMap<i64, (i64, i64, std::collections::BTreeSet<i64>)> = BTreeMap::new();
    for id in 0..ROWS {
        let g = groups.entry(id % KEYS).or_default();
        g.0 += 1;
        g.1 += id;
        g.2.insert(id % 100);
    }
    (groups.into_iter())
        .map(|(k, (c, s, d))| (k, (c, s, d.len() as i64)))
        .collect()
}

fn check(strategy: &str) {
    let (result, restarts, seen) = run(strategy);
    assert_eq!(restarts, 1, "{strategy}: one restart");
    // Restarted from a checkpoint, not from the first row: fewer than all rows read twice.
    assert!(
        seen < FAIL_AT as usize + ROWS as usize,
        "{strategy}: the job started again from the beginning ({seen} rows seen)"
    );
    assert_eq!(result, expected(), "{strategy}");
}

#[test]
fn one_phase_mini_batch_is_exactly_once_across_a_failure() {
    check("ONE_PHASE");
}

#[test]
fn two_phase_mini_batch_is_exactly_once_across_a_failure() {
    check("TWO_PHASE");
}
