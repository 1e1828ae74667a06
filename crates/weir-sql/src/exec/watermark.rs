//! The WatermarkAssigner: after each batch, emits the highest value of the table's watermark
//! expression so far (Flink's bounded out-of-orderness when it is `ts - INTERVAL ...`).

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
    current: i64,
    /// Batch mode: no row is late, so only the end of input is a watermark.
    batch: bool,
}

impl WatermarkAssigner {
    /// An assigner of the watermark `expr`; in `batch` mode it only passes the end of input.
    pub fn new(expr: Compiled, batch: bool) -> Self {
        WatermarkAssigner {
            expr,
            current: i64::MIN,
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
        let values =
            arrow::compute::cast(&values, &DataType::Timestamp(TimeUnit::Millisecond, None))
                .map_err(|e| WeirError::Other(e.to_string()))?;
        let millis = values
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .expect("cast to timestamps");
        let max = arrow::compute::max(millis);
        out.collect(batch)?;
        if let Some(max) = max.filter(|m| *m > self.current) {
            self.current = max;
            out.emit_watermark(Watermark(max))?;
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
