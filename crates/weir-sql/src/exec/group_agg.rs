//! Non-windowed aggregation with an updating changelog (`+I` for a new group, `-U`/`+U` for
//! a changed one, `-D` when its last row was retracted), in three forms as in Flink:
//!
//! - without mini-batch (GroupAggFunction): every input row emits the change it makes;
//! - with mini-batch (MiniBatchGroupAggFunction): rows are folded per key and each key emits
//!   one change per mini-batch;
//! - as the global half of a two-phase aggregation (MiniBatchGlobalGroupAggFunction): the
//!   input is the partial groups of [`LocalGroupAggOperator`](super::local_agg), merged per
//!   key, one change per key per mini-batch.
//!
//! Either way a group is read out of keyed state once per batch or mini-batch, updated in
//! place ([`GroupBuffer`]) and written back once.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::AsArray;
use arrow::datatypes::SchemaRef;
use weir_core::element::Batch;
use weir_core::{Result, WeirError};
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::StateSnapshot;

use super::accumulators::GroupState;
use super::group_buffer::GroupBuffer;
use super::keyed::{arguments, AggCore, GroupKey};
use super::mini_batch::{MiniBatch, MiniBatchTrigger};
use super::value::Value;
use crate::changelog::{ChangeBatch, RowKind};
use crate::plan::AggCall;

/// What the rows reaching a group aggregation are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggInput {
    /// Changelog rows: the group key, then the calls' arguments and filters.
    Rows,
    /// A local aggregation's partial groups: the group key, then the encoded partial group.
    Partials,
}

/// A group taken out of keyed state for the current batch or mini-batch.
struct Taken {
    /// The group, with the rows since it was taken.
    state: GroupState,
    /// Its results when it was taken, if it existed and they are needed (mini-batch).
    before: Option<Vec<Value>>,
}

/// The group aggregation operator.
pub struct GroupAggOperator {
    core: AggCore,
    input: AggInput,
    groups: GroupBuffer<Taken>,
    /// `None`: a change per row, groups written back after each batch.
    mini_batch: Option<MiniBatchTrigger>,
}

impl GroupAggOperator {
    /// An aggregation of `calls` by the first `keys` columns of `input_schema` (whose rows are
    /// `input`), producing `schema`, in mini-batches if `mini_batch` says so (partial groups
    /// come in mini-batches only).
    pub fn new(
        calls: Arc<Vec<AggCall>>,
        input_schema: &SchemaRef,
        keys: usize,
        schema: SchemaRef,
        input: AggInput,
        mini_batch: Option<MiniBatch>,
    ) -> Result<Self> {
        if input == AggInput::Partials && mini_batch.is_none() {
            return Err(WeirError::Other(
                "a global aggregation needs table.exec.mini-batch.enabled".into(),
            ));
        }
        Ok(GroupAggOperator {
            core: AggCore::new(calls, input_schema, keys, schema)?,
            input,
            groups: GroupBuffer::default(),
            mini_batch: mini_batch.map(MiniBatchTrigger::new),
        })
    }

    /// Lets each group's state expire `ttl` after its last change (`table.exec.state.ttl`;
    /// zero keeps it forever): a group that comes back after that starts again, with `+I`.
    pub fn with_state_ttl(mut self, ttl: Duration) -> Self {
        self.core = self.core.with_state_ttl(ttl);
        self
    }

    /// Applies row `row` of `change` (whose key is `key`) to its group, emitting its change
    /// at once without mini-batch.
    fn apply(&mut self, change: &ChangeBatch, row: usize, key: GroupKey) -> Result<()> {
        let calls = self.core.calls.clone();
        let batched = self.mini_batch.is_some();
        let core = &mut self.core;
        let group = self.groups.entry(key.clone(), |k| {
            let state = core.take(k)?;
            Ok(Taken {
                before: state
                    .as_ref()
                    .filter(|_| batched)
                    .map(|s| s.results(&calls))
                    .transpose()?,
                state: state.unwrap_or_else(|| GroupState::new(&calls)),
            })
        })?;
        match self.input {
            AggInput::Partials => {
                let bytes = change
                    .rows
                    .column(self.core.codec.key_count())
                    .as_binary::<i32>();
                let partial: GroupState =
                    weir_state::decode(bytes.value(row), "partial aggregate")?;
                group.state.merge(&calls, partial)?;
            }
            AggInput::Rows => {
                let retract = !change.kind(row).is_accumulate();
                if retract && group.state.rows <= 0 {
                    return Ok(()); // a retraction of a group that does not exist (e.g. expired)
                }
                let args = arguments(&calls, &change.rows, row);
                if batched {
                    group.state.update(&calls, args, retract, false)?;
                } else {
                    let before = (group.state.rows > 0)
                        .then(|| group.state.results(&calls))
                        .transpose()?;
                    group.state.update(&calls, args, retract, false)?;
                    let state = &group.state;
                    emit_change(&mut self.core, key, before, state)?;
                }
            }
        }
        if group.state.rows <= 0 {
            // Emptied: start again from nothing, as a group that never existed.
            group.state = GroupState::new(&calls);
        }
        Ok(())
    }

    /// Writes every group taken out back to state; in mini-batch mode, first emits each
    /// group's change since it was taken.
    fn flush(&mut self) -> Result<()> {
        let batched = self.mini_batch.is_some();
        for (key, taken) in self.groups.drain() {
            if batched {
                emit_change(&mut self.core, key.clone(), taken.before, &taken.state)?;
            }
            if taken.state.rows > 0 {
                self.core.put(&key, taken.state)?;
            }
        }
        if let Some(trigger) = &mut self.mini_batch {
            trigger.reset();
        }
        Ok(())
    }

    /// Ends the mini-batch and sends what it emits.
    fn end_mini_batch(&mut self, out: &mut dyn Output) -> Result<()> {
        self.flush()?;
        self.send(out)
    }

    /// Sends the rows emitted so far.
    fn send(&mut self, out: &mut dyn Output) -> Result<()> {
        match self.core.take_output()? {
            Some(output) => out.collect(output.into_batch()),
            None => Ok(()),
        }
    }
}

/// Emits the change of group `key` from the results `before` (`None`: the group did not
/// exist) to those of `state` (none if it holds no rows).
fn emit_change(
    core: &mut AggCore,
    key: GroupKey,
    before: Option<Vec<Value>>,
    state: &GroupState,
) -> Result<()> {
    let after = (state.rows > 0)
        .then(|| state.results(&core.calls))
        .transpose()?;
    match (before, after) {
        (None, Some(after)) => core.emit(RowKind::Insert, key, after),
        (Some(before), Some(after)) if before != after => {
            core.emit(RowKind::UpdateBefore, key.clone(), before);
            core.emit(RowKind::UpdateAfter, key, after);
        }
        (Some(before), None) => core.emit(RowKind::Delete, key, before),
        _ => {}
    }
    Ok(())
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
        for (row, key) in keys.into_iter().enumerate() {
            self.apply(&change, row, key)?;
            if self.mini_batch.as_mut().is_some_and(|t| t.add_row()) {
                self.flush()?;
            }
        }
        if self.mini_batch.is_none() {
            self.flush()?;
        }
        self.send(out)
    }

    fn prepare_snapshot_pre_barrier(&mut self, out: &mut dyn Output) -> Result<()> {
        self.end_mini_batch(out)
    }

    fn next_processing_time(&self) -> Option<i64> {
        self.mini_batch
            .as_ref()
            .and_then(MiniBatchTrigger::deadline)
    }

    fn on_processing_time(&mut self, _now_ms: i64, out: &mut dyn Output) -> Result<()> {
        self.end_mini_batch(out)
    }

    fn finish(&mut self, out: &mut dyn Output) -> Result<()> {
        self.end_mini_batch(out)
    }
}
