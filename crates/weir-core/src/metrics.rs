//! Metrics of running subtasks, with Flink's names.
//!
//! Each task (one subtask of a chain) owns a [`TaskMetrics`] of lock-free counters that the
//! task thread updates; a [`MetricRegistry`] holds them for the job so that a reporter, the
//! job result or the REST API can read them while the job runs. Time metrics are sampled into
//! per-second rates (`busyTimeMsPerSecond`, `idleTimeMsPerSecond`,
//! `backPressuredTimeMsPerSecond`) by [`MetricRegistry::sample`].
//!
//! Operators register their own metrics (Flink's `getMetricGroup().counter(..)`) in the
//! [`OperatorMetricGroup`] of their [`OperatorMetrics`]: a [`Counter`] or [`Gauge`] is created
//! on demand by name and shared through an `Arc`, so updating it takes no lock.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Flink's name for the counter of late records an operator dropped (windows, interval joins).
pub const NUM_LATE_RECORDS_DROPPED: &str = "numLateRecordsDropped";
/// Flink's name for the gauge of the last watermark an operator emitted.
pub const CURRENT_OUTPUT_WATERMARK: &str = "currentOutputWatermark";

/// A counter an operator registered: cheap to clone, lock-free to update.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }
    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }
    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// A gauge an operator registered: the last value set (Flink's `Gauge<Long>`).
#[derive(Debug, Clone, Default)]
pub struct Gauge(Arc<AtomicI64>);

impl Gauge {
    /// Sets the value.
    #[inline]
    pub fn set(&self, value: i64) {
        self.0.store(value, Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Relaxed)
    }
}

#[derive(Debug, Clone)]
enum Metric {
    Counter(Counter),
    Gauge(Gauge),
}

/// The metrics one operator subtask registered itself, by name (Flink's operator metric group).
///
/// Registration takes a lock; the returned handles do not. Asking again for a name returns the
/// same metric. A name already registered as the other kind gets a new metric that is not
/// reported (Flink logs a warning and does the same).
#[derive(Debug, Default)]
pub struct OperatorMetricGroup {
    metrics: Mutex<BTreeMap<String, Metric>>,
}

impl OperatorMetricGroup {
    fn metrics(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Metric>> {
        self.metrics.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counter `name`, created at 0 if it does not exist.
    pub fn counter(&self, name: &str) -> Counter {
        let mut metrics = self.metrics();
        match metrics
            .entry(name.to_string())
            .or_insert_with(|| Metric::Counter(Counter::default()))
        {
            Metric::Counter(c) => c.clone(),
            Metric::Gauge(_) => {
                tracing::warn!(
                    "metric '{name}' is a gauge; the counter of that name is not reported"
                );
                Counter::default()
            }
        }
    }

    /// The gauge `name`, created at 0 if it does not exist.
    pub fn gauge(&self, name: &str) -> Gauge {
        let mut metrics = self.metrics();
        match metrics
            .entry(name.to_string())
            .or_insert_with(|| Metric::Gauge(Gauge::default()))
        {
            Metric::Gauge(g) => g.clone(),
            Metric::Counter(_) => {
                tracing::warn!(
                    "metric '{name}' is a counter; the gauge of that name is not reported"
                );
                Gauge::default()
            }
        }
    }

    /// The current value of every registered metric, by name (counters saturate at `i64::MAX`).
    pub fn snapshot(&self) -> BTreeMap<String, i64> {
        self.metrics()
            .iter()
            .map(|(name, m)| {
                let value = match m {
                    Metric::Counter(c) => i64::try_from(c.get()).unwrap_or(i64::MAX),
                    Metric::Gauge(g) => g.get(),
                };
                (name.clone(), value)
            })
            .collect()
    }
}

/// Records in and out of one operator of a chain, and the metrics it registered.
#[derive(Debug, Default)]
pub struct OperatorMetrics {
    pub name: String,
    pub uid: String,
    records_in: AtomicU64,
    records_out: AtomicU64,
    group: Arc<OperatorMetricGroup>,
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
    /// The group in which the operator registers its own metrics.
    pub fn group(&self) -> &Arc<OperatorMetricGroup> {
        &self.group
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
    alignment_ns: AtomicU64,
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
            alignment_ns: AtomicU64::new(0),
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
    /// Records how long the last checkpoint barrier alignment took, from the first barrier
    /// to the last (Flink's `checkpointAlignmentTime`, in nanoseconds).
    #[inline]
    pub fn set_checkpoint_alignment_time(&self, d: Duration) {
        self.alignment_ns
            .store(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }
    /// The duration of the last checkpoint barrier alignment.
    pub fn checkpoint_alignment_time(&self) -> Duration {
        Duration::from_nanos(self.alignment_ns.load(Relaxed))
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
            checkpoint_alignment_time: self.alignment_ns.load(Relaxed),
            rates,
            operators: self
                .operators
                .iter()
                .map(|o| OperatorMetricsSnapshot {
                    name: o.name.clone(),
                    uid: o.uid.clone(),
                    num_records_in: o.records_in.load(Relaxed),
                    num_records_out: o.records_out.load(Relaxed),
                    metrics: o.group.snapshot(),
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
    /// The metrics the operator registered itself, by name (e.g. `numLateRecordsDropped`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, i64>,
}

/// A copy of one subtask's metrics.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskMetricsSnapshot {
    pub vertex: String,
    pub subtask: usize,
    pub num_records_in: u64,
    pub num_records_out: u64,
    /// Nanoseconds the last checkpoint barrier alignment took (Flink's
    /// `checkpointAlignmentTime`; 0 before the first alignment).
    pub checkpoint_alignment_time: u64,
    #[serde(flatten)]
    pub rates: RateSnapshot,
    pub operators: Vec<OperatorMetricsSnapshot>,
}

/// All task metrics of a job, and the job's own metrics (such as `numRestarts`).
#[derive(Debug, Default)]
pub struct MetricRegistry {
    tasks: RwLock<Vec<Arc<TaskMetrics>>>,
    job: Arc<OperatorMetricGroup>,
}

impl MetricRegistry {
    /// The job-level metric group (Flink's job metrics, e.g. `numRestarts`); it outlives
    /// restarts.
    pub fn job(&self) -> &Arc<OperatorMetricGroup> {
        &self.job
    }

    /// Removes every task's metrics (when a restarted job registers its new subtasks).
    pub fn clear_tasks(&self) {
        self.tasks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

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
        assert_eq!(s.checkpoint_alignment_time, 0);
        t.set_checkpoint_alignment_time(Duration::from_millis(3));
        let json = serde_json::to_value(t.snapshot()).unwrap();
        assert_eq!(json["checkpointAlignmentTime"], 3_000_000);
    }

    #[test]
    fn operators_register_counters_and_gauges() {
        let op = OperatorMetrics::new("Window", "w");
        let group = Arc::clone(op.group());
        let dropped = group.counter("numLateRecordsDropped");
        dropped.inc();
        dropped.add(2);
        // The same name gives the same counter.
        group.counter("numLateRecordsDropped").inc();
        assert_eq!(dropped.get(), 4);
        let wm = group.gauge("currentOutputWatermark");
        wm.set(-5);
        wm.set(42);
        // A name of the other kind gets a metric that is not reported.
        group.gauge("numLateRecordsDropped").set(99);
        group.counter("currentOutputWatermark").add(7);

        let t = TaskMetrics::new("v", 0, vec![op, OperatorMetrics::new("Sink", "s")]);
        let s = t.snapshot();
        let expected: BTreeMap<String, i64> = [
            ("currentOutputWatermark".to_string(), 42),
            ("numLateRecordsDropped".to_string(), 4),
        ]
        .into();
        assert_eq!(s.operators[0].metrics, expected);
        assert!(s.operators[1].metrics.is_empty());
        let json = serde_json::to_value(&s.operators).unwrap();
        assert_eq!(json[0]["metrics"]["numLateRecordsDropped"], 4);
        assert!(json[1].get("metrics").is_none());
    }
}
