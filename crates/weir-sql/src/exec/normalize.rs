//! ChangelogNormalize (Flink's operator of that name): turns an upsert changelog, whose rows
//! say only "this is now the row of its key" (`+U`) or "the key's row is gone" (`-D`), into a
//! full changelog that aggregations can consume: it keeps each key's last row in keyed state
//! and emits `+I` for a new key, `-U` (the kept row) and `+U` for a changed one, `-D` (the
//! kept row) for a deleted one; an unchanged row or the deletion of an unknown key emits
//! nothing.

use std::time::Duration;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::SchemaRef;
use weir_core::element::Batch;
use weir_core::{Result, WeirError};
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::{StateSnapshot, ValueState};

use super::keyed::{expiring, KeyCodec, KeyedStore};
use super::value::{to_array, Value};
use crate::changelog::{ChangeBatch, RowKind};

/// The ChangelogNormalize operator, keyed by the first `keys` columns.
pub struct ChangelogNormalizeOperator {
    codec: KeyCodec,
    schema: SchemaRef,
    store: KeyedStore,
    last_row: ValueState<Vec<Value>>,
}

impl ChangelogNormalizeOperator {
    /// A normalizer of rows of `schema` keyed by its first `keys` columns.
    pub fn new(schema: SchemaRef, keys: usize) -> Result<Self> {
        Ok(ChangelogNormalizeOperator {
            codec: KeyCodec::new(&schema, keys)?,
            schema,
            store: KeyedStore::default(),
            last_row: ValueState::new("last-row"),
        })
    }

    /// Lets each key's last row expire `ttl` after it was written (`table.exec.state.ttl`;
    /// zero keeps it forever).
    pub fn with_state_ttl(mut self, ttl: Duration) -> Self {
        self.last_row = expiring(self.last_row, ttl);
        self
    }

    /// The batch of `rows`.
    fn batch(&self, rows: Vec<(RowKind, Vec<Value>)>) -> Result<ChangeBatch> {
        let columns = self
            .schema
            .fields()
            .iter()
            .enumerate()
            .map(|(c, field)| {
                let values: Vec<Value> = rows.iter().map(|(_, row)| row[c].clone()).collect();
                let array = to_array(&values, field.data_type()).map_err(WeirError::from)?;
                if array.data_type() == field.data_type() {
                    Ok(array)
                } else {
                    arrow::compute::cast(&array, field.data_type())
                        .map_err(|e| WeirError::Other(e.to_string()))
                }
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let rows_batch = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| WeirError::Other(e.to_string()))?;
        Ok(ChangeBatch {
            rows: rows_batch,
            kinds: Some(rows.into_iter().map(|(kind, _)| kind).collect()),
        })
    }
}

impl StreamOperator for ChangelogNormalizeOperator {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.store.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.store.snapshot(snapshot)
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        let keys = self.codec.encode(&change.rows)?;
        let last_row = self.last_row.clone();
        let mut emitted = Vec::new();
        for (row, key) in keys.into_iter().enumerate() {
            let mut access = self.store.access(key)?;
            let previous = last_row.value(&mut access)?;
            if change.kind(row).is_accumulate() {
                let current: Vec<Value> = (change.rows.columns().iter())
                    .map(|c| Value::read(c.as_ref(), row))
                    .collect();
                match previous {
                    None => emitted.push((RowKind::Insert, current.clone())),
                    Some(previous) if previous == current => continue,
                    Some(previous) => {
                        emitted.push((RowKind::UpdateBefore, previous));
                        emitted.push((RowKind::UpdateAfter, current.clone()));
                    }
                }
                last_row.update(&mut access, current)?;
            } else if let Some(previous) = previous {
                emitted.push((RowKind::Delete, previous));
                last_row.clear(&mut access)?;
            }
        }
        if !emitted.is_empty() {
            out.collect(self.batch(emitted)?.into_batch())?;
        }
        Ok(())
    }
}
