//! Restart strategies: without checkpoints a failed job runs again from the beginning (with
//! them, from the latest checkpoint: see checkpoints.rs) as `restart-strategy.*` allows; the
//! job metric `numRestarts` counts the restarts.
//! The delays' growth of exponential-delay is tested on the policy (weir-runtime's
//! `restart` module), not against the wall clock.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{collected, env};
use weir_datastream::prelude::*;
use weir_runtime::{JobHandle, JobStatus};

/// Records tagged with the attempt that produced them.
type Tagged = Arc<std::sync::Mutex<Vec<(usize, i64)>>>;

/// A job over 1..=100 (parallelism 1, one chained task) whose map fails at record 50 while
/// fewer than `fail_times` failures happened. Records are tagged with the number of
/// failures before them, i.e. the attempt that produced them.
fn failing_job(
    config: &[(&str, &str)],
    fail_times: usize,
) -> (StreamExecutionEnvironment, Arc<AtomicUsize>, Tagged) {
    let env = env(1);
    for (k, v) in config {
        env.configure(k, v);
    }
    let failures = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&failures);
    let tagged = env
        .from_sequence(1, 100)
        .try_map(move |x: i64| {
            if x == 50 && counter.load(Ordering::SeqCst) < fail_times {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                return Err(WeirError::user(format!("failure number {n}")));
            }
            Ok((counter.load(Ordering::SeqCst), x * 2))
        })
        .name("Flaky Map");
    let records = collected(&tagged);
    (env, failures, records)
}

/// Waits for the job to end; its result and `numRestarts` at the end.
fn run(handle: JobHandle) -> (Result<weir_runtime::JobExecutionResult>, u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while handle.status() == JobStatus::Running && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let restarts = handle.num_restarts();
    (handle.wait(), restarts)
}

const FIXED_3: [(&str, &str); 3] = [
    ("restart-strategy.type", "fixed-delay"),
    ("restart-strategy.fixed-delay.attempts", "3"),
    ("restart-strategy.fixed-delay.delay", "10 ms"),
];

#[test]
fn fixed_delay_restarts_the_job_from_the_beginning_until_it_succeeds() {
    let (env, failures, records) = failing_job(&FIXED_3, 2);
    let result = env.execute("flaky").unwrap();
    assert_eq!(result.num_restarts, 2);
    assert_eq!(failures.load(Ordering::SeqCst), 2);
    let records = records.lock().unwrap();
    // Each failed attempt emitted at most records 1..49 (how many reached the sink depends
    // on batching); the last one read the source again from 1.
    for attempt in 0..2 {
        let got: Vec<i64> = records
            .iter()
            .filter(|(a, _)| *a == attempt)
            .map(|r| r.1)
            .collect();
        assert_eq!(
            got,
            (1..=got.len() as i64).map(|x| x * 2).collect::<Vec<_>>()
        );
        assert!(got.len() < 50);
    }
    let last: Vec<i64> = records
        .iter()
        .filter(|(a, _)| *a == 2)
        .map(|r| r.1)
        .collect();
    assert_eq!(last, (1..=100).map(|x| x * 2).collect::<Vec<_>>());
    // The metrics are those of the last attempt's subtasks.
    let totals = result.operator_totals();
    let map = totals.iter().find(|(n, ..)| n == "Flaky Map").unwrap();
    assert_eq!((map.1, map.2), (100, 100));
    assert_eq!(
        serde_json::to_value(&result).unwrap()["numRestarts"],
        serde_json::json!(2)
    );
}

#[test]
fn fixed_delay_gives_up_when_its_attempts_are_exhausted() {
    let (env, failures, _) = failing_job(
        &[
            ("restart-strategy.type", "fixed-delay"),
            ("restart-strategy.fixed-delay.attempts", "1"),
            ("restart-strategy.fixed-delay.delay", "10 ms"),
        ],
        usize::MAX,
    );
    let (result, restarts) = run(env.execute_async("exhausted").unwrap());
    let err = result.unwrap_err().to_string();
    assert!(err.contains("operator 'Flaky Map'"), "{err}");
    assert!(err.contains("failure number 2"), "{err}");
    assert!(
        err.contains("(restart strategy fixed-delay: 1 attempts exhausted)"),
        "{err}"
    );
    assert_eq!(restarts, 1);
    assert_eq!(failures.load(Ordering::SeqCst), 2);
}

#[test]
fn without_a_strategy_the_first_failure_fails_the_job() {
    for config in [vec![], vec![("restart-strategy.type", "none")]] {
        let (env, failures, _) = failing_job(&config, usize::MAX);
        let handle = env.execute_async("no restart").unwrap();
        let (result, restarts) = run(handle);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("failure number 1"), "{err}");
        assert!(!err.contains("restart strategy"), "{err}");
        assert_eq!(restarts, 0);
        assert_eq!(failures.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn failure_rate_gives_up_on_too_many_failures_in_the_interval() {
    let (env, failures, _) = failing_job(
        &[
            ("restart-strategy.type", "failure-rate"),
            (
                "restart-strategy.failure-rate.max-failures-per-interval",
                "1",
            ),
            (
                "restart-strategy.failure-rate.failure-rate-interval",
                "1 min",
            ),
            ("restart-strategy.failure-rate.delay", "10 ms"),
        ],
        usize::MAX,
    );
    let (result, restarts) = run(env.execute_async("failure rate").unwrap());
    let err = result.unwrap_err().to_string();
    assert!(err.contains("failure number 2"), "{err}");
    assert!(err.contains("restart strategy failure-rate"), "{err}");
    assert_eq!(restarts, 1);
    assert_eq!(failures.load(Ordering::SeqCst), 2);
}

#[test]
fn checkpointing_defaults_to_exponential_delay() {
    // With checkpointing enabled and no strategy configured, Flink 2 restarts with
    // exponential-delay (here with a short initial backoff).
    let (env, failures, records) = failing_job(
        &[
            ("execution.checkpointing.interval", "1 min"),
            ("restart-strategy.exponential-delay.initial-backoff", "5 ms"),
            ("restart-strategy.exponential-delay.max-backoff", "20 ms"),
        ],
        3,
    );
    let result = env.execute("exponential").unwrap();
    assert_eq!(result.num_restarts, 3);
    assert_eq!(failures.load(Ordering::SeqCst), 3);
    let last = records.lock().unwrap().iter().filter(|r| r.0 == 3).count();
    assert_eq!(last, 100);
}

#[test]
fn cancelling_during_the_restart_delay_cancels_the_job() {
    let (env, failures, _) = failing_job(
        &[
            ("restart-strategy.type", "fixed-delay"),
            ("restart-strategy.fixed-delay.attempts", "3"),
            ("restart-strategy.fixed-delay.delay", "1 h"),
        ],
        usize::MAX,
    );
    let handle = env.execute_async("cancelled while restarting").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while failures.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Still running: waiting to restart.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(handle.status(), JobStatus::Running);
    let started = Instant::now();
    handle.cancel();
    let (result, restarts) = run(handle);
    assert!(matches!(result, Err(WeirError::Cancelled)), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(restarts, 0);
    assert_eq!(failures.load(Ordering::SeqCst), 1);
}

#[test]
fn a_restarted_parallel_job_gets_new_channels_and_state() {
    // Parallelism 2 with a keyed exchange: the restart rebuilds every task, channel and
    // keyed state. Running sums only grow, so the largest sum per key is the last attempt's
    // total exactly when the restarted job ran completely on fresh state.
    let env = env(2);
    for (k, v) in FIXED_3 {
        env.configure(k, v);
    }
    let failures = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&failures);
    let sums = env
        .from_sequence(1, 1000)
        .try_map(move |x: i64| {
            if x == 700 && counter.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(WeirError::user("first attempt fails"));
            }
            Ok((x % 5, x))
        })
        .key_by(|r: &(i64, i64)| r.0)
        .reduce(|a, b| (a.0, a.1 + b.1));
    let records = collected(&sums);
    let result = env.execute("parallel restart").unwrap();
    assert_eq!(result.num_restarts, 1);
    let records = records.lock().unwrap();
    for key in 0..5 {
        let max = records.iter().filter(|r| r.0 == key).map(|r| r.1).max();
        let expected: i64 = (1..=1000).filter(|x| x % 5 == key).sum();
        assert_eq!(max, Some(expected), "key {key}");
    }
}
