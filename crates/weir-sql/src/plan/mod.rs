//! Streaming plans: the tree of Weir operators a query runs as ([`StreamPlan`]), translated
//! from DataFusion's analysed logical plan by [`translate`], and shown by `EXPLAIN`
//! ([`explain`]).

mod aggregate;
pub mod explain;
mod join;
mod translate;

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use datafusion_common::DFSchemaRef;
use datafusion_expr::Expr;

pub use explain::explain;
pub use translate::{translate, Translator};

use crate::catalog::Table;
use crate::rewrite::WindowSpec;

/// An aggregate function Weir computes incrementally, with retraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// How `EXPLAIN` shows the call.
    pub display: String,
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

/// What a node of a streaming plan does.
#[derive(Debug, Clone)]
pub enum StreamOp {
    /// Reads a table through its connector (physical columns).
    TableSourceScan { table: Arc<Table> },
    /// Emits constant rows.
    Values { rows: RecordBatch },
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
    ChangelogNormalize { keys: usize },
    /// Non-windowed aggregation by the first `keys` columns, with an updating changelog.
    GroupAggregate { keys: usize, aggs: Vec<AggCall> },
    /// Window aggregation: the keys include the window; emits once per window when the
    /// watermark passes its end (`window_end` is the key column of the window end).
    WindowAggregate {
        keys: usize,
        aggs: Vec<AggCall>,
        window_end: usize,
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
    /// The rows of all inputs.
    Union,
    /// Writes to a table.
    Sink { table: Arc<Table> },
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
    /// Whether the node's output can contain updates or deletions (not insert-only).
    pub fn is_updating(&self) -> bool {
        match &self.op {
            StreamOp::GroupAggregate { .. } | StreamOp::ChangelogNormalize { .. } => true,
            StreamOp::Join { kind, .. } if *kind != JoinKind::Inner => true,
            StreamOp::TableSourceScan { .. }
            | StreamOp::Values { .. }
            | StreamOp::IntervalJoin { .. }
            | StreamOp::WindowJoin { .. }
            | StreamOp::WindowAggregate { .. }
            | StreamOp::SessionAggregate { .. } => false,
            _ => self.inputs.iter().any(StreamPlan::is_updating),
        }
    }

    /// Which output columns are event-time attributes (rowtime columns with watermarks): the
    /// columns of a `WATERMARK FOR` declaration, passed on unchanged by projections, a window
    /// TVF's `window_time` and the time attributes of both inputs of an interval join.
    pub fn rowtime_columns(&self) -> Vec<bool> {
        let width = self.schema.fields().len();
        let input = |i: usize| self.inputs[i].rowtime_columns();
        let mut columns = match &self.op {
            StreamOp::WatermarkAssigner { rowtime, .. } => {
                let mut c = input(0);
                c.resize(width, false);
                c[*rowtime] = true;
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
                            .is_ok_and(|i| from.get(i).copied().unwrap_or(false)),
                        _ => false,
                    })
                    .collect()
            }
            StreamOp::WindowTableFunction { .. } => {
                let mut c = vec![false; width];
                c[width - 1] = true;
                c
            }
            StreamOp::IntervalJoin { keys, .. } => {
                let mut c: Vec<bool> = input(0).split_off(*keys);
                c.extend(input(1).split_off(*keys));
                c
            }
            StreamOp::Union | StreamOp::Sink { .. } | StreamOp::Collect => input(0),
            _ => Vec::new(),
        };
        columns.resize(width, false);
        columns
    }
}
