//! From DataFusion's logical plan to a [`StreamPlan`].

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::Schema;
use datafusion_common::{DFSchema, DFSchemaRef};
use datafusion_expr::expr::{AggregateFunction, AggregateFunctionParams};
use datafusion_expr::{Distinct, Expr, ExprSchemable, LogicalPlan};

use super::{AggCall, AggKind, StreamOp, StreamPlan, TimeAttribute, UserAggCall};
use crate::catalog::{Entry, Table};
use crate::error::{Result, SqlError};
use crate::exec::expr::evaluate_constant;
use crate::functions::UserAggregate;
use crate::group_window::contains_group_window;
use crate::rewrite::{WindowKind, WindowTvf};

/// Translates logical plans; `scan` gives the logical plan of a named table or view (for the
/// input of a window TVF).
pub struct Translator<'a> {
    /// The window TVFs of the query.
    pub windows: &'a [WindowTvf],
    /// Looks up a table or view.
    pub lookup: &'a dyn Fn(&str) -> Result<Entry>,
    /// Plans `SELECT * FROM name`.
    pub plan_scan: &'a dyn Fn(&str) -> Result<LogicalPlan>,
    /// The query's SQL text, for the positions of errors.
    pub sql: &'a str,
    /// The job runs in batch mode, where Flink also runs `RANK()` and `DENSE_RANK()` Top-Ns.
    pub batch: bool,
}

/// Translates `plan` into a streaming plan.
pub fn translate(plan: &LogicalPlan, t: &Translator) -> Result<StreamPlan> {
    let plan = t.translate(plan)?;
    check_session_windows(&plan, false)?;
    Ok(plan)
}

impl Translator<'_> {
    pub(super) fn translate(&self, plan: &LogicalPlan) -> Result<StreamPlan> {
        match plan {
            LogicalPlan::Projection(p) => {
                reject_group_windows(&p.expr)?;
                let top_n = match p.input.as_ref() {
                    LogicalPlan::Filter(f) => self.rank(f, Some(&p.expr))?,
                    _ => None,
                };
                let input = match top_n {
                    Some(top_n) => top_n,
                    None => self.translate(&p.input)?,
                };
                Ok(calc(input, p.expr.clone(), None, p.schema.clone()))
            }
            LogicalPlan::Filter(f) => match self.rank(f, None)? {
                Some(top_n) => Ok(top_n),
                None => self.filtered(&f.input, Some(f.predicate.clone())),
            },
            LogicalPlan::SubqueryAlias(a) => {
                let mut input = self.translate(&a.input)?;
                input.schema = a.schema.clone();
                Ok(input)
            }
            LogicalPlan::TableScan(scan) => {
                let name = scan.table_name.table();
                let mut plan = match self.windows.iter().find(|w| w.alias == name) {
                    Some(w) => self.window_tvf(w, scan.projected_schema.clone())?,
                    None => match (self.lookup)(name)? {
                        Entry::Table(table) => table_scan(table)?,
                        Entry::View(view) => self.translate(&view.plan)?,
                    },
                };
                if let Some(projection) = &scan.projection {
                    let exprs = projection
                        .iter()
                        .map(|i| Expr::Column(plan.schema.columns()[*i].clone()))
                        .collect();
                    plan = calc(plan, exprs, None, scan.projected_schema.clone());
                }
                plan.schema = scan.projected_schema.clone();
                Ok(plan)
            }
            LogicalPlan::Aggregate(a) => self.aggregate(a),
            LogicalPlan::Distinct(Distinct::All(input)) => {
                let input = self.translate(input)?;
                let schema = input.schema.clone();
                Ok(StreamPlan {
                    op: StreamOp::GroupAggregate {
                        keys: schema.fields().len(),
                        aggs: Vec::new(),
                    },
                    inputs: vec![input],
                    schema,
                })
            }
            LogicalPlan::Union(u) => {
                let inputs = u.inputs.iter().map(|i| self.translate(i)).collect::<Result<Vec<_>>>()?;
                Ok(StreamPlan {
                    op: StreamOp::Union,
                    inputs,
                    schema: u.schema.clone(),
                })
            }
            LogicalPlan::Values(v) => {
                let schema = Arc::new(v.schema.as_arrow().clone());
                let columns: Vec<ArrayRef> = (0..schema.fields().len())
                    .map(|c| {
                        let values: Vec<&Expr> = v.values.iter().map(|row| &row[c]).collect();
                        evaluate_constant(&values, schema.field(c).data_type())
                    })
                    .collect::<Result<_>>()?;
                let rows = RecordBatch::try_new_with_options(
                    schema,
                    columns,
                    &RecordBatchOptions::new().with_row_count(Some(v.values.len())),
                )?;
                Ok(StreamPlan {
                    op: StreamOp::Values { rows },
                    inputs: Vec::new(),
                    schema: v.schema.clone(),
                })
            }
            LogicalPlan::EmptyRelation(e) => {
                let rows = RecordBatch::try_new_with_options(
                    Arc::new(Schema::empty()),
                    Vec::new(),
                    &RecordBatchOptions::new().with_row_count(Some(usize::from(e.produce_one_row))),
                )?;
                Ok(StreamPlan {
                    op: StreamOp::Values { rows },
                    inputs: Vec::new(),
                    schema: e.schema.clone(),
                })
            }
            LogicalPlan::Sort(_) => Err(SqlError::plan(
                "ORDER BY is not supported in streaming mode: a streaming result is unbounded and can \
                 only be sorted on a time attribute; use a window aggregation or Top-N instead",
            )),
            LogicalPlan::Limit(_) => Err(SqlError::plan("LIMIT is not supported in streaming mode yet")),
            LogicalPlan::Join(join) => self.join(join, None),
            LogicalPlan::Window(w) => {
                super::over::translate_over(w, self.sql, &|p| self.translate(p))
            }
            other => Err(SqlError::plan(format!(
                "this query is not supported in streaming mode yet: {}",
                other.display()
            ))),
        }
    }

    /// The Top-N that `filter` makes of a `ROW_NUMBER()` subquery, if it is one; `above` are
    /// the expressions of the projection over it.
    fn rank(
        &self,
        filter: &datafusion_expr::Filter,
        above: Option<&[Expr]>,
    ) -> Result<Option<StreamPlan>> {
        super::rank::translate_rank(filter, above, self.batch, &|plan| self.translate(plan))
    }

    /// A join of its translated inputs; `predicate` is the `WHERE` over an inner join.
    fn join(&self, join: &datafusion_expr::Join, predicate: Option<&Expr>) -> Result<StreamPlan> {
        if let Some(call) = super::correlate::table_function_call(&join.right) {
            let left = self.translate(&join.left)?;
            return super::correlate::correlate(join, call, left, predicate);
        }
        super::join::translate_join(join, predicate, &|input, filter| {
            self.filtered(input, filter)
        })
    }

    /// `plan` with the rows that pass `filter`: an inner join takes it into its condition.
    fn filtered(&self, plan: &LogicalPlan, filter: Option<Expr>) -> Result<StreamPlan> {
        let Some(filter) = filter else {
            return self.translate(plan);
        };
        reject_group_windows(std::slice::from_ref(&filter))?;
        if let LogicalPlan::Join(join) = plan {
            if join.join_type == datafusion_expr::JoinType::Inner {
                return self.join(join, Some(&filter));
            }
        }
        let input = self.translate(plan)?;
        let schema = input.schema.clone();
        let exprs = columns_of(&schema);
        Ok(calc(input, exprs, Some(filter), schema))
    }

    /// The input table or view of a window TVF, then the window assignment.
    fn window_tvf(&self, w: &WindowTvf, schema: DFSchemaRef) -> Result<StreamPlan> {
        let input = self.translate(&(self.plan_scan)(&w.input)?)?;
        let time_column = input
            .schema
            .index_of_column_by_name(None, &w.time_column)
            .ok_or_else(|| {
                SqlError::plan(format!(
                    "{}: no column '{}' in '{}'",
                    w.spec.kind.name(),
                    w.time_column,
                    w.input
                ))
            })?;
        if w.spec.kind == WindowKind::Session {
            check_time_attribute(&input, time_column, "SESSION")?;
        }
        for key in &w.partition_by {
            if input.schema.index_of_column_by_name(None, key).is_none() {
                return Err(SqlError::plan(format!(
                    "SESSION: no column '{key}' of PARTITION BY in '{}'",
                    w.input
                )));
            }
        }
        Ok(StreamPlan {
            op: StreamOp::WindowTableFunction {
                window: w.spec,
                time_column,
            },
            inputs: vec![input],
            schema,
        })
    }
}

/// A table's source, its computed columns and its watermark assigner.
fn table_scan(table: Arc<Table>) -> Result<StreamPlan> {
    check_source(&table)?;
    let name = table.def.name.as_str();
    let physical = Arc::new(DFSchema::try_from_qualified_schema(
        name,
        &table.physical_schema,
    )?);
    let scan = StreamPlan {
        op: StreamOp::TableSourceScan {
            table: table.clone(),
        },
        inputs: Vec::new(),
        schema: physical,
    };
    let source = match table.connector.upsert_key() {
        Some(key) => normalized(scan, key, &table)?,
        None => scan,
    };
    let full = Arc::new(DFSchema::try_from_qualified_schema(name, &table.schema)?);
    let mut plan = if table.schema.fields().len() == table.physical_schema.fields().len()
        && table
            .def
            .columns
            .iter()
            .all(|c| !table.is_computed(&c.name))
    {
        source
    } else {
        calc(source, table.projection.clone(), None, full.clone())
    };
    let generated_by_source = table.connector.generates_watermarks(&table);
    if let Some((rowtime, expr)) = table.watermark.as_ref().filter(|_| !generated_by_source) {
        plan = StreamPlan {
            op: StreamOp::WatermarkAssigner {
                rowtime: *rowtime,
                expr: expr.clone(),
                input_schema: full.clone(),
            },
            inputs: vec![plan],
            schema: full,
        };
    }
    Ok(plan)
}

/// `scan`, an upsert changelog keyed by the physical columns `key`, normalized: its columns
/// reordered key first, then [`StreamOp::ChangelogNormalize`], then put back in order.
fn normalized(scan: StreamPlan, key: &[usize], table: &Table) -> Result<StreamPlan> {
    let physical = scan.schema.clone();
    let count = physical.fields().len();
    let order: Vec<usize> = (key.iter().copied())
        .chain((0..count).filter(|c| !key.contains(c)))
        .collect();
    let keyed_schema = Arc::new(DFSchema::try_from_qualified_schema(
        table.def.name.as_str(),
        &table.physical_schema.project(&order)?,
    )?);
    let columns = physical.columns();
    let key_first = calc(
        scan,
        order
            .iter()
            .map(|c| Expr::Column(columns[*c].clone()))
            .collect(),
        None,
        keyed_schema.clone(),
    );
    let normalize = StreamPlan {
        op: StreamOp::ChangelogNormalize { keys: key.len() },
        inputs: vec![key_first],
        schema: keyed_schema,
    };
    Ok(calc(normalize, columns_of(&physical), None, physical))
}

/// Fails if `exprs` call a group window function (`TUMBLE(ts, size)`), which only a
/// `GROUP BY` can hold.
fn reject_group_windows(exprs: &[Expr]) -> Result<()> {
    match exprs.iter().find(|e| contains_group_window(e)) {
        Some(e) => Err(SqlError::plan(format!(
            "{e}: a group window (TUMBLE, HOP or SESSION with a time attribute and intervals) can only \
             be used in GROUP BY; select its TUMBLE_START, TUMBLE_END or TUMBLE_ROWTIME instead"
        ))),
        None => Ok(()),
    }
}

/// Fails unless column `column` of `plan` is an event-time attribute; `what` names the
/// window that needs it (session windows are formed in event time only).
pub(super) fn check_time_attribute(plan: &StreamPlan, column: usize, what: &str) -> Result<()> {
    match plan.time_attributes().get(column).copied().flatten() {
        Some(TimeAttribute::Rowtime) => Ok(()),
        Some(TimeAttribute::Proctime) => Err(SqlError::plan(format!(
            "{what}: column '{}' is a processing-time attribute; Weir forms {what} windows in \
             event time only: use a column with a WATERMARK FOR declaration",
            plan.schema.field(column).name()
        ))),
        None => Err(not_a_time_attribute(plan, column, what)),
    }
}

/// Fails unless column `column` of `plan` is an event-time or a processing-time attribute;
/// `what` names the window that needs it.
pub(super) fn check_any_time_attribute(plan: &StreamPlan, column: usize, what: &str) -> Result<()> {
    match plan.time_attributes().get(column).copied().flatten() {
        Some(_) => Ok(()),
        None => Err(not_a_time_attribute(plan, column, what)),
    }
}

fn not_a_time_attribute(plan: &StreamPlan, column: usize, what: &str) -> SqlError {
    SqlError::plan(format!(
        "{what}: column '{}' is not a time attribute: a window needs an event-time attribute, a \
         column with a WATERMARK FOR declaration in its table (passed on unchanged by views and \
         subqueries), or a processing-time attribute (AS PROCTIME())",
        plan.schema.field(column).name()
    ))
}

/// Fails if a session window TVF is used other than by a session window aggregation (Weir
/// assigns sessions only when it aggregates them); `aggregated` says whether `plan`'s rows
/// flow, through Calcs only, into one.
fn check_session_windows(plan: &StreamPlan, aggregated: bool) -> Result<()> {
    let inputs_aggregated = match &plan.op {
        StreamOp::SessionAggregate { .. } => true,
        StreamOp::Calc { .. } => aggregated,
        StreamOp::WindowTableFunction { window, .. }
            if window.kind == WindowKind::Session && !aggregated =>
        {
            return Err(SqlError::plan(
                "the SESSION window TVF is supported by Weir only in a window aggregation: \
                 GROUP BY window_start, window_end and the PARTITION BY columns",
            ))
        }
        _ => false,
    };
    plan.inputs
        .iter()
        .try_for_each(|i| check_session_windows(i, inputs_aggregated))
}

/// A Calc over `input` computing `exprs` (the columns of `schema`) of the rows that pass
/// `filter`.
pub(super) fn calc(
    input: StreamPlan,
    exprs: Vec<Expr>,
    filter: Option<Expr>,
    schema: DFSchemaRef,
) -> StreamPlan {
    let input_schema = input.schema.clone();
    StreamPlan {
        op: StreamOp::Calc {
            exprs,
            filter,
            input_schema,
        },
        inputs: vec![input],
        schema,
    }
}

/// Each column of `schema`.
pub(super) fn columns_of(schema: &DFSchemaRef) -> Vec<Expr> {
    schema.columns().into_iter().map(Expr::Column).collect()
}

/// The aggregate call of `expr` over rows of `input`; its argument is appended to `exprs`
/// (the aggregation's input columns after the `keys` group columns); `insert_only` when the
/// aggregation's input has no updates.
pub(super) fn agg_call(
    expr: &Expr,
    input: &DFSchema,
    exprs: &mut Vec<Expr>,
    insert_only: bool,
) -> Result<AggCall> {
    let inner = match expr {
        Expr::Alias(a) => a.expr.as_ref(),
        e => e,
    };
    let Expr::AggregateFunction(AggregateFunction { func, params }) = inner else {
        return Err(SqlError::plan(format!("not an aggregate call: {expr}")));
    };
    if !params.order_by.is_empty() {
        return Err(SqlError::plan(format!(
            "{expr}: WITHIN GROUP is not supported yet"
        )));
    }
    if let Some(function) = UserAggregate::of(func) {
        return user_agg_call(expr, function, params, input, exprs);
    }
    agg_call_of(
        func.name(),
        &params.args,
        params.distinct,
        params.filter.as_deref(),
        expr.schema_name().to_string(),
        exprs,
        insert_only,
    )
}

/// The aggregate call of function `name` with `args` (also of an OVER aggregation), shown as
/// `display`; its argument and `filter` are appended to `exprs`; `insert_only` when no row it
/// takes is ever retracted.
// DataFusion still plans `COUNT(*)` with a wildcard argument.
#[allow(deprecated)]
pub(super) fn agg_call_of(
    name: &str,
    args: &[Expr],
    distinct: bool,
    filter: Option<&Expr>,
    display: String,
    exprs: &mut Vec<Expr>,
    insert_only: bool,
) -> Result<AggCall> {
    let name = name.to_ascii_lowercase();
    let kind = match name.as_str() {
        "count" => AggKind::Count,
        "sum" => AggKind::Sum,
        "min" => AggKind::Min,
        "max" => AggKind::Max,
        "avg" | "mean" => AggKind::Avg,
        other => {
            return Err(SqlError::plan(format!(
                "aggregate function {} is not supported in streaming mode yet; supported: COUNT, SUM, MIN, MAX, AVG",
                other.to_ascii_uppercase()
            )))
        }
    };
    let arg = match args {
        [] => None,
        [Expr::Literal(..)] | [Expr::Wildcard { .. }] if kind == AggKind::Count => None,
        [arg] => {
            exprs.push(arg.clone());
            Some(exprs.len() - 1)
        }
        _ => return Err(SqlError::plan(format!("{display}: expected one argument"))),
    };
    let filter = filter.map(|f| {
        exprs.push(f.clone());
        exprs.len() - 1
    });
    Ok(AggCall {
        kind,
        arg,
        distinct,
        filter,
        insert_only,
        display,
    })
}

/// The call `expr` of the user-defined aggregate function `function` over rows of `input`,
/// its arguments (and filter) appended to `exprs`.
fn user_agg_call(
    expr: &Expr,
    function: &UserAggregate,
    params: &AggregateFunctionParams,
    input: &DFSchema,
    exprs: &mut Vec<Expr>,
) -> Result<AggCall> {
    if params.distinct {
        return Err(SqlError::plan(format!(
            "{expr}: DISTINCT is not supported for user-defined aggregate functions yet"
        )));
    }
    let arg_types = params
        .args
        .iter()
        .map(|a| Ok(a.get_type(input)?))
        .collect::<Result<Vec<_>>>()?;
    let args = params
        .args
        .iter()
        .map(|a| {
            exprs.push(a.clone());
            exprs.len() - 1
        })
        .collect();
    let filter = params.filter.as_ref().map(|f| {
        exprs.push(f.as_ref().clone());
        exprs.len() - 1
    });
    Ok(AggCall {
        kind: AggKind::User(UserAggCall {
            function: function.clone(),
            args,
            arg_types,
        }),
        arg: None,
        distinct: false,
        filter,
        insert_only: false,
        display: expr.schema_name().to_string(),
    })
}

/// The index of `window_end` among the group keys when they hold both `window_start` and
/// `window_end` (a window aggregation).
pub(super) fn window_key(group: &[Expr]) -> Option<usize> {
    let named = |n: &str| {
        group
            .iter()
            .position(|e| matches!(e, Expr::Column(c) if c.name == n))
    };
    named("window_start").and(named("window_end"))
}

/// Fails unless the table's connector can be read.
fn check_source(table: &Table) -> Result<()> {
    if table.connector.is_source() {
        Ok(())
    } else {
        Err(SqlError::plan(format!(
            "table '{}' uses connector '{}', which can only be written to",
            table.def.name,
            table.connector.name()
        )))
    }
}
