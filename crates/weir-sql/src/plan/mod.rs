//! Streaming plans: the tree of Weir operators a query runs as ([`StreamPlan`]), translated
//! from DataFusion's analysed logical plan by [`translate`], its aggregations split in two
//! phases where the configuration asks for it ([`phases`]), and shown by `EXPLAIN`
//! ([`explain`]).

mod aggregate;
pub mod explain;
mod join;
pub mod phases;
mod rank;
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
    /// The aggregation's input is insert-only: MIN and MAX keep only the extreme value, not
    /// every value for retraction (Flink's `MaxAggFunction` instead of
    /// `MaxWithRetractAggFunction`).
    pub insert_only: bool,
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

/// What a Top-N (`ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...)` filtered by the row
/// number) keeps of each partition, and how it reports changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankSpec {
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
    /// Top-N or deduplication (Flink's Rank, Deduplicate, WindowRank and
    /// WindowDeduplicate), keyed by the partition key; see [`RankSpec`].
    Rank(RankSpec),
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
            | StreamOp::FinalResult => false,
            _ => self.inputs.iter().any(StreamPlan::is_updating),
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
            StreamOp::WindowTableFunction { .. } => {
                let mut c = vec![None; width];
                c[width - 1] = Some(TimeAttribute::Rowtime);
                c
            }
            StreamOp::IntervalJoin { keys, .. } => {
                let mut c = input(0).split_off(*keys);
                c.extend(input(1).split_off(*keys));
                c
            }
            StreamOp::Union | StreamOp::Sink { .. } | StreamOp::Collect => input(0),
            _ => Vec::new(),
        };
        columns.resize(width, None);
        columns
    }
}
