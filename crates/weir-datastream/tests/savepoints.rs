//! Savepoints: a keyed job is stopped with a savepoint mid-stream and resumed from it with
//! another parallelism (1 → 3 → 2). Keyed state and event-time timers must land on the
//! subtasks that own their key groups: each key's total, emitted by a timer registered in
//! the first run and fired at the end of the last, equals the reference. Also: state of an
//! operator the job no longer has is refused unless allowed, and a damaged savepoint is
//! refused with a clear error. The keyed tests run on every state backend, and a savepoint
//! of one backend restores on the other.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::{collected, env, env_on, TempDir};
use weir_datastream::prelude::*;
use weir_datastream::sinks::file::RollingPolicy;
use weir_datastream::sinks::FileSink;

/// The records the totals job collects.
type Collected = std::sync::Arc<std::sync::Mutex<Vec<(u64, u64)>>>;

const EVENTS: u64 = 60_000;
const KEYS: u64 = 20;
/// Every key's timer fires at this event time, after the last event.
const REPORT_AT: i64 = EVENTS as i64 + 1_000;

/// Keeps a running total per key; the first element of a key registers the timer that
/// reports the total at the end.
#[derive(Clone)]
struct Totals {
    total: ValueState<u64>,
}

impl KeyedProcessFunction<u64, u64, (u64, u64)> for Totals {
    fn process_element(
        &mut self,
        value: u64,
        ctx: &mut KeyedContext<'_, u64, (u64, u64)>,
    ) -> Result<()> {
        let total = self.total.value(ctx)?;
        if total.is_none() {
            ctx.register_event_time_timer(REPORT_AT);
        }
        self.total.update(ctx, total.unwrap_or(0) + value)
    }

    fn on_timer(
        &mut self,
        _timestamp: i64,
        ctx: &mut KeyedContext<'_, u64, (u64, u64)>,
    ) -> Result<()> {
        let key = *ctx.current_key();
        let total = self.total.value(ctx)?.unwrap_or(0);
        ctx.collect((key, total));
        Ok(())
    }
}

/// The totals job at `parallelism` on state backend `backend`, started from `savepoint` if
/// given; `extra` adds a stateful operator with uid "extra" before the sink. Returns the
/// environment and the sink's records.
fn totals_job(
    backend: &str,
    parallelism: usize,
    savepoint: Option<&Path>,
    rate: Option<f64>,
    extra: bool,
) -> (StreamExecutionEnvironment, Collected) {
    let env = env_on(backend, parallelism);
    env.configure("pipeline.auto-watermark-interval", "5 ms");
    if let Some(path) = savepoint {
        env.configure("execution.savepoint.path", &path.display().to_string());
    }
    let totals = env
        .from_generator(|i| i, Some(EVENTS), rate)
        .uid("events")
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_monotonous_timestamps()
                .with_timestamp_assigner(|i: &u64, _| Ok(*i as i64)),
        )
        .uid("timestamps")
        .key_by(|i: &u64| i % KEYS)
        .process(Totals {
            total: ValueState::new("total"),
        })
        .uid("totals");
    let totals = if extra {
        totals
            .key_by(|t: &(u64, u64)| t.0)
            .reduce(|a, _| a)
            .uid("extra")
    } else {
        totals
    };
    let records = collected(&totals);
    (env, records)
}

fn reference() -> BTreeMap<u64, u64> {
    let mut totals = BTreeMap::new();
    for i in 0..EVENTS {
        *totals.entry(i % KEYS).or_default() += i;
    }
    totals
}

/// Runs the job until about `after` has passed, then stops it with a savepoint in `dir`.
fn stop_midway(env: &StreamExecutionEnvironment, dir: &Path, after: Duration) -> String {
    let handle = env.execute_async("totals").unwrap();
    std::thread::sleep(after);
    let path = handle
        .stop_with_savepoint(Some(&dir.display().to_string()), false)
        .unwrap();
    handle.wait().unwrap();
    path
}

/// Runs the totals job at parallelism 1, 3 and 2 on `backends` in turn, each run stopped with
/// a savepoint that the next starts from; the totals equal the reference.
fn rescale_1_3_2(backends: [&str; 3]) {
    let dir = TempDir::new(&format!("rescale-{}", backends.join("-")));
    // 60 000 events at 40 000/s: each run stops a third of the way through what is left.
    let (first, early) = totals_job(backends[0], 1, None, Some(40_000.0), false);
    let savepoint1 = stop_midway(&first, &dir.0, Duration::from_millis(400));
    assert!(
        early.lock().unwrap().is_empty(),
        "timers fired before the end"
    );

    let (second, middle) = totals_job(
        backends[1],
        3,
        Some(Path::new(&savepoint1)),
        Some(40_000.0),
        false,
    );
    let savepoint2 = stop_midway(&second, &dir.0, Duration::from_millis(400));
    assert!(
        middle.lock().unwrap().is_empty(),
        "timers fired before the end"
    );

    let (third, last) = totals_job(backends[2], 2, Some(Path::new(&savepoint2)), None, false);
    third.execute("totals, last part").unwrap();
    let got: BTreeMap<u64, u64> = last.lock().unwrap().iter().copied().collect();
    assert_eq!(
        last.lock().unwrap().len(),
        KEYS as usize,
        "one report per key"
    );
    assert_eq!(got, reference());
}

fn state_and_timers_follow_their_key_groups_from_1_to_3_to_2_subtasks(backend: &str) {
    rescale_1_3_2([backend; 3]);
}

/// A heap savepoint restores on RocksDB with another parallelism, and a RocksDB savepoint on
/// the heap.
#[cfg(feature = "rocksdb")]
#[test]
fn savepoints_move_between_backends_while_rescaling() {
    rescale_1_3_2(["hashmap", "rocksdb", "hashmap"]);
}

fn state_of_a_removed_operator_is_refused_unless_allowed(backend: &str) {
    let dir = TempDir::new(&format!("unclaimed-{backend}"));
    let (with_extra, _) = totals_job(backend, 1, None, Some(40_000.0), true);
    let savepoint = stop_midway(&with_extra, &dir.0, Duration::from_millis(300));
    let (without, _) = totals_job(backend, 1, Some(Path::new(&savepoint)), None, false);
    let err = without.execute("totals").unwrap_err().to_string();
    assert!(
        err.contains("extra") && err.contains("--allowNonRestoredState"),
        "{err}"
    );

    let (allowed, totals) = totals_job(backend, 1, Some(Path::new(&savepoint)), None, false);
    allowed.configure("execution.savepoint.ignore-unclaimed-state", "true");
    allowed.execute("totals").unwrap();
    let got: BTreeMap<u64, u64> = totals.lock().unwrap().iter().copied().collect();
    assert_eq!(got, reference());
}

fn a_damaged_savepoint_is_refused_with_the_reason(backend: &str) {
    let dir = TempDir::new(&format!("damaged-{backend}"));
    let (job, _) = totals_job(backend, 1, None, Some(40_000.0), false);
    let savepoint = stop_midway(&job, &dir.0, Duration::from_millis(300));
    let state_file = std::fs::read_dir(&savepoint)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("op-"))
        .expect("a state file");
    let mut bytes = std::fs::read(&state_file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(&state_file, bytes).unwrap();
    let (restored, _) = totals_job(backend, 1, Some(Path::new(&savepoint)), None, false);
    let err = restored.execute("totals").unwrap_err().to_string();
    assert!(err.contains("checksum") || err.contains("corrupt"), "{err}");
}

weir_state::for_each_backend!(
    state_and_timers_follow_their_key_groups_from_1_to_3_to_2_subtasks,
    state_of_a_removed_operator_is_refused_unless_allowed,
    a_damaged_savepoint_is_refused_with_the_reason,
);

/// Holds elements back and emits them a thousand at a time (Flink's buffering sink pattern);
/// the held elements are operator list state.
#[derive(Clone, Default)]
struct Buffering {
    held: Vec<u64>,
}

impl ProcessFunction<u64, u64> for Buffering {
    fn open(&mut self, ctx: &RuntimeContext) -> Result<()> {
        if let Some(restored) = ctx.restored_state() {
            self.held = restored.list("held")?;
        }
        Ok(())
    }

    fn process_element(&mut self, value: u64, ctx: &mut ProcessContext<'_, u64>) -> Result<()> {
        self.held.push(value);
        if self.held.len() >= 1_000 {
            self.held.drain(..).for_each(|v| ctx.collect(v));
        }
        Ok(())
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        snapshot.add_list("held", ListMode::Split, &self.held)
    }

    fn finish(&mut self, ctx: &mut ProcessContext<'_, u64>) -> Result<()> {
        self.held.drain(..).for_each(|v| ctx.collect(v));
        Ok(())
    }
}

/// The buffering job writing through the exactly-once file sink into `out`.
fn buffering_job(
    parallelism: usize,
    out: &Path,
    savepoint: Option<&str>,
    rate: Option<f64>,
) -> StreamExecutionEnvironment {
    let env = env(parallelism);
    if let Some(path) = savepoint {
        env.configure("execution.savepoint.path", path);
    }
    let sink = FileSink::for_row_format(out)
        .with_bucket_assigner(|_: &u64, _| String::new())
        .with_rolling_policy(RollingPolicy::on_checkpoint());
    env.from_generator(|i| i, Some(EVENTS), rate)
        .uid("events")
        .process(Buffering::default())
        .uid("buffer")
        .sink_to(sink, "Files")
        .uid("files");
    env
}

#[test]
fn operator_list_state_and_sink_files_are_redistributed_from_2_to_3_subtasks() {
    let (dir, out) = (TempDir::new("buffering"), TempDir::new("buffering-out"));
    let first = buffering_job(2, &out.0, None, Some(40_000.0));
    let savepoint = stop_midway(&first, &dir.0, Duration::from_millis(400));
    buffering_job(3, &out.0, Some(&savepoint), None)
        .execute("buffering, rest")
        .unwrap();
    let mut got: Vec<u64> = Vec::new();
    for entry in std::fs::read_dir(&out.0).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_string_lossy().starts_with('.') {
            let text = std::fs::read_to_string(&path).unwrap();
            got.extend(text.lines().map(|l| l.parse::<u64>().unwrap()));
        }
    }
    got.sort_unstable();
    assert_eq!(got, (0..EVENTS).collect::<Vec<_>>());
}
