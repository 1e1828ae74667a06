//! Helpers for unit tests that drive an operator by hand.

use weir_core::element::{Batch, Watermark, WatermarkStatus};
use weir_core::Result;

use crate::operator::{OperatorContext, Output};

/// The context of subtask 0 of 1 with the default configuration.
pub(crate) fn context() -> OperatorContext {
    OperatorContext::detached("test", "test")
}

/// Collects the main output's batches and the watermarks.
#[derive(Default)]
pub(crate) struct CollectOutput {
    pub batches: Vec<Batch>,
    pub watermarks: Vec<Watermark>,
}

impl CollectOutput {
    /// The records collected so far, with their timestamps, emptied.
    pub fn take<T: 'static>(&mut self) -> Vec<(T, Option<i64>)> {
        std::mem::take(&mut self.batches)
            .into_iter()
            .flat_map(|b| b.into_records::<T>().into_iter_timestamped())
            .collect()
    }
}

impl Output for CollectOutput {
    fn collect(&mut self, batch: Batch) -> Result<()> {
        self.batches.push(batch);
        Ok(())
    }
    fn collect_side(&mut self, _tag: &str, _batch: Batch) -> Result<()> {
        Ok(())
    }
    fn emit_watermark(&mut self, watermark: Watermark) -> Result<()> {
        self.watermarks.push(watermark);
        Ok(())
    }
    fn emit_watermark_status(&mut self, _status: WatermarkStatus) -> Result<()> {
        Ok(())
    }
}
