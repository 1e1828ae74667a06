//! Two-phase aggregation (Flink's `table.optimizer.agg-phase-strategy`): with mini-batch on
//! and the strategy `AUTO` or `TWO_PHASE`, every non-windowed aggregation becomes a
//! [`StreamOp::LocalGroupAggregate`] before the shuffle by key and a
//! [`StreamOp::GlobalGroupAggregate`] after it, as Flink's planner does in streaming mode.
//! Distinct aggregates are split too: as Flink's `DISTINCT(x) AS distinct$0`, a partial
//! group carries the changes of the distinct values' multiplicities.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field};
use datafusion_common::{DFSchema, DFSchemaRef};
use weir_core::config::{options, Configuration};

use super::{StreamOp, StreamPlan};
use crate::error::{Result, SqlError};

/// The name of the column of partial groups in a local aggregation's output.
pub const PARTIALS_COLUMN: &str = "partial$";

/// Whether `config` makes aggregations run in two phases.
pub fn two_phase(config: &Configuration) -> Result<bool> {
    let get = |e: weir_core::config::ConfigError| SqlError::Runtime(e.into());
    let mini_batch = config.get(&options::MINI_BATCH_ENABLED).map_err(get)?;
    let strategy = config.get(&options::AGG_PHASE_STRATEGY).map_err(get)?;
    Ok(mini_batch && !strategy.eq_ignore_ascii_case("ONE_PHASE"))
}

/// `plan` with each of its group aggregations split into a local and a global phase.
pub fn split_aggregations(plan: StreamPlan) -> Result<StreamPlan> {
    let StreamPlan { op, inputs, schema } = plan;
    let inputs = inputs
        .into_iter()
        .map(split_aggregations)
        .collect::<Result<Vec<_>>>()?;
    let StreamOp::GroupAggregate { keys, aggs } = op else {
        return Ok(StreamPlan { op, inputs, schema });
    };
    let input = inputs
        .into_iter()
        .next()
        .ok_or_else(|| SqlError::plan("internal: an aggregation without input"))?;
    let local = StreamPlan {
        op: StreamOp::LocalGroupAggregate {
            keys,
            aggs: aggs.clone(),
        },
        schema: partials_schema(&input.schema, keys)?,
        inputs: vec![input],
    };
    Ok(StreamPlan {
        op: StreamOp::GlobalGroupAggregate { keys, aggs },
        inputs: vec![local],
        schema,
    })
}

/// The first `keys` columns of `input`, then the binary column of partial groups.
fn partials_schema(input: &DFSchemaRef, keys: usize) -> Result<DFSchemaRef> {
    let mut fields: Vec<_> = input
        .iter()
        .take(keys)
        .map(|(qualifier, field)| (qualifier.cloned(), Arc::clone(field)))
        .collect();
    fields.push((
        None,
        Arc::new(Field::new(PARTIALS_COLUMN, DataType::Binary, false)),
    ));
    Ok(Arc::new(DFSchema::new_with_metadata(
        fields,
        HashMap::new(),
    )?))
}
