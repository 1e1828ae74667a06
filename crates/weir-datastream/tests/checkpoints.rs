//! Checkpoints end to end: a keyed window job writing through the exactly-once file sink
//! fails once mid-stream; the job restarts from its latest completed checkpoint (the sources
//! rewind, the window state comes back) and the finished files equal a reference computed
//! here from the generator's formula: no record lost, none counted twice. The tests with
//! keyed state run on every state backend.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use common::{env, env_on, TempDir};
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

/// Parses a `(key,window,sum)` line.
fn parse_sum(line: &str) -> (u64, u64, u64) {
    let v: Vec<u64> = (line.trim_matches(['(', ')']).split(','))
        .map(|x| x.parse().unwrap())
        .collect();
    (v[0], v[1], v[2])
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

/// Runs the window job at parallelism 2 on state backend `backend` with checkpoints every
/// 50 ms in `mode`; the map fails once after `fail_after` records. Returns the job's restarts
/// and completed checkpoints.
fn run_failing_job(
    backend: &str,
    out: &Path,
    checkpoints: &Path,
    mode: &str,
    fail_after: u64,
) -> (u64, i64) {
    let env = env_on(backend, 2);
    env.configure("execution.checkpointing.interval", "50 ms")
        .configure("execution.checkpointing.mode", mode)
        .configure(
            "execution.checkpointing.dir",
            &checkpoints.display().to_string(),
        )
        .configure(
            "execution.checkpointing.externalized-checkpoint-retention",
            "RETAIN_ON_CANCELLATION",
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

fn exactly_once_after_an_injected_failure(backend: &str) {
    let (out, chk) = (TempDir::new("eo-out"), TempDir::new("eo-chk"));
    let (restarts, completed) = run_failing_job(backend, &out.0, &chk.0, "EXACTLY_ONCE", 25_000);
    assert_eq!(restarts, 1);
    assert!(completed >= 2, "only {completed} checkpoints completed");
    assert_eq!(finished_lines(&out.0), reference());
    check_shared_files(&chk.0, backend);
}

/// The job's shared folder holds exactly the files that its retained checkpoint references:
/// the files of subsumed incremental checkpoints are deleted with the last checkpoint that
/// holds them, and those of the attempt before the failure once no checkpoint holds them.
/// Only incremental checkpoints have shared files.
fn check_shared_files(checkpoints: &Path, backend: &str) {
    let names = |dir: &Path| -> Vec<std::path::PathBuf> {
        let mut paths: Vec<_> = (std::fs::read_dir(dir).unwrap())
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        paths
    };
    let [job] = names(checkpoints).try_into().expect("one job directory");
    let mut referenced = std::collections::BTreeSet::new();
    for dir in names(&job) {
        if dir.join("_metadata").is_file() {
            let checkpoint = weir_state::storage::load(&dir.display().to_string()).unwrap();
            referenced.extend(
                (checkpoint.metadata().handles())
                    .filter_map(|(_, h)| h.path.strip_prefix("../shared/"))
                    .map(std::path::PathBuf::from),
            );
        }
    }
    let shared_dir = job.join("shared");
    let shared: std::collections::BTreeSet<std::path::PathBuf> = (names(&shared_dir).iter())
        .flat_map(|owner| names(owner))
        .map(|file| file.strip_prefix(&shared_dir).unwrap().to_path_buf())
        .collect();
    assert_eq!(shared, referenced);
    if backend != "rocksdb-incremental" {
        assert!(shared.is_empty(), "{shared:?}");
    }
}

fn at_least_once_loses_nothing_after_an_injected_failure(backend: &str) {
    let (out, chk) = (TempDir::new("alo-out"), TempDir::new("alo-chk"));
    let (restarts, _) = run_failing_job(backend, &out.0, &chk.0, "AT_LEAST_ONCE", 25_000);
    assert_eq!(restarts, 1);
    let got = finished_lines(&out.0);
    for expected in reference() {
        let (k, w, sum) = parse_sum(&expected);
        assert!(
            got.iter()
                .map(|l| parse_sum(l))
                .any(|(k2, w2, s2)| k2 == k && w2 == w && s2 >= sum),
            "window {w} of key {k} missing or short: expected a sum of at least {sum}"
        );
    }
}

/// A map that fails once, at its `at`-th record, then passes records through; it slows the
/// stream down to about `per_ms` records per millisecond so that checkpoints happen.
fn fail_once<T: Record>(
    at: u64,
    per_ms: u64,
) -> impl FnMut(T) -> Result<T> + Clone + Send + Sync + 'static {
    let failed = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicU64::new(0));
    move |record: T| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        if n.is_multiple_of(per_ms) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if n == at && !failed.swap(true, Ordering::SeqCst) {
            return Err(WeirError::user("injected failure"));
        }
        Ok(record)
    }
}

/// A file sink into `dir` whose files roll at every checkpoint, in the base path.
fn line_sink<T: weir_datastream::format::RecordFormat + Send + Sync + 'static>(
    dir: &Path,
) -> FileSink<T> {
    FileSink::for_row_format(dir)
        .with_bucket_assigner(|_: &T, _| String::new())
        .with_rolling_policy(RollingPolicy::on_checkpoint())
}

fn checkpointed_env(parallelism: usize, checkpoints: &Path) -> StreamExecutionEnvironment {
    let env = env(parallelism);
    env.configure("execution.checkpointing.interval", "30 ms")
        .configure(
            "execution.checkpointing.dir",
            &checkpoints.display().to_string(),
        )
        .configure("restart-strategy.type", "fixed-delay")
        .configure("restart-strategy.fixed-delay.delay", "10 ms");
    env
}

#[test]
fn text_file_and_collection_sources_resume_where_the_checkpoint_was() {
    let (input, out, chk) = (
        TempDir::new("tf-in"),
        TempDir::new("tf-out"),
        TempDir::new("tf-chk"),
    );
    let lines: Vec<String> = (0..30_000)
        .map(|i| format!("line {i} {}", "x".repeat(i % 17)))
        .collect();
    std::fs::write(input.path("a.txt"), lines[..15_000].join("\n") + "\n").unwrap();
    std::fs::write(input.path("b.txt"), lines[15_000..].join("\n")).unwrap();
    let env = checkpointed_env(2, &chk.0);
    env.read_text_file(&input.0)
        .uid("files")
        .try_map(fail_once(17_000, 20))
        .uid("flaky")
        .sink_to(line_sink(&out.0), "Lines")
        .uid("sink");
    assert_eq!(env.execute("text files").unwrap().num_restarts, 1);
    let mut expected = lines.clone();
    expected.sort();
    assert_eq!(finished_lines(&out.0), expected);

    let (out, chk) = (TempDir::new("col-out"), TempDir::new("col-chk"));
    let env = checkpointed_env(1, &chk.0);
    env.from_collection((0..20_000u64).collect())
        .uid("collection")
        .try_map(fail_once(12_000, 20))
        .uid("flaky")
        .sink_to(line_sink(&out.0), "Numbers")
        .uid("sink");
    assert_eq!(env.execute("collection").unwrap().num_restarts, 1);
    let mut expected: Vec<String> = (0..20_000u64).map(|i| i.to_string()).collect();
    expected.sort();
    assert_eq!(finished_lines(&out.0), expected);
}

/// A source whose checkpoints always fail.
struct Unsnapshottable;

struct Endless;

impl SourceReader<u64> for Endless {
    fn poll_next(&mut self, out: &mut Vec<u64>, _max: usize) -> Result<SourceStatus> {
        out.push(1);
        Ok(SourceStatus::Pending(std::time::Duration::from_millis(1)))
    }
}

impl Source<u64> for Unsnapshottable {
    fn create_reader(&self, _ctx: &RuntimeContext) -> Result<Box<dyn SourceReader<u64>>> {
        Ok(Box::new(Endless))
    }
}

#[test]
fn failing_checkpoints_fail_the_job_beyond_the_tolerated_number() {
    let chk = TempDir::new("tolerable");
    let env = env(1);
    env.configure("execution.checkpointing.interval", "10 ms")
        .configure("execution.checkpointing.dir", &chk.0.display().to_string())
        .configure("execution.checkpointing.tolerable-failed-checkpoints", "2")
        .configure("restart-strategy.type", "none");
    env.from_source(Unsnapshottable, "Unsnapshottable")
        .sink_to(|_: Vec<u64>| -> Result<()> { Ok(()) }, "Discard");
    let err = env.execute("failing checkpoints").unwrap_err().to_string();
    assert!(
        err.contains("tolerable failure threshold (3 consecutive"),
        "{err}"
    );
    assert!(err.contains("does not support checkpoints"), "{err}");
}

/// Runs an endless generator with checkpoints every 20 ms under `retention`, cancels it once
/// two checkpoints completed, and says whether the job's checkpoint directory survived.
fn checkpoints_survive_cancel(retention: &str) -> bool {
    let chk = TempDir::new(&format!("retention-{retention}"));
    let env = env(1);
    env.configure("execution.checkpointing.interval", "20 ms")
        .configure("execution.checkpointing.dir", &chk.0.display().to_string())
        .configure(
            "execution.checkpointing.externalized-checkpoint-retention",
            retention,
        );
    env.from_generator(|i| i, None, Some(10_000.0))
        .sink_to(|_: Vec<u64>| -> Result<()> { Ok(()) }, "Discard");
    let handle = env.execute_async("retention").unwrap();
    while handle
        .job_metrics()
        .get("numberOfCompletedCheckpoints")
        .copied()
        .unwrap_or(0)
        < 2
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let job_dir = chk.0.join(&handle.job_id);
    assert!(job_dir.join("chk-2").join("_metadata").is_file() || job_dir.join("chk-3").is_dir());
    handle.cancel();
    let _ = handle.wait();
    job_dir.exists()
}

#[test]
fn checkpoints_are_retained_on_cancel_only_when_configured() {
    assert!(checkpoints_survive_cancel("RETAIN_ON_CANCELLATION"));
    assert!(!checkpoints_survive_cancel("DELETE_ON_CANCELLATION"));
    assert!(!checkpoints_survive_cancel("NO_EXTERNALIZED_CHECKPOINTS"));
}

fn stop_with_savepoint_and_drain_fires_every_window(backend: &str) {
    let (out, sp) = (TempDir::new("drain-out"), TempDir::new("drain-sp"));
    let env = env_on(backend, 1);
    env.configure("pipeline.auto-watermark-interval", "5 ms");
    env.from_generator(|i| (i % KEYS, i / WINDOW, i), None, Some(20_000.0))
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_monotonous_timestamps()
                .with_timestamp_assigner(|e: &(u64, u64, u64), _| Ok(e.2 as i64)),
        )
        .key_by(|e: &(u64, u64, u64)| e.0)
        .window(TumblingEventTimeWindows::of(
            std::time::Duration::from_millis(WINDOW),
        ))
        .reduce(|a, b| (a.0, a.1, a.2 + b.2))
        .sink_to(line_sink(&out.0), "Sums");
    let handle = env.execute_async("drained").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let savepoint = handle
        .stop_with_savepoint(Some(&sp.0.display().to_string()), true)
        .unwrap();
    handle.wait().unwrap();
    assert!(Path::new(&savepoint).join("_metadata").is_file());
    // Draining fired every window, the last one partial: every key's sums add up to the sum
    // of 0..n for the n events read, and windows are complete but for the last.
    let lines = finished_lines(&out.0);
    let sums: Vec<(u64, u64, u64)> = lines.iter().map(|l| parse_sum(l)).collect();
    let last_window = sums.iter().map(|s| s.1).max().expect("windows fired");
    assert!(last_window >= 1, "the job ran for several windows");
    let mut full_sorted: Vec<(u64, u64, u64)> =
        sums.into_iter().filter(|s| s.1 < last_window).collect();
    full_sorted.sort();
    let mut expected_sorted: Vec<(u64, u64, u64)> = (reference().iter())
        .map(|l| parse_sum(l))
        .filter(|s| s.1 < last_window)
        .collect();
    expected_sorted.sort();
    assert_eq!(full_sorted, expected_sorted);
}

weir_state::for_each_backend!(
    exactly_once_after_an_injected_failure,
    at_least_once_loses_nothing_after_an_injected_failure,
    stop_with_savepoint_and_drain_fires_every_window,
);
