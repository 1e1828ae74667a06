//! The Correlate operator: joins each row of a changelog batch to the rows a table function
//! makes of it (`LATERAL TABLE(f(...))`, `UNNEST(...)`). A produced row has the row kind of
//! its input row, so retracting an input row retracts its rows.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow::compute::{cast, take};
use arrow::datatypes::SchemaRef;
use weir_core::element::Batch;
use weir_core::{Result, WeirError};
use weir_runtime::{Output, StreamOperator};

use super::expr::{evaluate, Compiled};
use crate::changelog::ChangeBatch;
use crate::functions::{TableRows, UserTableFunction};

/// The Correlate operator.
pub struct CorrelateOperator {
    function: UserTableFunction,
    args: Arc<Vec<Compiled>>,
    /// Input rows without function rows are kept, with NULLs (a left join).
    left_outer: bool,
    schema: SchemaRef,
}

impl CorrelateOperator {
    /// Joins the rows of `function` called with `args` to its input rows, producing `schema`.
    pub fn new(
        function: UserTableFunction,
        args: Arc<Vec<Compiled>>,
        left_outer: bool,
        schema: SchemaRef,
    ) -> Self {
        CorrelateOperator {
            function,
            args,
            left_outer,
            schema,
        }
    }

    fn apply(&self, change: ChangeBatch) -> crate::error::Result<ChangeBatch> {
        let ChangeBatch { rows, kinds } = change;
        let args = (self.args.iter())
            .map(|a| evaluate(a, &rows))
            .collect::<crate::error::Result<Vec<_>>>()?;
        let produced = self.function.0.eval(&args).map_err(|e| {
            WeirError::Other(format!("table function {}: {e}", self.function.0.name()))
        })?;
        let (input_rows, function_rows) = self.pairs(&produced, rows.num_rows());
        let mut columns: Vec<ArrayRef> = (rows.columns().iter())
            .map(|c| take(c.as_ref(), &input_rows, None))
            .collect::<std::result::Result<_, _>>()?;
        let right_fields = &self.schema.fields()[rows.num_columns()..];
        for (column, field) in produced.columns.iter().zip(right_fields) {
            let picked = take(column.as_ref(), &function_rows, None)?;
            columns.push(if picked.data_type() == field.data_type() {
                picked
            } else {
                cast(&picked, field.data_type())?
            });
        }
        let out = RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(input_rows.len())),
        )?;
        let kinds = kinds.map(|k| input_rows.values().iter().map(|r| k[*r as usize]).collect());
        Ok(ChangeBatch { rows: out, kinds })
    }

    /// For each output row, its input row and its function row (NULL for an input row kept
    /// without function rows by a left join).
    fn pairs(&self, produced: &TableRows, input_count: usize) -> (UInt32Array, UInt32Array) {
        if !self.left_outer {
            let n = produced.input_rows.len() as u32;
            return (
                produced.input_rows.clone(),
                UInt32Array::from_iter_values(0..n),
            );
        }
        let mut inputs = Vec::with_capacity(produced.input_rows.len());
        let mut function_rows = Vec::with_capacity(produced.input_rows.len());
        let mut next = 0;
        let produced_rows = produced.input_rows.values();
        for row in 0..input_count as u32 {
            let start = next;
            while next < produced_rows.len() && produced_rows[next] == row {
                inputs.push(row);
                function_rows.push(Some(next as u32));
                next += 1;
            }
            if start == next {
                inputs.push(row);
                function_rows.push(None);
            }
        }
        (UInt32Array::from(inputs), UInt32Array::from(function_rows))
    }
}

impl StreamOperator for CorrelateOperator {
    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let result = self
            .apply(ChangeBatch::from_batch(&batch))
            .map_err(WeirError::from)?;
        if result.rows.num_rows() > 0 {
            out.collect(result.into_batch())?;
        }
        Ok(())
    }
}
