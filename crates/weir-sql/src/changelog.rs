//! Changelog batches: Arrow record batches whose rows each carry a [`RowKind`], the unit of
//! data between SQL operators.

use std::any::Any;

use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};
use weir_core::element::{Batch, BatchData};

/// What a row of a changelog means, as Flink's `RowKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RowKind {
    /// `+I`: a new row.
    Insert,
    /// `-U`: the previous version of an updated row (retracted).
    UpdateBefore,
    /// `+U`: the new version of an updated row.
    UpdateAfter,
    /// `-D`: a deleted row.
    Delete,
}

impl RowKind {
    /// Flink's short string: `+I`, `-U`, `+U`, `-D`.
    pub fn short_string(self) -> &'static str {
        match self {
            RowKind::Insert => "+I",
            RowKind::UpdateBefore => "-U",
            RowKind::UpdateAfter => "+U",
            RowKind::Delete => "-D",
        }
    }

    /// Whether the row adds to the result (+I, +U) rather than retracting from it (-U, -D).
    pub fn is_accumulate(self) -> bool {
        matches!(self, RowKind::Insert | RowKind::UpdateAfter)
    }
}

/// A record batch with a row kind per row; `kinds` is `None` for an insert-only batch.
#[derive(Debug, Clone)]
pub struct ChangeBatch {
    /// The rows.
    pub rows: RecordBatch,
    /// The kind of each row, or `None` when every row is an insert.
    pub kinds: Option<Vec<RowKind>>,
}

impl ChangeBatch {
    /// An insert-only batch.
    pub fn inserts(rows: RecordBatch) -> Self {
        ChangeBatch { rows, kinds: None }
    }

    /// The kind of row `i`.
    pub fn kind(&self, i: usize) -> RowKind {
        self.kinds.as_ref().map_or(RowKind::Insert, |k| k[i])
    }

    /// The `len` rows from row `offset` on (zero-copy).
    pub fn slice(&self, offset: usize, len: usize) -> ChangeBatch {
        ChangeBatch {
            rows: self.rows.slice(offset, len),
            kinds: self
                .kinds
                .as_ref()
                .map(|k| k[offset..offset + len].to_vec()),
        }
    }

    /// Wraps the batch for the runtime's channels.
    pub fn into_batch(self) -> Batch {
        Batch::from_data(Box::new(self), None)
    }

    /// Takes the change batch out of a runtime batch (a cheap copy of Arrow's shared buffers).
    ///
    /// # Panics
    /// If the batch holds another type: SQL operators are only connected to SQL operators.
    pub fn from_batch(batch: &Batch) -> ChangeBatch {
        batch
            .downcast_ref::<ChangeBatch>()
            .expect("weir internal error: a SQL operator received a non-SQL batch")
            .clone()
    }
}

impl BatchData for ChangeBatch {
    fn len(&self) -> usize {
        self.rows.num_rows()
    }
    fn clone_box(&self) -> Box<dyn BatchData> {
        Box::new(self.clone())
    }
    fn split_off(&mut self, at: usize) -> Box<dyn BatchData> {
        let n = self.rows.num_rows();
        let tail = ChangeBatch {
            rows: self.rows.slice(at, n - at),
            kinds: self.kinds.as_mut().map(|k| k.split_off(at)),
        };
        self.rows = self.rows.slice(0, at);
        Box::new(tail)
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
