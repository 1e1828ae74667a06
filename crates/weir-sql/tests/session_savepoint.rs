//! Session windows live in Weir's keyed state with their timers: a session window aggregation
//! stopped with a savepoint in the middle of its sessions and resumed from it with another
//! parallelism (so the keys' sessions and timers move between subtasks) completes the sessions
//! it had begun: every session is emitted, with all its rows. The sessions are computed here
//! from the generated rows.

use std::collections::BTreeMap;
mod savepoint_support;

use std::thread;

use arrow::array::{Array, Int64Array};
use arrow::datatypes::DataType;
use savepoint_support::{start_query, stop_part_way};
use weir_core::config::{options, Configuration};
use weir_runtime::JobHandle;
use weir_sql::{ChangeBatch, RowKind};

const ROWS: i64 = 2000;
const KEYS: i64 = 4;
/// Rows come every 100 ms of event time, in blocks of 40 with 20 s of silence between blocks.
const BLOCK: i64 = 40;
const GAP_MS: i64 = 5000;

fn time_ms(id: i64) -> i64 {
    id * 100 + (id / BLOCK) * 20_000
}

const SOURCE: &str = "CREATE TABLE clicks (id BIGINT, k AS id % 4, \
    ts AS TO_TIMESTAMP_LTZ(id * 100 + (id / 40) * 20000, 3), \
    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'datagen', \
    'rows-per-second' = '500', 'fields.id.kind' = 'sequence', 'fields.id.start' = '0', \
    'fields.id.end' = '1999')";

const QUERY: &str = "SELECT k, window_start, window_end, COUNT(*) AS c, SUM(id) AS s \
    FROM TABLE(SESSION(TABLE clicks PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' SECOND)) \
    GROUP BY k, window_start, window_end";

/// A session: (key, start ms, end ms) → (rows, sum of ids).
type Sessions = BTreeMap<(i64, i64, i64), (i64, i64)>;

/// Adds the sessions of a result batch to `sessions`, failing on one seen twice.
fn add(batch: &ChangeBatch, sessions: &mut Sessions) {
    let column = |i: usize| {
        let c = arrow::compute::cast(batch.rows.column(i), &DataType::Int64).unwrap();
        c.as_any().downcast_ref::<Int64Array>().unwrap().clone()
    };
    let (k, start, end, c, s) = (column(0), column(1), column(2), column(3), column(4));
    for r in 0..k.len() {
        assert_eq!(
            batch.kind(r),
            RowKind::Insert,
            "a window result is insert-only"
        );
        let session = (k.value(r), start.value(r), end.value(r));
        let previous = sessions.insert(session, (c.value(r), s.value(r)));
        assert!(previous.is_none(), "session {session:?} was emitted twice");
    }
}

/// Starts the query; its sessions are collected on another thread.
fn start(config: Configuration) -> (JobHandle, thread::JoinHandle<Sessions>) {
    start_query(config, &[SOURCE], QUERY, |rows| {
        let mut sessions = Sessions::new();
        for batch in rows.iter() {
            add(&batch, &mut sessions);
        }
        sessions
    })
}

/// The sessions of the generated rows: per key and block, from its first row's time to its
/// last row's time plus the gap.
fn expected() -> Sessions {
    let mut sessions = Sessions::new();
    for block in 0..ROWS / BLOCK {
        for k in 0..KEYS {
            let ids: Vec<i64> = (block * BLOCK..(block + 1) * BLOCK)
                .filter(|id| id % KEYS == k)
                .collect();
            let (first, last) = (ids[0], ids[ids.len() - 1]);
            sessions.insert(
                (k, time_ms(first), time_ms(last) + GAP_MS),
                (ids.len() as i64, ids.iter().sum()),
            );
        }
    }
    sessions
}

#[test]
fn session_windows_resume_from_a_savepoint_on_another_parallelism() {
    let dir =
        std::env::temp_dir().join(format!("weir-sql-session-savepoint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let expected = expected();

    let (job, collector) = start(Configuration::new());
    let savepoint = stop_part_way(job, &dir);
    let first = collector.join().unwrap();
    assert!(
        first.len() < expected.len(),
        "the first run should stop part way, it emitted all {} sessions",
        first.len()
    );

    let mut config = Configuration::new();
    config.set(&options::SAVEPOINT_PATH, savepoint);
    config.set(&options::PARALLELISM_DEFAULT, 3);
    let (job, collector) = start(config);
    job.wait().unwrap();
    // The second run starts from the sessions as the savepoint saw them: a session the
    // first run had not finished is completed with its earlier rows (a session restarted
    // without them would have another start or count). The sources read nothing after the
    // savepoint's barrier, so no session is emitted by both runs.
    let mut all = collector.join().unwrap();
    let early = (0, time_ms(0), time_ms(BLOCK - KEYS) + GAP_MS);
    assert!(
        first.contains_key(&early) && !all.contains_key(&early),
        "the second run should resume after the rows the first run had read"
    );
    for (session, value) in first {
        let again = all.insert(session, value);
        assert!(
            again.is_none(),
            "session {session:?} was emitted by both runs"
        );
    }
    assert_eq!(all, expected);
    let _ = std::fs::remove_dir_all(&dir);
}
