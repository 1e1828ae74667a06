//! The WatermarkAssigner: emits the highest value of the table's watermark expression so far
//! (Flink's bounded out-of-orderness when it is `ts - INTERVAL ...`) after each batch, and
//! within a batch as soon as it is more than `pipeline.auto-watermark-interval` ahead of the
//! last one emitted, as Flink's assigner does eagerly: the rows after that point see the
//! watermark, so a row far behind the others is late whatever the size of the batch.

use arrow::array::Array;
use weir_core::element::{Batch, Watermark};
use weir_core::{Result, WeirError};
use weir_runtime::{Output, StreamOperator};

use super::expr::{evaluate, Compiled};
use super::value::timestamps_ms;
use crate::changelog::ChangeBatch;

/// Generates watermarks from an expression over each row.
pub struct WatermarkAssigner {
    expr: Compiled,
    current: i64,
    /// How far ahead of the last watermark the next one is emitted within a batch (ms).
    interval: i64,
    /// Batch mode: no row is late, so only the end of input is a watermark.
    batch: bool,
}

impl WatermarkAssigner {
    /// An assigner of the watermark `expr` that emits within a batch when the watermark is
    /// more than `interval` ahead; in `batch` mode it only passes the end of input.
    pub fn new(expr: Compiled, interval: std::time::Duration, batch: bool) -> Self {
        WatermarkAssigner {
            expr,
            current: i64::MIN,
            interval: i64::try_from(interval.as_millis()).unwrap_or(i64::MAX),
            batch,
        }
    }
}

impl StreamOperator for WatermarkAssigner {
    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        if self.batch {
            return out.collect(batch);
        }
        let change = ChangeBatch::from_batch(&batch);
        let values = evaluate(&self.expr, &change.rows).map_err(WeirError::from)?;
        let millis = timestamps_ms(&values)?;
        let mut from = 0;
        let mut ahead = self.current;
        for row in 0..millis.len() {
            if millis.is_null(row) || millis.value(row) <= ahead {
                continue;
            }
            ahead = millis.value(row);
            if ahead.saturating_sub(self.current) > self.interval && row + 1 < millis.len() {
                out.collect(change.slice(from, row + 1 - from).into_batch())?;
                self.current = ahead;
                out.emit_watermark(Watermark(ahead))?;
                from = row + 1;
            }
        }
        out.collect(if from == 0 {
            batch
        } else {
            change.slice(from, millis.len() - from).into_batch()
        })?;
        if ahead > self.current {
            self.current = ahead;
            out.emit_watermark(Watermark(ahead))?;
        }
        Ok(())
    }

    /// Watermarks from upstream are replaced by this assigner's, except the end of input.
    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        if watermark == Watermark::MAX {
            out.emit_watermark(watermark)?;
        }
        Ok(())
    }
}
