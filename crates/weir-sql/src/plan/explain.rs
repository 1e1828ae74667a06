//! `EXPLAIN`: the streaming plan as a tree of operators, in the style of Flink's optimized
//! physical plan (`Calc(select=[...])`, `GroupAggregate(groupBy=[...], select=[...])`).

use datafusion_expr::Expr;

use super::{Dedup, OverCall, OverFrame, OverSpec, RankSpec, StreamOp, StreamPlan, TimeAttribute};
use crate::rewrite::WindowKind;

/// One line describing a node, also used as the operator's name in the job.
pub fn describe(plan: &StreamPlan) -> String {
    let names = |n: usize| -> Vec<String> {
        plan.schema
            .fields()
            .iter()
            .take(n)
            .map(|f| f.name().clone())
            .collect()
    };
    let input_names = |n: usize| -> Vec<String> {
        plan.inputs
            .first()
            .map(|i| {
                i.schema
                    .fields()
                    .iter()
                    .take(n)
                    .map(|f| f.name().clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    match &plan.op {
        StreamOp::TableSourceScan { table } => format!(
            "TableSourceScan(table=[[default_catalog, default_database, {}]], fields=[{}])",
            table.def.name,
            table
                .physical_schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        StreamOp::ChangelogNormalize { keys } => {
            format!("ChangelogNormalize(key=[{}])", names(*keys).join(", "))
        }
        StreamOp::Values { rows } => format!("Values(tuples=[{} rows])", rows.num_rows()),
        StreamOp::Calc { exprs, filter, .. } => {
            let select: Vec<String> = exprs
                .iter()
                .zip(plan.schema.fields())
                .map(|(e, f)| {
                    let text = unaliased(e);
                    if &text == f.name() {
                        text
                    } else {
                        format!("{text} AS {}", f.name())
                    }
                })
                .collect();
            match filter {
                Some(f) => format!(
                    "Calc(select=[{}], where=[{}])",
                    select.join(", "),
                    unaliased(f)
                ),
                None => format!("Calc(select=[{}])", select.join(", ")),
            }
        }
        StreamOp::WatermarkAssigner { rowtime, expr, .. } => format!(
            "WatermarkAssigner(rowtime=[{}], watermark=[{}])",
            plan.schema.field(*rowtime).name(),
            unaliased(expr)
        ),
        StreamOp::WindowTableFunction {
            window,
            time_column,
        } => {
            let spec = match window.kind {
                WindowKind::Tumble => format!("size=[{} ms]", window.size_ms),
                WindowKind::Hop => format!(
                    "slide=[{} ms], size=[{} ms]",
                    window.step_ms, window.size_ms
                ),
                WindowKind::Cumulate => {
                    format!(
                        "max_size=[{} ms], step=[{} ms]",
                        window.size_ms, window.step_ms
                    )
                }
                WindowKind::Session => format!("gap=[{} ms]", window.size_ms),
            };
            format!(
                "WindowTableFunction(window=[{}(time_col=[{}], {spec})])",
                window.kind.name(),
                input_names(usize::MAX)
                    .get(*time_column)
                    .map_or("?", String::as_str)
            )
        }
        StreamOp::GroupAggregate { keys, aggs } if aggs.is_empty() => {
            format!(
                "GroupAggregate(groupBy=[{}], select=[{}]) (DISTINCT)",
                input_names(*keys).join(", "),
                names(*keys).join(", ")
            )
        }
        StreamOp::GroupAggregate { keys, aggs } => format!(
            "GroupAggregate(groupBy=[{}], select=[{}])",
            input_names(*keys).join(", "),
            select_list(plan, *keys, aggs.iter().map(|a| a.display.clone()))
        ),
        StreamOp::LocalGroupAggregate { keys, aggs } => {
            let keys = input_names(*keys);
            let select: Vec<String> = keys
                .iter()
                .cloned()
                .chain(aggs.iter().map(|a| a.display.clone()))
                .collect();
            format!(
                "LocalGroupAggregate(groupBy=[{}], select=[{}])",
                keys.join(", "),
                select.join(", ")
            )
        }
        StreamOp::GlobalGroupAggregate { keys, aggs } => format!(
            "GlobalGroupAggregate(groupBy=[{}], select=[{}])",
            input_names(*keys).join(", "),
            select_list(plan, *keys, aggs.iter().map(|a| a.display.clone()))
        ),
        StreamOp::WindowAggregate {
            keys, aggs, time, ..
        } => format!(
            "WindowAggregate(groupBy=[{}], select=[{}], emit=[{}])",
            input_names(*keys).join(", "),
            select_list(plan, *keys, aggs.iter().map(|a| a.display.clone())),
            match time {
                TimeAttribute::Rowtime => "on watermark",
                TimeAttribute::Proctime => "on processing time",
            }
        ),
        StreamOp::SessionAggregate { keys, aggs, gap_ms } => format!(
            "WindowAggregate(groupBy=[{}], window=[SESSION(gap=[{gap_ms} ms])], select=[{}], \
             emit=[on watermark])",
            input_names(*keys).join(", "),
            select_list(plan, *keys + 2, aggs.iter().map(|a| a.display.clone()))
        ),
        StreamOp::Join {
            kind, condition, ..
        } => format!(
            "Join(joinType=[{}], where=[{}], select=[{}])",
            kind.flink_name(),
            join_where(plan, condition),
            names(usize::MAX).join(", ")
        ),
        StreamOp::IntervalJoin {
            kind,
            condition,
            bounds,
            ..
        } => format!(
            "IntervalJoin(joinType=[{}], windowBounds=[isRowTime=true, leftLowerBound={}, \
             leftUpperBound={}, leftTimeIndex={}, rightTimeIndex={}], where=[{}], select=[{}])",
            kind.flink_name(),
            bounds.lower,
            bounds.upper,
            bounds.left_time,
            bounds.right_time,
            join_where(plan, condition),
            names(usize::MAX).join(", ")
        ),
        StreamOp::WindowJoin {
            kind, condition, ..
        } => format!(
            "WindowJoin(joinType=[{}], where=[{}], select=[{}], emit=[on watermark])",
            kind.flink_name(),
            join_where(plan, condition),
            names(usize::MAX).join(", ")
        ),
        StreamOp::Rank(spec) => describe_rank(plan, spec),
        StreamOp::OverAggregate(spec) => describe_over(plan, spec),
        StreamOp::Correlate {
            call, left_outer, ..
        } => {
            let args: Vec<String> = call
                .args
                .iter()
                .map(|a| format!("$cor0.{}", unaliased(a)))
                .collect();
            let invocation = format!("{}({})", call.function.0.display_name(), args.join(", "));
            format!(
                "Correlate(invocation=[{invocation}], correlate=[table({invocation})], \
                 select=[{}], joinType=[{}])",
                names(usize::MAX).join(", "),
                if *left_outer { "LEFT" } else { "INNER" }
            )
        }
        StreamOp::Union => format!(
            "Union(all=[true], union=[{}])",
            names(usize::MAX).join(", ")
        ),
        StreamOp::Sink { table } => format!(
            "Sink(table=[default_catalog.default_database.{}], fields=[{}])",
            table.def.name,
            names(usize::MAX).join(", ")
        ),
        StreamOp::FinalResult => format!("FinalResult(fields=[{}])", names(usize::MAX).join(", ")),
        StreamOp::Collect => format!(
            "Sink(table=[*anonymous_collect*], fields=[{}])",
            names(usize::MAX).join(", ")
        ),
    }
}

/// An OVER aggregation as Flink shows its OverAggregate.
fn describe_over(plan: &StreamPlan, spec: &OverSpec) -> String {
    let input = &plan.inputs[0];
    let partition = key_exprs(input, spec.keys).join(", ");
    let order = input.schema.field(spec.time).name();
    let bound = |n: Option<String>| n.unwrap_or_else(|| "UNBOUNDED".to_string());
    let window = match spec.frame {
        OverFrame::Rows(n) => format!(
            " ROWS BETWEEN {} PRECEDING AND CURRENT ROW",
            bound(n.map(|n| n.to_string()))
        ),
        OverFrame::Range(ms) => format!(
            " RANGE BETWEEN {} PRECEDING AND CURRENT ROW",
            bound(ms.map(|ms| ms.to_string()))
        ),
    };
    let width = input.schema.fields().len();
    let calls = (spec.calls.iter().enumerate()).map(|(i, c)| {
        let call = match c {
            OverCall::Agg(a) => a.display.as_str(),
            OverCall::Rank => "RANK()",
        };
        format!("{call} AS {}", plan.schema.field(width + i).name())
    });
    format!(
        "OverAggregate(partitionBy=[{partition}], orderBy=[{order} ASC], window=[{window}], \
         select=[{}])",
        select_list(plan, width, calls)
    )
}

/// A Top-N as Flink shows its Rank, Deduplicate, WindowRank and WindowDeduplicate.
fn describe_rank(plan: &StreamPlan, spec: &RankSpec) -> String {
    let input: Vec<String> = plan.inputs[0]
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let partition = key_exprs(&plan.inputs[0], spec.keys).join(", ");
    let order = (spec.order.iter())
        .map(|s| {
            let direction = if s.descending { "DESC" } else { "ASC" };
            format!("{} {direction}", input[s.column])
        })
        .collect::<Vec<_>>()
        .join(", ");
    let select = (plan.schema.fields().iter())
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let range = format!("rankRange=[rankStart={}, rankEnd={}]", spec.start, spec.end);
    let keep = |d: Dedup| if d.keep_last { "LastRow" } else { "FirstRow" };
    let time = |d: Dedup| match d.time {
        TimeAttribute::Rowtime => "ROWTIME",
        TimeAttribute::Proctime => "PROCTIME",
    };
    match (spec.dedup, spec.window_end) {
        (Some(d), None) => format!(
            "Deduplicate(keep=[{}], key=[{partition}], order=[{}])",
            keep(d),
            time(d)
        ),
        (Some(d), Some(_)) => format!(
            "WindowDeduplicate(keep=[{}], partitionKeys=[{partition}], orderKey=[{order}], \
             order=[{}], emit=[on watermark])",
            keep(d),
            time(d)
        ),
        (None, None) => format!(
            "Rank(strategy=[{}], rankType=[{}], {range}, partitionBy=[{partition}], \
             orderBy=[{order}], select=[{select}])",
            if spec.append_only {
                "AppendFastStrategy"
            } else {
                "RetractStrategy"
            },
            spec.function.flink_name(),
        ),
        (None, Some(_)) => format!(
            "WindowRank(rankType=[ROW_NUMBER], {range}, partitionBy=[{partition}], \
             orderBy=[{order}], select=[{select}], emit=[on watermark])"
        ),
    }
}

fn select_list(plan: &StreamPlan, keys: usize, aggs: impl Iterator<Item = String>) -> String {
    let fields: Vec<String> = plan
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    fields[..keys.min(fields.len())]
        .iter()
        .cloned()
        .chain(aggs)
        .collect::<Vec<_>>()
        .join(", ")
}

fn unaliased(e: &Expr) -> String {
    match e {
        Expr::Alias(a) => unaliased(&a.expr),
        Expr::Column(c) => c.name.clone(),
        other => other.human_display().to_string(),
    }
}

/// The plan as an indented tree, root first, with the exchanges between operators.
pub fn explain(plan: &StreamPlan) -> String {
    let mut out = String::new();
    render(plan, 0, &mut out);
    out
}

fn render(plan: &StreamPlan, depth: usize, out: &mut String) {
    if depth == 0 {
        out.push_str(&describe(plan));
    } else {
        out.push_str(&format!("{}+- {}", "   ".repeat(depth - 1), describe(plan)));
    }
    out.push('\n');
    for (i, input) in plan.inputs.iter().enumerate() {
        match exchange(plan, i) {
            Some(e) => {
                out.push_str(&format!("{}+- {e}\n", "   ".repeat(depth)));
                render(input, depth + 2, out);
            }
            None => render(input, depth + 1, out),
        }
    }
}

/// The exchange before input `i` of `plan`, if it is not forward.
fn exchange(plan: &StreamPlan, i: usize) -> Option<String> {
    let names = match &plan.op {
        StreamOp::GroupAggregate { keys, .. }
        | StreamOp::GlobalGroupAggregate { keys, .. }
        | StreamOp::WindowAggregate { keys, .. }
        | StreamOp::SessionAggregate { keys, .. } => plan.inputs[i]
            .schema
            .fields()
            .iter()
            .take(*keys)
            .map(|f| f.name().clone())
            .collect(),
        StreamOp::Join { .. } | StreamOp::IntervalJoin { .. } | StreamOp::WindowJoin { .. } => {
            join_keys(plan, i)
        }
        StreamOp::Rank(RankSpec { keys, .. }) | StreamOp::OverAggregate(OverSpec { keys, .. }) => {
            key_exprs(&plan.inputs[i], *keys)
        }
        _ => return None,
    };
    Some(if names.is_empty() {
        "Exchange(distribution=[single])".to_string()
    } else {
        format!("Exchange(distribution=[hash[{}]])", names.join(", "))
    })
}

/// The key expressions of input `i` of a join (its Calc puts them first).
fn join_keys(plan: &StreamPlan, i: usize) -> Vec<String> {
    let keys = match &plan.op {
        StreamOp::Join { keys, .. }
        | StreamOp::IntervalJoin { keys, .. }
        | StreamOp::WindowJoin { keys, .. } => *keys,
        _ => 0,
    };
    key_exprs(&plan.inputs[i], keys)
}

/// The first `keys` expressions of `input` (a Calc that puts an operator's key first).
fn key_exprs(input: &StreamPlan, keys: usize) -> Vec<String> {
    match &input.op {
        StreamOp::Calc { exprs, .. } => exprs.iter().take(keys).map(unaliased).collect(),
        _ => Vec::new(),
    }
}

/// `where=[...]` of a join: its key equalities and its condition.
fn join_where(plan: &StreamPlan, condition: &Option<Expr>) -> String {
    let mut parts: Vec<String> = join_keys(plan, 0)
        .into_iter()
        .zip(join_keys(plan, 1))
        .map(|(l, r)| format!("{l} = {r}"))
        .collect();
    parts.extend(condition.iter().map(unaliased));
    if parts.is_empty() {
        "true".to_string()
    } else {
        parts.join(" AND ")
    }
}
