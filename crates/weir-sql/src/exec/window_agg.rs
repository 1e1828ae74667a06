//! Window aggregation over a window TVF: rows accumulate per (window, group) and each
//! window's result is emitted once, as an insert, when the watermark passes the window's end;
//! rows of windows that already fired are late and dropped. A batch reads each of its groups
//! out of keyed state once and writes it back once.

use std::sync::Arc;

use arrow::array::Array;
use arrow::datatypes::SchemaRef;
use weir_core::element::{Batch, Watermark};
use weir_core::Result;
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::{Namespace, StateSnapshot, TimeDomain};

use super::accumulators::GroupState;
use super::group_buffer::GroupBuffer;
use super::keyed::{arguments, AggCore};
use super::value::timestamps_ms;
use crate::changelog::{ChangeBatch, RowKind};
use crate::plan::AggCall;

/// The window aggregation operator.
pub struct WindowAggOperator {
    core: AggCore,
    window_end: usize,
    /// The groups of the batch being processed, out of keyed state.
    groups: GroupBuffer<GroupState>,
}

impl WindowAggOperator {
    /// An aggregation of `calls` by the first `keys` columns of `input` (among them the window
    /// end, column `window_end`), producing `schema`.
    pub fn new(
        calls: Arc<Vec<AggCall>>,
        input: &SchemaRef,
        keys: usize,
        window_end: usize,
        schema: SchemaRef,
    ) -> Result<Self> {
        Ok(WindowAggOperator {
            core: AggCore::new(calls, input, keys, schema)?,
            window_end,
            groups: GroupBuffer::default(),
        })
    }
}

impl StreamOperator for WindowAggOperator {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.core.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.core.snapshot(snapshot)
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, _out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        let keys = self.core.codec.encode(&change.rows)?;
        let ends = timestamps_ms(change.rows.column(self.window_end))?;
        let calls = self.core.calls.clone();
        for (row, key) in keys.into_iter().enumerate() {
            if ends.is_null(row) || ends.value(row) - 1 <= self.core.store.timers.watermark() {
                continue; // late: the window already fired
            }
            let fire_at = ends.value(row) - 1;
            let core = &mut self.core;
            let group = self.groups.entry(key, |key| {
                // The key holds the window: one timer per key fires it.
                (core.store.timers).register(
                    TimeDomain::EventTime,
                    fire_at,
                    key.clone(),
                    Namespace::Void,
                );
                Ok(core.take(key)?.unwrap_or_else(|| GroupState::new(&calls)))
            })?;
            group.update(&calls, arguments(&calls, &change.rows, row), false, false)?;
        }
        for (key, group) in self.groups.drain() {
            self.core.put(&key, group)?;
        }
        Ok(())
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        self.core.store.timers.advance_watermark(watermark.0);
        let calls = self.core.calls.clone();
        while let Some((_, key, _)) = self.core.store.timers.pop_event_timer() {
            if let Some(group) = self.core.take(&key)? {
                self.core.emit(RowKind::Insert, key, group.results(&calls)?);
            }
        }
        if let Some(output) = self.core.take_output()? {
            out.collect(output.into_batch())?;
        }
        out.emit_watermark(watermark)
    }
}
