//! Legacy group windows: Flink's `GROUP BY TUMBLE(ts, INTERVAL '1' HOUR), k` with
//! `TUMBLE_START`, `TUMBLE_END` and `TUMBLE_ROWTIME` in the select list; likewise
//! `HOP(ts, slide, size)` and `SESSION(ts, gap)`.
//!
//! To DataFusion, `TUMBLE(ts, size)` is a scalar function ([`GroupWindowFunction`]) whose
//! value is the row's window, a struct of `start`, `end` and `rowtime`; [`crate::rewrite`]
//! turns `TUMBLE_START(ts, size)` into the field `start` of `TUMBLE(ts, size)`, which the
//! planner accepts beside the group key. The translator recognises the group key
//! ([`GroupWindow::find`]) and runs the aggregation as the window aggregation of the
//! equivalent window TVF, then builds the struct from `window_start` and `window_end`
//! ([`window_struct`]): the function itself is never evaluated.

use arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use datafusion_common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion_common::{exec_err, Column, Result as DfResult, ScalarValue};
use datafusion_expr::{
    lit, ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::{Result, SqlError};
use crate::rewrite::{check_spec, WindowKind, WindowSpec};

/// The struct field of a group window's start (`TUMBLE_START`).
pub const START: &str = "start";
/// The struct field of a group window's end (`TUMBLE_END`).
pub const END: &str = "end";
/// The struct field of a group window's time attribute, the end minus 1 ms (`TUMBLE_ROWTIME`).
pub const ROWTIME: &str = "rowtime";

const TIMESTAMP_MS: DataType = DataType::Timestamp(TimeUnit::Millisecond, None);

/// `TUMBLE(ts, size)`, `HOP(ts, slide, size)` or `SESSION(ts, gap)` in a `GROUP BY`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct GroupWindowFunction {
    kind: WindowKind,
    name: String,
    signature: Signature,
}

impl GroupWindowFunction {
    fn new(kind: WindowKind) -> Self {
        GroupWindowFunction {
            kind,
            name: kind.name().to_ascii_lowercase(),
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }

    fn usage(&self) -> &'static str {
        match self.kind {
            WindowKind::Hop => "HOP(time_attr, slide, size)",
            WindowKind::Session => "SESSION(time_attr, gap)",
            _ => "TUMBLE(time_attr, size)",
        }
    }
}

/// The group window functions, to register with the planner.
pub fn functions() -> Vec<ScalarUDF> {
    [WindowKind::Tumble, WindowKind::Hop, WindowKind::Session]
        .into_iter()
        .map(|k| ScalarUDF::from(GroupWindowFunction::new(k)))
        .collect()
}

/// The type of a group window's value: its start, end and rowtime.
fn window_type() -> DataType {
    let fields: Fields = [START, END, ROWTIME]
        .into_iter()
        .map(|n| Field::new(n, TIMESTAMP_MS, true))
        .collect();
    DataType::Struct(fields)
}

impl ScalarUDFImpl for GroupWindowFunction {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(window_type())
    }
    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        exec_err!(
            "{} is a group window: it can only be used in GROUP BY",
            self.usage()
        )
    }
}

/// A group window of a `GROUP BY`: its windows over the time column.
#[derive(Debug, Clone)]
pub struct GroupWindow {
    /// The windows.
    pub spec: WindowSpec,
    /// The time attribute column the windows are laid over.
    pub time_column: Column,
}

impl GroupWindow {
    /// The group window among the group expressions `group`, with its index, if there is one.
    pub fn find(group: &[Expr]) -> Result<Option<(usize, GroupWindow)>> {
        let mut found = None;
        for (i, e) in group.iter().enumerate() {
            let Some((f, args)) = call_of(e) else {
                continue;
            };
            if found.is_some() {
                return Err(SqlError::plan(format!(
                    "GROUP BY has more than one group window: {e}"
                )));
            }
            found = Some((i, GroupWindow::of(f, args)?));
        }
        Ok(found)
    }

    fn of(f: &GroupWindowFunction, args: &[Expr]) -> Result<GroupWindow> {
        let usage = f.usage();
        let expected = if f.kind == WindowKind::Hop { 3 } else { 2 };
        if args.len() != expected {
            return Err(SqlError::plan(format!(
                "{} takes {expected} arguments, not {}: {usage}",
                f.kind.name(),
                args.len()
            )));
        }
        let time_column = match args[0].clone().unalias() {
            Expr::Column(c) => c,
            other => {
                return Err(SqlError::plan(format!(
                    "{usage}: the first argument must be a time attribute column, not {other}"
                )))
            }
        };
        let first = interval_literal_ms(&args[1], usage)?;
        let (size_ms, step_ms) = match f.kind {
            WindowKind::Hop => (interval_literal_ms(&args[2], usage)?, first),
            _ => (first, first),
        };
        let spec = WindowSpec {
            kind: f.kind,
            size_ms,
            step_ms,
            offset_ms: 0,
        };
        check_spec(&spec, usage)?;
        Ok(GroupWindow { spec, time_column })
    }
}

/// The group window function called by `expr`, with its arguments.
fn call_of(expr: &Expr) -> Option<(&GroupWindowFunction, &[Expr])> {
    match expr {
        Expr::ScalarFunction(f) => f
            .func
            .inner()
            .downcast_ref::<GroupWindowFunction>()
            .map(|g| (g, f.args.as_slice())),
        _ => None,
    }
}

/// Whether `expr` calls a group window function anywhere.
pub fn contains_group_window(expr: &Expr) -> bool {
    let mut found = false;
    let _ = expr.apply(|e| {
        found |= call_of(e).is_some();
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}

/// Milliseconds of an interval literal such as `INTERVAL '10' SECOND`.
fn interval_literal_ms(expr: &Expr, usage: &str) -> Result<i64> {
    let ms = match expr {
        Expr::Literal(value, _) => crate::types::interval_ms(value),
        _ => None,
    };
    ms.ok_or_else(|| {
        SqlError::plan(format!(
            "{usage}: expected a day-time interval such as INTERVAL '10' MINUTE, found {expr}"
        ))
    })
}

/// The value of a group window from its `window_start` and `window_end` columns: the struct
/// of start, end and rowtime (the end minus 1 ms).
pub fn window_struct(start: Expr, end: Expr) -> Expr {
    let one_ms = lit(ScalarValue::new_interval_mdn(0, 0, 1_000_000));
    datafusion_functions::core::named_struct().call(vec![
        lit(START),
        start,
        lit(END),
        end.clone(),
        lit(ROWTIME),
        end - one_ms,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_group_window_and_its_sizes() {
        let hop = ScalarUDF::from(GroupWindowFunction::new(WindowKind::Hop));
        let minutes = |n: i32| {
            lit(ScalarValue::new_interval_mdn(
                0,
                0,
                i64::from(n) * 60_000_000_000,
            ))
        };
        let group = vec![
            Expr::Column(Column::from_name("k")),
            hop.call(vec![
                Expr::Column(Column::from_name("ts")),
                minutes(5),
                minutes(10),
            ]),
        ];
        let (index, window) = GroupWindow::find(&group).unwrap().unwrap();
        assert_eq!(index, 1);
        assert_eq!(window.time_column.name, "ts");
        assert_eq!(
            (window.spec.step_ms, window.spec.size_ms),
            (300_000, 600_000)
        );
        assert!(contains_group_window(&group[1]));
        assert!(!contains_group_window(&group[0]));
    }

    #[test]
    fn a_non_column_time_is_refused() {
        let tumble = ScalarUDF::from(GroupWindowFunction::new(WindowKind::Tumble));
        let group = vec![tumble.call(vec![lit(1), lit(2)])];
        let err = GroupWindow::find(&group).unwrap_err().to_string();
        assert!(err.contains("time attribute column"), "{err}");
    }
}
