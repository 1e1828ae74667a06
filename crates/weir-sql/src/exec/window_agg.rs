//! Window aggregation over a window TVF: rows accumulate per (window, group) and each
//! window's result is emitted once, as an insert, when the watermark passes the window's end
//! (rows of windows that already fired are late and dropped), or, for windows of a
//! processing-time attribute, when the wall clock does. Processing-time windows still open
//! at the end of the input fire then, as in Flink. A batch reads each of its groups out of
//! keyed state once and writes it back once.

use std::sync::Arc;

use arrow::array::Array;
use arrow::datatypes::SchemaRef;
use weir_core::element::{Batch, Watermark};
use weir_core::Result;
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::{Namespace, StateSnapshot, TimeDomain};

use super::accumulators::GroupState;
use super::group_buffer::GroupBuffer;
use super::keyed::{arguments, AggCore, GroupKey};
use super::value::timestamps_ms;
use crate::changelog::{ChangeBatch, RowKind};
use crate::plan::{AggCall, TimeAttribute};

/// When a window aggregation's windows fire.
#[derive(Debug, Clone, Copy)]
pub struct WindowClock {
    /// The input's key column of the window end.
    pub window_end: usize,
    /// The window's time: the watermark (event time) or the wall clock (processing time)
    /// passing the window's end fires it.
    pub time: TimeAttribute,
}

impl WindowClock {
    fn domain(&self) -> TimeDomain {
        match self.time {
            TimeAttribute::Rowtime => TimeDomain::EventTime,
            TimeAttribute::Proctime => TimeDomain::ProcessingTime,
        }
    }
}

/// The window aggregation operator.
pub struct WindowAggOperator {
    core: AggCore,
    clock: WindowClock,
    /// The groups of the batch being processed, out of keyed state.
    groups: GroupBuffer<GroupState>,
}

impl WindowAggOperator {
    /// An aggregation of `calls` by the first `keys` columns of `input` (among them the window
    /// end, `clock.window_end`), producing `schema`.
    pub fn new(
        calls: Arc<Vec<AggCall>>,
        input: &SchemaRef,
        keys: usize,
        clock: WindowClock,
        schema: SchemaRef,
    ) -> Result<Self> {
        Ok(WindowAggOperator {
            core: AggCore::new(calls, input, keys, schema)?,
            clock,
            groups: GroupBuffer::default(),
        })
    }

    /// Queues the result of the window (and group) `key`, whose timer fired.
    fn fire(&mut self, key: GroupKey) -> Result<()> {
        if let Some(group) = self.core.take(&key)? {
            let results = group.results(&self.core.calls)?;
            self.core.emit(RowKind::Insert, key, results);
        }
        Ok(())
    }

    /// Sends the fired windows' results.
    fn flush(&mut self, out: &mut dyn Output) -> Result<()> {
        match self.core.take_output()? {
            Some(output) => out.collect(output.into_batch()),
            None => Ok(()),
        }
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
        let ends = timestamps_ms(change.rows.column(self.clock.window_end))?;
        let calls = self.core.calls.clone();
        let (domain, event_time) = (
            self.clock.domain(),
            self.clock.time == TimeAttribute::Rowtime,
        );
        for (row, key) in keys.into_iter().enumerate() {
            if ends.is_null(row)
                || (event_time && ends.value(row) - 1 <= self.core.store.timers.watermark())
            {
                continue; // late: the window already fired
            }
            let fire_at = ends.value(row) - 1;
            let core = &mut self.core;
            let group = self.groups.entry(key, |key| {
                // The key holds the window: one timer per key fires it.
                (core.store.timers).register(domain, fire_at, key.clone(), Namespace::Void);
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
        while let Some((_, key, _)) = self.core.store.timers.pop_event_timer() {
            self.fire(key)?;
        }
        if watermark == Watermark::MAX {
            // The end of the input: processing-time windows fire too.
            while let Some((_, key, _)) = self.core.store.timers.pop_processing_timer(i64::MAX) {
                self.fire(key)?;
            }
        }
        self.flush(out)?;
        out.emit_watermark(watermark)
    }

    fn next_processing_time(&self) -> Option<i64> {
        self.core.store.timers.next_processing_time()
    }

    fn on_processing_time(&mut self, now_ms: i64, out: &mut dyn Output) -> Result<()> {
        while let Some((_, key, _)) = self.core.store.timers.pop_processing_timer(now_ms) {
            self.fire(key)?;
        }
        self.flush(out)
    }
}
