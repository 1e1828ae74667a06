//! Streaming plans: the tree of Weir operators a query runs as ([`StreamPlan`]), translated
//! from DataFusion's analysed logical plan by [`translate`], and shown by `EXPLAIN`
//! ([`explain`]).

pub mod explain;
mod translate;

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use datafusion_common::DFSchemaRef;
use datafusion_expr::Expr;

pub use explain::explain;
pub use translate::{translate, Translator};

use crate::catalog::Table;
use crate::rewrite::WindowTvf;

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
    /// Assigns each row to its windows, adding `window_start`, `window_end`, `window_time`.
    WindowTableFunction {
        window: WindowTvf,
        time_column: usize,
    },
    /// Non-windowed aggregation by the first `keys` columns, with an updating changelog.
    GroupAggregate { keys: usize, aggs: Vec<AggCall> },
    /// Window aggregation: the keys include the window; emits once per window when the
    /// watermark passes its end (`window_end` is the key column of the window end).
    WindowAggregate {
        keys: usize,
        aggs: Vec<AggCall>,
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
            StreamOp::GroupAggregate { .. } => true,
            StreamOp::TableSourceScan { .. }
            | StreamOp::Values { .. }
            | StreamOp::WindowAggregate { .. } => false,
            _ => self.inputs.iter().any(StreamPlan::is_updating),
        }
    }
}
