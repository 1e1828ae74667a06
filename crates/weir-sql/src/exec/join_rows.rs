//! What both join operators share: an input's rows as bytes in Arrow's row format (the form
//! they take in keyed state), the join condition evaluated on pairs of rows, and the building
//! of output batches of pairs and NULL-padded rows.

use arrow::array::{new_null_array, Array, ArrayRef, RecordBatch};
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, SortField};
use weir_core::{Result, WeirError};

use super::expr::{evaluate_filter, Compiled};
use crate::changelog::{ChangeBatch, RowKind};

/// An input row in Arrow's row format.
pub type RowBytes = Vec<u8>;

fn arrow_error(e: arrow::error::ArrowError) -> WeirError {
    WeirError::Other(e.to_string())
}

/// Encodes the row columns of a join input (those after its key columns) and back.
pub struct SideCodec {
    converter: RowConverter,
    keys: usize,
    null_row: RowBytes,
}

impl SideCodec {
    /// A codec of the columns of `input` after the first `keys`.
    pub fn new(input: &SchemaRef, keys: usize) -> Result<Self> {
        let fields = &input.fields()[keys..];
        let converter = RowConverter::new(
            fields
                .iter()
                .map(|f| SortField::new(f.data_type().clone()))
                .collect(),
        )
        .map_err(arrow_error)?;
        let nulls: Vec<ArrayRef> = fields
            .iter()
            .map(|f| new_null_array(f.data_type(), 1))
            .collect();
        let null_row = converter
            .convert_columns(&nulls)
            .map_err(arrow_error)?
            .row(0)
            .as_ref()
            .to_vec();
        Ok(SideCodec {
            converter,
            keys,
            null_row,
        })
    }

    /// The row of every row of `batch`.
    pub fn encode(&self, batch: &RecordBatch) -> Result<Vec<RowBytes>> {
        let rows = self
            .converter
            .convert_columns(&batch.columns()[self.keys..])
            .map_err(arrow_error)?;
        Ok(rows.iter().map(|r| r.as_ref().to_vec()).collect())
    }

    /// The columns of `rows`, where `None` is a row of NULLs.
    fn decode(&self, rows: &[Option<&[u8]>]) -> Result<Vec<ArrayRef>> {
        let parser = self.converter.parser();
        let rows = rows
            .iter()
            .map(|r| parser.parse(r.unwrap_or(&self.null_row)));
        self.converter.convert_rows(rows).map_err(arrow_error)
    }
}

/// Whether any key column (the first `keys` columns) of each row of `batch` is NULL: such
/// a row equals no row of the other input.
pub fn null_keys(batch: &RecordBatch, keys: usize) -> Vec<bool> {
    let mut null = vec![false; batch.num_rows()];
    for column in &batch.columns()[..keys] {
        if column.null_count() > 0 {
            for (row, n) in null.iter_mut().enumerate() {
                *n |= column.is_null(row);
            }
        }
    }
    null
}

/// A pair of a left and a right row; `None` pads a side with NULLs.
pub type Pair<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

/// The rows a join produces, and its condition on pairs.
pub struct JoinRows {
    sides: [SideCodec; 2],
    condition: Option<Compiled>,
    schema: SchemaRef,
    pending: Vec<(RowKind, Option<RowBytes>, Option<RowBytes>)>,
}

impl JoinRows {
    /// Rows of `schema` (the left input's row columns, then the right's) from inputs of
    /// schemas `inputs` whose first `keys` columns are the key; pairs pass `condition`.
    pub fn new(
        inputs: [&SchemaRef; 2],
        keys: usize,
        condition: Option<Compiled>,
        schema: SchemaRef,
    ) -> Result<Self> {
        Ok(JoinRows {
            sides: [
                SideCodec::new(inputs[0], keys)?,
                SideCodec::new(inputs[1], keys)?,
            ],
            condition,
            schema,
            pending: Vec::new(),
        })
    }

    /// The codec of input `side` (0 left, 1 right).
    pub fn codec(&self, side: usize) -> &SideCodec {
        &self.sides[side]
    }

    /// A batch of `pairs` in the output schema.
    fn batch(&self, pairs: &[Pair<'_>]) -> Result<RecordBatch> {
        let left: Vec<Option<&[u8]>> = pairs.iter().map(|p| p.0).collect();
        let right: Vec<Option<&[u8]>> = pairs.iter().map(|p| p.1).collect();
        let mut columns = self.sides[0].decode(&left)?;
        columns.extend(self.sides[1].decode(&right)?);
        let columns = columns
            .into_iter()
            .zip(self.schema.fields())
            .map(|(c, f)| {
                if c.data_type() == f.data_type() {
                    Ok(c)
                } else {
                    arrow::compute::cast(&c, f.data_type()).map_err(arrow_error)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        RecordBatch::try_new(self.schema.clone(), columns).map_err(arrow_error)
    }

    /// Which rows of `others` (of input `1 - side`) pass the condition with `row` (of input
    /// `side`).
    pub fn matching(&self, side: usize, row: &[u8], others: &[&[u8]]) -> Result<Vec<bool>> {
        let pairs: Vec<(&[u8], &[u8])> = others.iter().map(|o| (row, *o)).collect();
        self.matching_pairs(side, &pairs)
    }

    /// Which pairs `(row of input side, row of input 1 - side)` pass the condition, evaluated
    /// once over all of them.
    pub fn matching_pairs(&self, side: usize, pairs: &[(&[u8], &[u8])]) -> Result<Vec<bool>> {
        let Some(condition) = &self.condition else {
            return Ok(vec![true; pairs.len()]);
        };
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let pairs: Vec<Pair<'_>> = pairs
            .iter()
            .map(|(row, other)| oriented(side, Some(row), Some(other)))
            .collect();
        let passed = evaluate_filter(condition, &self.batch(&pairs)?).map_err(WeirError::from)?;
        Ok(passed.values().iter().collect())
    }

    /// Queues an output row: `row` of input `side` with `other` (NULLs when `None`).
    pub fn emit(&mut self, kind: RowKind, side: usize, row: &[u8], other: Option<&[u8]>) {
        let (left, right) = oriented(side, Some(row), other);
        self.pending
            .push((kind, left.map(<[u8]>::to_vec), right.map(<[u8]>::to_vec)));
    }

    /// A batch of the queued rows, if there are any.
    pub fn take_output(&mut self) -> Result<Option<ChangeBatch>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        let pending = std::mem::take(&mut self.pending);
        let pairs: Vec<Pair<'_>> = pending
            .iter()
            .map(|(_, l, r)| (l.as_deref(), r.as_deref()))
            .collect();
        let rows = self.batch(&pairs)?;
        let kinds: Vec<RowKind> = pending.iter().map(|p| p.0).collect();
        let insert_only = kinds.iter().all(|k| *k == RowKind::Insert);
        Ok(Some(ChangeBatch {
            rows,
            kinds: (!insert_only).then_some(kinds),
        }))
    }
}

/// `(left, right)` of a row of input `side` and a row of the other input.
fn oriented<'a>(side: usize, row: Option<&'a [u8]>, other: Option<&'a [u8]>) -> Pair<'a> {
    if side == 0 {
        (row, other)
    } else {
        (other, row)
    }
}
