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

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::Sender;
use serde::Serialize;
use weir_core::config::{options, Configuration};
use weir_core::element::StreamElement;
use weir_core::graph::{JobGraph, NodeId, StreamEdge};
use weir_core::keygroup::stable_hash;
use weir_core::metrics::{
    Counter, MetricRegistry, OperatorMetrics, TaskMetrics, TaskMetricsSnapshot,
};
use weir_core::{Result, WeirError};

use crate::channel::new_channel;
use crate::input::{InputChannel, InputGate};
use crate::job::{ExecutableJob, NodeFactory};
use crate::operator::OperatorContext;
use crate::output::{ChainedOperator, Outputs, RecordWriter, Target};
use crate::panic_capture;
use crate::partitioner::{targets_of, PartitionerInfo};
use crate::restart::RestartStrategy;
use crate::task::{Task, TaskHead};

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

    /// Starts `job`; its tasks run until they end, fail or are cancelled. A failure restarts
    /// the whole job (every task, sources from the beginning) as the restart strategy
    /// (`restart-strategy.type`) allows.
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
        let shared = Arc::new(JobShared {
            cancelled: Arc::new(AtomicBool::new(false)),
            job_ended: Mutex::new(Some(job_ended)),
            failure: Mutex::new(None),
            status: Mutex::new(JobStatus::Running),
            num_restarts: metrics.job().counter("numRestarts"),
        });
        // The first attempt starts here, so that errors building the tasks fail `submit`.
        let attempt = Attempt::start(&job, &self.config, &metrics)?;
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
                    supervise(&job, &config, &metrics, &shared, strategy, attempt, &label)
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

/// One execution attempt of a job: its task threads and their cancel flag.
struct Attempt {
    /// Cancels this attempt's tasks (set by the first failing task, or on job cancel).
    cancelled: Arc<AtomicBool>,
    /// The first error of a task of this attempt.
    failure: Arc<Mutex<Option<WeirError>>>,
    /// One message per task thread that ended; disconnected once all have.
    done: crossbeam_channel::Receiver<()>,
    threads: Vec<JoinHandle<()>>,
}

impl Attempt {
    /// Instantiates every task of `job` (new channels, operators and metrics, registered in
    /// `registry`) and starts them.
    fn start(
        job: &ExecutableJob,
        config: &Arc<Configuration>,
        registry: &MetricRegistry,
    ) -> Result<Attempt> {
        let cancelled = Arc::new(AtomicBool::new(false));
        let tasks = TaskBuilder::new(job, config, &cancelled, registry)?.build_all()?;
        let failure = Arc::new(Mutex::new(None::<WeirError>));
        let (done_tx, done) = crossbeam_channel::unbounded();
        let mut attempt = Attempt {
            cancelled,
            failure,
            done,
            threads: Vec::with_capacity(tasks.len()),
        };
        for task in tasks {
            let (cancelled, failure, done_tx) = (
                Arc::clone(&attempt.cancelled),
                Arc::clone(&attempt.failure),
                done_tx.clone(),
            );
            let spawned = std::thread::Builder::new()
                .name(task.name.clone())
                .spawn(move || {
                    if let Err(e) = task.run() {
                        if !matches!(e, WeirError::Cancelled) {
                            tracing::debug!("task failed: {e}");
                            failure
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .get_or_insert(e);
                        }
                        cancelled.store(true, Ordering::SeqCst);
                    }
                    let _ = done_tx.send(());
                });
            match spawned {
                Ok(t) => attempt.threads.push(t),
                Err(e) => {
                    attempt.cancelled.store(true, Ordering::SeqCst);
                    for t in attempt.threads.drain(..) {
                        let _ = t.join();
                    }
                    return Err(WeirError::io("starting a task thread", e));
                }
            }
        }
        Ok(attempt)
    }

    /// Waits until every task ended, cancelling them once `job_cancelled` is set; the first
    /// task failure (not a cancellation), if any.
    fn wait(self, job_cancelled: &AtomicBool) -> Option<WeirError> {
        let mut running = self.threads.len();
        while running > 0 {
            match self.done.recv_timeout(CANCEL_POLL) {
                Ok(()) => running -= 1,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    if job_cancelled.load(Ordering::SeqCst) {
                        self.cancelled.store(true, Ordering::SeqCst);
                    }
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            }
        }
        for t in self.threads {
            let _ = t.join();
        }
        let failure = self
            .failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        failure
    }
}

/// How often the job master checks the job's cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(10);

/// The job master: waits for each attempt to end and, after a task failure, cancels what is
/// left of the attempt and restarts the whole job as `strategy` allows. Records the outcome
/// in `shared` and ends the job.
fn supervise(
    job: &ExecutableJob,
    config: &Arc<Configuration>,
    metrics: &MetricRegistry,
    shared: &JobShared,
    mut strategy: RestartStrategy,
    mut attempt: Attempt,
    label: &str,
) {
    strategy.on_running(Instant::now());
    let failure = loop {
        let Some(error) = attempt.wait(&shared.cancelled) else {
            break None;
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
            "Job {label} restarting after failure (attempt {n}, {strategy} restart strategy, delay {delay:?}): {error}"
        );
        if !sleep_unless(delay, &shared.cancelled) {
            // Cancelled while waiting to restart: the job is cancelled.
            break None;
        }
        shared.num_restarts.inc();
        metrics.clear_tasks();
        match Attempt::start(job, config, metrics) {
            Ok(next) => attempt = next,
            Err(e) => break Some(e),
        }
        strategy.on_running(Instant::now());
    };
    let status = match (&failure, shared.cancelled.load(Ordering::SeqCst)) {
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

/// Builds the tasks of a job: channels first, then each subtask's chain.
struct TaskBuilder<'a> {
    job: &'a ExecutableJob,
    config: &'a Arc<Configuration>,
    cancelled: &'a Arc<AtomicBool>,
    registry: &'a MetricRegistry,
    batch_size: usize,
    channel_capacity: usize,
    /// Senders of each (stream edge, producer subtask), in target order.
    senders: HashMap<(usize, usize), Vec<Sender<StreamElement>>>,
    /// Input channels of each (vertex, subtask).
    inputs: HashMap<(usize, usize), Vec<InputChannel>>,
}

impl<'a> TaskBuilder<'a> {
    fn new(
        job: &'a ExecutableJob,
        config: &'a Arc<Configuration>,
        cancelled: &'a Arc<AtomicBool>,
        registry: &'a MetricRegistry,
    ) -> Result<Self> {
        let batch_size = config.get(&options::EXECUTION_BATCH_SIZE)?.max(1);
        let channel_capacity = config.get(&options::BUFFERS_PER_CHANNEL)?.max(1);
        let mut builder = TaskBuilder {
            job,
            config,
            cancelled,
            registry,
            batch_size,
            channel_capacity,
            senders: HashMap::new(),
            inputs: HashMap::new(),
        };
        builder.create_channels();
        Ok(builder)
    }

    fn graph(&self) -> &'a JobGraph {
        &self.job.graph
    }

    fn create_channels(&mut self) {
        let graph = self.graph();
        for je in &graph.edges {
            let edge = &graph.stream_graph.edges[je.stream_edge];
            let (producers, consumers) = (
                graph.vertices[je.source_vertex].parallelism,
                graph.vertices[je.target_vertex].parallelism,
            );
            for p in 0..producers {
                let mut txs = Vec::new();
                for c in targets_of(edge.partitioner, p, producers, consumers) {
                    let (tx, rx) = new_channel(self.channel_capacity);
                    txs.push(tx);
                    self.inputs
                        .entry((je.target_vertex, c))
                        .or_default()
                        .push(InputChannel {
                            receiver: rx,
                            input: edge.input,
                        });
                }
                self.senders.insert((je.stream_edge, p), txs);
            }
        }
    }

    fn build_all(mut self) -> Result<Vec<Task>> {
        let mut tasks = Vec::new();
        for vertex in &self.graph().vertices {
            for subtask in 0..vertex.parallelism {
                let operators = vertex
                    .nodes
                    .iter()
                    .map(|id| {
                        let n = self.graph().stream_graph.node(*id);
                        OperatorMetrics::new(&n.name, &n.uid)
                    })
                    .collect();
                let metrics = Arc::new(TaskMetrics::new(&vertex.name, subtask, operators));
                self.registry.register(Arc::clone(&metrics));
                let head = self.build_head(vertex.id, vertex.head, subtask, &metrics)?;
                tasks.push(Task {
                    name: format!("{} ({}/{})", vertex.name, subtask + 1, vertex.parallelism),
                    head,
                    metrics,
                    cancelled: Arc::clone(self.cancelled),
                    batch_size: self.batch_size,
                });
            }
        }
        Ok(tasks)
    }

    /// The context of `node`'s subtask, with the operator's metric group from `metrics`.
    fn context(&self, node: NodeId, subtask: usize, metrics: &TaskMetrics) -> OperatorContext {
        let n = self.graph().stream_graph.node(node);
        let group = metrics
            .operators
            .get(self.operator_index(node))
            .map(|o| Arc::clone(o.group()))
            .unwrap_or_default();
        OperatorContext {
            operator_name: n.name.clone(),
            uid: n.uid.clone(),
            subtask_index: subtask,
            parallelism: n.parallelism,
            max_parallelism: n.max_parallelism,
            config: Arc::clone(self.config),
            cancelled: Arc::clone(self.cancelled),
            metrics: group,
        }
    }

    /// The position of `node` in its chain, which indexes the task's operator metrics.
    fn operator_index(&self, node: NodeId) -> usize {
        self.graph()
            .vertex_of(node)
            .nodes
            .iter()
            .position(|n| *n == node)
            .unwrap_or(0)
    }

    fn build_head(
        &mut self,
        vertex: usize,
        head: NodeId,
        subtask: usize,
        metrics: &Arc<TaskMetrics>,
    ) -> Result<TaskHead> {
        let ctx = self.context(head, subtask, metrics);
        match &self.job.nodes[head.0] {
            NodeFactory::Source(factory) => {
                let reader =
                    factory(&ctx).map_err(|e| e.in_operator(&ctx.operator_name, subtask))?;
                let outputs = self.build_outputs(head, subtask, metrics)?;
                Ok(TaskHead::Source {
                    reader,
                    ctx,
                    outputs,
                })
            }
            NodeFactory::Operator(_) => {
                let channels = self.inputs.remove(&(vertex, subtask)).unwrap_or_default();
                Ok(TaskHead::Operator {
                    head: Box::new(self.build_chained(head, subtask, metrics)?),
                    gate: InputGate::new(channels)
                        .with_mode(self.config.get(&options::CHECKPOINTING_MODE)?),
                })
            }
        }
    }

    fn build_chained(
        &mut self,
        node: NodeId,
        subtask: usize,
        metrics: &Arc<TaskMetrics>,
    ) -> Result<ChainedOperator> {
        let ctx = self.context(node, subtask, metrics);
        let operator = match &self.job.nodes[node.0] {
            NodeFactory::Operator(factory) => {
                factory(&ctx).map_err(|e| e.in_operator(&ctx.operator_name, subtask))?
            }
            NodeFactory::Source(_) => {
                return Err(WeirError::InvalidJob(format!(
                    "source '{}' cannot have inputs",
                    ctx.operator_name
                )))
            }
        };
        Ok(ChainedOperator {
            operator,
            inputs: self.graph().stream_graph.node(node).inputs,
            outputs: self.build_outputs(node, subtask, metrics)?,
            ctx,
        })
    }

    fn build_outputs(
        &mut self,
        node: NodeId,
        subtask: usize,
        metrics: &Arc<TaskMetrics>,
    ) -> Result<Outputs> {
        let graph = self.graph();
        let operator_index = self.operator_index(node);
        let mut outputs = Outputs {
            main: Vec::new(),
            side: Vec::new(),
            operator_index,
            metrics: Arc::clone(metrics),
        };
        for (i, edge) in graph.stream_graph.out_edges(node) {
            let target = if graph.chained_edges[i] {
                Target::Chained(Box::new(self.build_chained(
                    edge.target,
                    subtask,
                    metrics,
                )?))
            } else {
                Target::Network(self.record_writer(i, edge, subtask, metrics))
            };
            match &edge.side_output {
                Some(tag) => outputs.side.push((tag.clone(), target)),
                None => outputs.main.push(target),
            }
        }
        Ok(outputs)
    }

    fn record_writer(
        &mut self,
        edge_index: usize,
        edge: &StreamEdge,
        subtask: usize,
        metrics: &Arc<TaskMetrics>,
    ) -> RecordWriter {
        let consumer = self.graph().stream_graph.node(edge.target);
        let info = PartitionerInfo {
            producer_subtask: subtask,
            consumer_parallelism: consumer.parallelism,
            consumer_max_parallelism: consumer.max_parallelism,
        };
        RecordWriter {
            partitioner: (self.job.partitioners[edge_index])(info),
            channels: self
                .senders
                .remove(&(edge_index, subtask))
                .unwrap_or_default(),
            max_batch: self.batch_size,
            metrics: Arc::clone(metrics),
            cancelled: Arc::clone(self.cancelled),
        }
    }
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
