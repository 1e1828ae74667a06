//! The event-time interval join (Flink's `RowTimeIntervalJoin`): a left row at time `l` and a
//! right row at time `r` of the same key join when `lower <= l - r <= upper`. The result is
//! insert-only.
//!
//! Each input's rows are cached in keyed state by time, for as long as a row of the other
//! input that is not late could still join them: a left row until the watermark passes
//! `l - lower`, a right row until it passes `r + upper`. Event-time timers drop them then; an
//! outer side's rows that never joined are emitted padded with NULLs when they are dropped. A
//! row is joined with the cached rows of the other input and cached itself unless the
//! watermark has already passed the last time it could join (then, unmatched on an outer side,
//! it is padded at once). The output watermark is held back by the longer of the two
//! retention spans, because joined rows keep their input times.

use arrow::array::Array;
use arrow::datatypes::SchemaRef;
use weir_core::element::{Batch, Watermark};
use weir_core::Result;
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::{MapState, Namespace, StateSnapshot, TimeDomain};

use super::expr::Compiled;
use super::join_rows::{null_keys, JoinRows, RowBytes};
use super::keyed::{GroupKey, KeyCodec, KeyedStore};
use super::value::timestamps_ms;
use crate::changelog::{ChangeBatch, RowKind};
use crate::plan::{IntervalBounds, JoinKind};

/// Cached rows at one time, each with whether it has joined yet.
type Cached = Vec<(RowBytes, bool)>;

/// The interval join operator.
pub struct IntervalJoinOperator {
    kind: JoinKind,
    keys: KeyCodec,
    key_count: usize,
    rows: JoinRows,
    store: KeyedStore,
    /// Each input's cached rows by time, per key.
    caches: [MapState<i64, Cached>; 2],
    /// How long after its time a row of each input can still join: `-lower` and `upper`.
    retention: [i64; 2],
    /// The time column of each input.
    time_columns: [usize; 2],
}

impl IntervalJoinOperator {
    /// An interval join of inputs of schemas `inputs` (each with the `keys` key columns
    /// first) within `bounds`, whose pairs pass `condition`, producing `schema`.
    pub fn new(
        kind: JoinKind,
        inputs: [&SchemaRef; 2],
        keys: usize,
        bounds: IntervalBounds,
        condition: Option<Compiled>,
        schema: SchemaRef,
    ) -> Result<Self> {
        Ok(IntervalJoinOperator {
            kind,
            keys: KeyCodec::new(inputs[0], keys)?,
            key_count: keys,
            rows: JoinRows::new(inputs, keys, condition, schema)?,
            store: KeyedStore::default(),
            caches: [MapState::new("left-cache"), MapState::new("right-cache")],
            retention: [bounds.lower.saturating_neg(), bounds.upper],
            time_columns: [keys + bounds.left_time, keys + bounds.right_time],
        })
    }

    /// Event time as the join sees it (Flink's operator time: the watermark, not below 0).
    fn operator_time(&self) -> i64 {
        self.store.timers.watermark().max(0)
    }

    /// Rows of `side` with a time at or before this can no longer join.
    fn expiration(&self, side: usize) -> i64 {
        match self.operator_time() {
            i64::MAX => i64::MAX,
            t => t - self.retention[side] - 1,
        }
    }

    /// Joins `row` (of input `side`, at `time`) with the other input's cached rows, dropping
    /// those that expired, then caches it or, if it is too late to join, pads it.
    fn process_row(&mut self, side: usize, key: &GroupKey, row: &[u8], time: i64) -> Result<()> {
        let other = 1 - side;
        let (from, to) = (
            time.saturating_sub(self.retention[other]),
            time.saturating_add(self.retention[side]),
        );
        let expiration = self.expiration(other);
        let mut joined = false;
        if expiration < to {
            let mut cached = self.caches[other].entries(&mut self.store.access(key.clone())?)?;
            cached.sort_by_key(|(t, _)| *t);
            for (t, mut rows) in cached {
                if (from..=to).contains(&t) {
                    let candidates: Vec<&[u8]> = rows.iter().map(|(r, _)| r.as_slice()).collect();
                    let passed = self.rows.matching(side, row, &candidates)?;
                    let mut marked = false;
                    for ((other_row, other_joined), pass) in rows.iter_mut().zip(passed) {
                        if pass {
                            self.rows
                                .emit(RowKind::Insert, side, row, Some(other_row.as_slice()));
                            joined = true;
                            marked |= !*other_joined;
                            *other_joined = true;
                        }
                    }
                    if t <= expiration {
                        self.expire(other, key, t, rows)?;
                    } else if marked {
                        self.caches[other].put(&mut self.store.access(key.clone())?, t, rows)?;
                    }
                } else if t <= expiration {
                    self.expire(other, key, t, rows)?;
                }
            }
        }
        if self.operator_time() < to {
            let cache = &self.caches[side];
            let mut access = self.store.access(key.clone())?;
            let mut rows = cache.get(&mut access, &time)?.unwrap_or_default();
            rows.push((row.to_vec(), joined));
            cache.put(&mut access, time, rows)?;
            let cleanup = to.saturating_add(1);
            self.store.timers.register(
                TimeDomain::EventTime,
                cleanup,
                key.clone(),
                Namespace::Void,
            );
        } else if !joined && self.kind.is_outer(side) {
            self.rows.emit(RowKind::Insert, side, row, None);
        }
        Ok(())
    }

    /// Drops the cached `rows` of `side` at `time`, padding those that never joined on an
    /// outer side.
    fn expire(&mut self, side: usize, key: &GroupKey, time: i64, rows: Cached) -> Result<()> {
        if self.kind.is_outer(side) {
            for (row, joined) in &rows {
                if !joined {
                    self.rows.emit(RowKind::Insert, side, row, None);
                }
            }
        }
        self.caches[side]
            .remove(&mut self.store.access(key.clone())?, &time)
            .map(|_| ())
    }

    /// Drops the expired cached rows of `key` on both inputs.
    fn clean_up(&mut self, key: &GroupKey) -> Result<()> {
        for side in 0..2 {
            let expiration = self.expiration(side);
            let mut cached = self.caches[side].entries(&mut self.store.access(key.clone())?)?;
            cached.retain(|(t, _)| *t <= expiration);
            cached.sort_by_key(|(t, _)| *t);
            for (t, rows) in cached {
                self.expire(side, key, t, rows)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut dyn Output) -> Result<()> {
        if let Some(output) = self.rows.take_output()? {
            out.collect(output.into_batch())?;
        }
        Ok(())
    }
}

impl StreamOperator for IntervalJoinOperator {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.store.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.store.snapshot(snapshot)
    }

    fn process_batch(&mut self, input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        let keys = self.keys.encode(&change.rows)?;
        let rows = self.rows.codec(input).encode(&change.rows)?;
        let null = null_keys(&change.rows, self.key_count);
        let times = timestamps_ms(change.rows.column(self.time_columns[input]))?;
        for (i, (key, row)) in keys.iter().zip(&rows).enumerate() {
            if null[i] || times.is_null(i) {
                if self.kind.is_outer(input) {
                    self.rows.emit(RowKind::Insert, input, row, None);
                }
                continue;
            }
            self.process_row(input, key, row, times.value(i))?;
        }
        self.flush(out)
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        self.store.timers.advance_watermark(watermark.0);
        while let Some((_, key, _)) = self.store.timers.pop_event_timer() {
            self.clean_up(&key)?;
        }
        self.flush(out)?;
        let delay = self.retention[0].max(self.retention[1]);
        if watermark == Watermark::MAX {
            out.emit_watermark(watermark)
        } else {
            out.emit_watermark(Watermark(watermark.0.saturating_sub(delay)))
        }
    }
}
