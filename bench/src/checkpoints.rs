//! Checkpoint benchmarks: how long checkpoints of a given amount of keyed state take and how
//! large they are, and how long a job takes from a failure to its first output after the
//! restart from its latest checkpoint.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_datastream::prelude::*;
use weir_runtime::operator::now_ms;
use weir_runtime::JobStatus;

use crate::state_size::Latest;
use crate::Args;

/// The keyed-state job: record `i` updates key `i % keys` with a value of `value_bytes`
/// bytes (kept in `ValueState`, so on the configured backend), so the state holds
/// `keys × value_bytes` bytes of values once every key was seen; a map before the keying may
/// fail once.
fn state_job(
    env: &StreamExecutionEnvironment,
    keys: u64,
    value_bytes: usize,
    fail_at: Option<(u64, Arc<AtomicI64>)>,
    first_after_failure: Arc<AtomicI64>,
) {
    let failed = Arc::new(AtomicBool::new(false));
    env.from_generator(move |i| (i % keys, i), None, None)
        .uid("numbers")
        .try_map(move |(key, i): (u64, u64)| {
            if let Some((at, failed_at)) = &fail_at {
                if i == *at && !failed.swap(true, Ordering::SeqCst) {
                    failed_at.store(now_ms(), Ordering::SeqCst);
                    return Err(WeirError::user("injected failure"));
                }
            }
            Ok((key, vec![(i % 251) as u8; value_bytes]))
        })
        .uid("values")
        .key_by(|r: &(u64, Vec<u8>)| r.0)
        .process(Latest::new(true))
        .uid("state")
        .sink_to(
            move |records: Vec<u64>| -> Result<()> {
                if !records.is_empty() {
                    let _ = first_after_failure.compare_exchange(
                        -1,
                        now_ms(),
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    );
                }
                Ok(())
            },
            "Discard",
        );
}

/// `checkpoint --state-mb MB [--value-bytes B] [--checkpoints N] [-D ...]`: keeps about
/// `MB` of keyed values and reports the size and duration of the first `N` checkpoints
/// (every second by default) after the state is full.
pub fn checkpoint(args: &Args) -> Result<String, String> {
    let state_mb: u64 = args.get("state-mb", None)?;
    let value_bytes: usize = args.get("value-bytes", Some(100))?;
    let wanted: i64 = args.get("checkpoints", Some(3))?;
    let keys = state_mb * (1 << 20) / value_bytes as u64;
    let env = args.environment(1);
    env.configure("execution.checkpointing.interval", "1 s");
    state_job(&env, keys, value_bytes, None, Arc::new(AtomicI64::new(0)));
    let handle = env
        .execute_async("checkpoint sizes")
        .map_err(|e| e.to_string())?;
    let (mut sizes, mut durations) = (Vec::new(), Vec::new());
    let mut seen = 0;
    let deadline = Instant::now() + Duration::from_secs(600);
    while sizes.len() < wanted as usize && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        let metrics = handle.job_metrics();
        let completed = metrics
            .get("numberOfCompletedCheckpoints")
            .copied()
            .unwrap_or(0);
        if completed > seen {
            seen = completed;
            let size = metrics.get("lastCheckpointSize").copied().unwrap_or(0);
            let full = metrics.get("lastCheckpointFullSize").copied().unwrap_or(0);
            // Only checkpoints taken once every key holds a value count.
            if full as u64 >= keys * value_bytes as u64 {
                sizes.push((size, full));
                durations.push(metrics.get("lastCheckpointDuration").copied().unwrap_or(0));
            }
        }
    }
    handle.cancel();
    let _ = handle.wait();
    if sizes.is_empty() {
        return Err("no checkpoint of the full state completed within 10 minutes".into());
    }
    let mb = |b: i64| format!("{:.1}", b as f64 / (1 << 20) as f64);
    Ok(format!(
        "checkpoint state_mb={state_mb} keys={keys} value_bytes={value_bytes}{} written_mb=[{}] full_mb=[{}] durations_ms={durations:?} peak_rss={:.1}MB",
        args.property_summary(),
        sizes.iter().map(|s| mb(s.0)).collect::<Vec<_>>().join(","),
        sizes.iter().map(|s| mb(s.1)).collect::<Vec<_>>().join(","),
        crate::procstat::status_kb("VmHWM") as f64 / 1024.0,
    ))
}

/// `recovery --state-mb MB [--fail-after N] [-D ...]`: the job fails once after `N` records
/// (default 20M); reports the time from the failure to the first record the sink receives
/// after the restart from the latest checkpoint (every second by default).
pub fn recovery(args: &Args) -> Result<String, String> {
    let state_mb: u64 = args.get("state-mb", Some(100))?;
    let value_bytes: usize = args.get("value-bytes", Some(100))?;
    let fail_after: u64 = args.get("fail-after", Some(20_000_000))?;
    let keys = state_mb * (1 << 20) / value_bytes as u64;
    let env = args.environment(1);
    env.configure("execution.checkpointing.interval", "1 s")
        .configure("restart-strategy.type", "fixed-delay")
        .configure("restart-strategy.fixed-delay.delay", "0 ms");
    let failed_at = Arc::new(AtomicI64::new(0));
    let first_after = Arc::new(AtomicI64::new(0));
    state_job(
        &env,
        keys,
        value_bytes,
        Some((fail_after, Arc::clone(&failed_at))),
        Arc::clone(&first_after),
    );
    let handle = env.execute_async("recovery").map_err(|e| e.to_string())?;
    // Arm the sink's clock once the failure happened and the restart is under way.
    let deadline = Instant::now() + Duration::from_secs(600);
    while handle.num_restarts() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
        if handle.status() != JobStatus::Running {
            break;
        }
    }
    first_after.store(-1, Ordering::SeqCst);
    while first_after.load(Ordering::SeqCst) < 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let restored = handle.restored_from();
    handle.cancel();
    let _ = handle.wait();
    let millis = first_after.load(Ordering::SeqCst) - failed_at.load(Ordering::SeqCst);
    Ok(format!(
        "recovery state_mb={state_mb} keys={keys}{} failure_to_first_output_ms={millis} restored_from={}",
        args.property_summary(),
        restored.unwrap_or_else(|| "nothing".into())
    ))
}
