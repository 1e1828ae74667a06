//! Typed stream handles: [`DataStream`], [`KeyedStream`], [`ConnectedStreams`], and the
//! [`OutputTag`] of a side output.

use std::hash::Hash;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::{Arc, Mutex};

use weir_core::element::Records;
use weir_core::graph::{ChainingStrategy, NodeKind, PartitionerKind};
use weir_core::Result;
use weir_runtime::job::{NodeFactory, OperatorFactory};
use weir_runtime::keyed::{KeyedProcessFunction, KeyedProcessOperator};
use weir_runtime::partitioner::{self, PartitionerFactory};
use weir_runtime::side_output::OutputTag;
use weir_runtime::watermark::{TimestampsAndWatermarks, WatermarkStrategy};
use weir_runtime::StreamOperator;

use crate::aggregation::{self, Aggregatable, Aggregation};
use crate::env::{StreamExecutionEnvironment, Transformation};
use crate::format::RecordFormat;
use crate::functions::ProcessFunction;
use crate::operators::{CoTransform, KeyedReduce, Process, SinkOperator, Transform};
use crate::sinks::{CollectSink, PrintSink, Sink, TextFileSink};
use crate::{Key, Record};

/// One upstream of an operator: a node's main or side output, and how it is partitioned.
#[derive(Clone)]
pub(crate) struct StreamRef {
    pub node: usize,
    pub side_output: Option<String>,
    /// Set by `key_by`, `rebalance`, ...; `None` means forward (or rebalance when the
    /// parallelism changes).
    pub partitioner: Option<(PartitionerKind, PartitionerFactory)>,
    /// Rebalancing for this stream's record type, used when the parallelism changes.
    pub rebalance: PartitionerFactory,
}

/// A stream of records of type `T`.
pub struct DataStream<T> {
    env: StreamExecutionEnvironment,
    pub(crate) refs: Vec<StreamRef>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for DataStream<T> {
    fn clone(&self) -> Self {
        DataStream {
            env: self.env.clone(),
            refs: self.refs.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: Record> DataStream<T> {
    pub(crate) fn from_node(env: StreamExecutionEnvironment, node: usize) -> Self {
        Self::from_output(env, node, None)
    }

    fn from_output(
        env: StreamExecutionEnvironment,
        node: usize,
        side_output: Option<String>,
    ) -> Self {
        DataStream {
            env,
            refs: vec![StreamRef {
                node,
                side_output,
                partitioner: None,
                rebalance: partitioner::for_kind::<T>(PartitionerKind::Rebalance),
            }],
            _t: PhantomData,
        }
    }

    /// The environment this stream belongs to.
    pub fn env(&self) -> &StreamExecutionEnvironment {
        &self.env
    }

    /// Adds an operator reading this stream (and `others` on input 1, for two-input
    /// operators) and returns its output stream.
    pub(crate) fn add_operator<U: Record>(
        &self,
        name: &str,
        second: Option<&[StreamRef]>,
        factory: OperatorFactory,
    ) -> DataStream<U> {
        let mut inputs: Vec<(StreamRef, usize)> =
            self.refs.iter().cloned().map(|r| (r, 0)).collect();
        inputs.extend(second.unwrap_or_default().iter().cloned().map(|r| (r, 1)));
        let node = self.env.add(Transformation {
            name: name.to_string(),
            uid: None,
            parallelism: None,
            max_parallelism: None,
            parallelism_limit: None,
            chaining: ChainingStrategy::Always,
            kind: NodeKind::Operator,
            num_inputs: if second.is_some() { 2 } else { 1 },
            inputs,
            factory: NodeFactory::Operator(factory),
        });
        DataStream::from_node(self.env.clone(), node)
    }

    /// Adds an operator that `factory` creates, reading this stream's batches of `T` and
    /// producing batches of `U` (Flink's `DataStream.transform`): for operators that
    /// implement the runtime's [`StreamOperator`] themselves, such as the Table API's
    /// conversions.
    pub fn transform_operator<U: Record>(
        &self,
        name: &str,
        factory: OperatorFactory,
    ) -> DataStream<U> {
        self.add_operator(name, None, factory)
    }

    /// The id of the operator that produced this stream in its environment's graph
    /// (Flink's `getId()`), for front ends that add operators with
    /// [`StreamExecutionEnvironment::add_node`].
    pub fn id(&self) -> usize {
        self.single_node("id")
    }

    /// The stream of batches of `T` that node `id` of `env` (added with
    /// [`StreamExecutionEnvironment::add_node`]) produces.
    pub fn of_node(env: &StreamExecutionEnvironment, id: usize) -> DataStream<T> {
        DataStream::from_node(env.clone(), id)
    }

    /// Applies a batch function; the building block of map, filter and flat map.
    fn transform<U: Record>(
        &self,
        name: &str,
        f: impl FnMut(Records<T>) -> Result<Records<U>> + Clone + Send + Sync + 'static,
    ) -> DataStream<U> {
        self.add_operator(name, None, Transform::factory(f))
    }

    /// Transforms every record.
    pub fn map<U: Record>(
        &self,
        mut f: impl FnMut(T) -> U + Clone + Send + Sync + 'static,
    ) -> DataStream<U> {
        self.transform("Map", move |records: Records<T>| Ok(records.map(&mut f)))
    }

    /// Transforms every record with a function that may fail; an error fails the job.
    pub fn try_map<U: Record>(
        &self,
        mut f: impl FnMut(T) -> Result<U> + Clone + Send + Sync + 'static,
    ) -> DataStream<U> {
        self.transform("Map", move |records: Records<T>| records.try_map(&mut f))
    }

    /// Turns every record into any number of records.
    pub fn flat_map<U: Record, I: IntoIterator<Item = U>>(
        &self,
        mut f: impl FnMut(T) -> I + Clone + Send + Sync + 'static,
    ) -> DataStream<U> {
        self.transform("Flat Map", move |records: Records<T>| {
            Ok(records.flat_map(&mut f))
        })
    }

    /// Keeps the records for which `f` is true.
    pub fn filter(
        &self,
        mut f: impl FnMut(&T) -> bool + Clone + Send + Sync + 'static,
    ) -> DataStream<T> {
        self.transform("Filter", move |records: Records<T>| {
            Ok(records.filter(&mut f))
        })
    }

    /// Runs a [`ProcessFunction`], which may also emit to side outputs.
    pub fn process<U: Record>(&self, function: impl ProcessFunction<T, U>) -> DataStream<U> {
        self.add_operator("Process", None, Process::factory(function))
    }

    /// The side output `tag` of this operator.
    pub fn get_side_output<X: Record>(&self, tag: &OutputTag<X>) -> DataStream<X> {
        DataStream::from_output(
            self.env.clone(),
            self.single_node("get_side_output"),
            Some(tag.id().to_string()),
        )
    }

    /// Partitions the stream by key: records with equal keys go to the same subtask.
    pub fn key_by<K, F>(&self, key_of: F) -> KeyedStream<T, K, F>
    where
        K: Key,
        F: Fn(&T) -> K + Clone + Send + Sync + 'static,
    {
        KeyedStream {
            stream: self.with_partitioner(
                PartitionerKind::Hash,
                partitioner::hash::<T, K, F>(key_of.clone()),
            ),
            key_of,
            _k: PhantomData,
        }
    }

    /// Gives records timestamps and emits watermarks as `strategy` says; from here on the
    /// stream has event time.
    pub fn assign_timestamps_and_watermarks(
        &self,
        strategy: WatermarkStrategy<T>,
    ) -> DataStream<T> {
        let factory: OperatorFactory = Arc::new(move |_ctx| {
            Ok(Box::new(TimestampsAndWatermarks::new(strategy.clone())) as Box<dyn StreamOperator>)
        });
        self.add_operator("Timestamps/Watermarks", None, factory)
    }

    /// Merges streams of the same type.
    pub fn union(&self, others: &[DataStream<T>]) -> DataStream<T> {
        let mut merged = self.clone();
        merged
            .refs
            .extend(others.iter().flat_map(|o| o.refs.iter().cloned()));
        merged
    }

    /// Connects two streams for an operator with two inputs (`map`, `flat_map` with one
    /// function per input).
    pub fn connect<B: Record>(&self, other: &DataStream<B>) -> ConnectedStreams<T, B> {
        ConnectedStreams {
            first: self.clone(),
            second: other.clone(),
        }
    }

    fn with_partitioner(
        &self,
        kind: PartitionerKind,
        factory: PartitionerFactory,
    ) -> DataStream<T> {
        let mut s = self.clone();
        for r in &mut s.refs {
            r.partitioner = Some((kind, factory.clone()));
        }
        s
    }

    fn partition(&self, kind: PartitionerKind) -> DataStream<T> {
        self.with_partitioner(kind, partitioner::for_kind::<T>(kind))
    }

    /// Round-robin over all downstream subtasks.
    pub fn rebalance(&self) -> DataStream<T> {
        self.partition(PartitionerKind::Rebalance)
    }

    /// Round-robin over a local subset of downstream subtasks.
    pub fn rescale(&self) -> DataStream<T> {
        self.partition(PartitionerKind::Rescale)
    }

    /// Uniformly random downstream subtasks.
    pub fn shuffle(&self) -> DataStream<T> {
        self.partition(PartitionerKind::Shuffle)
    }

    /// Every record to every downstream subtask.
    pub fn broadcast(&self) -> DataStream<T> {
        self.partition(PartitionerKind::Broadcast)
    }

    /// Everything to the first downstream subtask.
    pub fn global(&self) -> DataStream<T> {
        self.partition(PartitionerKind::Global)
    }

    /// Subtask i to subtask i; the parallelism must not change.
    pub fn forward(&self) -> DataStream<T> {
        self.with_partitioner(PartitionerKind::Forward, partitioner::forward())
    }

    // ----- sinks -----

    /// Sends the stream to a [`Sink`].
    pub fn sink_to(&self, sink: impl Sink<T>, name: &str) -> DataStreamSink {
        self.sink_to_operator(SinkOperator::factory(sink), name)
    }

    /// Sends the stream to a sink that implements the runtime's
    /// [`StreamOperator`](weir_runtime::StreamOperator) itself (connectors that take part in
    /// checkpoints); the operators that `factory` creates get batches of `T`.
    pub fn sink_to_operator(&self, factory: OperatorFactory, name: &str) -> DataStreamSink {
        let stream: DataStream<()> = self.add_operator(&format!("Sink: {name}"), None, factory);
        let node = stream.refs[0].node;
        self.env.update(node, |t| t.kind = NodeKind::Sink);
        DataStreamSink {
            env: self.env.clone(),
            node,
        }
    }

    /// Prints every record to stdout, as `2> record` when the sink runs in parallel.
    pub fn print(&self) -> DataStreamSink
    where
        T: RecordFormat,
    {
        self.sink_to(PrintSink::new(None), "Print to Std. Out")
    }

    /// Prints every record to stdout, as `identifier:2> record`.
    pub fn print_with_prefix(&self, identifier: &str) -> DataStreamSink
    where
        T: RecordFormat,
    {
        self.sink_to(
            PrintSink::new(Some(identifier.to_string())),
            "Print to Std. Out",
        )
    }

    /// Prints every record to stderr.
    pub fn print_to_err(&self) -> DataStreamSink
    where
        T: RecordFormat,
    {
        self.sink_to(PrintSink::new(None).to_stderr(), "Print to Std. Err")
    }

    /// Writes every record as a line of text: one file at `path` with parallelism 1,
    /// else one file per subtask in the folder `path`.
    pub fn write_as_text(&self, path: impl AsRef<Path>) -> DataStreamSink
    where
        T: RecordFormat,
    {
        self.sink_to(TextFileSink::new(path), "Text File")
    }

    /// Runs the job (which must be bounded) and returns this stream's records.
    pub fn execute_and_collect(&self) -> Result<Vec<T>> {
        let records = Arc::new(Mutex::new(Vec::new()));
        self.sink_to(CollectSink::new(Arc::clone(&records)), "Collect");
        self.env.execute("collect")?;
        let collected = std::mem::take(&mut *records.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(collected)
    }

    // ----- operator settings -----

    /// The node these settings apply to; records a mistake for unions.
    pub(crate) fn single_node(&self, what: &str) -> usize {
        if self.refs.len() != 1 {
            self.env.record_error(format!(
                "{what} applies to one operator, but this stream is a union of {}",
                self.refs.len()
            ));
        }
        self.refs[0].node
    }

    fn set(&self, what: &str, f: impl FnOnce(&mut Transformation)) -> DataStream<T> {
        self.env.update(self.single_node(what), f);
        self.clone()
    }

    /// Sets the parallelism of the operator that produced this stream.
    pub fn set_parallelism(&self, parallelism: usize) -> DataStream<T> {
        self.set("set_parallelism", |t| t.parallelism = Some(parallelism))
    }

    /// Sets the max parallelism (number of key groups) of the operator.
    pub fn set_max_parallelism(&self, max_parallelism: usize) -> DataStream<T> {
        self.set("set_max_parallelism", |t| {
            t.max_parallelism = Some(max_parallelism)
        })
    }

    /// Names the operator (shown in plans, metrics and errors).
    pub fn name(&self, name: &str) -> DataStream<T> {
        let name = name.to_string();
        self.set("name", |t| {
            t.name = match t.kind {
                NodeKind::Source => format!("Source: {name}"),
                _ => name,
            }
        })
    }

    /// Gives the operator a stable uid, used to map state back to it after changes.
    pub fn uid(&self, uid: &str) -> DataStream<T> {
        let uid = uid.to_string();
        self.set("uid", |t| t.uid = Some(uid))
    }

    /// Keeps the operator out of any chain.
    pub fn disable_chaining(&self) -> DataStream<T> {
        self.set("disable_chaining", |t| t.chaining = ChainingStrategy::Never)
    }

    /// Starts a new chain at this operator.
    pub fn start_new_chain(&self) -> DataStream<T> {
        self.set("start_new_chain", |t| t.chaining = ChainingStrategy::Head)
    }
}

/// The end of a stream in a sink; lets the sink operator be configured.
pub struct DataStreamSink {
    env: StreamExecutionEnvironment,
    node: usize,
}

impl DataStreamSink {
    /// Sets the sink's parallelism.
    pub fn set_parallelism(self, parallelism: usize) -> Self {
        self.env
            .update(self.node, |t| t.parallelism = Some(parallelism));
        self
    }

    /// Names the sink.
    pub fn name(self, name: &str) -> Self {
        self.env
            .update(self.node, |t| t.name = format!("Sink: {name}"));
        self
    }

    /// Gives the sink a stable uid.
    pub fn uid(self, uid: &str) -> Self {
        self.env
            .update(self.node, |t| t.uid = Some(uid.to_string()));
        self
    }

    /// Keeps the sink out of any chain.
    pub fn disable_chaining(self) -> Self {
        self.env
            .update(self.node, |t| t.chaining = ChainingStrategy::Never);
        self
    }
}

/// A stream partitioned by key (Flink's `KeyedStream`): rolling aggregations keep one value
/// per key.
pub struct KeyedStream<T, K, F> {
    pub(crate) stream: DataStream<T>,
    pub(crate) key_of: F,
    _k: PhantomData<fn() -> K>,
}

impl<T, K, F: Clone> Clone for KeyedStream<T, K, F> {
    fn clone(&self) -> Self {
        KeyedStream {
            stream: self.stream.clone(),
            key_of: self.key_of.clone(),
            _k: PhantomData,
        }
    }
}

impl<T, K, F> KeyedStream<T, K, F>
where
    T: Record,
    K: Key + Hash,
    F: Fn(&T) -> K + Clone + Send + Sync + 'static,
{
    fn keyed_reduce(
        &self,
        name: &str,
        reduce: impl FnMut(T, T) -> Result<T> + Clone + Send + Sync + 'static,
    ) -> DataStream<T> {
        self.stream.add_operator(
            name,
            None,
            KeyedReduce::factory(self.key_of.clone(), reduce),
        )
    }

    /// Runs a [`KeyedProcessFunction`] with keyed state and timers.
    pub fn process<U: Record>(
        &self,
        function: impl KeyedProcessFunction<K, T, U>,
    ) -> DataStream<U> {
        let key_of = self.key_of.clone();
        let factory: OperatorFactory = Arc::new(move |_ctx| {
            Ok(
                Box::new(KeyedProcessOperator::new(key_of.clone(), function.clone()))
                    as Box<dyn StreamOperator>,
            )
        });
        self.stream.add_operator("KeyedProcess", None, factory)
    }

    /// Rolling reduce: per key, emits the first record, then `f(previous result, record)`
    /// for every later record.
    pub fn reduce(
        &self,
        mut f: impl FnMut(T, T) -> T + Clone + Send + Sync + 'static,
    ) -> DataStream<T> {
        self.keyed_reduce("Keyed Reduce", move |a, b| Ok(f(a, b)))
    }

    fn aggregate(&self, aggregation: Aggregation, pos: usize) -> DataStream<T>
    where
        T: Aggregatable,
    {
        if let Err(e) = aggregation::check::<T>(aggregation, pos) {
            self.stream.env.record_error(e);
        }
        self.keyed_reduce("Keyed Aggregation", move |a, b| {
            Ok(aggregation::reduce(aggregation, pos, a, b))
        })
    }

    /// Rolling sum of field `pos`; the other fields are those of the key's first record.
    pub fn sum(&self, pos: usize) -> DataStream<T>
    where
        T: Aggregatable,
    {
        self.aggregate(Aggregation::Sum, pos)
    }

    /// Rolling minimum of field `pos`; the other fields are those of the key's first record.
    pub fn min(&self, pos: usize) -> DataStream<T>
    where
        T: Aggregatable,
    {
        self.aggregate(Aggregation::Min, pos)
    }

    /// Rolling maximum of field `pos`; the other fields are those of the key's first record.
    pub fn max(&self, pos: usize) -> DataStream<T>
    where
        T: Aggregatable,
    {
        self.aggregate(Aggregation::Max, pos)
    }

    /// The record with the smallest field `pos` so far (the earlier one on ties).
    pub fn min_by(&self, pos: usize) -> DataStream<T>
    where
        T: Aggregatable,
    {
        self.aggregate(Aggregation::MinBy, pos)
    }

    /// The record with the largest field `pos` so far (the earlier one on ties).
    pub fn max_by(&self, pos: usize) -> DataStream<T>
    where
        T: Aggregatable,
    {
        self.aggregate(Aggregation::MaxBy, pos)
    }

    /// The keyed stream as a plain stream (still partitioned by key).
    pub fn as_stream(&self) -> &DataStream<T> {
        &self.stream
    }
}

/// Two streams feeding one two-input operator.
pub struct ConnectedStreams<A, B> {
    first: DataStream<A>,
    second: DataStream<B>,
}

impl<A: Record, B: Record> ConnectedStreams<A, B> {
    /// Co-map: `f1` for records of the first stream, `f2` for the second.
    pub fn map<U: Record>(
        &self,
        mut f1: impl FnMut(A) -> U + Clone + Send + Sync + 'static,
        mut f2: impl FnMut(B) -> U + Clone + Send + Sync + 'static,
    ) -> DataStream<U> {
        let factory = CoTransform::factory(
            move |r: Records<A>| Ok(r.map(&mut f1)),
            move |r: Records<B>| Ok(r.map(&mut f2)),
        );
        self.first
            .add_operator("Co-Map", Some(&self.second.refs), factory)
    }

    /// Co-flat-map: each function turns a record of its stream into any number of records.
    pub fn flat_map<U: Record, I1: IntoIterator<Item = U>, I2: IntoIterator<Item = U>>(
        &self,
        mut f1: impl FnMut(A) -> I1 + Clone + Send + Sync + 'static,
        mut f2: impl FnMut(B) -> I2 + Clone + Send + Sync + 'static,
    ) -> DataStream<U> {
        let factory = CoTransform::factory(
            move |r: Records<A>| Ok(r.flat_map(&mut f1)),
            move |r: Records<B>| Ok(r.flat_map(&mut f2)),
        );
        self.first
            .add_operator("Co-Flat Map", Some(&self.second.refs), factory)
    }
}
