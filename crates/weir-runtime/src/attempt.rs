//! One execution attempt of a job: its tasks built from the [`ExecutableJob`] (channels,
//! chains, checkpoint plumbing, restored state) and run on their own threads, until they all
//! end; meanwhile the job master's checkpoint coordinator ticks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;
use weir_core::config::{options, Configuration};
use weir_core::element::StreamElement;
use weir_core::graph::{JobGraph, NodeId, StreamEdge};
use weir_core::metrics::{MetricRegistry, OperatorMetrics, TaskMetrics};
use weir_core::{Result, WeirError};

use crate::channel::new_channel;
use crate::checkpoint::coordinator::{AttemptTasks, CoordinatorAction};
use crate::checkpoint::{
    CheckpointCoordinator, RestorePoint, TaskCheckpointing, TaskControl, TaskSnapshot,
};
use crate::input::{InputChannel, InputGate};
use crate::job::{ExecutableJob, NodeFactory};
use crate::operator::OperatorContext;
use crate::output::{ChainedOperator, Outputs, RecordWriter, Target};
use crate::partitioner::{targets_of, PartitionerInfo};
use crate::task::{Task, TaskHead};

/// How often the job master checks the job's cancel flag and ticks the coordinator.
pub(crate) const CANCEL_POLL: Duration = Duration::from_millis(10);

/// How an attempt ended.
pub(crate) enum AttemptEnd {
    /// Every task finished.
    Finished,
    /// A task failed (or the checkpoint coordinator failed the job).
    Failed(WeirError),
    /// The job was cancelled.
    Cancelled,
    /// Stopped with a savepoint, without draining.
    Stopped,
}

/// What the coordinator needs to know of the attempt's tasks.
struct TaskInfo {
    controls: Vec<Sender<TaskControl>>,
    is_source: Vec<bool>,
    operators: Vec<Vec<(String, usize)>>,
    notified: Vec<Arc<AtomicU64>>,
}

/// One execution attempt of a job: its task threads and their cancel flag.
pub(crate) struct Attempt {
    /// Cancels this attempt's tasks (set by the first failing task, or on job cancel).
    cancelled: Arc<AtomicBool>,
    /// The first error of a task of this attempt.
    failure: Arc<Mutex<Option<WeirError>>>,
    /// The index of each task thread that ended.
    done: crossbeam_channel::Receiver<usize>,
    threads: Vec<JoinHandle<()>>,
    tasks: TaskInfo,
}

impl Attempt {
    /// Instantiates every task of `job` (new channels, operators and metrics, registered in
    /// `registry`) and starts them.
    /// Each subtask restores its state from `restore`, if given; tasks send their
    /// snapshots to `snapshots`.
    pub(crate) fn start(
        job: &ExecutableJob,
        config: &Arc<Configuration>,
        registry: &MetricRegistry,
        restore: Option<&RestorePoint>,
        snapshots: &Sender<TaskSnapshot>,
    ) -> Result<Attempt> {
        let cancelled = Arc::new(AtomicBool::new(false));
        let builder = TaskBuilder::new(job, config, &cancelled, registry, restore, snapshots)?;
        let (tasks, info) = builder.build_all()?;
        let failure = Arc::new(Mutex::new(None::<WeirError>));
        let (done_tx, done) = crossbeam_channel::unbounded();
        let mut attempt = Attempt {
            cancelled,
            failure,
            done,
            threads: Vec::with_capacity(tasks.len()),
            tasks: info,
        };
        for (index, task) in tasks.into_iter().enumerate() {
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
                    let _ = done_tx.send(index);
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

    /// Runs until every task ended, ticking `coordinator` meanwhile; cancels the tasks once
    /// `job_cancelled` is set, a task failed, or a stop-with-savepoint completed.
    pub(crate) fn run(
        self,
        job_cancelled: &AtomicBool,
        coordinator: &mut CheckpointCoordinator,
    ) -> AttemptEnd {
        let count = self.threads.len();
        let mut finished = vec![false; count];
        let mut running = count;
        let mut end = None;
        while running > 0 {
            match self.done.recv_timeout(CANCEL_POLL) {
                Ok(index) => {
                    finished[index] = true;
                    running -= 1;
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            }
            if job_cancelled.load(Ordering::SeqCst) {
                self.cancelled.store(true, Ordering::SeqCst);
            }
            if self.cancelled.load(Ordering::SeqCst) {
                continue;
            }
            let view = AttemptTasks {
                controls: &self.tasks.controls,
                is_source: &self.tasks.is_source,
                operators: &self.tasks.operators,
                finished: &finished,
                notified: &self.tasks.notified,
            };
            match coordinator.tick(&view) {
                Ok(CoordinatorAction::Continue) => {}
                Ok(CoordinatorAction::Stop { drain: true }) => {
                    for (control, source) in self.tasks.controls.iter().zip(&self.tasks.is_source) {
                        if *source {
                            let _ = control.send(TaskControl::Finish);
                        }
                    }
                }
                Ok(CoordinatorAction::Stop { drain: false }) => {
                    end = Some(AttemptEnd::Stopped);
                    self.cancelled.store(true, Ordering::SeqCst);
                }
                Err(e) => {
                    end = Some(AttemptEnd::Failed(e));
                    self.cancelled.store(true, Ordering::SeqCst);
                }
            }
        }
        for t in self.threads {
            let _ = t.join();
        }
        coordinator.abort_all("the attempt that took it ended");
        let failure = self
            .failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        match (failure, end) {
            (Some(e), _) => AttemptEnd::Failed(e),
            (None, Some(end)) => end,
            (None, None) if job_cancelled.load(Ordering::SeqCst) => AttemptEnd::Cancelled,
            (None, None) => AttemptEnd::Finished,
        }
    }
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
    restore: Option<&'a RestorePoint>,
    snapshots: &'a Sender<TaskSnapshot>,
}

impl<'a> TaskBuilder<'a> {
    fn new(
        job: &'a ExecutableJob,
        config: &'a Arc<Configuration>,
        cancelled: &'a Arc<AtomicBool>,
        registry: &'a MetricRegistry,
        restore: Option<&'a RestorePoint>,
        snapshots: &'a Sender<TaskSnapshot>,
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
            restore,
            snapshots,
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

    fn build_all(mut self) -> Result<(Vec<Task>, TaskInfo)> {
        let mut tasks = Vec::new();
        let mut info = TaskInfo {
            controls: Vec::new(),
            is_source: Vec::new(),
            operators: Vec::new(),
            notified: Vec::new(),
        };
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
                let (control_tx, control) = crossbeam_channel::unbounded();
                let head = self.build_head(vertex.id, vertex.head, subtask, &metrics, &control)?;
                let notified = Arc::new(AtomicU64::new(0));
                info.is_source.push(matches!(head, TaskHead::Source { .. }));
                info.controls.push(control_tx);
                info.notified.push(Arc::clone(&notified));
                info.operators.push(
                    (vertex.nodes.iter())
                        .map(|id| (self.graph().stream_graph.node(*id).uid.clone(), subtask))
                        .collect(),
                );
                tasks.push(Task {
                    name: format!("{} ({}/{})", vertex.name, subtask + 1, vertex.parallelism),
                    head,
                    metrics,
                    cancelled: Arc::clone(self.cancelled),
                    batch_size: self.batch_size,
                    checkpointing: TaskCheckpointing {
                        task: tasks.len(),
                        control,
                        snapshots: self.snapshots.clone(),
                        notified,
                    },
                });
            }
        }
        Ok((tasks, info))
    }

    /// The context of `node`'s subtask, with the operator's metric group from `metrics`.
    fn context(&self, node: NodeId, subtask: usize, metrics: &TaskMetrics) -> OperatorContext {
        let n = self.graph().stream_graph.node(node);
        let group = metrics
            .operators
            .get(self.operator_index(node))
            .map(|o| Arc::clone(o.group()))
            .unwrap_or_default();
        let mut ctx = OperatorContext {
            operator_name: n.name.clone(),
            uid: n.uid.clone(),
            subtask_index: subtask,
            parallelism: n.parallelism,
            max_parallelism: n.max_parallelism,
            config: Arc::clone(self.config),
            cancelled: Arc::clone(self.cancelled),
            metrics: group,
            restored: None,
        };
        ctx.restored = self
            .restore
            .and_then(|r| r.state_for(&n.uid, subtask, n.parallelism, ctx.key_group_range()));
        ctx
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
        control: &crossbeam_channel::Receiver<TaskControl>,
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
                        .with_mode(self.config.get(&options::CHECKPOINTING_MODE)?)
                        .with_control(control.clone()),
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
