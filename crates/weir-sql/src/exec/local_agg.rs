//! The local half of a two-phase aggregation (Flink's LocalGroupAggregate): before the
//! shuffle by key, each subtask folds a mini-batch of its input rows into one partial group
//! per key and sends it on as a row: the key columns, then the partial group encoded in a
//! binary column. The global half ([`GroupAggOperator`](super::group_agg) with
//! [`AggInput::Partials`](super::group_agg::AggInput)) merges them into the groups' state.
//! The operator keeps no state: it sends its partial groups before every checkpoint barrier.

use std::sync::Arc;

use arrow::array::{ArrayRef, BinaryArray, RecordBatch};
use arrow::datatypes::SchemaRef;
use weir_core::element::Batch;
use weir_core::{Result, WeirError};
use weir_runtime::{Output, StreamOperator};

use super::accumulators::GroupState;
use super::group_buffer::GroupBuffer;
use super::keyed::{arguments, KeyCodec};
use super::mini_batch::{MiniBatch, MiniBatchTrigger};
use crate::changelog::ChangeBatch;
use crate::plan::AggCall;

/// The local aggregation operator.
pub struct LocalGroupAggOperator {
    calls: Arc<Vec<AggCall>>,
    codec: KeyCodec,
    /// The key columns, then the binary column of partial groups.
    schema: SchemaRef,
    groups: GroupBuffer<GroupState>,
    trigger: MiniBatchTrigger,
    /// Batches of partial groups not sent yet.
    pending: Vec<Batch>,
}

impl LocalGroupAggOperator {
    /// A local aggregation of `calls` by the first `keys` columns of `input`, producing
    /// `schema` (the keys and a binary column), in mini-batches of `mini_batch`.
    pub fn new(
        calls: Arc<Vec<AggCall>>,
        input: &SchemaRef,
        keys: usize,
        schema: SchemaRef,
        mini_batch: MiniBatch,
    ) -> Result<Self> {
        Ok(LocalGroupAggOperator {
            calls,
            codec: KeyCodec::new(input, keys)?,
            schema,
            groups: GroupBuffer::default(),
            trigger: MiniBatchTrigger::new(mini_batch),
            pending: Vec::new(),
        })
    }

    /// Turns the partial groups into a batch to send, and starts a new mini-batch.
    fn flush(&mut self) -> Result<()> {
        self.trigger.reset();
        if self.groups.is_empty() {
            return Ok(());
        }
        let (keys, partials): (Vec<_>, Vec<_>) = self.groups.drain().unzip();
        let encoded = partials
            .iter()
            .map(weir_state::encode::<GroupState>)
            .collect::<Result<Vec<_>>>()?;
        let mut columns = self.codec.decode(&keys)?;
        columns.push(Arc::new(BinaryArray::from_iter_values(encoded)) as ArrayRef);
        let rows = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| WeirError::Other(e.to_string()))?;
        self.pending.push(ChangeBatch::inserts(rows).into_batch());
        Ok(())
    }

    /// Ends the mini-batch and sends its partial groups.
    fn end_mini_batch(&mut self, out: &mut dyn Output) -> Result<()> {
        self.flush()?;
        self.send(out)
    }

    fn send(&mut self, out: &mut dyn Output) -> Result<()> {
        self.pending.drain(..).try_for_each(|b| out.collect(b))
    }
}

impl StreamOperator for LocalGroupAggOperator {
    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        let keys = self.codec.encode(&change.rows)?;
        let calls = self.calls.clone();
        for (row, key) in keys.into_iter().enumerate() {
            let retract = !change.kind(row).is_accumulate();
            let group = self.groups.entry(key, |_| Ok(GroupState::new(&calls)))?;
            group.update(&calls, arguments(&calls, &change.rows, row), retract, true)?;
            if self.trigger.add_row() {
                self.flush()?;
            }
        }
        self.send(out)
    }

    fn prepare_snapshot_pre_barrier(&mut self, out: &mut dyn Output) -> Result<()> {
        self.end_mini_batch(out)
    }

    fn next_processing_time(&self) -> Option<i64> {
        self.trigger.deadline()
    }

    fn on_processing_time(&mut self, _now_ms: i64, out: &mut dyn Output) -> Result<()> {
        self.end_mini_batch(out)
    }

    fn finish(&mut self, out: &mut dyn Output) -> Result<()> {
        self.end_mini_batch(out)
    }
}
