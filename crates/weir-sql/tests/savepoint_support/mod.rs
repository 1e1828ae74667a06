//! What the SQL savepoint tests share: starting a query whose result is collected on another
//! thread, and stopping it with a savepoint part way.

// Each test crate that includes this module uses a part of it.
#![allow(dead_code)]

use std::path::Path;
use std::thread;
use std::time::Duration;

use arrow::array::{Array, Int64Array};
use weir_core::config::{options, Configuration};
use weir_runtime::JobHandle;
use weir_sql::{ChangeBatch, StatementResult, TableEnvironment};

/// Runs the DDL `statements`, then starts `query`; `collect` folds its result batches on
/// another thread.
pub fn start_query<T: Send + 'static>(
    config: Configuration,
    statements: &[&str],
    query: &str,
    collect: impl FnOnce(crossbeam_channel::Receiver<ChangeBatch>) -> T + Send + 'static,
) -> (JobHandle, thread::JoinHandle<T>) {
    start_query_in(TableEnvironment::new(config), statements, query, collect)
}

/// [`start_query`] in `env` (with its registered functions).
pub fn start_query_in<T: Send + 'static>(
    mut env: TableEnvironment,
    statements: &[&str],
    query: &str,
    collect: impl FnOnce(crossbeam_channel::Receiver<ChangeBatch>) -> T + Send + 'static,
) -> (JobHandle, thread::JoinHandle<T>) {
    for statement in statements {
        env.execute_sql(statement).unwrap();
    }
    let StatementResult::Query(query) = env.execute_sql(query).unwrap() else {
        panic!("a query returns rows");
    };
    let rows = query.rows;
    (query.job, thread::spawn(move || collect(rows)))
}

/// The first two columns (as BIGINT) of the last row added to the result.
pub fn last_pair(rows: crossbeam_channel::Receiver<ChangeBatch>) -> Option<(i64, i64)> {
    let mut last = None;
    for batch in rows.iter() {
        let column = |i: usize| {
            let c = arrow::compute::cast(batch.rows.column(i), &arrow::datatypes::DataType::Int64)
                .unwrap();
            c.as_any().downcast_ref::<Int64Array>().unwrap().clone()
        };
        let (first, second) = (column(0), column(1));
        for r in 0..first.len() {
            if batch.kind(r).is_accumulate() {
                last = Some((first.value(r), second.value(r)));
            }
        }
    }
    last
}

/// Stops `job` with a savepoint in `dir` 400 ms after it started (its sources run longer)
/// and waits for it to end; returns the savepoint's path.
pub fn stop_part_way(job: JobHandle, dir: &Path) -> String {
    thread::sleep(Duration::from_millis(400));
    let savepoint = match job.stop_with_savepoint(Some(&dir.display().to_string()), false) {
        Ok(s) => s,
        Err(e) => panic!("{e}: the job ended with {:?}", job.wait().err()),
    };
    job.wait().unwrap();
    savepoint
}

/// A started query whose result is folded into its last pair.
pub type Started = (JobHandle, thread::JoinHandle<Option<(i64, i64)>>);

/// Checks a query whose result ends with the pair `expected`: a run started by `start` and
/// stopped part way with a savepoint (in a folder named after `name`) has not reached it, and
/// a run resumed from that savepoint at parallelism 2 ends with it.
pub fn check_last_pair_resumes(
    name: &str,
    start: fn(Configuration) -> Started,
    expected: (i64, i64),
) {
    let dir =
        std::env::temp_dir().join(format!("weir-sql-{name}-savepoint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

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
