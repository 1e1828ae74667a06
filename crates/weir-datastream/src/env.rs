//! The [`StreamExecutionEnvironment`]: collects the operators of a program and runs them.
//!
//! Parallelism is chosen as in Flink: an operator's own `set_parallelism`, else the
//! environment's `set_parallelism`, else `weir run -p N`, else `parallelism.default` from
//! `-D` or `config.yaml`.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use weir_core::config::{self, options, Configuration};
use weir_core::graph::{
    ChainingStrategy, JobGraph, NodeId, NodeKind, PartitionerKind, StreamEdge, StreamGraph,
    StreamNode,
};
use weir_core::keygroup::default_max_parallelism;
use weir_core::{Result, WeirError};
use weir_runtime::job::{ExecutableJob, NodeFactory, SourceFactory};
use weir_runtime::minicluster::cancel_on_interrupt;
use weir_runtime::partitioner::{self, PartitionerFactory};
use weir_runtime::{JobExecutionResult, JobHandle, MiniCluster};

use crate::sources::{
    self, CollectionSource, GeneratorSource, SequenceSource, SocketTextSource, Source,
    TextFileSource,
};
use crate::stream::{DataStream, StreamRef};
use crate::Record;

/// Environment variable through which `weir run` passes `-D key=value` properties (one per
/// line) to the job it starts; `-p N` arrives as `parallelism.default=N`.
pub const DYNAMIC_PROPERTIES_ENV: &str = "WEIR_DYNAMIC_PROPERTIES";

/// An operator as the program declared it; resolved into a [`StreamNode`] at execution.
pub(crate) struct Transformation {
    pub name: String,
    pub uid: Option<String>,
    pub parallelism: Option<usize>,
    pub max_parallelism: Option<usize>,
    /// `Some(1)` for sources that cannot run in parallel.
    pub parallelism_limit: Option<usize>,
    pub chaining: ChainingStrategy,
    pub kind: NodeKind,
    pub num_inputs: usize,
    /// Upstream streams and the logical input each one feeds.
    pub inputs: Vec<(StreamRef, usize)>,
    pub factory: NodeFactory,
}

/// An operator that another front end (the Table API) built itself, with its own
/// partitioners, for [`StreamExecutionEnvironment::add_node`].
pub struct GraphNode {
    /// The operator's name.
    pub name: String,
    /// Its stable uid (one is derived from its position and name if `None`).
    pub uid: Option<String>,
    /// Source, operator or sink.
    pub kind: NodeKind,
    /// Its parallelism (the environment's default if `None`).
    pub parallelism: Option<usize>,
    /// How many logical inputs the operator has (0, 1 or 2).
    pub num_inputs: usize,
    /// The upstream nodes, each with the logical input it feeds and its partitioner.
    pub inputs: Vec<GraphInput>,
    /// How the node's subtasks are created.
    pub factory: NodeFactory,
}

/// One input edge of a [`GraphNode`].
pub struct GraphInput {
    /// The upstream node's id ([`crate::DataStream::id`] or a previous `add_node`).
    pub node: usize,
    /// The logical input of the new node it feeds.
    pub input: usize,
    /// How records are distributed to the new node's subtasks.
    pub partitioner: PartitionerKind,
    /// The partitioner, which must handle the upstream node's batch type.
    pub factory: PartitionerFactory,
}

struct EnvInner {
    config: Configuration,
    parallelism: Option<usize>,
    max_parallelism: Option<usize>,
    chaining_disabled: bool,
    transformations: Vec<Transformation>,
    /// Mistakes found while the program was built, reported by `execute`.
    errors: Vec<String>,
}

/// Where a streaming program is built and executed (Flink's `StreamExecutionEnvironment`).
#[derive(Clone)]
pub struct StreamExecutionEnvironment {
    inner: Rc<RefCell<EnvInner>>,
}

impl StreamExecutionEnvironment {
    /// The environment for a job started directly or by `weir run`: configuration from
    /// `config.yaml` (see [`config::load_default`]) and the properties `weir run` passes.
    /// Unknown keys are warned about; invalid values are errors.
    pub fn get_execution_environment() -> Result<Self> {
        let mut config = config::load_default()?;
        if let Ok(properties) = std::env::var(DYNAMIC_PROPERTIES_ENV) {
            for property in properties.lines().filter(|l| !l.trim().is_empty()) {
                config.apply_dynamic_property(property)?;
            }
        }
        for warning in config.validate()? {
            tracing::warn!("{warning}");
        }
        Ok(Self::with_configuration(config))
    }

    /// An environment with exactly `config` (Flink's `getExecutionEnvironment(conf)`).
    pub fn with_configuration(config: Configuration) -> Self {
        StreamExecutionEnvironment {
            inner: Rc::new(RefCell::new(EnvInner {
                config,
                parallelism: None,
                max_parallelism: None,
                chaining_disabled: false,
                transformations: Vec::new(),
                errors: Vec::new(),
            })),
        }
    }

    /// Sets the default parallelism of this job's operators.
    pub fn set_parallelism(&self, parallelism: usize) -> &Self {
        self.inner.borrow_mut().parallelism = Some(parallelism);
        self
    }

    /// Sets the default max parallelism (number of key groups).
    pub fn set_max_parallelism(&self, max_parallelism: usize) -> &Self {
        self.inner.borrow_mut().max_parallelism = Some(max_parallelism);
        self
    }

    /// Turns operator chaining off for this job.
    pub fn disable_operator_chaining(&self) -> &Self {
        self.inner.borrow_mut().chaining_disabled = true;
        self
    }

    /// Sets a configuration value, as `-D key=value` would.
    pub fn configure(&self, key: &str, value: &str) -> &Self {
        self.inner.borrow_mut().config.set_string(key, value);
        self
    }

    /// A copy of the configuration.
    pub fn config(&self) -> Configuration {
        self.inner.borrow().config.clone()
    }

    /// The default parallelism that operators without their own get.
    pub fn parallelism(&self) -> Result<usize> {
        let inner = self.inner.borrow();
        match inner.parallelism {
            Some(p) => Ok(p),
            None => Ok(inner.config.get(&options::PARALLELISM_DEFAULT)?),
        }
    }

    // ----- sources -----

    /// A non-parallel source of the given elements.
    pub fn from_collection<T: Record + Sync>(&self, elements: Vec<T>) -> DataStream<T> {
        self.from_source(CollectionSource::new(elements), "Collection Source")
    }

    /// A parallel source of the numbers `from..=to`.
    pub fn from_sequence(&self, from: i64, to: i64) -> DataStream<i64> {
        self.from_source(SequenceSource::new(from, to), "Sequence Source")
    }

    /// Lines of a text file, or of every file in a folder.
    pub fn read_text_file(&self, path: impl AsRef<Path>) -> DataStream<String> {
        let name = format!("Text File {}", path.as_ref().display());
        self.from_source(TextFileSource::new(path), &name)
    }

    /// Lines from a TCP socket; the stream ends when the socket closes.
    pub fn socket_text_stream(&self, host: &str, port: u16) -> DataStream<String> {
        self.from_source(SocketTextSource::new(host, port), "Socket Stream")
    }

    /// `generate(i)` for `i` in `0..count` (forever if `count` is `None`), at most
    /// `records_per_second` in total (as fast as possible if `None`).
    pub fn from_generator<T: Record>(
        &self,
        generate: impl Fn(u64) -> T + Send + Sync + 'static,
        count: Option<u64>,
        records_per_second: Option<f64>,
    ) -> DataStream<T> {
        self.from_source(
            GeneratorSource::new(generate, count, records_per_second),
            "Data Generator",
        )
    }

    /// A stream from any [`Source`].
    pub fn from_source<T: Record>(&self, source: impl Source<T>, name: &str) -> DataStream<T> {
        let limit = source.max_parallelism();
        self.add_source(name, limit, sources::source_factory(source))
    }

    /// A stream from a parallel source that implements the runtime's erased
    /// [`weir_runtime::SourceReader`] itself: connectors that give records timestamps,
    /// generate their own watermarks or take part in checkpoints. The readers that `factory`
    /// creates must produce batches of `T`.
    pub fn from_reader_factory<T: Record>(
        &self,
        factory: SourceFactory,
        name: &str,
    ) -> DataStream<T> {
        self.add_source(name, None, factory)
    }

    fn add_source<T: Record>(
        &self,
        name: &str,
        limit: Option<usize>,
        factory: SourceFactory,
    ) -> DataStream<T> {
        let node = self.add(Transformation {
            name: format!("Source: {name}"),
            uid: None,
            parallelism: None,
            max_parallelism: None,
            parallelism_limit: limit,
            chaining: ChainingStrategy::Always,
            kind: NodeKind::Source,
            num_inputs: 0,
            inputs: Vec::new(),
            factory: NodeFactory::Source(factory),
        });
        DataStream::from_node(self.clone(), node)
    }

    // ----- building -----

    pub(crate) fn add(&self, t: Transformation) -> usize {
        let mut inner = self.inner.borrow_mut();
        inner.transformations.push(t);
        inner.transformations.len() - 1
    }

    /// Adds an operator built by another front end and returns its id; wrap its output with
    /// [`DataStream::of_node`](crate::DataStream::of_node).
    pub fn add_node(&self, node: GraphNode) -> usize {
        let inputs = node
            .inputs
            .into_iter()
            .map(|i| {
                let stream = StreamRef {
                    node: i.node,
                    side_output: None,
                    partitioner: Some((i.partitioner, i.factory.clone())),
                    rebalance: i.factory,
                };
                (stream, i.input)
            })
            .collect();
        self.add(Transformation {
            name: node.name,
            uid: node.uid,
            parallelism: node.parallelism,
            max_parallelism: None,
            parallelism_limit: None,
            chaining: ChainingStrategy::Always,
            kind: node.kind,
            num_inputs: node.num_inputs,
            inputs,
            factory: node.factory,
        })
    }

    pub(crate) fn update(&self, node: usize, f: impl FnOnce(&mut Transformation)) {
        if let Some(t) = self.inner.borrow_mut().transformations.get_mut(node) {
            f(t);
        }
    }

    pub(crate) fn record_error(&self, message: String) {
        self.inner.borrow_mut().errors.push(message);
    }

    /// Resolves parallelism, uids and partitioners, and chains the operators.
    fn build(&self, job_name: &str) -> Result<ExecutableJob> {
        let default_parallelism = self.parallelism()?;
        let inner = self.inner.borrow();
        if let Some(e) = inner.errors.first() {
            return Err(WeirError::InvalidJob(e.clone()));
        }
        if inner.transformations.is_empty() {
            return Err(WeirError::InvalidJob(
                "no operators defined in streaming topology; cannot execute".into(),
            ));
        }
        let config_max = inner.config.get(&options::PIPELINE_MAX_PARALLELISM)?;
        let env_max = inner
            .max_parallelism
            .or((config_max > 0).then_some(config_max as usize));

        let mut graph = StreamGraph::default();
        let mut nodes = Vec::new();
        let mut partitioners: Vec<PartitionerFactory> = Vec::new();
        for (id, t) in inner.transformations.iter().enumerate() {
            let parallelism = match (t.parallelism_limit, t.parallelism) {
                (Some(limit), Some(p)) if p > limit => {
                    return Err(WeirError::InvalidJob(format!(
                        "the parallelism of the non-parallel operator '{}' must be at most {limit}, not {p}",
                        t.name
                    )))
                }
                (Some(limit), None) => limit.min(default_parallelism),
                (_, Some(p)) => p,
                (None, None) => default_parallelism,
            };
            graph.nodes.push(StreamNode {
                id: NodeId(id),
                name: t.name.clone(),
                uid: t.uid.clone().unwrap_or_else(|| auto_uid(id, &t.name)),
                kind: t.kind,
                parallelism,
                max_parallelism: t
                    .max_parallelism
                    .or(env_max)
                    .unwrap_or_else(|| default_max_parallelism(parallelism)),
                chaining: t.chaining,
                inputs: t.num_inputs,
            });
            nodes.push(t.factory.clone());
            for (input_ref, input) in &t.inputs {
                if input_ref.node >= id {
                    return Err(WeirError::InvalidJob(format!(
                        "operator '{}' reads a stream of an already executed job",
                        t.name
                    )));
                }
                let same_parallelism = graph.nodes[input_ref.node].parallelism == parallelism;
                let (kind, factory) = match &input_ref.partitioner {
                    Some((kind, factory)) => (*kind, factory.clone()),
                    None if same_parallelism => (PartitionerKind::Forward, partitioner::forward()),
                    None => (PartitionerKind::Rebalance, input_ref.rebalance.clone()),
                };
                graph.edges.push(StreamEdge {
                    source: NodeId(input_ref.node),
                    target: NodeId(id),
                    input: *input,
                    partitioner: kind,
                    side_output: input_ref.side_output.clone(),
                });
                partitioners.push(factory);
            }
        }
        let chaining =
            !inner.chaining_disabled && inner.config.get(&options::PIPELINE_OPERATOR_CHAINING)?;
        Ok(ExecutableJob {
            graph: JobGraph::from_stream_graph(job_name, graph, chaining)?,
            nodes,
            partitioners,
        })
    }

    /// The job's plan as JSON in the shape of Flink's `getExecutionPlan()`.
    pub fn get_execution_plan(&self) -> Result<String> {
        let job = self.build("plan")?;
        Ok(serde_json::to_string_pretty(&job.graph.execution_plan_json()).unwrap_or_default())
    }

    /// Starts the job on the local mini-cluster and returns at once.
    pub fn execute_async(&self, job_name: &str) -> Result<JobHandle> {
        let job = self.build(job_name)?;
        let config = self.inner.borrow().config.clone();
        self.inner.borrow_mut().transformations.clear();
        let handle = MiniCluster::new(config).submit(job)?;
        tracing::info!(
            "Job '{}' has been submitted with JobID {}",
            handle.job_name,
            handle.job_id
        );
        Ok(handle)
    }

    /// Runs the job on the local mini-cluster until it ends (bounded inputs) or is cancelled
    /// (Ctrl-C). A failure returns the failing operator's error.
    pub fn execute(&self, job_name: &str) -> Result<JobExecutionResult> {
        let handle = self.execute_async(job_name)?;
        cancel_on_interrupt(handle.cancel_flag());
        let result = handle.wait()?;
        tracing::info!(
            "Job '{}' ({}) finished in {} ms",
            result.job_name,
            result.job_id,
            result.net_runtime_ms
        );
        Ok(result)
    }
}

/// A uid for operators without one, stable as long as the program's structure is.
fn auto_uid(id: usize, name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{id}-{}", slug.trim_matches('-'))
}
