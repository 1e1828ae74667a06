//! From a [`StreamPlan`] to a runnable job: one stream node per plan node (chained where the
//! edge is forward), hash exchanges before aggregations, and the operator factories.

use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use crossbeam_channel::Sender;
use weir_core::config::{Configuration, RuntimeMode};
use weir_core::graph::{
    ChainingStrategy, JobGraph, NodeId, NodeKind, PartitionerKind, StreamEdge, StreamGraph,
    StreamNode,
};
use weir_core::keygroup::default_max_parallelism;
use weir_datastream::{GraphInput, GraphNode, StreamExecutionEnvironment};
use weir_runtime::job::{ExecutableJob, NodeFactory};
use weir_runtime::partitioner::{self, PartitionerFactory};
use weir_runtime::{OperatorContext, SourceReader, StreamOperator};

use super::calc::CalcOperator;
use super::correlate::CorrelateOperator;
use super::exchange;
use super::expr::{compile, compile_all};
use super::final_result::FinalResultOperator;
use super::group_agg::{AggInput, GroupAggOperator};
use super::interval_join::IntervalJoinOperator;
use super::join::JoinOperator;
use super::local_agg::LocalGroupAggOperator;
use super::mini_batch::MiniBatch;
use super::normalize::ChangelogNormalizeOperator;
use super::over_agg::OverAggOperator;
use super::rank::RankOperator;
use super::session_agg::SessionAggOperator;
use super::sinks::{SinkOperator, SinkTarget};
use super::sources::{SqlSourceReader, TableReader};
use super::watermark::WatermarkAssigner;
use super::window_agg::{WindowAggOperator, WindowClock};
use super::window_join::WindowJoinOperator;
use super::window_tvf::WindowTvfOperator;
use crate::changelog::ChangeBatch;
use crate::connectors::filesystem::{FileReader, FileWriter};
use crate::connectors::nexmark::NexmarkReader;
use crate::connectors::{Connector, DataStreamInput};
use crate::error::{Result, SqlError};
use crate::plan::explain::describe;
use crate::plan::{AggCall, OverSpec, RankSpec, StreamOp, StreamPlan};

/// Builds one job of `plans` (each rooted at a sink: one plan for a query or INSERT, several
/// for a statement set). `collect` receives the rows of a [`StreamOp::Collect`] root.
pub fn build_job(
    name: &str,
    plans: &[StreamPlan],
    config: &Configuration,
    collect: Option<Sender<ChangeBatch>>,
) -> Result<ExecutableJob> {
    let mut builder = Builder::new(config, collect)?;
    for plan in plans {
        builder.add(plan)?;
    }
    if let Some(scan) = builder.external.first() {
        return Err(SqlError::plan(format!(
            "table '{}' reads a DataStream: convert the result with to_data_stream or \
             to_changelog_stream and run the StreamExecutionEnvironment",
            scan.table
        )));
    }
    let chaining = config
        .get(&weir_core::config::options::PIPELINE_OPERATOR_CHAINING)
        .map_err(|e| SqlError::Runtime(e.into()))?;
    Ok(ExecutableJob {
        graph: JobGraph::from_stream_graph(name, builder.graph, chaining)?,
        nodes: builder.nodes,
        partitioners: builder.partitioners,
    })
}

/// Adds the operators of `plan` (a query, without a sink) to the DataStream job of `env`,
/// reading the DataStreams its tables were converted from; returns the id and parallelism of
/// the operator that produces the query's changelog batches.
pub fn build_into_stream_env(
    plan: &StreamPlan,
    config: &Configuration,
    env: &StreamExecutionEnvironment,
) -> Result<(usize, usize)> {
    let mut builder = Builder::new(config, None)?;
    let root = builder.add(plan)?;
    let root_parallelism = builder.graph.nodes[root].parallelism;
    let edges: Vec<(StreamEdge, PartitionerFactory)> = builder
        .graph
        .edges
        .into_iter()
        .zip(builder.partitioners)
        .collect();
    let mut ids: Vec<usize> = Vec::with_capacity(builder.graph.nodes.len());
    for (node, factory) in builder.graph.nodes.into_iter().zip(builder.nodes) {
        let id = node.id.0;
        if let Some(scan) = builder.external.iter().find(|s| s.graph_node == id) {
            ids.push(scan.input.node);
            continue;
        }
        let inputs = edges
            .iter()
            .filter(|(e, _)| e.target.0 == id)
            .map(|(e, f)| GraphInput {
                node: ids[e.source.0],
                input: e.input,
                partitioner: e.partitioner,
                factory: f.clone(),
            })
            .collect();
        ids.push(env.add_node(GraphNode {
            name: node.name,
            uid: None,
            kind: node.kind,
            parallelism: Some(node.parallelism),
            num_inputs: node.inputs,
            inputs,
            factory,
        }));
    }
    Ok((ids[root], root_parallelism))
}

/// A scan of a table over a DataStream: in the graph, the stream's conversion operator.
struct DataStreamScan {
    /// The placeholder node in the builder's graph.
    graph_node: usize,
    /// The table's name.
    table: String,
    input: DataStreamInput,
}

struct Builder {
    graph: StreamGraph,
    nodes: Vec<NodeFactory>,
    partitioners: Vec<PartitionerFactory>,
    parallelism: usize,
    /// `table.exec.state.ttl`.
    state_ttl: std::time::Duration,
    /// `table.exec.mini-batch.*`.
    mini_batch: Option<MiniBatch>,
    /// `pipeline.auto-watermark-interval`.
    watermark_interval: std::time::Duration,
    collect: Option<Sender<ChangeBatch>>,
    /// `execution.runtime-mode: batch`: watermarks only at the end of input.
    batch: bool,
    /// The scans of tables over DataStreams.
    external: Vec<DataStreamScan>,
}

fn arrow_schema(plan: &StreamPlan) -> SchemaRef {
    Arc::new(plan.schema.as_arrow().clone())
}

impl Builder {
    /// A builder of jobs with the settings of `config`.
    fn new(config: &Configuration, collect: Option<Sender<ChangeBatch>>) -> Result<Builder> {
        let parallelism = config
            .get(&weir_core::config::options::PARALLELISM_DEFAULT)
            .map_err(|e| SqlError::Runtime(e.into()))?
            .max(1);
        Ok(Builder {
            graph: StreamGraph::default(),
            nodes: Vec::new(),
            partitioners: Vec::new(),
            parallelism,
            state_ttl: config
                .get(&weir_core::config::options::TABLE_STATE_TTL)
                .map_err(|e| SqlError::Runtime(e.into()))?,
            mini_batch: MiniBatch::from_config(config)?,
            watermark_interval: config
                .get(&weir_core::config::options::PIPELINE_AUTO_WATERMARK_INTERVAL)
                .map_err(|e| SqlError::Runtime(e.into()))?,
            collect,
            batch: config
                .get(&weir_core::config::options::EXECUTION_RUNTIME_MODE)
                .map_err(|e| SqlError::Runtime(e.into()))?
                == RuntimeMode::Batch,
            external: Vec::new(),
        })
    }

    /// Adds `plan`'s inputs, then `plan`; returns its node id.
    fn add(&mut self, plan: &StreamPlan) -> Result<usize> {
        let inputs = plan
            .inputs
            .iter()
            .map(|i| self.add(i))
            .collect::<Result<Vec<_>>>()?;
        let schema = arrow_schema(plan);
        let (kind, factory, parallelism) = self.factory(plan, schema)?;
        let id = self.graph.nodes.len();
        if let StreamOp::TableSourceScan { table } = &plan.op {
            if let Connector::DataStream(input) = &table.connector {
                self.external.push(DataStreamScan {
                    graph_node: id,
                    table: table.def.name.clone(),
                    input: *input,
                });
            }
        }
        let name = describe(plan);
        self.graph.nodes.push(StreamNode {
            id: NodeId(id),
            uid: format!(
                "sql-{id}-{}",
                name.split('(').next().unwrap_or("op").to_ascii_lowercase()
            ),
            name,
            kind,
            parallelism,
            max_parallelism: default_max_parallelism(self.parallelism.max(parallelism)),
            chaining: ChainingStrategy::Always,
            inputs: if is_join(plan) {
                2
            } else {
                usize::from(!inputs.is_empty())
            },
        });
        self.nodes.push(factory);
        for (index, (input_plan, input)) in plan.inputs.iter().zip(inputs).enumerate() {
            let same = self.graph.nodes[input].parallelism == parallelism;
            let (partitioner, factory) = match &plan.op {
                StreamOp::GroupAggregate { keys, .. }
                | StreamOp::GlobalGroupAggregate { keys, .. }
                | StreamOp::WindowAggregate { keys, .. }
                | StreamOp::SessionAggregate { keys, .. }
                | StreamOp::ChangelogNormalize { keys }
                | StreamOp::Join { keys, .. }
                | StreamOp::IntervalJoin { keys, .. }
                | StreamOp::WindowJoin { keys, .. }
                | StreamOp::Rank(RankSpec { keys, .. })
                | StreamOp::OverAggregate(OverSpec { keys, .. }) => (
                    PartitionerKind::Hash,
                    exchange::hash(arrow_schema(input_plan), *keys),
                ),
                StreamOp::FinalResult => (
                    PartitionerKind::Hash,
                    exchange::hash(arrow_schema(input_plan), plan.schema.fields().len()),
                ),
                _ if same => (PartitionerKind::Forward, partitioner::forward()),
                _ if parallelism == 1 => (PartitionerKind::Global, partitioner::forward()),
                _ => (PartitionerKind::Rebalance, exchange::rebalance()),
            };
            self.graph.edges.push(StreamEdge {
                source: NodeId(input),
                target: NodeId(id),
                input: if is_join(plan) { index } else { 0 },
                partitioner,
                side_output: None,
            });
            self.partitioners.push(factory);
        }
        Ok(id)
    }

    /// The node kind, factory and parallelism of `plan`'s operator.
    fn factory(
        &mut self,
        plan: &StreamPlan,
        schema: SchemaRef,
    ) -> Result<(NodeKind, NodeFactory, usize)> {
        let p = self.parallelism;
        Ok(match &plan.op {
            StreamOp::TableSourceScan { table } => {
                let schema = table.physical_schema.clone();
                match &table.connector {
                    Connector::Filesystem(options) => {
                        let options = options.clone();
                        let factory = source(move |_| {
                            let reader = FileReader::new(&options, schema.clone())?;
                            Ok(Box::new(SqlSourceReader::new(
                                TableReader::Files(reader),
                                schema.clone(),
                            )) as _)
                        });
                        (NodeKind::Source, factory, 1)
                    }
                    Connector::Datagen(options) => {
                        let options = options.clone();
                        let factory = source(move |_| {
                            let reader = TableReader::Datagen {
                                options: options.clone(),
                                schema: schema.clone(),
                                next: 0,
                                started: None,
                                emitted_since_start: 0,
                            };
                            Ok(Box::new(SqlSourceReader::new(reader, schema.clone())) as _)
                        });
                        (NodeKind::Source, factory, 1)
                    }
                    #[cfg(feature = "kafka")]
                    Connector::Kafka(options) => (
                        NodeKind::Source,
                        NodeFactory::Source(crate::connectors::kafka::source::source_factory(
                            options,
                            crate::connectors::kafka::watermarks::PartitionWatermark::of(table),
                        )?),
                        p,
                    ),
                    Connector::Nexmark(table) => {
                        let table = table.clone();
                        let factory = source(move |ctx| {
                            let reader = NexmarkReader::new(&table, schema.clone(), ctx)?;
                            Ok(Box::new(SqlSourceReader::new(
                                TableReader::Nexmark(reader),
                                schema.clone(),
                            )) as _)
                        });
                        (NodeKind::Source, factory, p)
                    }
                    Connector::DataStream(input) => {
                        // A placeholder: the stream's own operator takes its place.
                        let factory = source(|_| {
                            Err(weir_core::WeirError::InvalidJob(
                                "a table over a DataStream runs only in its stream's job".into(),
                            ))
                        });
                        (NodeKind::Source, factory, input.parallelism)
                    }
                    other => {
                        return Err(SqlError::plan(format!(
                            "connector '{}' cannot be read",
                            other.name()
                        )))
                    }
                }
            }
            StreamOp::Values { rows } => {
                let rows = rows.clone();
                let factory = source(move |_| {
                    let reader = TableReader::Values {
                        rows: rows.clone(),
                        next: 0,
                    };
                    Ok(Box::new(SqlSourceReader::new(reader, rows.schema())) as _)
                });
                (NodeKind::Source, factory, 1)
            }
            StreamOp::Calc {
                exprs,
                filter,
                input_schema,
            } => {
                let exprs = Arc::new(compile_all(exprs, input_schema)?);
                let filter = filter
                    .as_ref()
                    .map(|f| compile(f, input_schema))
                    .transpose()?;
                let factory = operator(move |_| {
                    Ok(Box::new(CalcOperator::new(
                        exprs.clone(),
                        filter.clone(),
                        schema.clone(),
                    )) as _)
                });
                (NodeKind::Operator, factory, self.input_parallelism(plan))
            }
            StreamOp::Correlate {
                call,
                left_outer,
                input_schema,
            } => {
                let args = Arc::new(compile_all(&call.args, input_schema)?);
                let (function, left_outer) = (call.function.clone(), *left_outer);
                let factory = operator(move |_| {
                    Ok(Box::new(CorrelateOperator::new(
                        function.clone(),
                        args.clone(),
                        left_outer,
                        schema.clone(),
                    )) as _)
                });
                (NodeKind::Operator, factory, self.input_parallelism(plan))
            }
            StreamOp::WatermarkAssigner {
                expr, input_schema, ..
            } => {
                let (expr, interval, batch) = (
                    compile(expr, input_schema)?,
                    self.watermark_interval,
                    self.batch,
                );
                let factory = operator(move |_| {
                    Ok(Box::new(WatermarkAssigner::new(expr.clone(), interval, batch)) as _)
                });
                (NodeKind::Operator, factory, self.input_parallelism(plan))
            }
            StreamOp::WindowTableFunction {
                window,
                time_column,
            } => {
                let (window, time_column) = (*window, *time_column);
                let factory = operator(move |_| {
                    Ok(Box::new(WindowTvfOperator::new(window, time_column, schema.clone())) as _)
                });
                (NodeKind::Operator, factory, self.input_parallelism(plan))
            }
            StreamOp::GroupAggregate { keys, aggs } => {
                let factory = self.group_aggregate(plan, *keys, aggs, schema, AggInput::Rows)?;
                (NodeKind::Operator, factory, p)
            }
            StreamOp::GlobalGroupAggregate { keys, aggs } => {
                let factory =
                    self.group_aggregate(plan, *keys, aggs, schema, AggInput::Partials)?;
                (NodeKind::Operator, factory, p)
            }
            StreamOp::LocalGroupAggregate { keys, aggs } => {
                let (keys, aggs, input) =
                    (*keys, Arc::new(aggs.clone()), arrow_schema(&plan.inputs[0]));
                let mini_batch = self.mini_batch.ok_or_else(|| {
                    SqlError::plan("internal: a two-phase aggregation without mini-batch")
                })?;
                let factory = operator(move |_| {
                    Ok(Box::new(LocalGroupAggOperator::new(
                        aggs.clone(),
                        &input,
                        keys,
                        schema.clone(),
                        mini_batch,
                    )?) as _)
                });
                (NodeKind::Operator, factory, self.input_parallelism(plan))
            }
            StreamOp::WindowAggregate {
                keys,
                aggs,
                window_end,
                time,
            } => {
                let (keys, end, aggs, input, time) = (
                    *keys,
                    *window_end,
                    Arc::new(aggs.clone()),
                    arrow_schema(&plan.inputs[0]),
                    *time,
                );
                let factory = operator(move |_| {
                    Ok(Box::new(WindowAggOperator::new(
                        aggs.clone(),
                        &input,
                        keys,
                        WindowClock {
                            window_end: end,
                            time,
                        },
                        schema.clone(),
                    )?) as _)
                });
                (NodeKind::Operator, factory, p)
            }
            StreamOp::SessionAggregate { keys, aggs, gap_ms } => {
                let (keys, gap_ms, aggs, input) = (
                    *keys,
                    *gap_ms,
                    Arc::new(aggs.clone()),
                    arrow_schema(&plan.inputs[0]),
                );
                let factory = operator(move |_| {
                    Ok(Box::new(SessionAggOperator::new(
                        aggs.clone(),
                        &input,
                        keys,
                        gap_ms,
                        schema.clone(),
                    )?) as _)
                });
                (NodeKind::Operator, factory, p)
            }
            StreamOp::ChangelogNormalize { keys } => {
                let (keys, ttl) = (*keys, self.state_ttl);
                let factory = operator(move |_| {
                    Ok(Box::new(
                        ChangelogNormalizeOperator::new(schema.clone(), keys)?.with_state_ttl(ttl),
                    ) as _)
                });
                (NodeKind::Operator, factory, p)
            }
            StreamOp::Join {
                kind,
                keys,
                condition,
            } => {
                let (kind, keys, ttl) = (*kind, *keys, self.state_ttl);
                let (condition, left, right) = join_parts(plan, condition)?;
                let factory = operator(move |_| {
                    Ok(Box::new(JoinOperator::new(
                        kind,
                        [&left, &right],
                        keys,
                        condition.clone(),
                        schema.clone(),
                        ttl,
                    )?) as _)
                });
                (NodeKind::Operator, factory, p)
            }
            StreamOp::IntervalJoin {
                kind,
                keys,
                condition,
                bounds,
            } => {
                let (kind, keys, bounds) = (*kind, *keys, *bounds);
                let (condition, left, right) = join_parts(plan, condition)?;
                let factory = operator(move |_| {
                    Ok(Box::new(IntervalJoinOperator::new(
                        kind,
                        [&left, &right],
                        keys,
                        bounds,
                        condition.clone(),
                        schema.clone(),
                    )?) as _)
                });
                (NodeKind::Operator, factory, p)
            }
            StreamOp::WindowJoin {
                kind,
                keys,
                condition,
                window_end,
            } => {
                let (kind, keys, window_end) = (*kind, *keys, *window_end);
                let (condition, left, right) = join_parts(plan, condition)?;
                let factory = operator(move |_| {
                    Ok(Box::new(WindowJoinOperator::new(
                        kind,
                        [&left, &right],
                        keys,
                        window_end,
                        condition.clone(),
                        schema.clone(),
                    )?) as _)
                });
                (NodeKind::Operator, factory, p)
            }
            StreamOp::Rank(spec) => {
                let (spec, input) = (spec.clone(), arrow_schema(&plan.inputs[0]));
                // A window Top-N forgets each window when it fires; Flink's TTL does not apply.
                let ttl = match spec.window_end {
                    Some(_) => Duration::ZERO,
                    None => self.state_ttl,
                };
                let factory = operator(move |_| {
                    Ok(Box::new(
                        RankOperator::new(spec.clone(), &input, schema.clone())?
                            .with_state_ttl(ttl),
                    ) as _)
                });
                (NodeKind::Operator, factory, p)
            }
            StreamOp::OverAggregate(spec) => {
                let (spec, input) = (spec.clone(), arrow_schema(&plan.inputs[0]));
                // Without PARTITION BY, all rows meet in one subtask.
                let parallelism = if spec.keys == 0 { 1 } else { p };
                let factory = operator(move |_| {
                    Ok(Box::new(OverAggOperator::new(&spec, &input, schema.clone())?) as _)
                });
                (NodeKind::Operator, factory, parallelism)
            }
            StreamOp::Union => {
                let factory = operator(move |_| {
                    let identity = Arc::new(
                        (0..schema.fields().len())
                            .map(|i| {
                                Arc::new(datafusion_physical_expr::expressions::Column::new(
                                    schema.field(i).name(),
                                    i,
                                )) as _
                            })
                            .collect(),
                    );
                    Ok(Box::new(CalcOperator::new(identity, None, schema.clone())) as _)
                });
                (NodeKind::Operator, factory, p)
            }
            StreamOp::Sink { table } => {
                #[cfg(feature = "kafka")]
                if let Connector::Kafka(options) = &table.connector {
                    let factory = crate::connectors::kafka::sink::sink_factory(options)?;
                    let parallelism = self.input_parallelism(plan);
                    return Ok((NodeKind::Sink, NodeFactory::Operator(factory), parallelism));
                }
                let connector = table.connector.clone();
                let factory = operator(move |ctx| {
                    let target = match &connector {
                        Connector::Print(o) => SinkTarget::Print(o.clone()),
                        Connector::Filesystem(o) => {
                            SinkTarget::Files(FileWriter::new(o, ctx.subtask_index))
                        }
                        _ => SinkTarget::Blackhole,
                    };
                    Ok(Box::new(SinkOperator::new(target)) as _)
                });
                (NodeKind::Sink, factory, self.input_parallelism(plan))
            }
            StreamOp::FinalResult => {
                let factory =
                    operator(move |_| Ok(Box::new(FinalResultOperator::new(schema.clone())?) as _));
                (NodeKind::Operator, factory, p)
            }
            StreamOp::Collect => {
                let sender = self
                    .collect
                    .take()
                    .ok_or_else(|| SqlError::plan("internal: a query's result has no client"))?;
                let factory = operator(move |_| {
                    Ok(Box::new(SinkOperator::new(SinkTarget::Collect(sender.clone()))) as _)
                });
                (NodeKind::Sink, factory, 1)
            }
        })
    }

    /// The factory of a group aggregation (one-phase, or the global phase) of `plan`.
    fn group_aggregate(
        &self,
        plan: &StreamPlan,
        keys: usize,
        aggs: &[AggCall],
        schema: SchemaRef,
        input: AggInput,
    ) -> Result<NodeFactory> {
        let (aggs, input_schema) = (Arc::new(aggs.to_vec()), arrow_schema(&plan.inputs[0]));
        let (mini_batch, ttl) = (self.mini_batch, self.state_ttl);
        Ok(operator(move |_| {
            Ok(Box::new(
                GroupAggOperator::new(
                    aggs.clone(),
                    &input_schema,
                    keys,
                    schema.clone(),
                    input,
                    mini_batch,
                )?
                .with_state_ttl(ttl),
            ) as _)
        }))
    }

    fn input_parallelism(&self, plan: &StreamPlan) -> usize {
        // Inputs were added just before: the last node added is the last input.
        match plan.inputs.len() {
            0 => self.parallelism,
            _ => self
                .graph
                .nodes
                .last()
                .map_or(self.parallelism, |n| n.parallelism),
        }
    }
}

/// The compiled condition of a join (over its output) and the schemas of its inputs.
fn join_parts(
    plan: &StreamPlan,
    condition: &Option<datafusion_expr::Expr>,
) -> Result<(Option<super::expr::Compiled>, SchemaRef, SchemaRef)> {
    let condition = condition
        .as_ref()
        .map(|c| compile(c, &plan.schema))
        .transpose()?;
    Ok((
        condition,
        arrow_schema(&plan.inputs[0]),
        arrow_schema(&plan.inputs[1]),
    ))
}

/// Whether `plan` is an operator with two logical inputs.
fn is_join(plan: &StreamPlan) -> bool {
    matches!(
        plan.op,
        StreamOp::Join { .. } | StreamOp::IntervalJoin { .. } | StreamOp::WindowJoin { .. }
    )
}

/// A source node whose readers `f` creates.
fn source(
    f: impl Fn(&OperatorContext) -> weir_core::Result<Box<dyn SourceReader>> + Send + Sync + 'static,
) -> NodeFactory {
    NodeFactory::Source(Arc::new(f))
}

/// An operator node whose operators `f` creates.
fn operator(
    f: impl Fn(&OperatorContext) -> weir_core::Result<Box<dyn StreamOperator>> + Send + Sync + 'static,
) -> NodeFactory {
    NodeFactory::Operator(Arc::new(f))
}
