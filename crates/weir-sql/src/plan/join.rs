//! Joins in streaming plans: a DataFusion join (with the `WHERE` of an inner join) becomes a
//! [`StreamOp::Join`], a [`StreamOp::WindowJoin`] or, when its condition bounds the two inputs' event times against each
//! other, a [`StreamOp::IntervalJoin`].
//!
//! The condition is split into its conjuncts: equalities between a left and a right
//! expression are the join key (each input gets a Calc that puts its key columns first, so the
//! exchange and the operator's keyed state use them); a conjunct on one input whose rows are
//! not kept when unmatched filters that input before the join; bounds between two time
//! attributes (`l.ts BETWEEN r.ts - INTERVAL '1' MINUTE AND r.ts`, `>=`, `<`, ...) make the
//! interval; the rest is the join's condition on each pair. Keys that equate both inputs'
//! `window_start` and `window_end` (of window TVFs) make a [`StreamOp::WindowJoin`].

use std::sync::Arc;

use datafusion_common::{DFSchema, DFSchemaRef};
use datafusion_expr::expr::Between;
use datafusion_expr::utils::{conjunction, split_conjunction};
use datafusion_expr::{BinaryExpr, Expr, ExprSchemable, Join, JoinType, LogicalPlan, Operator};

use super::{IntervalBounds, JoinKind, StreamOp, StreamPlan};
use crate::error::{Result, SqlError};

/// Which inputs of a join an expression reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sides {
    Neither,
    Left,
    Right,
    Both,
}

/// The join node of `join`; `predicate` is a `WHERE` condition on the result of an inner
/// join, joined to its `ON` condition. `translate` translates an input with a filter on it
/// (merged into the input's own condition when the input is an inner join too).
pub(super) fn translate_join(
    join: &Join,
    predicate: Option<&Expr>,
    translate: &dyn Fn(&LogicalPlan, Option<Expr>) -> Result<StreamPlan>,
) -> Result<StreamPlan> {
    let kind = join_kind(join.join_type)?;
    let (left_schema, right_schema) = (join.left.schema().clone(), join.right.schema().clone());
    let sides = |e: &Expr| sides_of(e, &left_schema, &right_schema);

    let mut keys: Vec<(Expr, Expr)> = join.on.clone();
    let mut filters: [Vec<Expr>; 2] = [Vec::new(), Vec::new()];
    let mut rest: Vec<Expr> = Vec::new();
    let conjuncts = join
        .filter
        .iter()
        .chain(predicate)
        .flat_map(|f| split_conjunction(f).into_iter().cloned());
    for conjunct in conjuncts {
        match (equi_key(&conjunct, &sides), sides(&conjunct)) {
            (Some(pair), _) => keys.push(pair),
            (None, Sides::Left) if !kind.is_outer(0) => filters[0].push(conjunct),
            (None, Sides::Right) if !kind.is_outer(1) => filters[1].push(conjunct),
            _ => rest.push(conjunct),
        }
    }
    let keys = unify_key_types(keys, &left_schema, &right_schema)?;
    let [left_filter, right_filter] = filters;
    let left = translate(&join.left, conjunction(left_filter))?;
    let right = translate(&join.right, conjunction(right_filter))?;
    let window_end = window_key(&keys);
    let bounds = match window_end {
        Some(_) => None,
        None => interval_bounds(&mut rest, &left, &right, &left_schema, &right_schema),
    };
    let key_count = keys.len();
    let (left_keys, right_keys): (Vec<Expr>, Vec<Expr>) = keys.into_iter().unzip();
    let inputs = vec![
        keyed_input(left, left_keys)?,
        keyed_input(right, right_keys)?,
    ];
    let condition = conjunction(rest);
    let op = match (window_end, bounds) {
        (Some(window_end), _) => StreamOp::WindowJoin {
            kind,
            keys: key_count,
            condition,
            window_end,
        },
        (None, Some(bounds)) => StreamOp::IntervalJoin {
            kind,
            keys: key_count,
            condition,
            bounds,
        },
        (None, None) => StreamOp::Join {
            kind,
            keys: key_count,
            condition,
        },
    };
    Ok(StreamPlan {
        op,
        inputs,
        schema: join.schema.clone(),
    })
}

fn join_kind(join_type: JoinType) -> Result<JoinKind> {
    Ok(match join_type {
        JoinType::Inner => JoinKind::Inner,
        JoinType::Left => JoinKind::Left,
        JoinType::Right => JoinKind::Right,
        JoinType::Full => JoinKind::Full,
        other => {
            return Err(SqlError::plan(format!(
                "{other} joins (from IN or EXISTS subqueries) are not supported in streaming mode yet; \
                 write them as an INNER or LEFT JOIN"
            )))
        }
    })
}

fn sides_of(e: &Expr, left: &DFSchema, right: &DFSchema) -> Sides {
    let (mut in_left, mut in_right) = (false, false);
    for c in e.column_refs() {
        if left.index_of_column(c).is_ok() {
            in_left = true;
        } else if right.index_of_column(c).is_ok() {
            in_right = true;
        }
    }
    match (in_left, in_right) {
        (false, false) => Sides::Neither,
        (true, false) => Sides::Left,
        (false, true) => Sides::Right,
        (true, true) => Sides::Both,
    }
}

/// `(left, right)` when `e` is `left = right` with each side on one input.
fn equi_key(e: &Expr, sides: &impl Fn(&Expr) -> Sides) -> Option<(Expr, Expr)> {
    let Expr::BinaryExpr(BinaryExpr {
        left,
        op: Operator::Eq,
        right,
    }) = e
    else {
        return None;
    };
    match (sides(left), sides(right)) {
        (Sides::Left, Sides::Right) => Some((*left.clone(), *right.clone())),
        (Sides::Right, Sides::Left) => Some((*right.clone(), *left.clone())),
        _ => None,
    }
}

/// The index of the `window_end` key when the keys equate both inputs' `window_start` and
/// `window_end` (a window join).
fn window_key(keys: &[(Expr, Expr)]) -> Option<usize> {
    let named = |n: &str| {
        keys.iter().position(|(l, r)| {
            matches!((l, r), (Expr::Column(a), Expr::Column(b)) if a.name == n && b.name == n)
        })
    };
    named("window_start").and(named("window_end"))
}

/// Casts the right key to the left key's type where they differ, so that equal keys are
/// equal bytes.
fn unify_key_types(
    keys: Vec<(Expr, Expr)>,
    left: &DFSchema,
    right: &DFSchema,
) -> Result<Vec<(Expr, Expr)>> {
    keys.into_iter()
        .map(|(l, r)| {
            let (lt, rt) = (l.get_type(left)?, r.get_type(right)?);
            Ok(if lt == rt {
                (l, r)
            } else {
                (l, Expr::Cast(datafusion_expr::Cast::new(Box::new(r), lt)))
            })
        })
        .collect()
}

/// The input with its key columns first (named `$key0`, ...).
fn keyed_input(input: StreamPlan, keys: Vec<Expr>) -> Result<StreamPlan> {
    let input_schema = input.schema.clone();
    let mut fields = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let (_, field) = key.to_field(&input_schema)?;
        let field = field.as_ref().clone().with_name(format!("$key{i}"));
        fields.push((None, Arc::new(field.with_nullable(true))));
    }
    for (qualifier, field) in input_schema.iter() {
        fields.push((qualifier.cloned(), field.clone()));
    }
    let schema: DFSchemaRef = Arc::new(DFSchema::new_with_metadata(fields, Default::default())?);
    let mut exprs = keys;
    exprs.extend(input_schema.columns().into_iter().map(Expr::Column));
    Ok(StreamPlan {
        op: StreamOp::Calc {
            exprs,
            filter: None,
            input_schema,
        },
        inputs: vec![input],
        schema,
    })
}

/// A time attribute plus a constant: `(side, column, offset in ms)`.
type TimeOperand = (Sides, usize, i64);

/// A pair of time columns: (left column, right column).
type TimePair = (usize, usize);

/// Finds a lower and an upper bound of `l.t - r.t` for one pair of time attributes among
/// `conjuncts`, and removes the conjuncts that set them.
fn interval_bounds(
    conjuncts: &mut Vec<Expr>,
    left: &StreamPlan,
    right: &StreamPlan,
    left_schema: &DFSchema,
    right_schema: &DFSchema,
) -> Option<IntervalBounds> {
    let (left_rowtime, right_rowtime) = (left.rowtime_columns(), right.rowtime_columns());
    let operand = |e: &Expr| -> Option<TimeOperand> {
        let (column, offset) = time_plus_offset(e)?;
        if let Ok(i) = left_schema.index_of_column(column) {
            return left_rowtime[i].then_some((Sides::Left, i, offset));
        }
        let i = right_schema.index_of_column(column).ok()?;
        right_rowtime[i].then_some((Sides::Right, i, offset))
    };
    let found: Vec<(usize, TimePair, Option<i64>, Option<i64>)> = conjuncts
        .iter()
        .enumerate()
        .filter_map(|(i, c)| conjunct_bounds(c, &operand).map(|(p, l, u)| (i, p, l, u)))
        .collect();
    let (pair, lower, upper) = found.iter().find_map(|f| {
        let of_pair = found.iter().filter(|g| g.1 == f.1);
        let lower = of_pair.clone().filter_map(|g| g.2).max()?;
        let upper = of_pair.filter_map(|g| g.3).min()?;
        Some((f.1, lower, upper))
    })?;
    let mut index = 0;
    conjuncts.retain(|_| {
        let used = found.iter().any(|f| f.0 == index && f.1 == pair);
        index += 1;
        !used
    });
    Some(IntervalBounds {
        lower,
        upper,
        left_time: pair.0,
        right_time: pair.1,
    })
}

/// The bounds a comparison or `BETWEEN` of two time attributes sets on `l.t - r.t`.
fn conjunct_bounds(
    c: &Expr,
    operand: &impl Fn(&Expr) -> Option<TimeOperand>,
) -> Option<(TimePair, Option<i64>, Option<i64>)> {
    let comparisons = match c {
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) => vec![
            (expr.as_ref(), Operator::GtEq, low.as_ref()),
            (expr.as_ref(), Operator::LtEq, high.as_ref()),
        ],
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => vec![(&**left, *op, &**right)],
        _ => return None,
    };
    let mut pair = None;
    let (mut lower, mut upper) = (None, None);
    for (a, op, b) in comparisons {
        let (p, bound) = difference_bound(operand(a)?, op, operand(b)?)?;
        if pair.is_some_and(|q| q != p) {
            return None;
        }
        pair = Some(p);
        match bound {
            Bound::Lower(v) => lower = Some(v),
            Bound::Upper(v) => upper = Some(v),
        }
    }
    Some((pair?, lower, upper))
}

enum Bound {
    Lower(i64),
    Upper(i64),
}

/// The bound `a op b` sets on `l - r`, with the (left, right) columns, when `a` and `b` are
/// time attributes of different inputs.
fn difference_bound(a: TimeOperand, op: Operator, b: TimeOperand) -> Option<(TimePair, Bound)> {
    // a.t + a.off  op  b.t + b.off  <=>  a.t - b.t  op  b.off - a.off
    let (op, value, pair) = match (a.0, b.0) {
        (Sides::Left, Sides::Right) => (op, b.2 - a.2, (a.1, b.1)),
        (Sides::Right, Sides::Left) => (op.swap()?, a.2 - b.2, (b.1, a.1)),
        _ => return None,
    };
    let bound = match op {
        Operator::GtEq => Bound::Lower(value),
        Operator::Gt => Bound::Lower(value + 1),
        Operator::LtEq => Bound::Upper(value),
        Operator::Lt => Bound::Upper(value - 1),
        _ => return None,
    };
    Some((pair, bound))
}

/// `(column, offset ms)` of `column`, `column + INTERVAL` or `column - INTERVAL`.
fn time_plus_offset(e: &Expr) -> Option<(&datafusion_common::Column, i64)> {
    match e {
        Expr::Column(c) => Some((c, 0)),
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let Expr::Column(c) = left.as_ref() else {
                return None;
            };
            let ms = interval_ms(right)?;
            match op {
                Operator::Plus => Some((c, ms)),
                Operator::Minus => Some((c, -ms)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The length of a constant day-time interval in milliseconds.
fn interval_ms(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(value, _) => crate::types::interval_ms(value),
        _ => None,
    }
}
