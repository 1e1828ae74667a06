//! Window aggregation over a window TVF: rows accumulate per (window, group) and each
//! window's result is emitted once, as an insert, when the watermark passes the window's end;
//! rows of windows that already fired are late and dropped.

use std::sync::Arc;

use arrow::array::{Array, TimestampMillisecondArray};
use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use weir_core::element::{Batch, Watermark};
use weir_core::{Result, WeirError};
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::{Namespace, StateSnapshot, TimeDomain};

use super::accumulators::GroupState;
use super::keyed::{arguments, rows_by_key, AggCore};
use crate::changelog::{ChangeBatch, RowKind};
use crate::plan::AggCall;

/// The window aggregation operator.
pub struct WindowAggOperator {
    core: AggCore,
    window_end: usize,
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
        let ends = arrow::compute::cast(
            change.rows.column(self.window_end),
            &DataType::Timestamp(TimeUnit::Millisecond, None),
        )
        .map_err(|e| WeirError::Other(e.to_string()))?;
        let ends = ends
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .expect("cast to timestamps");
        let calls = self.core.calls.clone();
        let watermark = self.core.store.timers.watermark();
        // Rows of windows that already fired are late.
        let late = |row| ends.is_null(row) || ends.value(row) - 1 <= watermark;
        for (key, rows) in rows_by_key(&keys, late) {
            let mut group = self
                .core
                .get(key)?
                .unwrap_or_else(|| GroupState::new(&calls));
            for &row in &rows {
                group.accumulate(&calls, arguments(&calls, &change.rows, row));
            }
            self.core.put(key, group)?;
            // The window end is part of the key: every row of the key has the same.
            let fire_at = ends.value(rows[0]) - 1;
            self.core.store.timers.register(
                TimeDomain::EventTime,
                fire_at,
                key.clone(),
                Namespace::Void,
            );
        }
        Ok(())
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        self.core.store.timers.advance_watermark(watermark.0);
        let calls = self.core.calls.clone();
        while let Some((_, key, _)) = self.core.store.timers.pop_event_timer() {
            if let Some(group) = self.core.get(&key)? {
                self.core
                    .emit(RowKind::Insert, key.clone(), group.results(&calls));
                self.core.clear(&key)?;
            }
        }
        if let Some(output) = self.core.take_output()? {
            out.collect(output.into_batch())?;
        }
        out.emit_watermark(watermark)
    }
}
