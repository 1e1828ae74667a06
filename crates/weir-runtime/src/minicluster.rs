//! The local mini-cluster: runs a job's tasks as threads of this process.
//!
//! [`MiniCluster::submit`] checks that the job fits the slots, creates one bounded channel
//! per (producer subtask, consumer subtask) pair of every edge between vertices, builds each
//! task's chain of operators and starts one thread per task. The returned [`JobHandle`]
//! reads metrics, cancels, and waits for the result. The first task that fails cancels the
//! others, and its error (naming the operator) becomes the job's error, unless the restart
//! strategy ([`crate::restart`]) restarts the job.
//!
//! A restart, as in Flink without checkpoints, runs the whole job again from the beginning:
//! after the failed attempt's tasks are cancelled and joined and the strategy's delay
//! passed, every task is instantiated again from the [`ExecutableJob`]'s factories, with new
//! channels and new task metrics (the registry then shows the new subtasks, whose counters
//! start at zero). The job metric `numRestarts` counts the restarts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::Sender;
use serde::Serialize;
use weir_core::config::{options, Configuration};
use weir_core::graph::JobGraph;
use weir_core::keygroup::stable_hash;
use weir_core::metrics::{Counter, MetricRegistry, TaskMetricsSnapshot};
use weir_core::{Result, WeirError};

use crate::attempt::{Attempt, AttemptEnd, CANCEL_POLL};
use crate::checkpoint::{CheckpointCoordinator, RestorePoint, SavepointRequest};
use crate::job::ExecutableJob;
use crate::panic_capture;
use crate::restart::RestartStrategy;

/// An in-process cluster with a number of task slots.
pub struct MiniCluster {
    config: Arc<Configuration>,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum JobStatus {
    Running,
    Finished,
    Cancelled,
    Failed,
}

/// The result of a job that finished.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobExecutionResult {
    pub job_id: String,
    pub job_name: String,
    pub net_runtime_ms: u128,
    /// How often the job restarted after a failure (Flink's job metric `numRestarts`).
    pub num_restarts: u64,
    /// Metrics of every subtask at the end of the job.
    pub metrics: Vec<TaskMetricsSnapshot>,
}

impl JobExecutionResult {
    /// Records in and out summed over the subtasks of each operator, by operator name, in
    /// graph order.
    pub fn operator_totals(&self) -> Vec<(String, u64, u64)> {
        let mut totals: Vec<(String, u64, u64)> = Vec::new();
        for op in self.metrics.iter().flat_map(|t| &t.operators) {
            match totals.iter_mut().find(|(n, ..)| *n == op.name) {
                Some(t) => {
                    t.1 += op.num_records_in;
                    t.2 += op.num_records_out;
                }
                None => totals.push((op.name.clone(), op.num_records_in, op.num_records_out)),
            }
        }
        totals
    }

    /// The metric `metric` that operator `operator` registered, summed over its subtasks
    /// (meant for counters such as `numLateRecordsDropped`); `None` if no subtask has it.
    pub fn operator_metric(&self, operator: &str, metric: &str) -> Option<i64> {
        self.metrics
            .iter()
            .flat_map(|t| &t.operators)
            .filter(|op| op.name == operator)
            .filter_map(|op| op.metrics.get(metric))
            .fold(None, |sum, v| Some(sum.unwrap_or(0i64).saturating_add(*v)))
    }
}

struct JobShared {
    /// Set by [`JobHandle::cancel`] (or Ctrl-C): stops the running attempt and any restart.
    cancelled: Arc<AtomicBool>,
    /// Dropped when the job ends, to wake the metrics thread at once.
    job_ended: Mutex<Option<Sender<()>>>,
    /// The job's error once it ended in failure.
    failure: Mutex<Option<WeirError>>,
    /// `Running` until the job ends.
    status: Mutex<JobStatus>,
    /// The job metric `numRestarts`.
    num_restarts: Counter,
    /// Where savepoints are asked for (the coordinator on the job master thread serves them).
    savepoints: Sender<SavepointRequest>,
    /// The checkpoint or savepoint the current attempt restored from.
    restored_from: Mutex<Option<String>>,
}

/// A submitted job.
pub struct JobHandle {
    pub job_id: String,
    pub job_name: String,
    started: Instant,
    shared: Arc<JobShared>,
    metrics: Arc<MetricRegistry>,
    threads: Vec<JoinHandle<()>>,
}

impl MiniCluster {
    /// A mini-cluster configured by `config`.
    pub fn new(config: Configuration) -> Self {
        MiniCluster {
            config: Arc::new(config),
        }
    }

    /// The number of slots: `taskmanager.numberOfTaskSlots` × `local.number-taskmanager` when
    /// either is set, otherwise as many as the job needs.
    fn slots(&self, needed: usize) -> Result<usize> {
        let configured = self
            .config
            .contains(options::TASK_MANAGER_NUMBER_OF_TASK_SLOTS.key)
            || self.config.contains(options::LOCAL_NUMBER_TASK_MANAGER.key);
        if !configured {
            return Ok(needed);
        }
        let per_tm = self
            .config
            .get(&options::TASK_MANAGER_NUMBER_OF_TASK_SLOTS)?;
        let tms = self.config.get(&options::LOCAL_NUMBER_TASK_MANAGER)?;
        Ok(per_tm * tms)
    }

    /// The checkpoint or savepoint to start from (`execution.savepoint.path`), read and
    /// checked against `graph`.
    fn initial_restore_point(&self, graph: &JobGraph) -> Result<Option<RestorePoint>> {
        let Some(path) = self.config.get_optional(&options::SAVEPOINT_PATH)? else {
            return Ok(None);
        };
        let point = RestorePoint::load(&path)?;
        let allow = self
            .config
            .get(&options::SAVEPOINT_IGNORE_UNCLAIMED_STATE)?;
        point.check_job(graph, allow)?;
        Ok(Some(point))
    }

    /// Starts `job`; its tasks run until they end, fail or are cancelled. A failure restarts
    /// the whole job as the restart strategy (`restart-strategy.type`) allows: from the latest
    /// completed checkpoint (or the savepoint the job started from), else from the beginning.
    pub fn submit(&self, job: ExecutableJob) -> Result<JobHandle> {
        panic_capture::install_hook();
        let graph = &job.graph;
        // All operators share slots (Flink's default slot sharing): the job needs as many
        // slots as its widest vertex.
        let needed = graph
            .vertices
            .iter()
            .map(|v| v.parallelism)
            .max()
            .unwrap_or(1);
        let slots = self.slots(needed)?;
        if needed > slots {
            return Err(WeirError::InvalidJob(format!(
                "not enough task slots: the job needs {needed} (its highest parallelism) but the mini-cluster has {slots} (taskmanager.numberOfTaskSlots × local.number-taskmanager)"
            )));
        }
        let strategy = RestartStrategy::from_config(&self.config)?;

        let job_id = new_job_id(&graph.job_name);
        let job_name = graph.job_name.clone();
        let (job_ended, ended_rx) = crossbeam_channel::bounded::<()>(0);
        let metrics = Arc::new(MetricRegistry::default());
        let initial = self.initial_restore_point(&job.graph)?;
        let first_checkpoint = initial.as_ref().map_or(1, |r| r.checkpoint_id + 1);
        let (savepoints, requests) = crossbeam_channel::unbounded();
        let coordinator = CheckpointCoordinator::new(
            &self.config,
            &job_id,
            first_checkpoint,
            requests,
            metrics.job(),
        )?;
        let shared = Arc::new(JobShared {
            cancelled: Arc::new(AtomicBool::new(false)),
            job_ended: Mutex::new(Some(job_ended)),
            failure: Mutex::new(None),
            status: Mutex::new(JobStatus::Running),
            num_restarts: metrics.job().counter("numRestarts"),
            savepoints,
            restored_from: Mutex::new(None),
        });
        // The first attempt starts here, so that errors building the tasks fail `submit`.
        let attempt = Attempt::start(
            &job,
            &self.config,
            &metrics,
            initial.as_ref(),
            &coordinator.snapshot_sender(),
        )?;
        if let Some(point) = &initial {
            tracing::info!("Job {job_id} restored from {}", point.path.display());
            coordinator.record_restore();
            *shared
                .restored_from
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(point.path.display().to_string());
        }
        let supervisor = {
            let (shared, metrics, config) = (
                Arc::clone(&shared),
                Arc::clone(&metrics),
                Arc::clone(&self.config),
            );
            let label = format!("'{job_name}' ({job_id})");
            std::thread::Builder::new()
                .name("job-master".into())
                .spawn(move || {
                    let master = JobMaster {
                        job: &job,
                        config: &config,
                        metrics: &metrics,
                        shared: &shared,
                        label: &label,
                    };
                    master.supervise(strategy, attempt, coordinator, initial)
                })
                .map_err(|e| WeirError::io("starting the job master thread", e))?
        };
        let sampler = spawn_sampler(ended_rx, Arc::clone(&metrics), &self.config)?;
        Ok(JobHandle {
            job_id,
            job_name,
            started: Instant::now(),
            shared,
            metrics,
            threads: vec![supervisor, sampler],
        })
    }
}

/// The job master's view of a job: runs attempts one after the other.
struct JobMaster<'a> {
    job: &'a ExecutableJob,
    config: &'a Arc<Configuration>,
    metrics: &'a MetricRegistry,
    shared: &'a JobShared,
    label: &'a str,
}

impl JobMaster<'_> {
    /// Waits for each attempt to end (ticking the checkpoint coordinator meanwhile) and, after
    /// a failure, restarts the whole job from the latest completed checkpoint as `strategy`
    /// allows. Records the outcome in `shared` and ends the job.
    fn supervise(
        &self,
        mut strategy: RestartStrategy,
        mut attempt: Attempt,
        mut coordinator: CheckpointCoordinator,
        initial: Option<RestorePoint>,
    ) {
        let shared = self.shared;
        strategy.on_running(Instant::now());
        let mut restore_from = initial;
        let failure = loop {
            let error = match attempt.run(&shared.cancelled, &mut coordinator) {
                AttemptEnd::Finished | AttemptEnd::Stopped | AttemptEnd::Cancelled => break None,
                AttemptEnd::Failed(error) => error,
            };
            if shared.cancelled.load(Ordering::SeqCst) {
                break Some(error);
            }
            let Some(delay) = strategy.on_failure(Instant::now()) else {
                break Some(if strategy.restarts() {
                    with_note(error, &strategy.exhausted_reason())
                } else {
                    error
                });
            };
            let n = shared.num_restarts.get() + 1;
            tracing::warn!(
                "Job {} restarting after failure (attempt {n}, {strategy} restart strategy, delay {delay:?}): {error}",
                self.label
            );
            if !sleep_unless(delay, &shared.cancelled) {
                // Cancelled while waiting to restart: the job is cancelled.
                break None;
            }
            shared.num_restarts.inc();
            self.metrics.clear_tasks();
            if let Some(latest) = coordinator.latest_completed() {
                match RestorePoint::read(latest) {
                    Ok(point) => restore_from = Some(point),
                    Err(e) => break Some(e),
                }
            }
            match self.start_attempt(&coordinator, restore_from.as_ref()) {
                Ok(next) => attempt = next,
                Err(e) => break Some(e),
            }
            strategy.on_running(Instant::now());
        };
        let cancelled = shared.cancelled.load(Ordering::SeqCst);
        coordinator.on_job_end(failure.is_some());
        let status = match (&failure, cancelled) {
            (Some(_), _) => JobStatus::Failed,
            (None, true) => JobStatus::Cancelled,
            (None, false) => JobStatus::Finished,
        };
        *shared.failure.lock().unwrap_or_else(|e| e.into_inner()) = failure;
        *shared.status.lock().unwrap_or_else(|e| e.into_inner()) = status;
        shared
            .job_ended
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }

    /// Starts a new attempt restored from `restore`.
    fn start_attempt(
        &self,
        coordinator: &CheckpointCoordinator,
        restore: Option<&RestorePoint>,
    ) -> Result<Attempt> {
        let attempt = Attempt::start(
            self.job,
            self.config,
            self.metrics,
            restore,
            &coordinator.snapshot_sender(),
        )?;
        if let Some(point) = restore {
            tracing::info!("Job {} restored from {}", self.label, point.path.display());
            coordinator.record_restore();
            *self
                .shared
                .restored_from
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(point.path.display().to_string());
        }
        Ok(attempt)
    }
}

/// Sleeps for `delay` unless `cancelled` is set first; whether the whole delay passed.
fn sleep_unless(delay: Duration, cancelled: &AtomicBool) -> bool {
    let until = Instant::now() + delay;
    loop {
        if cancelled.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(CANCEL_POLL));
    }
}

/// `error` with ` (note)` appended to its message.
fn with_note(error: WeirError, note: &str) -> WeirError {
    let append = |m: String| format!("{m} ({note})");
    match error {
        WeirError::Config(m) => WeirError::Config(append(m)),
        WeirError::InvalidJob(m) => WeirError::InvalidJob(append(m)),
        WeirError::Io { context, message } => WeirError::Io {
            context,
            message: append(message),
        },
        WeirError::BadInput { location, message } => WeirError::BadInput {
            location,
            message: append(message),
        },
        WeirError::Operator {
            operator,
            subtask,
            message,
        } => WeirError::Operator {
            operator,
            subtask,
            message: append(message),
        },
        WeirError::Cancelled => WeirError::Cancelled,
        WeirError::Other(m) => WeirError::Other(append(m)),
    }
}

impl JobHandle {
    /// Cancels the job: every task stops at its next batch or within 50 ms of waiting, and a
    /// pending restart does not happen.
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::SeqCst);
    }

    /// The flag that cancels this job when set.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.shared.cancelled)
    }

    /// The current metrics of every subtask (of the current attempt after a restart).
    pub fn metrics(&self) -> Vec<TaskMetricsSnapshot> {
        self.metrics.snapshot()
    }

    /// How often the job restarted so far (Flink's job metric `numRestarts`).
    pub fn num_restarts(&self) -> u64 {
        self.shared.num_restarts.get()
    }

    /// The job's current state (`Running` also while waiting to restart).
    pub fn status(&self) -> JobStatus {
        *self.shared.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a savepoint of the running job into `target_dir` (or the configured
    /// `execution.checkpointing.savepoint-dir`) and returns its path once it is complete.
    pub fn trigger_savepoint(&self, target_dir: Option<&str>) -> Result<String> {
        self.request_savepoint(target_dir, None)
    }

    /// Takes a savepoint, then stops the job (Flink's stop-with-savepoint): with `drain`, the
    /// sources end and event time advances to the end so that every window fires; without,
    /// the tasks stop right after the savepoint. The job then ends as finished.
    pub fn stop_with_savepoint(&self, target_dir: Option<&str>, drain: bool) -> Result<String> {
        self.request_savepoint(target_dir, Some(drain))
    }

    fn request_savepoint(&self, target_dir: Option<&str>, stop: Option<bool>) -> Result<String> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        let request = SavepointRequest {
            target_dir: target_dir.map(str::to_string),
            stop,
            reply,
        };
        let gone = || WeirError::Other("the job is not running: no savepoint taken".into());
        self.shared.savepoints.send(request).map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }

    /// The checkpoint or savepoint the job (its current attempt) restored from, if any.
    pub fn restored_from(&self) -> Option<String> {
        self.shared
            .restored_from
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The job's metrics (`numRestarts`, checkpoint counts and sizes, ...).
    pub fn job_metrics(&self) -> std::collections::BTreeMap<String, i64> {
        self.metrics.job().snapshot()
    }

    /// Waits for the job to end. A failed job returns the error that failed its last
    /// attempt, a cancelled one [`WeirError::Cancelled`].
    pub fn wait(self) -> Result<JobExecutionResult> {
        for t in self.threads {
            let _ = t.join();
        }
        if let Some(e) = self
            .shared
            .failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            return Err(e);
        }
        if self.shared.cancelled.load(Ordering::SeqCst) {
            return Err(WeirError::Cancelled);
        }
        Ok(JobExecutionResult {
            job_id: self.job_id,
            job_name: self.job_name,
            net_runtime_ms: self.started.elapsed().as_millis(),
            num_restarts: self.shared.num_restarts.get(),
            metrics: self.metrics.snapshot(),
        })
    }
}

/// Samples metric rates every second and, if `metrics.reporter.log.interval` is set, logs them.
fn spawn_sampler(
    job_ended: crossbeam_channel::Receiver<()>,
    metrics: Arc<MetricRegistry>,
    config: &Configuration,
) -> Result<JoinHandle<()>> {
    let report_every = config.get_optional(&options::METRICS_REPORTER_LOG_INTERVAL)?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            let (mut last_sample, mut last_report) = (Instant::now(), Instant::now());
            while job_ended.recv_timeout(Duration::from_millis(50))
                != Err(crossbeam_channel::RecvTimeoutError::Disconnected)
            {
                if last_sample.elapsed() >= Duration::from_secs(1) {
                    metrics.sample();
                    last_sample = Instant::now();
                }
                if report_every.is_some_and(|every| last_report.elapsed() >= every) {
                    log_metrics(&metrics.snapshot());
                    let job: String = (metrics.job().snapshot().iter())
                        .map(|(name, value)| format!(" {name}={value}"))
                        .collect();
                    tracing::info!("Job:{job}");
                    last_report = Instant::now();
                }
            }
        })
        .map_err(|e| WeirError::io("starting the metrics thread", e))
}

fn log_metrics(snapshot: &[TaskMetricsSnapshot]) {
    for t in snapshot {
        tracing::info!(
            "{} ({}): numRecordsIn={} numRecordsOut={} numRecordsInPerSecond={:.0} busyTimeMsPerSecond={:.0} idleTimeMsPerSecond={:.0} backPressuredTimeMsPerSecond={:.0}{}",
            t.vertex,
            t.subtask + 1,
            t.num_records_in,
            t.num_records_out,
            t.rates.num_records_in_per_second,
            t.rates.busy_time_ms_per_second,
            t.rates.idle_time_ms_per_second,
            t.rates.back_pressured_time_ms_per_second,
            operator_metrics_text(t),
        );
    }
}

/// The metrics the operators of a subtask registered, as ` Operator.name=value` pairs (empty
/// if there are none).
fn operator_metrics_text(t: &TaskMetricsSnapshot) -> String {
    let mut text = String::new();
    for op in &t.operators {
        for (name, value) in &op.metrics {
            text.push_str(&format!(" {}.{name}={value}", op.name));
        }
    }
    text
}

/// A Flink-style job id: 32 hex digits.
fn new_job_id(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let a = stable_hash(&(name, nanos, std::process::id()));
    let b = stable_hash(&(a, nanos));
    format!("{a:016x}{b:016x}")
}

/// Cancels the flagged jobs on Ctrl-C; a second Ctrl-C exits at once.
pub fn cancel_on_interrupt(flag: Arc<AtomicBool>) {
    static FLAGS: OnceLock<Mutex<Vec<Arc<AtomicBool>>>> = OnceLock::new();
    let flags = FLAGS.get_or_init(|| {
        let installed = ctrlc::set_handler(|| {
            let flags = FLAGS
                .get()
                .map(|f| f.lock().unwrap_or_else(|e| e.into_inner()).clone())
                .unwrap_or_default();
            if flags.iter().any(|f| f.load(Ordering::SeqCst)) {
                eprintln!("interrupted again: exiting");
                std::process::exit(130);
            }
            eprintln!("interrupted: cancelling the job");
            flags.iter().for_each(|f| f.store(true, Ordering::SeqCst));
        });
        if let Err(e) = installed {
            tracing::warn!("cannot cancel jobs on Ctrl-C: {e}");
        }
        Mutex::new(Vec::new())
    });
    flags.lock().unwrap_or_else(|e| e.into_inner()).push(flag);
}

#[cfg(test)]
mod tests {
    use weir_core::metrics::{OperatorMetrics, TaskMetrics};

    use super::*;

    #[test]
    fn operator_metrics_join_the_log_line_and_the_job_result() {
        let task = |subtask, dropped| {
            let window = OperatorMetrics::new("Window", "w");
            window.group().counter("numLateRecordsDropped").add(dropped);
            let t = TaskMetrics::new(
                "Window -> Sink",
                subtask,
                vec![window, OperatorMetrics::new("Sink", "s")],
            );
            t.snapshot()
        };
        let (a, b) = (task(0, 2), task(1, 3));
        assert_eq!(operator_metrics_text(&a), " Window.numLateRecordsDropped=2");
        let bare = TaskMetrics::new("Source", 0, vec![OperatorMetrics::new("Source", "src")]);
        assert_eq!(operator_metrics_text(&bare.snapshot()), "");

        let result = JobExecutionResult {
            job_id: String::new(),
            job_name: String::new(),
            net_runtime_ms: 0,
            num_restarts: 0,
            metrics: vec![a, b],
        };
        assert_eq!(
            result.operator_metric("Window", "numLateRecordsDropped"),
            Some(5)
        );
        assert_eq!(
            result.operator_metric("Sink", "numLateRecordsDropped"),
            None
        );
    }
}
