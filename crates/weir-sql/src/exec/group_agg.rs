//! Non-windowed aggregation (Flink's GroupAggFunction without mini-batch): every input row
//! updates its group and emits the change of the group's result as a changelog (`+I` for a new
//! group, `-U`/`+U` for a changed one, `-D` when its last row was retracted).

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use weir_core::element::Batch;
use weir_core::Result;
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::StateSnapshot;

use super::accumulators::GroupState;
use super::keyed::{arguments, AggCore};
use crate::changelog::{ChangeBatch, RowKind};
use crate::plan::AggCall;

/// The group aggregation operator.
pub struct GroupAggOperator {
    core: AggCore,
}

impl GroupAggOperator {
    /// An aggregation of `calls` by the first `keys` columns of `input`, producing `schema`.
    pub fn new(
        calls: Arc<Vec<AggCall>>,
        input: &SchemaRef,
        keys: usize,
        schema: SchemaRef,
    ) -> Result<Self> {
        Ok(GroupAggOperator {
            core: AggCore::new(calls, input, keys, schema)?,
        })
    }
}

impl StreamOperator for GroupAggOperator {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.core.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.core.snapshot(snapshot)
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        let keys = self.core.codec.encode(&change.rows)?;
        let calls = self.core.calls.clone();
        for (row, key) in keys.into_iter().enumerate() {
            let kind = change.kind(row);
            let previous = self.core.get(&key)?;
            if previous.is_none() && !kind.is_accumulate() {
                continue; // a retraction of a group that does not exist (e.g. expired)
            }
            let first = previous.is_none();
            let mut group = previous.unwrap_or_else(|| GroupState::new(&calls));
            let before = group.results(&calls);
            let retract = !kind.is_accumulate();
            for ((acc, call), value) in group
                .accumulators
                .iter_mut()
                .zip(calls.iter())
                .zip(arguments(&calls, &change.rows, row))
            {
                if let Some(value) = value {
                    acc.update(call, value, retract);
                }
            }
            group.rows += if retract { -1 } else { 1 };
            if group.rows > 0 {
                let after = group.results(&calls);
                if first {
                    self.core.emit(RowKind::Insert, key.clone(), after);
                } else if before != after {
                    self.core.emit(RowKind::UpdateBefore, key.clone(), before);
                    self.core.emit(RowKind::UpdateAfter, key.clone(), after);
                }
                self.core.put(&key, group)?;
            } else {
                if !first {
                    self.core.emit(RowKind::Delete, key.clone(), before);
                }
                self.core.clear(&key)?;
            }
        }
        if let Some(output) = self.core.take_output()? {
            out.collect(output.into_batch())?;
        }
        Ok(())
    }
}
