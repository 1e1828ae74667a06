//! The Calc operator: projections and filters over changelog batches (row kinds pass
//! through).

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use weir_core::element::{Batch, Watermark};
use weir_core::{Result, WeirError};
use weir_runtime::{Output, StreamOperator};

use super::expr::{evaluate, evaluate_filter, Compiled};
use crate::changelog::ChangeBatch;
use crate::functions::set_current_watermark;

/// Evaluates `exprs` on the rows that pass `filter`.
pub struct CalcOperator {
    exprs: Arc<Vec<Compiled>>,
    filter: Option<Compiled>,
    schema: SchemaRef,
    watermark: i64,
}

impl CalcOperator {
    /// A Calc producing rows of `schema`.
    pub fn new(exprs: Arc<Vec<Compiled>>, filter: Option<Compiled>, schema: SchemaRef) -> Self {
        CalcOperator {
            exprs,
            filter,
            schema,
            watermark: i64::MIN,
        }
    }

    fn apply(&self, batch: ChangeBatch) -> crate::error::Result<ChangeBatch> {
        let ChangeBatch {
            mut rows,
            mut kinds,
        } = batch;
        if let Some(filter) = &self.filter {
            let keep = evaluate_filter(filter, &rows)?;
            rows = arrow::compute::filter_record_batch(&rows, &keep)?;
            if let Some(k) = kinds.take() {
                kinds = Some(
                    k.into_iter()
                        .zip(keep.values().iter())
                        .filter(|(_, b)| *b)
                        .map(|(k, _)| k)
                        .collect(),
                );
            }
        }
        let columns = self
            .exprs
            .iter()
            .zip(self.schema.fields())
            .map(|(e, f)| {
                let array = evaluate(e, &rows)?;
                Ok(if array.data_type() == f.data_type() {
                    array
                } else {
                    arrow::compute::cast(&array, f.data_type())?
                })
            })
            .collect::<crate::error::Result<Vec<_>>>()?;
        let rows = RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &arrow::array::RecordBatchOptions::new().with_row_count(Some(rows.num_rows())),
        )?;
        Ok(ChangeBatch { rows, kinds })
    }
}

impl StreamOperator for CalcOperator {
    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        set_current_watermark(Some(self.watermark));
        let result = self
            .apply(ChangeBatch::from_batch(&batch))
            .map_err(WeirError::from)?;
        if result.rows.num_rows() > 0 {
            out.collect(result.into_batch())?;
        }
        Ok(())
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        self.watermark = watermark.0;
        out.emit_watermark(watermark)
    }
}
