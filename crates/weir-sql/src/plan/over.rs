//! OVER aggregations in streaming plans: a DataFusion `Window` node of aggregate functions,
//! `RANK()` and `DENSE_RANK()` becomes a [`StreamOp::OverAggregate`], as Flink plans its
//! OverAggregate.
//!
//! Flink's rules hold: all calls share one window, ordered ascending by one time attribute,
//! whose frame ends at the current row (`ROWS` or `RANGE`, `n` or `UNBOUNDED PRECEDING`), over
//! an insert-only input. The operator's input is a Calc that puts the partition key first and
//! computes the calls' arguments; a Calc after it puts the columns back in the order of the
//! window node (its input's columns, then one per call).

use std::sync::{Arc, LazyLock};

use regex::Regex;

use datafusion_common::{Column, DFSchema, ScalarValue};
use datafusion_expr::expr::WindowFunction;
use datafusion_expr::{
    Expr, LogicalPlan, Window, WindowFrameBound, WindowFrameUnits, WindowFunctionDefinition,
};

use super::rank::{keyed_input, qualified_fields};
use super::translate::{agg_call_of, calc, columns_of};
use super::{OverCall, OverFrame, OverSpec, StreamOp, StreamPlan};
use crate::error::{Result, SqlError};

/// The name of the column of call `i` of an OVER aggregation (Flink's).
fn call_column(i: usize) -> String {
    format!("w0$o{i}")
}

/// The streaming plan of `window`, a `Window` node of OVER aggregations of the query `sql`;
/// `translate` translates its input. An OVER window that cannot run is reported at the first
/// `OVER` of `sql`.
pub(super) fn translate_over(
    window: &Window,
    sql: &str,
    translate: &dyn Fn(&LogicalPlan) -> Result<StreamPlan>,
) -> Result<StreamPlan> {
    let input = translate(&window.input)?;
    over_aggregate(window, input).map_err(|e| match (e, OVER.find(sql)) {
        (SqlError::Plan(message), Some(over)) => SqlError::at(sql, over.start(), message),
        (e, _) => e,
    })
}

/// The first `OVER` keyword of a query.
static OVER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\bOVER\b").unwrap());

/// The OVER aggregation of `window` over its translated `input`.
fn over_aggregate(window: &Window, input: StreamPlan) -> Result<StreamPlan> {
    if matches!(window.input.as_ref(), LogicalPlan::Window(_)) {
        return Err(different_windows());
    }
    let functions = window
        .window_expr
        .iter()
        .map(|e| match e.clone().unalias() {
            Expr::WindowFunction(f) => Ok(*f),
            other => Err(SqlError::plan(format!("not a window function: {other}"))),
        })
        .collect::<Result<Vec<WindowFunction>>>()?;
    if let Some(f) = functions.iter().find(|f| {
        ranking(f).is_none() && !matches!(f.fun, WindowFunctionDefinition::AggregateUDF(_))
    }) {
        return Err(SqlError::plan(format!(
            "{}() is supported for Top-N and deduplication only: number the rows in a \
             subquery and filter on the number in the enclosing query, as in SELECT * FROM \
             (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c DESC) AS rownum FROM t) \
             WHERE rownum <= 3",
            f.fun.name().to_ascii_uppercase()
        )));
    }
    // The window's frame is that of its aggregate calls (ranking calls have none).
    let first = functions
        .iter()
        .find(|f| ranking(f).is_none())
        .or(functions.first())
        .ok_or_else(|| SqlError::plan("an OVER window without functions"))?;
    for f in &functions {
        let same = f.params.partition_by == first.params.partition_by
            && f.params.order_by == first.params.order_by
            && (ranking(f).is_some() || f.params.window_frame == first.params.window_frame);
        if !same {
            return Err(different_windows());
        }
    }
    if first.params.order_by.is_empty() {
        return Err(SqlError::plan(
            "OVER windows in streaming mode need ORDER BY on a time attribute",
        ));
    }
    let frame = match ranking(first) {
        None => frame(first)?,
        Some(_) => OverFrame::Range(None),
    };
    let ranked = functions.iter().any(|f| ranking(f).is_some());
    if ranked && frame != OverFrame::Range(None) {
        return Err(SqlError::plan(
            "RANK() and DENSE_RANK() are supported by Weir in OVER windows whose aggregates use \
             the default frame (RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) only",
        ));
    }

    // The calls' arguments, as expressions over the input, and the calls reading them.
    let mut args = Vec::new();
    let mut calls = functions
        .iter()
        .map(|f| match ranking(f) {
            Some(call) => Ok(call),
            None => Ok(OverCall::Agg(agg_call_of(
                f.fun.name(),
                &f.params.args,
                f.params.distinct,
                f.params.filter.as_deref(),
                call_display(f),
                &mut args,
                // Rows leave bounded windows: MIN and MAX must keep every value.
                false,
            )?)),
        })
        .collect::<Result<Vec<OverCall>>>()?;

    if input.is_updating() {
        return Err(SqlError::plan(
            "OVER aggregations need an insert-only input: their input here is updated (by a \
             GROUP BY, a regular outer join, a Top-N or an upsert source), which Flink's \
             OverAggregate does not consume",
        ));
    }
    let keyed = keyed_input(input, first, &args)?;
    for call in &mut calls {
        if let OverCall::Agg(call) = call {
            call.arg = call.arg.map(|a| keyed.extra[a]);
            call.filter = call.filter.map(|f| keyed.extra[f]);
        }
    }
    let [order] = keyed.order.as_slice() else {
        return Err(SqlError::plan(
            "OVER windows in streaming mode must be ordered by exactly one time attribute",
        ));
    };
    let Some(time_kind) = keyed.times[order.column] else {
        return Err(SqlError::plan(format!(
            "OVER windows ordered by '{}', which is not a time attribute, are not supported by \
             Weir yet: order by an event-time attribute (a column with a WATERMARK FOR \
             declaration) or a processing-time attribute (PROCTIME())",
            keyed.plan.schema.field(order.column).name()
        )));
    };
    if order.descending {
        return Err(SqlError::plan(
            "The window can only be ordered in ASCENDING mode.",
        ));
    }

    let mut fields = qualified_fields(&keyed.plan.schema, None);
    let width = window.input.schema().fields().len();
    for (i, field) in window.schema.fields()[width..].iter().enumerate() {
        let field = field.as_ref().clone().with_name(call_column(i));
        fields.push((None, Arc::new(field)));
    }
    let over = StreamPlan {
        op: StreamOp::OverAggregate(OverSpec {
            keys: keyed.keys,
            time: order.column,
            time_kind,
            frame,
            calls,
        }),
        inputs: vec![keyed.plan],
        schema: Arc::new(DFSchema::new_with_metadata(fields, Default::default())?),
    };
    let mut exprs = columns_of(&window.schema);
    for (i, e) in exprs[width..].iter_mut().enumerate() {
        *e = Expr::Column(Column::new_unqualified(call_column(i)));
    }
    Ok(calc(over, exprs, None, window.schema.clone()))
}

/// The ranking call `f` is (`RANK()`, `DENSE_RANK()`), if it is one; `ROW_NUMBER()` is
/// supported for Top-N and deduplication only.
fn ranking(f: &WindowFunction) -> Option<OverCall> {
    match &f.fun {
        WindowFunctionDefinition::WindowUDF(u) if matches!(u.name(), "rank" | "dense_rank") => {
            Some(OverCall::Rank)
        }
        _ => None,
    }
}

/// How `EXPLAIN` shows a call, as Flink does: `SUM(v)`, `COUNT(*)`.
// DataFusion still plans `COUNT(*)` with a wildcard argument.
#[allow(deprecated)]
fn call_display(f: &WindowFunction) -> String {
    let name = f.fun.name().to_ascii_uppercase();
    let args = match f.params.args.as_slice() {
        [] | [Expr::Wildcard { .. }] => "*".to_string(),
        [Expr::Literal(..)] if name == "COUNT" => "*".to_string(),
        args => args
            .iter()
            .map(|a| match a {
                Expr::Cast(c) => c.expr.as_ref(),
                Expr::TryCast(c) => c.expr.as_ref(),
                other => other,
            })
            .map(|a| match a {
                Expr::Column(c) => c.name.clone(),
                other => other.human_display().to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    let distinct = if f.params.distinct { "DISTINCT " } else { "" };
    format!("{name}({distinct}{args})")
}

fn different_windows() -> SqlError {
    SqlError::plan(
        "Over Agg: Unsupported use of OVER windows. All aggregates must be computed on the same \
         window. please re-check the over window statement.",
    )
}

/// The frame of `function`'s window: it must end at the current row.
fn frame(function: &WindowFunction) -> Result<OverFrame> {
    let frame = &function.params.window_frame;
    let unsupported = || {
        SqlError::plan(format!(
            "OVER window frame {frame} is not supported: in streaming mode a window ends at the \
             current row, as in ROWS BETWEEN 10 PRECEDING AND CURRENT ROW or RANGE BETWEEN \
             INTERVAL '1' HOUR PRECEDING AND CURRENT ROW"
        ))
    };
    if matches!(frame.end_bound, WindowFrameBound::Following(_)) {
        return Err(SqlError::plan(
            "OVER RANGE FOLLOWING windows are not supported yet.",
        ));
    }
    if frame.end_bound != WindowFrameBound::CurrentRow {
        return Err(unsupported());
    }
    let preceding = match &frame.start_bound {
        WindowFrameBound::CurrentRow => Some(ScalarValue::UInt64(Some(0))),
        WindowFrameBound::Preceding(v) if v.is_null() => None,
        WindowFrameBound::Preceding(v) => Some(v.clone()),
        WindowFrameBound::Following(_) => return Err(unsupported()),
    };
    match frame.units {
        WindowFrameUnits::Rows => {
            let rows = preceding
                .map(|v| match v.cast_to(&arrow::datatypes::DataType::UInt64) {
                    Ok(ScalarValue::UInt64(Some(n))) => Ok(n),
                    _ => Err(unsupported()),
                })
                .transpose()?;
            Ok(OverFrame::Rows(rows))
        }
        WindowFrameUnits::Range => {
            let ms = preceding
                .map(|v| match v {
                    ScalarValue::UInt64(Some(0)) => Ok(0),
                    v => crate::types::interval_ms(&v).ok_or_else(|| {
                        SqlError::plan(format!(
                            "OVER RANGE windows on a time attribute need an interval, as in \
                             RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW; found {v}"
                        ))
                    }),
                })
                .transpose()?;
            Ok(OverFrame::Range(ms))
        }
        WindowFrameUnits::Groups => Err(unsupported()),
    }
}
