//! Source readers of SQL tables: constant rows, files, generated rows; each checkpoints its
//! position.

use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use weir_core::element::Batch;
use weir_core::{Result, WeirError};
use weir_runtime::{OperatorContext, SourcePoll, SourceReader};
use weir_state::{ListMode, StateSnapshot};

use crate::changelog::ChangeBatch;
use crate::connectors::datagen::{generate, DatagenOptions};
use crate::connectors::filesystem::FileReader;
use crate::connectors::nexmark::NexmarkReader;

/// What a source subtask reads.
pub enum TableReader {
    /// Constant rows, from row `next` on.
    Values { rows: RecordBatch, next: usize },
    /// Lines of files.
    Files(FileReader),
    /// Generated rows from row `next` on.
    Datagen {
        options: DatagenOptions,
        schema: SchemaRef,
        next: u64,
        started: Option<Instant>,
        emitted_since_start: u64,
    },
    /// Generated Nexmark events (the reader restores and checkpoints its own splits).
    Nexmark(NexmarkReader),
}

const POSITION: &str = "position";

/// A [`SourceReader`] over a [`TableReader`].
pub struct SqlSourceReader {
    reader: TableReader,
    schema: SchemaRef,
}

impl SqlSourceReader {
    /// A source of `reader`'s rows of `schema`.
    pub fn new(reader: TableReader, schema: SchemaRef) -> Self {
        SqlSourceReader { reader, schema }
    }

    fn empty(&self) -> Batch {
        ChangeBatch::inserts(RecordBatch::new_empty(self.schema.clone())).into_batch()
    }
}

fn batch_of(rows: RecordBatch) -> Batch {
    ChangeBatch::inserts(rows).into_batch()
}

impl SourceReader for SqlSourceReader {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        if let TableReader::Nexmark(_) = self.reader {
            return Ok(());
        }
        let Some(restored) = ctx.restored_state() else {
            return Ok(());
        };
        let positions: Vec<(u64, u64)> = restored.list(POSITION)?;
        let Some(position) = positions.into_iter().min() else {
            return Ok(());
        };
        match &mut self.reader {
            TableReader::Values { next, .. } => *next = position.0 as usize,
            TableReader::Files(files) => files.seek(position)?,
            TableReader::Datagen { next, .. } => *next = position.0,
            TableReader::Nexmark(_) => {}
        }
        Ok(())
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        let position = match &self.reader {
            TableReader::Nexmark(reader) => return reader.snapshot_state(snapshot),
            TableReader::Values { next, .. } => (*next as u64, 0),
            TableReader::Files(files) => files.position(),
            TableReader::Datagen { next, .. } => (*next, 0),
        };
        snapshot.add_list(POSITION, ListMode::Split, [&position])
    }

    fn poll_next(&mut self, max_records: usize) -> Result<SourcePoll> {
        match &mut self.reader {
            TableReader::Values { rows, next } => {
                let n = max_records.min(rows.num_rows() - *next);
                let slice = rows.slice(*next, n);
                *next += n;
                Ok(if *next == rows.num_rows() {
                    SourcePoll::Finished(batch_of(slice))
                } else {
                    SourcePoll::Ready(batch_of(slice))
                })
            }
            TableReader::Files(files) => match files.next_batch(max_records)? {
                Some(rows) => Ok(SourcePoll::Ready(batch_of(rows))),
                None => Ok(SourcePoll::Finished(self.empty())),
            },
            TableReader::Nexmark(reader) => match reader.next_batch(max_records)? {
                None => Ok(SourcePoll::Finished(self.empty())),
                Some((rows, wait)) if wait.is_zero() => Ok(SourcePoll::Ready(batch_of(rows))),
                Some((rows, wait)) => Ok(SourcePoll::Pending(batch_of(rows), wait)),
            },
            TableReader::Datagen {
                options,
                schema,
                next,
                started,
                emitted_since_start,
            } => {
                let remaining = options
                    .total_rows()
                    .map_or(u64::MAX, |t| t.saturating_sub(*next));
                if remaining == 0 {
                    return Ok(SourcePoll::Finished(
                        ChangeBatch::inserts(RecordBatch::new_empty(schema.clone())).into_batch(),
                    ));
                }
                let start = *started.get_or_insert_with(Instant::now);
                let allowed =
                    (start.elapsed().as_secs_f64() * options.rows_per_second as f64) as u64 + 1;
                let budget = allowed.saturating_sub(*emitted_since_start);
                if budget == 0 {
                    return Ok(SourcePoll::Pending(
                        ChangeBatch::inserts(RecordBatch::new_empty(schema.clone())).into_batch(),
                        Duration::from_millis(10),
                    ));
                }
                let n = (max_records as u64).min(remaining).min(budget) as usize;
                let rows = generate(options, schema, *next, n, weir_runtime::operator::now_ms())
                    .map_err(WeirError::from)?;
                *next += n as u64;
                *emitted_since_start += n as u64;
                Ok(SourcePoll::Ready(batch_of(rows)))
            }
        }
    }
}
