//! Lateral table function joins: `FROM t, LATERAL TABLE(f(t.x)) AS T(a, b)`, `CROSS JOIN
//! LATERAL TABLE(...)`, `LEFT JOIN LATERAL TABLE(...) ON TRUE` and `CROSS JOIN UNNEST(t.a)`
//! become a [`StreamOp::Correlate`] over the left input, as in Flink.
//!
//! DataFusion plans the function call as the scan of a [`TableFunctionSource`] inside a
//! correlated subquery; its arguments' outer references become the left input's columns.

use datafusion_common::tree_node::{Transformed, TreeNode};
use datafusion_common::ScalarValue;
use datafusion_expr::{Expr, Join, JoinType, LogicalPlan};

use super::translate::calc;
use super::{StreamOp, StreamPlan, TableFunctionCall};
use crate::error::{Result, SqlError};
use crate::planner::TableFunctionSource;

/// The table function call that `plan` (the right input of a join) reads, if it is one.
pub(super) fn table_function_call(plan: &LogicalPlan) -> Option<&TableFunctionCall> {
    match plan {
        LogicalPlan::TableScan(scan) => TableFunctionSource::of(scan.source.as_ref()),
        LogicalPlan::SubqueryAlias(a) => table_function_call(&a.input),
        // `AS T(a, b)` renames the function's columns.
        LogicalPlan::Projection(p) if p.expr.iter().all(is_column) => table_function_call(&p.input),
        LogicalPlan::Subquery(s) => table_function_call(&s.subquery),
        _ => None,
    }
}

/// The Correlate of `join`, whose right input calls `call`, over the translated left input
/// `left`; `predicate` is a `WHERE` condition on the joined rows.
pub(super) fn correlate(
    join: &Join,
    call: &TableFunctionCall,
    left: StreamPlan,
    predicate: Option<&Expr>,
) -> Result<StreamPlan> {
    let left_outer = match join.join_type {
        JoinType::Inner => false,
        JoinType::Left => true,
        other => {
            return Err(SqlError::plan(format!(
                "a {other} join with a table function is not supported: use a comma, CROSS JOIN \
                 or LEFT JOIN ... ON TRUE"
            )))
        }
    };
    let always = |e: &Expr| matches!(e, Expr::Literal(ScalarValue::Boolean(Some(true)), _));
    if !join.on.is_empty() || join.filter.as_ref().is_some_and(|f| !always(f)) {
        return Err(SqlError::plan(
            "a join with a table function (LATERAL TABLE or UNNEST) can only have the condition \
             ON TRUE; filter its rows in WHERE instead",
        ));
    }
    let args = call
        .args
        .iter()
        .map(|a| outer_references_as_columns(a.clone()))
        .collect::<Result<_>>()?;
    let input_schema = left.schema.clone();
    let correlated = StreamPlan {
        op: StreamOp::Correlate {
            call: TableFunctionCall {
                function: call.function.clone(),
                args,
            },
            left_outer,
            input_schema,
        },
        inputs: vec![left],
        schema: join.schema.clone(),
    };
    Ok(match predicate {
        Some(p) => {
            let schema = correlated.schema.clone();
            let columns = schema.columns().into_iter().map(Expr::Column).collect();
            calc(correlated, columns, Some(p.clone()), schema)
        }
        None => correlated,
    })
}

/// Whether `expr` is a column, perhaps renamed.
fn is_column(expr: &Expr) -> bool {
    matches!(expr.clone().unalias(), Expr::Column(_))
}

/// `expr` with its outer references (to the left input's columns) as plain columns.
fn outer_references_as_columns(expr: Expr) -> Result<Expr> {
    let rewritten = expr.transform(|e| {
        Ok(match e {
            Expr::OuterReferenceColumn(_, column) => Transformed::yes(Expr::Column(column)),
            e => Transformed::no(e),
        })
    })?;
    Ok(rewritten.data)
}
