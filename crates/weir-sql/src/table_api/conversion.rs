//! The operators between the DataStream API and SQL in one job: [`FromDataStream`] turns a
//! stream's [`Row`]s (and their timestamps) into changelog batches, [`ToDataStream`] turns a
//! table's changelog batches back into rows, with the rowtime as the records' timestamps.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, TimestampMillisecondArray};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use weir_core::element::{Batch, Records};
use weir_core::{Result, WeirError};
use weir_runtime::job::OperatorFactory;
use weir_runtime::{Output, StreamOperator};

use super::row::{batch_of, rows_of, Row};
use crate::changelog::{ChangeBatch, RowKind};
use crate::exec::value::timestamps_ms;

/// Rows of a DataStream to insert-only batches of `schema`; with `rowtime`, the last column
/// of `schema` is each record's timestamp (Flink's `columnByMetadata("rowtime", ...)`).
pub struct FromDataStream {
    schema: SchemaRef,
    rowtime: bool,
}

impl FromDataStream {
    /// The factory of this operator for `schema` (the rowtime last, if `rowtime`).
    pub fn factory(schema: SchemaRef, rowtime: bool) -> OperatorFactory {
        Arc::new(move |_| {
            Ok(Box::new(FromDataStream {
                schema: schema.clone(),
                rowtime,
            }) as Box<dyn StreamOperator>)
        })
    }

    fn convert(&self, records: Records<Row>) -> crate::error::Result<RecordBatch> {
        if !self.rowtime {
            return batch_of(&records.values, &self.schema);
        }
        let width = self.schema.fields().len() - 1;
        let physical = Arc::new(self.schema.project(&(0..width).collect::<Vec<_>>())?);
        let n = records.len();
        let timestamps: Vec<Option<i64>> = match &records.timestamps {
            Some(ts) => ts.iter().map(|t| (*t != i64::MIN).then_some(*t)).collect(),
            None => vec![None; n],
        };
        let rows = batch_of(&records.values, &physical)?;
        let mut columns: Vec<ArrayRef> = rows.columns().to_vec();
        let rowtime = TimestampMillisecondArray::from(timestamps)
            .with_data_type(self.schema.field(width).data_type().clone());
        columns.push(Arc::new(rowtime));
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

impl StreamOperator for FromDataStream {
    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let rows = self.convert(batch.into_records::<Row>())?;
        out.collect(ChangeBatch::inserts(rows).into_batch())
    }
}

/// What [`ToDataStream`] emits per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changes {
    /// `Row`s of an insert-only table.
    Inserts,
    /// `(RowKind, Row)` pairs of any table.
    Changelog,
}

/// Changelog batches to records of rows; the event-time column `rowtime`, if any, gives each
/// record its timestamp.
pub struct ToDataStream {
    changes: Changes,
    rowtime: Option<usize>,
}

impl ToDataStream {
    /// The factory of this operator.
    pub fn factory(changes: Changes, rowtime: Option<usize>) -> OperatorFactory {
        Arc::new(
            move |_| Ok(Box::new(ToDataStream { changes, rowtime }) as Box<dyn StreamOperator>),
        )
    }
}

impl StreamOperator for ToDataStream {
    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        let rows = rows_of(&change.rows)?;
        let timestamps = match self.rowtime {
            Some(c) => {
                let millis = timestamps_ms(change.rows.column(c))?;
                Some(
                    (0..millis.len())
                        .map(|i| {
                            if millis.is_null(i) {
                                i64::MIN
                            } else {
                                millis.value(i)
                            }
                        })
                        .collect(),
                )
            }
            None => None,
        };
        match self.changes {
            Changes::Inserts => {
                if change.kinds.iter().flatten().any(|k| *k != RowKind::Insert) {
                    return Err(WeirError::Other(
                        "to_data_stream received an update; use to_changelog_stream".into(),
                    ));
                }
                out.collect(Batch::from_records(Records {
                    values: rows,
                    timestamps,
                }))
            }
            Changes::Changelog => {
                let values = rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, row)| (change.kind(i), row))
                    .collect();
                out.collect(Batch::from_records(Records { values, timestamps }))
            }
        }
    }
}
