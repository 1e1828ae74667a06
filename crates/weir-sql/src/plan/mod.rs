//! Streaming plans: the tree of Weir operators a query runs as ([`StreamPlan`]), translated
//! from DataFusion's analysed logical plan by [`translate`], its aggregations split in two
//! phases where the configuration asks for it ([`phases`]), and shown by `EXPLAIN`
//! ([`explain`]).

mod aggregate;
mod correlate;
pub mod explain;
mod join;
mod over;
pub mod phases;
mod rank;
mod translate;

use std::sync::Arc;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion_common::DFSchemaRef;
use datafusion_expr::Expr;

pub use explain::explain;
pub use translate::{translate, Translator};

use crate::catalog::Table;
use crate::connectors::Connector;
use crate::functions::{UserAggregate, UserTableFunction};
use crate::rewrite::WindowSpec;

/// An aggregate function Weir computes incrementally, with retraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AggKind {
    /// `COUNT(*)` or `COUNT(x)` (non-null values).
    Count,
    /// `SUM(x)`.
    Sum,
    /// `MIN(x)`.
    Min,
    /// `MAX(x)`.
    Max,
    /// `AVG(x)`.
    Avg,
    /// A user-defined aggregate function.
    User(UserAggCall),
}

/// The call of a user-defined aggregate function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAggCall {
    /// The function.
    pub function: UserAggregate,
    /// The arguments' columns in the aggregation's input.
    pub args: Vec<usize>,
    /// The arguments' types.
    pub arg_types: Vec<DataType>,
}

/// One aggregate call of an aggregation.
#[derive(Debug, Clone)]
pub struct AggCall {
    /// The function.
    pub kind: AggKind,
    /// The argument's column in the aggregation's input (none for `COUNT(*)`).
    pub arg: Option<usize>,
    /// `DISTINCT`: each distinct value counts once.
    pub distinct: bool,
    /// `FILTER (WHERE ...)`: the boolean column in the aggregation's input that says which
    /// rows the call takes.
    pub filter: Option<usize>,
    /// The aggregation's input is insert-only: MIN and MAX keep only the extreme value, not
    /// every value for retraction (Flink's `MaxAggFunction` instead of
    /// `MaxWithRetractAggFunction`).
    pub insert_only: bool,
    /// How `EXPLAIN` shows the call.
    pub display: String,
}

/// The call of a table function in a `LATERAL TABLE(...)` or `UNNEST(...)` join.
#[derive(Debug, Clone)]
pub struct TableFunctionCall {
    /// The function.
    pub function: UserTableFunction,
    /// Its arguments: expressions over the columns of the rows it is joined to (outer
    /// references while planned by DataFusion, plain columns in a [`StreamOp::Correlate`]).
    pub args: Vec<Expr>,
}

/// Which rows of a join appear without a match, padded with NULLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// Only matched pairs.
    Inner,
    /// Also the left rows without a match.
    Left,
    /// Also the right rows without a match.
    Right,
    /// Also the rows of either side without a match.
    Full,
}

impl JoinKind {
    /// Whether rows of input `side` (0 left, 1 right) without a match are emitted.
    pub fn is_outer(self, side: usize) -> bool {
        match self {
            JoinKind::Inner => false,
            JoinKind::Left => side == 0,
            JoinKind::Right => side == 1,
            JoinKind::Full => true,
        }
    }

    /// Flink's name of the join type, as `EXPLAIN` shows it.
    pub fn flink_name(self) -> &'static str {
        match self {
            JoinKind::Inner => "InnerJoin",
            JoinKind::Left => "LeftOuterJoin",
            JoinKind::Right => "RightOuterJoin",
            JoinKind::Full => "FullOuterJoin",
        }
    }
}

/// The time bounds of an interval join: a left row at time `l` and a right row at time `r`
/// (both event-time attributes) join when `lower <= l - r <= upper` (milliseconds, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntervalBounds {
    /// The lowest `l - r`.
    pub lower: i64,
    /// The highest `l - r`.
    pub upper: i64,
    /// The time column among the left input's row columns (after its keys).
    pub left_time: usize,
    /// The time column among the right input's row columns (after its keys).
    pub right_time: usize,
}

/// A time attribute column: event time (with watermarks) or processing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeAttribute {
    /// An event-time (rowtime) column, with watermarks.
    Rowtime,
    /// A processing-time column (`PROCTIME()`).
    Proctime,
}

/// One column of the `ORDER BY` of a Top-N, in the Top-N's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortColumn {
    /// The column.
    pub column: usize,
    /// `DESC`.
    pub descending: bool,
    /// Whether NULLs come first.
    pub nulls_first: bool,
}

/// A deduplication: a Top-1 ordered by a time attribute, without the row number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dedup {
    /// `ORDER BY time DESC`: keep the last row (of equal times, the latest to arrive);
    /// otherwise the first (of equal times, the first to arrive).
    pub keep_last: bool,
    /// The kind of the time attribute; in processing time the order is the arrival order.
    pub time: TimeAttribute,
}

/// How a Top-N numbers the rows of a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankFunction {
    /// `ROW_NUMBER()`: 1, 2, 3, ... (rows of equal order in arrival order).
    RowNumber,
    /// `RANK()`: rows of equal order share a number, the next rows skip the numbers they used.
    Rank,
    /// `DENSE_RANK()`: rows of equal order share a number, the next rows take the next one.
    DenseRank,
}

impl RankFunction {
    /// Flink's name of the function, as `EXPLAIN` shows it.
    pub fn flink_name(self) -> &'static str {
        match self {
            RankFunction::RowNumber => "ROW_NUMBER",
            RankFunction::Rank => "RANK",
            RankFunction::DenseRank => "DENSE_RANK",
        }
    }
}

/// What a Top-N (`ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...)` filtered by the row
/// number) keeps of each partition, and how it reports changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankSpec {
    /// How rows are numbered.
    pub function: RankFunction,
    /// The partition key: the input's first `keys` columns.
    pub keys: usize,
    /// The `ORDER BY` columns; rows that compare equal keep their arrival order. Empty for a
    /// deduplication in processing time.
    pub order: Vec<SortColumn>,
    /// The first row number emitted (1-based).
    pub start: u64,
    /// The last row number emitted.
    pub end: u64,
    /// Whether the row number is an output column (after the input's columns).
    pub output_rank: bool,
    /// Set when the Top-N is a deduplication.
    pub dedup: Option<Dedup>,
    /// A window Top-N: the input column of `window_end` (among the keys); the window's rows
    /// are ranked once, when the watermark passes its end.
    pub window_end: Option<usize>,
    /// The input is insert-only: rows ranked after `end` can never come back and are
    /// forgotten.
    pub append_only: bool,
}

impl RankSpec {
    /// Whether changes are reported per row number (`-U`/`+U` of the row at a number, as with
    /// row numbers in the output, an offset or a deduplication) rather than as rows that leave
    /// (`-D`) and enter (`+I`) the result.
    pub fn positional(&self) -> bool {
        self.output_rank || self.start > 1 || self.dedup.is_some()
    }

    /// Whether rows of equal order go newest first (a deduplication that keeps the last row).
    pub fn newest_first(&self) -> bool {
        self.dedup.is_some_and(|d| d.keep_last)
    }

    /// Whether the output is insert-only: a window Top-N, or a deduplication that keeps the
    /// first row (in processing time nothing can come before it; in event time it is emitted
    /// when the watermark passes it).
    pub fn insert_only(&self) -> bool {
        self.window_end.is_some() || self.dedup.is_some_and(|d| !d.keep_last)
    }

    /// Whether rows are emitted on the watermark rather than as they arrive: the rows of a
    /// window when it closes, or the first row of a partition in event time.
    pub fn on_watermark(&self) -> bool {
        self.window_end.is_some()
            || self.dedup
                == Some(Dedup {
                    keep_last: false,
                    time: TimeAttribute::Rowtime,
                })
    }

    /// Whether an update that replaces a row by an equal one is left out (Flink's
    /// deduplication keeping the last row in processing time).
    pub fn skips_equal_updates(&self) -> bool {
        self.dedup
            == Some(Dedup {
                keep_last: true,
                time: TimeAttribute::Proctime,
            })
    }
}

/// Which rows before the current one the window of an OVER aggregation holds (it always
/// ends at the current row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverFrame {
    /// `ROWS BETWEEN n PRECEDING AND CURRENT ROW`: the `n` rows before, in time order and
    /// then arrival order; `None` for `UNBOUNDED PRECEDING`.
    Rows(Option<u64>),
    /// `RANGE BETWEEN interval PRECEDING AND CURRENT ROW`: the rows at most this many
    /// milliseconds older, and those of the same time; `None` for `UNBOUNDED PRECEDING`.
    Range(Option<i64>),
}

/// What one result column of an OVER aggregation holds.
#[derive(Debug, Clone)]
pub enum OverCall {
    /// An aggregate over the window.
    Agg(AggCall),
    /// `RANK()` or `DENSE_RANK()`, as Flink computes both in a streaming OVER aggregation
    /// (ordered by time, over `RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW`): the number
    /// of rows of the partition up to the row's time, rows of equal time included.
    Rank,
}

/// An OVER aggregation (Flink's OverAggregate): each input row once, with the aggregates of
/// its window.
#[derive(Debug, Clone)]
pub struct OverSpec {
    /// The partition key: the input's first `keys` columns.
    pub keys: usize,
    /// The `ORDER BY` time attribute column.
    pub time: usize,
    /// Its kind: in event time rows are aggregated in time order when the watermark passes
    /// them, in processing time as they arrive.
    pub time_kind: TimeAttribute,
    /// The window.
    pub frame: OverFrame,
    /// The result columns, in order.
    pub calls: Vec<OverCall>,
}

impl OverSpec {
    /// The aggregate calls among the results, in order.
    pub fn aggs(&self) -> Vec<AggCall> {
        (self.calls.iter())
            .filter_map(|c| match c {
                OverCall::Agg(a) => Some(a.clone()),
                _ => None,
            })
            .collect()
    }
}

/// What a node of a streaming plan does.
#[derive(Debug, Clone)]
pub enum StreamOp {
    /// Reads a table through its connector (physical columns).
    TableSourceScan {
        table: Arc<Table>,
    },
    /// Emits constant rows.
    Values {
        rows: RecordBatch,
    },
    /// Computes expressions over each row, keeping the rows that pass `filter`.
    Calc {
        exprs: Vec<Expr>,
        filter: Option<Expr>,
        input_schema: DFSchemaRef,
    },
    /// Generates watermarks from `expr` (over the input's columns); `rowtime` is the
    /// event-time column.
    WatermarkAssigner {
        rowtime: usize,
        expr: Expr,
        input_schema: DFSchemaRef,
    },
    /// Assigns each row to its windows, adding `window_start`, `window_end`, `window_time`
    /// (for a session window, each row's own window, merged by [`StreamOp::SessionAggregate`]).
    WindowTableFunction {
        window: WindowSpec,
        time_column: usize,
    },
    /// Turns an upsert changelog keyed by the first `keys` columns into a full changelog
    /// (Flink's ChangelogNormalize), keeping each key's last row.
    ChangelogNormalize {
        keys: usize,
    },
    /// Non-windowed aggregation by the first `keys` columns, with an updating changelog.
    GroupAggregate {
        keys: usize,
        aggs: Vec<AggCall>,
    },
    /// The local half of a two-phase aggregation (before the shuffle): per key and
    /// mini-batch, the partial groups of its input rows, as rows of the keys and a binary
    /// column of encoded partial groups.
    LocalGroupAggregate {
        keys: usize,
        aggs: Vec<AggCall>,
    },
    /// The global half of a two-phase aggregation: merges the partial groups of its
    /// [`StreamOp::LocalGroupAggregate`] input by the first `keys` columns, with an updating
    /// changelog.
    GlobalGroupAggregate {
        keys: usize,
        aggs: Vec<AggCall>,
    },
    /// Window aggregation: the keys include the window; emits once per window when the
    /// watermark passes its end, or for windows of a processing-time attribute when the wall
    /// clock does (`window_end` is the key column of the window end).
    WindowAggregate {
        keys: usize,
        aggs: Vec<AggCall>,
        window_end: usize,
        time: TimeAttribute,
    },
    /// Session window aggregation by the first `keys` columns: input column `keys` is each
    /// row's time (the start of its own window; column `keys + 1` its end), rows of a key whose
    /// windows overlap merge into one session; emits each session once, when the watermark
    /// passes its end, as the keys, `window_start`, `window_end` and the calls' results.
    SessionAggregate {
        keys: usize,
        aggs: Vec<AggCall>,
        gap_ms: i64,
    },
    /// Regular join of two inputs whose first `keys` columns are the equi-join key (the rest
    /// are the input's row); pairs must also pass `condition` (over the output columns). Both
    /// inputs' rows are kept in keyed state; the result is a changelog.
    Join {
        kind: JoinKind,
        keys: usize,
        condition: Option<Expr>,
    },
    /// Interval join on event time: like [`StreamOp::Join`], and the rows' times must be
    /// within `bounds`; rows are dropped from state when the watermark passes. Insert-only.
    IntervalJoin {
        kind: JoinKind,
        keys: usize,
        condition: Option<Expr>,
        bounds: IntervalBounds,
    },
    /// Window join: the keys include both inputs' `window_start` and `window_end` (key column
    /// `window_end` is the end); each window's rows are joined once, when the watermark passes
    /// its end. Insert-only.
    WindowJoin {
        kind: JoinKind,
        keys: usize,
        condition: Option<Expr>,
        window_end: usize,
    },
    /// Top-N or deduplication (Flink's Rank, Deduplicate, WindowRank and
    /// WindowDeduplicate), keyed by the partition key; see [`RankSpec`].
    Rank(RankSpec),
    /// OVER aggregation, keyed by the partition key; produces the input's columns and one
    /// column per call.
    OverAggregate(OverSpec),
    /// Joins each input row to the rows a table function makes of it (Flink's Correlate):
    /// the output is the input's columns, then the function's. Row kinds pass through, so
    /// the retraction of an input row retracts its rows.
    Correlate {
        /// The call, its arguments over the input's columns.
        call: TableFunctionCall,
        /// `LEFT JOIN ... ON TRUE`: an input row without rows is kept, with NULLs.
        left_outer: bool,
        /// The input's schema (of the arguments).
        input_schema: DFSchemaRef,
    },
    /// The rows of all inputs.
    Union,
    /// Writes to a table.
    /// Batch mode: the final rows of an updating input, emitted as inserts when it ends.
    FinalResult,
    Sink {
        table: Arc<Table>,
    },
    /// Sends the rows to the client that runs the query.
    Collect,
}

/// A node of a streaming plan with its inputs and output schema.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    /// What the node does.
    pub op: StreamOp,
    /// Its inputs.
    pub inputs: Vec<StreamPlan>,
    /// The columns it produces.
    pub schema: DFSchemaRef,
}

impl StreamPlan {
    /// The first source table of the plan that does not end, if any.
    pub fn unbounded_source(&self) -> Option<&Arc<Table>> {
        match &self.op {
            StreamOp::TableSourceScan { table } if !table.connector.is_bounded() => Some(table),
            _ => self.inputs.iter().find_map(StreamPlan::unbounded_source),
        }
    }

    /// Whether the node's output can contain updates or deletions (not insert-only).
    pub fn is_updating(&self) -> bool {
        match &self.op {
            StreamOp::GroupAggregate { .. }
            | StreamOp::GlobalGroupAggregate { .. }
            | StreamOp::ChangelogNormalize { .. } => true,
            StreamOp::Join { kind, .. } if *kind != JoinKind::Inner => true,
            StreamOp::Rank(spec) => !spec.insert_only(),
            StreamOp::TableSourceScan { .. }
            | StreamOp::Values { .. }
            | StreamOp::IntervalJoin { .. }
            | StreamOp::WindowJoin { .. }
            | StreamOp::WindowAggregate { .. }
            | StreamOp::LocalGroupAggregate { .. }
            | StreamOp::SessionAggregate { .. }
            | StreamOp::OverAggregate(_)
            | StreamOp::FinalResult => false,
            _ => self.inputs.iter().any(StreamPlan::is_updating),
        }
    }

    /// The time attribute of the windows of the window TVF this plan's rows come from,
    /// through projections and filters (`None` without one).
    pub fn window_time_attribute(&self) -> Option<TimeAttribute> {
        match &self.op {
            StreamOp::WindowTableFunction { time_column, .. } => self.inputs[0]
                .time_attributes()
                .get(*time_column)
                .copied()
                .flatten(),
            StreamOp::Calc { .. } => self.inputs[0].window_time_attribute(),
            _ => None,
        }
    }

    /// Which output columns are event-time attributes (rowtime columns with watermarks).
    pub fn rowtime_columns(&self) -> Vec<bool> {
        self.time_attributes()
            .into_iter()
            .map(|t| t == Some(TimeAttribute::Rowtime))
            .collect()
    }

    /// The time attribute of each output column: the columns of a `WATERMARK FOR`
    /// declaration and `PROCTIME()` columns, passed on unchanged by projections, a window
    /// TVF's `window_time` and the time attributes of both inputs of an interval join.
    pub fn time_attributes(&self) -> Vec<Option<TimeAttribute>> {
        let width = self.schema.fields().len();
        let input = |i: usize| self.inputs[i].time_attributes();
        let mut columns = match &self.op {
            StreamOp::WatermarkAssigner { rowtime, .. } => {
                let mut c = input(0);
                c.resize(width, None);
                c[*rowtime] = Some(TimeAttribute::Rowtime);
                c
            }
            StreamOp::Calc {
                exprs,
                input_schema,
                ..
            } => {
                let from = input(0);
                exprs
                    .iter()
                    .map(|e| match e.clone().unalias() {
                        Expr::Column(c) => input_schema
                            .index_of_column(&c)
                            .ok()
                            .and_then(|i| from.get(i).copied().flatten()),
                        Expr::ScalarFunction(f) if f.func.name() == "proctime" => {
                            Some(TimeAttribute::Proctime)
                        }
                        _ => None,
                    })
                    .collect()
            }
            StreamOp::WindowTableFunction { time_column, .. } => {
                let mut c = vec![None; width];
                c[width - 1] = input(0).get(*time_column).copied().flatten();
                c
            }
            // A window aggregation grouped by `window_time` keeps it as an event-time
            // attribute (results come before the watermark that fires them), so windows and
            // time-based operators can follow (Flink's cascading window aggregation).
            StreamOp::WindowAggregate {
                keys,
                time: TimeAttribute::Rowtime,
                ..
            } => {
                let mut c = input(0);
                c.truncate(*keys);
                c
            }
            StreamOp::IntervalJoin { keys, .. } => {
                let mut c = input(0).split_off(*keys);
                c.extend(input(1).split_off(*keys));
                c
            }
            // A table over a DataStream keeps the stream's watermarks: its rowtime is a time
            // attribute from the scan on.
            StreamOp::TableSourceScan { table }
                if matches!(table.connector, Connector::DataStream(_))
                    && table.connector.generates_watermarks(table) =>
            {
                let mut c = vec![None; width];
                let rowtime = table
                    .watermark
                    .as_ref()
                    .map(|(i, _)| table.schema.field(*i).name());
                if let Some(i) = rowtime.and_then(|n| self.schema.index_of_column_by_name(None, n))
                {
                    c[i] = Some(TimeAttribute::Rowtime);
                }
                c
            }
            StreamOp::Union
            | StreamOp::OverAggregate(_)
            | StreamOp::Sink { .. }
            | StreamOp::Collect => input(0),
            _ => Vec::new(),
        };
        columns.resize(width, None);
        columns
    }
}
