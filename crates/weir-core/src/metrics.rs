//! Metrics of running subtasks, with Flink's names.
//!
//! Each task (one subtask of a chain) owns a [`TaskMetrics`] of lock-free counters that the
//! task thread updates; a [`MetricRegistry`] holds them for the job so that a reporter, the
//! job result or the REST API can read them while the job runs. Time metrics are sampled into
//! per-second rates (`busyTimeMsPerSecond`, `idleTimeMsPerSecond`,
//! `backPressuredTimeMsPerSecond`) by [`MetricRegistry::sample`].

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Records in and out of one operator of a chain.
#[derive(Debug, Default)]
pub struct OperatorMetrics {
    pub name: String,
    pub uid: String,
    records_in: AtomicU64,
    records_out: AtomicU64,
}

impl OperatorMetrics {
    /// Metrics for the operator `name` with `uid`.
    pub fn new(name: &str, uid: &str) -> Self {
        OperatorMetrics {
            name: name.to_string(),
            uid: uid.to_string(),
            ..Default::default()
        }
    }
    /// Counts records that entered the operator.
    #[inline]
    pub fn add_in(&self, n: usize) {
        self.records_in.fetch_add(n as u64, Relaxed);
    }
    /// Counts records that the operator emitted.
    #[inline]
    pub fn add_out(&self, n: usize) {
        self.records_out.fetch_add(n as u64, Relaxed);
    }
}

/// The counters of one subtask of a job vertex.
#[derive(Debug)]
pub struct TaskMetrics {
    pub vertex: String,
    pub subtask: usize,
    pub operators: Vec<OperatorMetrics>,
    records_in: AtomicU64,
    records_out: AtomicU64,
    idle_ns: AtomicU64,
    backpressured_ns: AtomicU64,
    started: Instant,
    rates: Mutex<Rates>,
}

#[derive(Debug, Clone, Default)]
struct Rates {
    at: Option<Instant>,
    idle_ns: u64,
    backpressured_ns: u64,
    records_in: u64,
    records_out: u64,
    finished: bool,
    current: RateSnapshot,
}

/// Per-second rates over the last sampling interval.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateSnapshot {
    pub busy_time_ms_per_second: f64,
    pub idle_time_ms_per_second: f64,
    pub back_pressured_time_ms_per_second: f64,
    pub num_records_in_per_second: f64,
    pub num_records_out_per_second: f64,
}

impl TaskMetrics {
    /// Metrics for subtask `subtask` of `vertex`, with one entry per chained operator.
    pub fn new(vertex: &str, subtask: usize, operators: Vec<OperatorMetrics>) -> Self {
        TaskMetrics {
            vertex: vertex.to_string(),
            subtask,
            operators,
            records_in: AtomicU64::new(0),
            records_out: AtomicU64::new(0),
            idle_ns: AtomicU64::new(0),
            backpressured_ns: AtomicU64::new(0),
            started: Instant::now(),
            rates: Mutex::new(Rates::default()),
        }
    }
    /// Counts records received from other tasks.
    #[inline]
    pub fn add_records_in(&self, n: usize) {
        self.records_in.fetch_add(n as u64, Relaxed);
    }
    /// Counts records sent to other tasks (or to a sink).
    #[inline]
    pub fn add_records_out(&self, n: usize) {
        self.records_out.fetch_add(n as u64, Relaxed);
    }
    /// Adds time spent waiting for input.
    #[inline]
    pub fn add_idle(&self, d: Duration) {
        self.idle_ns.fetch_add(d.as_nanos() as u64, Relaxed);
    }
    /// Adds time spent waiting for room in an output channel.
    #[inline]
    pub fn add_backpressured(&self, d: Duration) {
        self.backpressured_ns
            .fetch_add(d.as_nanos() as u64, Relaxed);
    }

    /// Updates the per-second rates from the counters' growth since the last sample.
    /// `finished` freezes the rates at the lifetime averages.
    fn sample(&self, now: Instant, finished: bool) {
        let mut r = self.rates.lock().unwrap_or_else(|e| e.into_inner());
        if r.finished {
            return;
        }
        let (idle, bp) = (
            self.idle_ns.load(Relaxed),
            self.backpressured_ns.load(Relaxed),
        );
        let (rin, rout) = (
            self.records_in.load(Relaxed),
            self.records_out.load(Relaxed),
        );
        let (since, base) = match (finished, r.at) {
            (false, Some(at)) => (at, r.clone()),
            _ => (self.started, Rates::default()),
        };
        let secs = now.duration_since(since).as_secs_f64().max(1e-9);
        let per_sec_ms = |ns: u64| (ns as f64 / 1e6 / secs).min(1000.0);
        let idle_ms = per_sec_ms(idle - base.idle_ns);
        let bp_ms = per_sec_ms(bp - base.backpressured_ns);
        r.current = RateSnapshot {
            busy_time_ms_per_second: (1000.0 - idle_ms - bp_ms).max(0.0),
            idle_time_ms_per_second: idle_ms,
            back_pressured_time_ms_per_second: bp_ms,
            num_records_in_per_second: (rin - base.records_in) as f64 / secs,
            num_records_out_per_second: (rout - base.records_out) as f64 / secs,
        };
        r.at = Some(now);
        (r.idle_ns, r.backpressured_ns, r.records_in, r.records_out) = (idle, bp, rin, rout);
        r.finished = finished;
    }

    /// Marks the task as finished: its rates become lifetime averages.
    pub fn finish(&self) {
        self.sample(Instant::now(), true);
    }

    /// A copy of the current values.
    pub fn snapshot(&self) -> TaskMetricsSnapshot {
        let rates = self.rates.lock().unwrap_or_else(|e| e.into_inner()).current;
        TaskMetricsSnapshot {
            vertex: self.vertex.clone(),
            subtask: self.subtask,
            num_records_in: self.records_in.load(Relaxed),
            num_records_out: self.records_out.load(Relaxed),
            rates,
            operators: self
                .operators
                .iter()
                .map(|o| OperatorMetricsSnapshot {
                    name: o.name.clone(),
                    uid: o.uid.clone(),
                    num_records_in: o.records_in.load(Relaxed),
                    num_records_out: o.records_out.load(Relaxed),
                })
                .collect(),
        }
    }
}

/// A copy of one operator's counters.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorMetricsSnapshot {
    pub name: String,
    pub uid: String,
    pub num_records_in: u64,
    pub num_records_out: u64,
}

/// A copy of one subtask's metrics.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskMetricsSnapshot {
    pub vertex: String,
    pub subtask: usize,
    pub num_records_in: u64,
    pub num_records_out: u64,
    #[serde(flatten)]
    pub rates: RateSnapshot,
    pub operators: Vec<OperatorMetricsSnapshot>,
}

/// All task metrics of a job.
#[derive(Debug, Default)]
pub struct MetricRegistry {
    tasks: RwLock<Vec<Arc<TaskMetrics>>>,
}

impl MetricRegistry {
    /// Adds a task's metrics.
    pub fn register(&self, task: Arc<TaskMetrics>) {
        self.tasks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(task);
    }

    /// Recomputes every task's per-second rates (called about once a second).
    pub fn sample(&self) {
        let now = Instant::now();
        for t in self.tasks.read().unwrap_or_else(|e| e.into_inner()).iter() {
            t.sample(now, false);
        }
    }

    /// A copy of every task's metrics.
    pub fn snapshot(&self) -> Vec<TaskMetricsSnapshot> {
        self.tasks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|t| t.snapshot())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_follow_counters() {
        let t = TaskMetrics::new("v", 0, vec![]);
        t.add_records_in(1000);
        t.add_idle(Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(20));
        t.finish();
        let s = t.snapshot();
        assert_eq!(s.num_records_in, 1000);
        assert!(s.rates.num_records_in_per_second > 1000.0);
        assert!(s.rates.idle_time_ms_per_second > 0.0 && s.rates.idle_time_ms_per_second < 1000.0);
        assert!(s.rates.busy_time_ms_per_second > 0.0);
    }
}
