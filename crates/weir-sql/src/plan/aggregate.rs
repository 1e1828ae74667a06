//! Aggregations: a `GROUP BY` becomes a non-windowed [`StreamOp::GroupAggregate`], a
//! [`StreamOp::WindowAggregate`] when it groups by a window TVF's `window_start` and
//! `window_end`, or a [`StreamOp::SessionAggregate`] for a `SESSION` TVF; a legacy group
//! window (`GROUP BY TUMBLE(ts, size)`, see [`crate::group_window`]) runs as the window
//! aggregation of the equivalent window TVF.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion_common::{Column, DFSchema, DFSchemaRef, TableReference};
use datafusion_expr::{Aggregate, Expr, ExprSchemable, LogicalPlan};

use super::translate::{
    agg_call, calc, check_any_time_attribute, check_time_attribute, window_key, Translator,
};
use super::{AggCall, AggKind, StreamOp, StreamPlan, TimeAttribute};
use crate::error::{Result, SqlError};
use crate::group_window::{window_struct, GroupWindow};
use crate::planner::WINDOW_COLUMNS;
use crate::rewrite::{WindowKind, WindowTvf};

/// A field of a DataFusion schema with its qualifier.
type QualifiedField = (Option<TableReference>, Arc<Field>);

impl Translator<'_> {
    /// Translates an aggregation.
    pub(super) fn aggregate(&self, a: &Aggregate) -> Result<StreamPlan> {
        let input = self.translate(&a.input)?;
        if let Some((index, window)) = GroupWindow::find(&a.group_expr)? {
            return group_window_aggregate(a, input, index, window);
        }
        let session = match self.window_tvf_of(&a.input) {
            Some(w) if w.spec.kind == WindowKind::Session => {
                check_session_keys(w, &a.group_expr)?;
                Some(w.spec.size_ms)
            }
            _ => None,
        };
        aggregation(
            input,
            &a.group_expr,
            &a.aggr_expr,
            a.schema.clone(),
            session,
        )
    }

    /// The window TVF whose rows `plan` reads, through projections and filters.
    fn window_tvf_of(&self, plan: &LogicalPlan) -> Option<&WindowTvf> {
        match plan {
            LogicalPlan::TableScan(scan) => {
                let name = scan.table_name.table();
                self.windows.iter().find(|w| w.alias == name)
            }
            LogicalPlan::Projection(_) | LogicalPlan::Filter(_) | LogicalPlan::SubqueryAlias(_) => {
                plan.inputs().first().and_then(|i| self.window_tvf_of(i))
            }
            _ => None,
        }
    }
}

/// Fails unless a session window aggregation groups by exactly the `PARTITION BY` columns of
/// its `SESSION` TVF besides `window_start` and `window_end` (sessions are formed per key).
fn check_session_keys(w: &WindowTvf, group: &[Expr]) -> Result<()> {
    let mut keys: Vec<String> = group
        .iter()
        .filter_map(|e| match e {
            Expr::Column(c) if WINDOW_COLUMNS[..2].contains(&c.name.as_str()) => None,
            Expr::Column(c) => Some(c.name.clone()),
            other => Some(other.schema_name().to_string()),
        })
        .collect();
    let mut partition = w.partition_by.clone();
    keys.sort();
    partition.sort();
    if keys == partition {
        return Ok(());
    }
    Err(SqlError::plan(format!(
        "a SESSION window aggregation must group by window_start, window_end and exactly the \
         PARTITION BY columns of its SESSION TVF ([{}]), but it groups by [{}] besides the window",
        w.partition_by.join(", "),
        keys.join(", ")
    )))
}

/// The aggregation of `aggr` grouped by `group` over `input`, with the output `schema` (the
/// group keys, then the aggregates); `session` is the gap of a session window aggregation.
fn aggregation(
    input: StreamPlan,
    group: &[Expr],
    aggr: &[Expr],
    schema: DFSchemaRef,
    session: Option<i64>,
) -> Result<StreamPlan> {
    // A session aggregation keys its state by the group keys without the window: they go first.
    let order: Vec<usize> = match session {
        Some(_) => {
            let is_window = |e: &Expr| matches!(e, Expr::Column(c) if WINDOW_COLUMNS[..2].contains(&c.name.as_str()));
            let (window, keys): (Vec<usize>, Vec<usize>) =
                (0..group.len()).partition(|i| is_window(&group[*i]));
            let mut window = window;
            window.sort_by_key(|i| column_name(&group[*i]) != Some(WINDOW_COLUMNS[0]));
            keys.into_iter().chain(window).collect()
        }
        None => (0..group.len()).collect(),
    };
    let mut exprs: Vec<Expr> = order.iter().map(|i| group[*i].clone()).collect();
    let mut aggs = Vec::new();
    for e in aggr {
        aggs.push(agg_call(
            e,
            input.schema.as_ref(),
            &mut exprs,
            !input.is_updating(),
        )?);
    }
    let pre_fields: Vec<QualifiedField> = exprs
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (_, field) = e.to_field(input.schema.as_ref())?;
            let name = match (i < group.len(), e) {
                (true, Expr::Column(c)) => c.name.clone(),
                (true, _) => e.schema_name().to_string(),
                _ => format!("$f{i}"),
            };
            Ok((None, Arc::new(field.as_ref().clone().with_name(name))))
        })
        .collect::<Result<_>>()?;
    let pre_schema = Arc::new(DFSchema::new_with_metadata(pre_fields, Default::default())?);
    let pre = calc(input, exprs, None, pre_schema);
    if pre.is_updating() {
        check_retractable(&aggs)?;
    }
    let keys = group.len();
    let windowed = |op| -> Result<StreamOp> {
        if pre.is_updating() {
            return Err(SqlError::plan(
                "window aggregation cannot consume an updating input (an aggregate or join result)",
            ));
        }
        Ok(op)
    };
    let (op, output_schema) = match (session, window_key(group)) {
        (Some(gap_ms), Some(_)) => {
            let op = StreamOp::SessionAggregate {
                keys: keys - 2,
                aggs,
                gap_ms,
            };
            let reordered: Vec<usize> = (order.iter().copied())
                .chain(keys..schema.fields().len())
                .collect();
            (windowed(op)?, reorder(&schema, &reordered)?)
        }
        (Some(_), None) => {
            return Err(SqlError::plan(
                "a SESSION window aggregation must group by both window_start and window_end",
            ))
        }
        (None, Some(window_end)) => (
            windowed(StreamOp::WindowAggregate {
                keys,
                aggs,
                window_end,
                time: pre
                    .window_time_attribute()
                    .unwrap_or(TimeAttribute::Rowtime),
            })?,
            schema.clone(),
        ),
        (None, None) => (StreamOp::GroupAggregate { keys, aggs }, schema.clone()),
    };
    let aggregate = StreamPlan {
        op,
        inputs: vec![pre],
        schema: output_schema.clone(),
    };
    if order.iter().enumerate().all(|(i, o)| i == *o) {
        return Ok(aggregate);
    }
    // Back in the order of `schema`.
    let columns = output_schema.columns();
    let exprs = schema
        .columns()
        .iter()
        .map(|c| {
            let i = output_schema.index_of_column(c)?;
            Ok(Expr::Column(columns[i].clone()))
        })
        .collect::<Result<_>>()?;
    Ok(calc(aggregate, exprs, None, schema))
}

/// Fails if a user-defined function among `aggs` cannot retract rows (as an aggregation of
/// an updating input needs).
fn check_retractable(aggs: &[AggCall]) -> Result<()> {
    for call in aggs {
        if let AggKind::User(user) = &call.kind {
            if !user.function.supports_retract() {
                return Err(SqlError::plan(format!(
                    "{}: aggregate function {} does not implement the 'retract' method, which \
                     is required to aggregate an updating input (the result of an aggregation, \
                     an outer join or an upsert source)",
                    call.display,
                    user.function.function_name()
                )));
            }
        }
    }
    Ok(())
}

/// The name of a column expression.
fn column_name(e: &Expr) -> Option<&str> {
    match e {
        Expr::Column(c) => Some(c.name.as_str()),
        _ => None,
    }
}

/// `schema`'s fields in the order `order` (indices into `schema`).
fn reorder(schema: &DFSchema, order: &[usize]) -> Result<DFSchemaRef> {
    let fields: Vec<QualifiedField> = order
        .iter()
        .map(|i| {
            let (q, f) = schema.qualified_field(*i);
            (q.cloned(), f.clone())
        })
        .collect();
    Ok(Arc::new(DFSchema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    )?))
}

/// A legacy group window aggregation (`GROUP BY TUMBLE(ts, size), k`): the windows of the
/// equivalent window TVF are assigned to the rows of `input`, aggregated by `window_start`,
/// `window_end` and the other group keys, and the group key `index` (the group window)
/// becomes the window's struct of start, end and rowtime.
fn group_window_aggregate(
    a: &Aggregate,
    input: StreamPlan,
    index: usize,
    window: GroupWindow,
) -> Result<StreamPlan> {
    let kind = window.spec.kind.name();
    let time_column = input
        .schema
        .index_of_column(&window.time_column)
        .map_err(|_| {
            SqlError::plan(format!(
                "{kind}: no column '{}' in the input of the GROUP BY",
                window.time_column
            ))
        })?;
    match window.spec.kind {
        WindowKind::Session => check_time_attribute(&input, time_column, kind)?,
        _ => check_any_time_attribute(&input, time_column, kind)?,
    }
    let timestamp = DataType::Timestamp(TimeUnit::Millisecond, None);
    let window_fields: Vec<QualifiedField> = WINDOW_COLUMNS
        .iter()
        .map(|n| (None, Arc::new(Field::new(*n, timestamp.clone(), false))))
        .collect();
    let windowed_schema = input.schema.join(&DFSchema::new_with_metadata(
        window_fields.clone(),
        Default::default(),
    )?)?;
    let windowed = StreamPlan {
        op: StreamOp::WindowTableFunction {
            window: window.spec,
            time_column,
        },
        inputs: vec![input],
        schema: Arc::new(windowed_schema),
    };
    let window_column = |n: &str| Expr::Column(Column::from_name(n));
    let others = (0..a.group_expr.len()).filter(|i| *i != index);
    let group: Vec<Expr> = WINDOW_COLUMNS[..2]
        .iter()
        .map(|n| window_column(n))
        .chain(others.clone().map(|i| a.group_expr[i].clone()))
        .collect();
    let qualified = |i: usize| {
        let (q, f) = a.schema.qualified_field(i);
        (q.cloned(), f.clone())
    };
    let fields: Vec<QualifiedField> = window_fields[..2]
        .iter()
        .cloned()
        .chain(others.map(qualified))
        .chain((a.group_expr.len()..a.schema.fields().len()).map(qualified))
        .collect();
    let schema = Arc::new(DFSchema::new_with_metadata(fields, Default::default())?);
    let session = (window.spec.kind == WindowKind::Session).then_some(window.spec.size_ms);
    let aggregated = aggregation(windowed, &group, &a.aggr_expr, schema.clone(), session)?;
    // The aggregate's columns in the order of `a.schema`, the group window as a struct.
    let columns = schema.columns();
    let exprs = (0..a.schema.fields().len())
        .map(|i| match i {
            _ if i == index => window_struct(
                Expr::Column(columns[0].clone()),
                Expr::Column(columns[1].clone()),
            ),
            _ if i < index => Expr::Column(columns[i + 2].clone()),
            _ => Expr::Column(columns[i + 1].clone()),
        })
        .collect();
    Ok(calc(aggregated, exprs, None, a.schema.clone()))
}
