//! Top-N and deduplication in streaming plans: a subquery that numbers its rows with
//! `ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...)`, under a filter on that number
//! (`WHERE rownum <= N`, `< N`, `= 1`, `BETWEEN M AND N`), becomes a [`StreamOp::Rank`].
//!
//! As Flink plans it: ordered by one time attribute and limited to the first row, without the
//! row number in the result, it is a deduplication (keep the first row when ascending, the
//! last when descending); partitioned by `window_start` and `window_end` over an insert-only
//! input (a window TVF or a window aggregation), a window Top-N, emitted when the window
//! closes; otherwise a Top-N with an updating result. The row number is computed only when
//! the query reads it (Flink's `outputRankNumber`); otherwise rows enter and leave the result
//! as `+I` and `-D`. `RANK()` and `DENSE_RANK()` Top-Ns run in batch mode only, with Flink's
//! errors in streaming mode; unfiltered, they are OVER aggregations (see `over`).
//!
//! The Top-N's input is a Calc that puts the partition key first (the exchange and the keyed
//! state use it) and computes `PARTITION BY` and `ORDER BY` expressions that are not columns;
//! a Calc after it puts the columns back in the subquery's order.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::{Column, DFSchema, DFSchemaRef, ScalarValue, TableReference};
use datafusion_expr::expr::{Between, WindowFunction};
use datafusion_expr::utils::{conjunction, split_conjunction};
use datafusion_expr::{
    BinaryExpr, Expr, ExprSchemable, Filter, LogicalPlan, Operator, WindowFunctionDefinition,
};

use super::translate::{calc, columns_of};
use super::{Dedup, RankFunction, RankSpec, SortColumn, StreamOp, StreamPlan, TimeAttribute};
use crate::error::{Result, SqlError};
use crate::planner::WINDOW_COLUMNS;

/// The name of the row number column of a Top-N (Flink's).
const NUMBER: &str = "w0$o0";

/// The streaming plan of `filter` when it filters the row number of a `ROW_NUMBER()` (a
/// Top-N), `None` when it does not. `above` are the expressions of the projection over the
/// filter, if there is one: when neither they nor the filter read the row number, it is not
/// computed. `translate` translates the subquery's input.
pub(super) fn translate_rank(
    filter: &Filter,
    above: Option<&[Expr]>,
    batch: bool,
    translate: &dyn Fn(&LogicalPlan) -> Result<StreamPlan>,
) -> Result<Option<StreamPlan>> {
    let (alias, inner) = match filter.input.as_ref() {
        LogicalPlan::SubqueryAlias(a) => (Some(a), a.input.as_ref()),
        other => (None, other),
    };
    let LogicalPlan::Projection(projection) = inner else {
        return Ok(None);
    };
    let LogicalPlan::Window(window) = projection.input.as_ref() else {
        return Ok(None);
    };
    let [Expr::WindowFunction(function)] = window.window_expr.as_slice() else {
        return Ok(None);
    };
    let Some(ranking) = rank_function(function) else {
        return Ok(None);
    };
    // The row number is the window's last column; `selected` is where the subquery selects it.
    let number = window.schema.fields().len() - 1;
    let reads_number = |e: &Expr, schema: &DFSchema, column: usize| {
        e.column_refs()
            .iter()
            .any(|c| schema.index_of_column(c).ok() == Some(column))
    };
    let Some(selected) = projection.expr.iter().position(
        |e| matches!(e.clone().unalias(), Expr::Column(c) if window.schema.index_of_column(&c).ok() == Some(number)),
    ) else {
        return Ok(None);
    };
    let subquery = filter.input.schema();
    let mut lower: Option<i64> = None;
    let mut upper: Option<i64> = None;
    let mut rest = Vec::new();
    for conjunct in split_conjunction(&filter.predicate) {
        match rank_bounds(conjunct, subquery, selected) {
            Some((lo, hi)) => {
                lower = lower.max(lo);
                upper = match (upper, hi) {
                    (Some(u), Some(h)) => Some(u.min(h)),
                    (u, h) => u.or(h),
                };
            }
            None => rest.push(conjunct.clone()),
        }
    }
    if ranking != RankFunction::RowNumber {
        // A filter on RANK() or DENSE_RANK() is a Top-N, which Flink runs in batch mode only;
        // without an upper bound, the number is an OVER aggregation's.
        let name = ranking.flink_name();
        if upper.is_none() {
            return Ok(None);
        }
        if partitioned_by_window(function) {
            return Err(SqlError::plan(format!(
                "{name}() function is not supported on Window TopN currently, only \
                 ROW_NUMBER() is supported."
            )));
        }
        if !batch {
            return Err(SqlError::plan(format!(
                "{name}() on streaming table is not supported currently"
            )));
        }
    }
    let Some(end) = upper else {
        return Err(SqlError::plan(
            "ROW_NUMBER() is supported for Top-N and deduplication: the enclosing query must \
             bound the row number from above, as in WHERE rownum <= N",
        ));
    };
    let output_rank = above
        .is_none_or(|exprs| exprs.iter().any(|e| reads_number(e, subquery, selected)))
        || rest.iter().any(|e| reads_number(e, subquery, selected))
        || (projection.expr.iter().enumerate())
            .any(|(i, e)| i != selected && reads_number(e, &window.schema, number));
    let start = u64::try_from(lower.unwrap_or(1).max(1)).unwrap_or(1);
    let end = u64::try_from(end.max(0)).unwrap_or(0);

    if function.params.order_by.is_empty() {
        return Err(SqlError::plan(
            "ROW_NUMBER() OVER (...) needs ORDER BY: Top-N and deduplication rank the rows of \
             each partition by it",
        ));
    }
    let input = translate(&window.input)?;
    let keyed = keyed_input(input, function, &[])?;
    let dedup =
        dedup(&keyed, start, end, output_rank).filter(|_| ranking == RankFunction::RowNumber);
    let order = match dedup {
        // In processing time, the order is the arrival order.
        Some(Dedup {
            time: TimeAttribute::Proctime,
            ..
        }) => Vec::new(),
        _ => keyed.order.clone(),
    };
    let spec = RankSpec {
        function: ranking,
        keys: keyed.keys,
        order,
        start,
        end,
        output_rank,
        dedup,
        window_end: keyed.window_end,
        append_only: !keyed.plan.is_updating(),
    };
    let mut fields = qualified_fields(&keyed.plan.schema, None);
    if output_rank {
        let field = window.schema.field(number).as_ref().clone();
        fields.push((None, Arc::new(field.with_name(NUMBER))));
    }
    let rank = StreamPlan {
        op: StreamOp::Rank(spec),
        inputs: vec![keyed.plan],
        schema: Arc::new(DFSchema::new_with_metadata(fields, Default::default())?),
    };

    // The subquery's columns in its order, without the row number unless it is read.
    let dropped = |n: usize| (!output_rank).then_some(n);
    let window_schema = without(&window.schema, dropped(number))?;
    let mut exprs = columns_of(&window_schema);
    if output_rank {
        exprs[number] = Expr::Column(Column::new_unqualified(NUMBER));
    }
    let restored = calc(rank, exprs, None, window_schema);
    let exprs = (projection.expr.iter().enumerate())
        .filter(|(i, _)| Some(*i) != dropped(selected))
        .map(|(_, e)| e.clone())
        .collect();
    let mut plan = calc(
        restored,
        exprs,
        None,
        without(&projection.schema, dropped(selected))?,
    );
    if let Some(alias) = alias {
        plan.schema = without(&alias.schema, dropped(selected))?;
    }
    if let Some(rest) = conjunction(rest) {
        let schema = plan.schema.clone();
        plan = calc(plan, columns_of(&schema), Some(rest), schema);
    }
    Ok(Some(plan))
}

/// How `function` numbers rows, when it is `ROW_NUMBER()`, `RANK()` or `DENSE_RANK()`.
fn rank_function(function: &WindowFunction) -> Option<RankFunction> {
    match &function.fun {
        WindowFunctionDefinition::WindowUDF(f) => match f.name() {
            "row_number" => Some(RankFunction::RowNumber),
            "rank" => Some(RankFunction::Rank),
            "dense_rank" => Some(RankFunction::DenseRank),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `function` is partitioned by `window_start` and `window_end` (a window Top-N).
fn partitioned_by_window(function: &WindowFunction) -> bool {
    let named = |name: &str| {
        (function.params.partition_by.iter())
            .any(|e| matches!(e, Expr::Column(c) if c.name == name))
    };
    named(WINDOW_COLUMNS[0]) && named(WINDOW_COLUMNS[1])
}

/// The input of a Top-N or OVER aggregation: partition key first, then the other columns,
/// then computed sort expressions and extra expressions.
pub(super) struct KeyedInput {
    pub plan: StreamPlan,
    pub keys: usize,
    pub order: Vec<SortColumn>,
    /// The key column of `window_end` when the keys hold `window_start` and `window_end`.
    pub window_end: Option<usize>,
    /// The time attribute of each column.
    pub times: Vec<Option<TimeAttribute>>,
    /// The column of each extra expression.
    pub extra: Vec<usize>,
}

/// Puts the `PARTITION BY` expressions of `function` first in `input`, and makes its
/// `ORDER BY` expressions and `extra` expressions (over `input`) columns.
pub(super) fn keyed_input(
    input: StreamPlan,
    function: &WindowFunction,
    extra: &[Expr],
) -> Result<KeyedInput> {
    let params = &function.params;
    let schema = input.schema.clone();
    let input_times = input.time_attributes();
    let input_fields = qualified_fields(&schema, None);
    let mut exprs: Vec<Expr> = Vec::new();
    let mut fields = Vec::new();
    let mut times = Vec::new();
    // Where each input column is in the keyed input.
    let mut placed: Vec<Option<usize>> = vec![None; input_fields.len()];
    let mut add = |e: &Expr, name: String, exprs: &mut Vec<Expr>| -> Result<usize> {
        if let Expr::Column(c) = e {
            if let Ok(i) = schema.index_of_column(c) {
                if let Some(at) = placed[i] {
                    return Ok(at);
                }
                placed[i] = Some(exprs.len());
                exprs.push(e.clone());
                fields.push(input_fields[i].clone());
                times.push(input_times[i]);
                return Ok(exprs.len() - 1);
            }
        }
        let (_, field) = e.to_field(&schema)?;
        exprs.push(e.clone().alias(&name));
        fields.push((None, Arc::new(field.as_ref().clone().with_name(name))));
        times.push(None);
        Ok(exprs.len() - 1)
    };
    for (i, e) in params.partition_by.iter().enumerate() {
        add(e, format!("$k{i}"), &mut exprs)?;
    }
    let keys = exprs.len();
    for c in schema.columns() {
        add(&Expr::Column(c), String::new(), &mut exprs)?;
    }
    let mut order = Vec::new();
    for (i, s) in params.order_by.iter().enumerate() {
        order.push(SortColumn {
            column: add(&s.expr, format!("$o{i}"), &mut exprs)?,
            descending: !s.asc,
            nulls_first: s.nulls_first,
        });
    }
    let extra = (extra.iter().enumerate())
        .map(|(i, e)| add(e, format!("$a{i}"), &mut exprs))
        .collect::<Result<Vec<_>>>()?;
    let keyed_schema: DFSchemaRef =
        Arc::new(DFSchema::new_with_metadata(fields, Default::default())?);
    let key_named = |name: &str| {
        (0..keys).find(|k| {
            keyed_schema.field(*k).name() == name && matches!(&exprs[*k], Expr::Column(_))
        })
    };
    let window_end = key_named(WINDOW_COLUMNS[0]).and(key_named(WINDOW_COLUMNS[1]));
    let window_end = window_end.filter(|_| !input.is_updating());
    Ok(KeyedInput {
        plan: calc(input, exprs, None, keyed_schema),
        keys,
        order,
        window_end,
        times,
        extra,
    })
}

/// The deduplication a Top-N is: the first row by one time attribute, without its number.
fn dedup(keyed: &KeyedInput, start: u64, end: u64, output_rank: bool) -> Option<Dedup> {
    let [sort] = keyed.order.as_slice() else {
        return None;
    };
    let time = keyed.times[sort.column]?;
    (start == 1 && end == 1 && !output_rank && !keyed.plan.is_updating()).then_some(Dedup {
        keep_last: sort.descending,
        time,
    })
}

/// The lower and upper bounds (inclusive) that `conjunct` puts on column `number` of `schema`
/// (the row number), if it is such a bound.
fn rank_bounds(
    conjunct: &Expr,
    schema: &DFSchema,
    number: usize,
) -> Option<(Option<i64>, Option<i64>)> {
    let is_number = |e: &Expr| matches!(e.clone().unalias(), Expr::Column(c) if schema.index_of_column(&c).ok() == Some(number));
    match conjunct {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (op, n) = if is_number(left) {
                (*op, integer(right)?)
            } else if is_number(right) {
                (op.swap()?, integer(left)?)
            } else {
                return None;
            };
            match op {
                Operator::Lt => Some((None, Some(n - 1))),
                Operator::LtEq => Some((None, Some(n))),
                Operator::Eq => Some((Some(n), Some(n))),
                Operator::Gt => Some((Some(n + 1), None)),
                Operator::GtEq => Some((Some(n), None)),
                _ => None,
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) if is_number(expr) => Some((Some(integer(low)?), Some(integer(high)?))),
        _ => None,
    }
}

/// The value of an integer literal.
fn integer(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(v, _) => match v.cast_to(&DataType::Int64).ok()? {
            ScalarValue::Int64(n) => n,
            _ => None,
        },
        Expr::Cast(c) => integer(&c.expr),
        Expr::Alias(a) => integer(&a.expr),
        _ => None,
    }
}

/// The qualified fields of `schema`, without field `skip`.
pub(super) fn qualified_fields(
    schema: &DFSchema,
    skip: Option<usize>,
) -> Vec<(Option<TableReference>, arrow::datatypes::FieldRef)> {
    schema
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != skip)
        .map(|(_, (q, f))| (q.cloned(), f.clone()))
        .collect()
}

/// `schema` without field `skip`.
fn without(schema: &DFSchema, skip: Option<usize>) -> Result<DFSchemaRef> {
    Ok(Arc::new(DFSchema::new_with_metadata(
        qualified_fields(schema, skip),
        schema.metadata().clone(),
    )?))
}
