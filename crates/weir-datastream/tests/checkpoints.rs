//! Checkpoints end to end: a keyed window job writing through the exactly-once file sink
//! fails once mid-stream; the job restarts from its latest completed checkpoint (the sources
//! rewind, the window state comes back) and the finished files equal a reference computed
//! here from the generator's formula: no record lost, none counted twice.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use common::{env, TempDir};
use weir_datastream::prelude::*;
use weir_datastream::sinks::file::RollingPolicy;
use weir_datastream::sinks::FileSink;

/// Events: record `i` has key `i % KEYS`, timestamp `i` ms, value `i`.
const EVENTS: u64 = 40_000;
const KEYS: u64 = 7;
/// Tumbling windows of this many ms.
const WINDOW: u64 = 1_000;

/// The expected lines `(key,window,sum)`, sorted.
fn reference() -> Vec<String> {
    let mut sums: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    for i in 0..EVENTS {
        *sums.entry((i % KEYS, i / WINDOW)).or_default() += i;
    }
    let mut lines: Vec<String> = (sums.iter())
        .map(|((k, w), s)| format!("({k},{w},{s})"))
        .collect();
    lines.sort();
    lines
}

/// The lines of the finished part files under `dir` (hidden in-progress and pending files
/// excluded), sorted.
fn finished_lines(dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with('.') {
            let text = std::fs::read_to_string(&path).unwrap();
            lines.extend(text.lines().map(str::to_string));
        }
    }
    lines.sort();
    lines
}

/// Runs the window job at parallelism 2 with checkpoints every 50 ms in `mode`; the map
/// fails once after `fail_after` records. Returns the job's restarts and completed
/// checkpoints.
fn run_failing_job(out: &Path, checkpoints: &Path, mode: &str, fail_after: u64) -> (u64, i64) {
    let env = env(2);
    env.configure("execution.checkpointing.interval", "50 ms")
        .configure("execution.checkpointing.mode", mode)
        .configure(
            "execution.checkpointing.dir",
            &checkpoints.display().to_string(),
        )
        .configure("restart-strategy.type", "fixed-delay")
        .configure("restart-strategy.fixed-delay.delay", "10 ms")
        .configure("pipeline.auto-watermark-interval", "5 ms");
    let failed = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicU64::new(0));
    let sink = FileSink::for_row_format(out)
        .with_bucket_assigner(|_: &(u64, u64, u64), _| String::new())
        .with_rolling_policy(RollingPolicy::default().with_max_part_size(4096));
    env.from_generator(|i| i, Some(EVENTS), Some(20_000.0))
        .uid("events")
        .try_map(move |i: u64| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            if n == fail_after && !failed.swap(true, Ordering::SeqCst) {
                return Err(WeirError::user("injected failure"));
            }
            Ok((i % KEYS, i / WINDOW, i))
        })
        .uid("flaky")
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_monotonous_timestamps()
                .with_timestamp_assigner(|e: &(u64, u64, u64), _| Ok(e.2 as i64)),
        )
        .uid("timestamps")
        .key_by(|e: &(u64, u64, u64)| e.0)
        .window(TumblingEventTimeWindows::of(
            std::time::Duration::from_millis(WINDOW),
        ))
        .reduce(|a, b| (a.0, a.1, a.2 + b.2))
        .uid("window")
        .sink_to(sink, "File Sink")
        .uid("sink");
    let handle = env.execute_async("failing window job").unwrap();
    let completed = std::thread::scope(|_| loop {
        let metrics = handle.job_metrics();
        if handle.status() != weir_runtime::JobStatus::Running {
            break metrics
                .get("numberOfCompletedCheckpoints")
                .copied()
                .unwrap_or(0);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    });
    let result = handle.wait().unwrap();
    (result.num_restarts, completed)
}

#[test]
fn exactly_once_after_an_injected_failure() {
    let (out, chk) = (TempDir::new("eo-out"), TempDir::new("eo-chk"));
    let (restarts, completed) = run_failing_job(&out.0, &chk.0, "EXACTLY_ONCE", 25_000);
    assert_eq!(restarts, 1);
    assert!(completed >= 2, "only {completed} checkpoints completed");
    assert_eq!(finished_lines(&out.0), reference());
}

#[test]
fn at_least_once_loses_nothing_after_an_injected_failure() {
    let (out, chk) = (TempDir::new("alo-out"), TempDir::new("alo-chk"));
    let (restarts, _) = run_failing_job(&out.0, &chk.0, "AT_LEAST_ONCE", 25_000);
    assert_eq!(restarts, 1);
    let got = finished_lines(&out.0);
    let parse = |line: &str| -> (u64, u64, u64) {
        let v: Vec<u64> = (line.trim_matches(['(', ')']).split(','))
            .map(|x| x.parse().unwrap())
            .collect();
        (v[0], v[1], v[2])
    };
    for expected in reference() {
        let (k, w, sum) = parse(&expected);
        assert!(
            got.iter()
                .map(|l| parse(l))
                .any(|(k2, w2, s2)| k2 == k && w2 == w && s2 >= sum),
            "window {w} of key {k} missing or short: expected a sum of at least {sum}"
        );
    }
}
