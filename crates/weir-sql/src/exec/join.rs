//! The regular streaming join (Flink's `StreamingJoinOperator`): both inputs' rows are kept in
//! keyed state by join key, each arriving row is joined with the other input's rows of its key,
//! and the result is a changelog.
//!
//! Per join key and input, the state maps each distinct row to how often it is there and, for
//! an input whose unmatched rows are emitted (the outer side), with how many rows of the other
//! input it currently joins. That number says when a NULL-padded row appears or goes: a left
//! row of a LEFT JOIN without a match is emitted as `+I[a, NULL]`; when its first match `b`
//! arrives, `-D[a, NULL]` and `+I[a, b]` follow; when `b` is retracted, `-D[a, b]` and
//! `+I[a, NULL]`. An inner join passes on the input's row kind (`+I`, `+U`, `-U`, `-D`); an
//! outer join emits inserts and deletes only, as Flink does.
//!
//! With `table.exec.state.ttl`, a stored row expires that long after it was last written
//! (Flink's `OnCreateAndWrite`, never returning expired rows).

use std::time::Duration;

use arrow::datatypes::SchemaRef;
use serde::{Deserialize, Serialize};
use weir_core::element::Batch;
use weir_core::Result;
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::{MapState, StateSnapshot};

use super::expr::Compiled;
use super::join_rows::{null_keys, JoinRows, RowBytes};
use super::keyed::{state_ttl, GroupKey, KeyCodec, KeyedStore};
use crate::changelog::{ChangeBatch, RowKind};
use crate::plan::JoinKind;

/// A distinct stored row of one input.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Stored {
    /// How many times the row is in the input.
    count: u32,
    /// With how many rows of the other input it joins (kept for outer sides only).
    associations: u32,
}

/// The regular join operator.
pub struct JoinOperator {
    kind: JoinKind,
    keys: KeyCodec,
    key_count: usize,
    rows: JoinRows,
    store: KeyedStore,
    /// The stored rows of each input, by join key.
    sides: [MapState<RowBytes, Stored>; 2],
}

impl JoinOperator {
    /// A join of inputs of schemas `inputs` (each with the `keys` key columns first) whose
    /// pairs pass `condition`, producing `schema`; rows expire after `ttl` unless it is zero.
    pub fn new(
        kind: JoinKind,
        inputs: [&SchemaRef; 2],
        keys: usize,
        condition: Option<Compiled>,
        schema: SchemaRef,
        ttl: Duration,
    ) -> Result<Self> {
        let side = |name: &str| match state_ttl(ttl) {
            Some(ttl) => MapState::new(name).with_ttl(ttl),
            None => MapState::new(name),
        };
        Ok(JoinOperator {
            kind,
            keys: KeyCodec::new(inputs[0], keys)?,
            key_count: keys,
            rows: JoinRows::new(inputs, keys, condition, schema)?,
            store: KeyedStore::default(),
            sides: [side("left-records"), side("right-records")],
        })
    }

    /// For each of `rows` (of input `side`, with their `keys`; none for a NULL key), the other
    /// input's rows of its key that join it, each with how it is stored, in a deterministic
    /// order. The join condition is evaluated once over all pairs of the batch.
    fn matches(
        &mut self,
        side: usize,
        keys: &[GroupKey],
        rows: &[RowBytes],
        null: &[bool],
    ) -> Result<Vec<Vec<(RowBytes, Stored)>>> {
        let mut candidates = Vec::with_capacity(rows.len());
        for (key, null) in keys.iter().zip(null) {
            let mut others = match null {
                true => Vec::new(),
                false => self.sides[1 - side].entries(&mut self.store.access(key.clone())?)?,
            };
            others.sort_by(|a, b| a.0.cmp(&b.0));
            candidates.push(others);
        }
        let pairs: Vec<(&[u8], &[u8])> = rows
            .iter()
            .zip(&candidates)
            .flat_map(|(row, others)| others.iter().map(|(o, _)| (row.as_slice(), o.as_slice())))
            .collect();
        let mut passed = self.rows.matching_pairs(side, &pairs)?.into_iter();
        for others in &mut candidates {
            others.retain(|_| passed.next().unwrap_or(false));
        }
        Ok(candidates)
    }

    /// `matches` of a row of input `side` with how each is stored now: an earlier row of the
    /// same batch may have changed the associations of a row of an outer other input.
    fn current(
        &mut self,
        side: usize,
        key: &GroupKey,
        matches: Vec<(RowBytes, Stored)>,
    ) -> Result<Vec<(RowBytes, Stored)>> {
        if !self.kind.is_outer(1 - side) {
            return Ok(matches);
        }
        let state = &self.sides[1 - side];
        let mut access = self.store.access(key.clone())?;
        matches
            .into_iter()
            .map(|(row, stored)| {
                let now = state.get(&mut access, &row)?.unwrap_or(stored);
                Ok((row, now))
            })
            .collect()
    }

    /// Adds `row` to the stored rows of `side` (with its `associations` on an outer side).
    fn add(&mut self, side: usize, key: &GroupKey, row: &[u8], associations: u32) -> Result<()> {
        let state = &self.sides[side];
        let mut access = self.store.access(key.clone())?;
        let row = row.to_vec();
        let mut stored = state.get(&mut access, &row)?.unwrap_or_default();
        stored.count += 1;
        stored.associations = associations;
        state.put(&mut access, row, stored)
    }

    /// Removes one `row` from the stored rows of `side`, if it is there.
    fn retract(&mut self, side: usize, key: &GroupKey, row: &[u8]) -> Result<()> {
        let state = &self.sides[side];
        let mut access = self.store.access(key.clone())?;
        let row = row.to_vec();
        match state.get(&mut access, &row)? {
            Some(stored) if stored.count > 1 => state.put(
                &mut access,
                row,
                Stored {
                    count: stored.count - 1,
                    ..stored
                },
            ),
            Some(_) => state.remove(&mut access, &row).map(|_| ()),
            None => Ok(()),
        }
    }

    /// Sets the number of associations of the stored `row` of `side`.
    fn associate(
        &mut self,
        side: usize,
        key: &GroupKey,
        row: RowBytes,
        stored: Stored,
    ) -> Result<()> {
        self.sides[side].put(&mut self.store.access(key.clone())?, row, stored)
    }

    /// Processes one row of input `side`, whose `matches` [`JoinOperator::matches`] found.
    fn process_row(
        &mut self,
        side: usize,
        kind: RowKind,
        key: &GroupKey,
        row: &[u8],
        null_key: bool,
        matches: Vec<(RowBytes, Stored)>,
    ) -> Result<()> {
        let other = 1 - side;
        let (input_outer, other_outer) = (self.kind.is_outer(side), self.kind.is_outer(other));
        let matches = self.current(side, key, matches)?;
        if kind.is_accumulate() {
            if matches.is_empty() {
                if input_outer {
                    self.rows.emit(RowKind::Insert, side, row, None);
                }
                if !null_key {
                    self.add(side, key, row, 0)?;
                }
                return Ok(());
            }
            let output_kind = if input_outer || other_outer {
                RowKind::Insert
            } else {
                kind
            };
            let mut joined = 0;
            for (other_row, stored) in matches {
                for _ in 0..stored.count {
                    if other_outer && stored.associations == 0 {
                        self.rows.emit(RowKind::Delete, other, &other_row, None);
                    }
                    self.rows
                        .emit(output_kind, side, row, Some(other_row.as_slice()));
                    joined += 1;
                }
                if other_outer {
                    let associations = stored.associations + 1;
                    self.associate(
                        other,
                        key,
                        other_row,
                        Stored {
                            associations,
                            ..stored
                        },
                    )?;
                }
            }
            self.add(side, key, row, joined)
        } else {
            if !null_key {
                self.retract(side, key, row)?;
            }
            if matches.is_empty() {
                if input_outer {
                    self.rows.emit(RowKind::Delete, side, row, None);
                }
                return Ok(());
            }
            let output_kind = if input_outer { RowKind::Delete } else { kind };
            for (other_row, stored) in matches {
                for _ in 0..stored.count {
                    self.rows
                        .emit(output_kind, side, row, Some(other_row.as_slice()));
                    if other_outer && stored.associations == 1 {
                        self.rows.emit(RowKind::Insert, other, &other_row, None);
                    }
                }
                if other_outer {
                    let associations = stored.associations.saturating_sub(1);
                    self.associate(
                        other,
                        key,
                        other_row,
                        Stored {
                            associations,
                            ..stored
                        },
                    )?;
                }
            }
            Ok(())
        }
    }
}

impl StreamOperator for JoinOperator {
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
        let matches = self.matches(input, &keys, &rows, &null)?;
        for (i, ((key, row), matches)) in keys.iter().zip(&rows).zip(matches).enumerate() {
            self.process_row(input, change.kind(i), key, row, null[i], matches)?;
        }
        if let Some(output) = self.rows.take_output()? {
            out.collect(output.into_batch())?;
        }
        Ok(())
    }
}
