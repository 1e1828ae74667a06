//! The WatermarkAssigner: emits the highest value of the table's watermark expression so far
//! (Flink's bounded out-of-orderness when it is `ts - INTERVAL ...`). As Flink's
//! `WatermarkAssignerOperator` does, it emits a watermark right after the row that advances it
//! by more than `pipeline.auto-watermark-interval` (in event time) since the last one, so that
//! a row that comes after it is late no matter how rows are batched; at the end of a batch it
//! emits whatever advance is left (where Flink's periodic timer would emit it later).

use arrow::array::{Array, TimestampMillisecondArray};
use arrow::datatypes::{DataType, TimeUnit};
use weir_core::element::{Batch, Watermark};
use weir_core::{Result, WeirError};
use weir_runtime::{Output, StreamOperator};

use super::expr::{evaluate, Compiled};
use crate::changelog::ChangeBatch;

/// Generates watermarks from an expression over each row.
pub struct WatermarkAssigner {
    expr: Compiled,
    interval_ms: i64,
    /// The highest watermark seen.
    current: i64,
    /// The last watermark emitted.
    emitted: i64,
}

impl WatermarkAssigner {
    /// An assigner of the watermark `expr` that emits eagerly after an advance of more than
    /// `interval_ms`.
    pub fn new(expr: Compiled, interval_ms: i64) -> Self {
        WatermarkAssigner {
            expr,
            interval_ms,
            current: i64::MIN,
            emitted: i64::MIN,
        }
    }

    fn emit(&mut self, out: &mut dyn Output) -> Result<()> {
        if self.current > self.emitted {
            self.emitted = self.current;
            out.emit_watermark(Watermark(self.current))?;
        }
        Ok(())
    }
}

impl StreamOperator for WatermarkAssigner {
    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        let values = evaluate(&self.expr, &change.rows).map_err(WeirError::from)?;
        let values =
            arrow::compute::cast(&values, &DataType::Timestamp(TimeUnit::Millisecond, None))
                .map_err(|e| WeirError::Other(e.to_string()))?;
        let millis = values
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .expect("cast to timestamps");
        let mut from = 0;
        for row in 0..millis.len() {
            if millis.is_null(row) {
                continue;
            }
            self.current = self.current.max(millis.value(row));
            if (self.current as i128) - (self.emitted as i128) > i128::from(self.interval_ms) {
                out.collect(change.slice(from, row + 1 - from).into_batch())?;
                from = row + 1;
                self.emit(out)?;
            }
        }
        if from == 0 {
            out.collect(batch)?;
        } else if from < millis.len() {
            out.collect(change.slice(from, millis.len() - from).into_batch())?;
        }
        self.emit(out)
    }

    /// Watermarks from upstream are replaced by this assigner's, except the end of input.
    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        if watermark == Watermark::MAX {
            out.emit_watermark(watermark)?;
        }
        Ok(())
    }
}
