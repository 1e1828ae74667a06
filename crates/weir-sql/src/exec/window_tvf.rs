//! Window table-valued functions: each row joined with the windows it belongs to, adding
//! `window_start`, `window_end` and `window_time` (the end minus 1 ms, a time attribute).
//! A session window depends on the rows around it: here each row gets its own window
//! `[ts, ts + gap)`, which the session window aggregation ([`super::session_agg`]) merges.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, TimestampMillisecondArray, UInt32Array};
use arrow::datatypes::SchemaRef;
use weir_core::element::Batch;
use weir_core::{Result, WeirError};
use weir_runtime::{Output, StreamOperator};

use super::value::timestamps_ms;
use crate::changelog::ChangeBatch;
use crate::rewrite::{WindowKind, WindowSpec};

/// The windows `[start, end)` that contain `ts`, oldest first (for a session, the row's own
/// window before merging).
pub fn windows_of(w: &WindowSpec, ts: i64) -> Vec<(i64, i64)> {
    let align = |unit: i64| ts - (ts - w.offset_ms).rem_euclid(unit);
    match w.kind {
        WindowKind::Tumble => {
            let start = align(w.size_ms);
            vec![(start, start + w.size_ms)]
        }
        WindowKind::Session => vec![(ts, ts + w.size_ms)],
        WindowKind::Hop => {
            let last = align(w.step_ms);
            let mut out = Vec::new();
            let mut start = last - w.size_ms + w.step_ms;
            while start <= last {
                if ts < start + w.size_ms {
                    out.push((start, start + w.size_ms));
                }
                start += w.step_ms;
            }
            out
        }
        WindowKind::Cumulate => {
            let start = align(w.size_ms);
            (1..=w.size_ms / w.step_ms)
                .map(|k| (start, start + k * w.step_ms))
                .filter(|(_, end)| ts < *end)
                .collect()
        }
    }
}

/// Assigns rows to windows.
pub struct WindowTvfOperator {
    window: WindowSpec,
    time_column: usize,
    schema: SchemaRef,
}

impl WindowTvfOperator {
    /// The operator for `window` over rows whose time attribute is column `time_column`,
    /// producing rows of `schema` (the input's columns and the three window columns).
    pub fn new(window: WindowSpec, time_column: usize, schema: SchemaRef) -> Self {
        WindowTvfOperator {
            window,
            time_column,
            schema,
        }
    }
}

impl StreamOperator for WindowTvfOperator {
    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        let times = timestamps_ms(change.rows.column(self.time_column))?;
        let (mut indices, mut starts, mut ends, mut kinds) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for row in 0..times.len() {
            if times.is_null(row) {
                continue;
            }
            for (start, end) in windows_of(&self.window, times.value(row)) {
                indices.push(row as u32);
                starts.push(start);
                ends.push(end);
                kinds.push(change.kind(row));
            }
        }
        let indices = UInt32Array::from(indices);
        let mut columns: Vec<ArrayRef> = change
            .rows
            .columns()
            .iter()
            .map(|c| arrow::compute::take(c.as_ref(), &indices, None))
            .collect::<Result<_, _>>()
            .map_err(|e| WeirError::Other(e.to_string()))?;
        let window_time: Vec<i64> = ends.iter().map(|e| e - 1).collect();
        for values in [starts, ends, window_time] {
            columns.push(Arc::new(TimestampMillisecondArray::from(values)));
        }
        let rows = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| WeirError::Other(e.to_string()))?;
        if rows.num_rows() > 0 {
            let kinds = change.kinds.as_ref().map(|_| kinds);
            out.collect(ChangeBatch { rows, kinds }.into_batch())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tvf(kind: WindowKind, step_ms: i64, size_ms: i64) -> WindowSpec {
        WindowSpec {
            kind,
            size_ms,
            step_ms,
            offset_ms: 0,
        }
    }

    #[test]
    fn assigns_windows() {
        assert_eq!(windows_of(&tvf(WindowKind::Tumble, 10, 10), 15), [(10, 20)]);
        assert_eq!(
            windows_of(&tvf(WindowKind::Hop, 5, 10), 12),
            [(5, 15), (10, 20)]
        );
        assert_eq!(
            windows_of(&tvf(WindowKind::Cumulate, 5, 15), 7),
            [(0, 10), (0, 15)]
        );
        assert_eq!(windows_of(&tvf(WindowKind::Tumble, 10, 10), -1), [(-10, 0)]);
        assert_eq!(windows_of(&tvf(WindowKind::Session, 5, 5), 12), [(12, 17)]);
    }
}
