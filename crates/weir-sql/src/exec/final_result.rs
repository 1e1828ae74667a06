//! Batch mode's end of an updating query: applies the changelog to a multiset of rows and,
//! when the input ends, emits what remains as inserts, so that a bounded query's result is
//! its final rows only, as Flink's batch mode gives them.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use weir_core::element::Batch;
use weir_core::{Result, WeirError};
use weir_runtime::{Output, StreamOperator};

use super::keyed::{GroupKey, KeyCodec};
use crate::changelog::ChangeBatch;

/// Folds a changelog into its final rows, emitted at the end of input.
pub struct FinalResultOperator {
    schema: SchemaRef,
    codec: KeyCodec,
    /// Each row (all columns in Arrow's row format) with its multiplicity.
    rows: BTreeMap<GroupKey, i64>,
}

impl FinalResultOperator {
    /// The operator for rows of `schema`.
    pub fn new(schema: SchemaRef) -> Result<Self> {
        Ok(FinalResultOperator {
            codec: KeyCodec::new(&schema, schema.fields().len())?,
            schema,
            rows: BTreeMap::new(),
        })
    }

    fn final_rows(&mut self) -> Result<Option<RecordBatch>> {
        let mut rows = Vec::new();
        for (row, count) in std::mem::take(&mut self.rows) {
            for _ in 0..count.max(0) {
                rows.push(row.clone());
            }
        }
        if rows.is_empty() {
            return Ok(None);
        }
        let columns = self.codec.decode(&rows)?;
        RecordBatch::try_new(self.schema.clone(), columns)
            .map(Some)
            .map_err(|e| WeirError::Other(e.to_string()))
    }
}

impl StreamOperator for FinalResultOperator {
    fn process_batch(&mut self, _input: usize, batch: Batch, _out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        for (i, row) in self.codec.encode(&change.rows)?.into_iter().enumerate() {
            let delta = if change.kind(i).is_accumulate() {
                1
            } else {
                -1
            };
            match self.rows.entry(row) {
                Entry::Occupied(mut count) => {
                    *count.get_mut() += delta;
                    if *count.get() == 0 {
                        count.remove();
                    }
                }
                Entry::Vacant(count) => {
                    count.insert(delta);
                }
            }
        }
        Ok(())
    }

    fn end_input(&mut self, _input: usize, out: &mut dyn Output) -> Result<()> {
        if let Some(rows) = self.final_rows()? {
            out.collect(ChangeBatch::inserts(rows).into_batch())?;
        }
        Ok(())
    }
}
