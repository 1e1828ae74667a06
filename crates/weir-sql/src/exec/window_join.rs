//! The window join (Flink's `WindowJoinOperator`): the join key includes both inputs'
//! `window_start` and `window_end`, so each key is one window of one key; its rows are kept
//! until the watermark passes the window's end, then joined all at once (rows of an outer
//! side without a match padded with NULLs) and dropped. Rows of windows that already fired
//! are late and dropped. The result is insert-only.

use arrow::array::Array;
use arrow::datatypes::SchemaRef;
use weir_core::element::{Batch, Watermark};
use weir_core::Result;
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::{ListState, Namespace, StateSnapshot, TimeDomain};

use super::expr::Compiled;
use super::join_rows::{null_keys, JoinRows, RowBytes};
use super::keyed::{GroupKey, KeyCodec, KeyedStore};
use super::value::timestamps_ms;
use crate::changelog::{ChangeBatch, RowKind};
use crate::plan::JoinKind;

/// A stored row, and whether its key has a NULL (then it joins nothing).
type Stored = (RowBytes, bool);

/// The window join operator.
pub struct WindowJoinOperator {
    kind: JoinKind,
    keys: KeyCodec,
    key_count: usize,
    window_end: usize,
    rows: JoinRows,
    store: KeyedStore,
    sides: [ListState<Stored>; 2],
}

impl WindowJoinOperator {
    /// A window join of inputs of schemas `inputs` (each with the `keys` key columns first,
    /// among them the window end, column `window_end`) whose pairs pass `condition`,
    /// producing `schema`.
    pub fn new(
        kind: JoinKind,
        inputs: [&SchemaRef; 2],
        keys: usize,
        window_end: usize,
        condition: Option<Compiled>,
        schema: SchemaRef,
    ) -> Result<Self> {
        Ok(WindowJoinOperator {
            kind,
            keys: KeyCodec::new(inputs[0], keys)?,
            key_count: keys,
            window_end,
            rows: JoinRows::new(inputs, keys, condition, schema)?,
            store: KeyedStore::default(),
            sides: [
                ListState::new("left-window"),
                ListState::new("right-window"),
            ],
        })
    }

    /// Joins the rows of window-and-key `key` and forgets them.
    fn fire(&mut self, key: &GroupKey) -> Result<()> {
        let mut access = self.store.access(key.clone())?;
        let left = self.sides[0].get(&mut access)?;
        let right = self.sides[1].get(&mut access)?;
        self.sides[0].clear(&mut access)?;
        self.sides[1].clear(&mut access)?;
        let mut right_matched = vec![false; right.len()];
        for (l, l_null) in &left {
            let candidates: Vec<&[u8]> = right.iter().map(|(r, _)| r.as_slice()).collect();
            let passed = if *l_null {
                vec![false; right.len()]
            } else {
                self.rows.matching(0, l, &candidates)?
            };
            let mut matched = false;
            for (i, ((r, r_null), pass)) in right.iter().zip(passed).enumerate() {
                if pass && !r_null {
                    self.rows.emit(RowKind::Insert, 0, l, Some(r.as_slice()));
                    matched = true;
                    right_matched[i] = true;
                }
            }
            if !matched && self.kind.is_outer(0) {
                self.rows.emit(RowKind::Insert, 0, l, None);
            }
        }
        if self.kind.is_outer(1) {
            for ((r, _), matched) in right.iter().zip(right_matched) {
                if !matched {
                    self.rows.emit(RowKind::Insert, 1, r, None);
                }
            }
        }
        Ok(())
    }
}

impl StreamOperator for WindowJoinOperator {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.store.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.store.snapshot(snapshot)
    }

    fn process_batch(&mut self, input: usize, batch: Batch, _out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        let keys = self.keys.encode(&change.rows)?;
        let rows = self.rows.codec(input).encode(&change.rows)?;
        let null = null_keys(&change.rows, self.key_count);
        let ends = timestamps_ms(change.rows.column(self.window_end))?;
        for (i, (key, row)) in keys.into_iter().zip(rows).enumerate() {
            if ends.is_null(i) || ends.value(i) - 1 <= self.store.timers.watermark() {
                continue; // late: the window already fired
            }
            let fire_at = ends.value(i) - 1;
            self.sides[input].add(&mut self.store.access(key.clone())?, (row, null[i]))?;
            self.store
                .timers
                .register(TimeDomain::EventTime, fire_at, key, Namespace::Void);
        }
        Ok(())
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        self.store.timers.advance_watermark(watermark.0);
        while let Some((_, key, _)) = self.store.timers.pop_event_timer() {
            self.fire(&key)?;
        }
        if let Some(output) = self.rows.take_output()? {
            out.collect(output.into_batch())?;
        }
        out.emit_watermark(watermark)
    }
}
