//! Top-N and deduplication (Flink's Rank, Deduplicate, WindowRank and WindowDeduplicate): the
//! rows of each partition are kept in rank order in keyed state ([`Partition`]).
//!
//! `RANK()` and `DENSE_RANK()` Top-Ns (Flink runs them in batch mode) rank rows of equal order
//! alike and report a row whose rank changes as `-D` and `+I`.
//!
//! Most Top-Ns update their partition with every input row and emit the change of its ranked
//! rows at once (see [`changes`]): a row that enters the top N pushes the last one out, a
//! retracted row (of an updating input) lets the next one in. Over an insert-only input, rows
//! ranked after N can never come back and are not kept. Two are emitted on the watermark
//! instead, as inserts: a window Top-N (the partition key holds `window_start` and
//! `window_end`) emits a window's top N when the watermark passes its end, and a
//! deduplication keeping the first row in event time emits a partition's earliest row when
//! the watermark passes it, once and for all. Rows that come after the watermark passed the
//! time they would be emitted at are late and dropped.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch};
use arrow::compute::SortOptions;
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, SortField};
use weir_core::element::{Batch, Watermark};
use weir_core::{Result, WeirError};
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::{Namespace, StateSnapshot, TimeDomain, ValueState};

use super::keyed::{expiring, GroupKey, KeyCodec, KeyedStore};
use super::rank_state::{changes, rank_changes, Change, Partition, Style};
use super::value::timestamps_ms;
use crate::changelog::{ChangeBatch, RowKind};
use crate::plan::{RankFunction, RankSpec};

fn arrow_error(e: arrow::error::ArrowError) -> WeirError {
    WeirError::Other(e.to_string())
}

/// Encodes the `ORDER BY` columns of rows as bytes that compare in the sort order.
struct SortCodec {
    converter: Option<RowConverter>,
    columns: Vec<usize>,
}

impl SortCodec {
    fn new(schema: &SchemaRef, spec: &RankSpec) -> Result<Self> {
        let fields: Vec<SortField> = spec
            .order
            .iter()
            .map(|s| {
                SortField::new_with_options(
                    schema.field(s.column).data_type().clone(),
                    SortOptions {
                        descending: s.descending,
                        nulls_first: s.nulls_first,
                    },
                )
            })
            .collect();
        let converter = if fields.is_empty() {
            None
        } else {
            Some(RowConverter::new(fields).map_err(arrow_error)?)
        };
        Ok(SortCodec {
            converter,
            columns: spec.order.iter().map(|s| s.column).collect(),
        })
    }

    /// The sort key of every row of `batch` (all empty when the order is the arrival order).
    fn encode(&self, batch: &RecordBatch) -> Result<Vec<Vec<u8>>> {
        let Some(converter) = &self.converter else {
            return Ok(vec![Vec::new(); batch.num_rows()]);
        };
        let columns: Vec<ArrayRef> = self
            .columns
            .iter()
            .map(|c| batch.column(*c).clone())
            .collect();
        let rows = converter.convert_columns(&columns).map_err(arrow_error)?;
        Ok(rows.iter().map(|r| r.as_ref().to_vec()).collect())
    }
}

/// The Top-N operator.
pub struct RankOperator {
    spec: RankSpec,
    keys: KeyCodec,
    rows: KeyCodec,
    sort: SortCodec,
    schema: SchemaRef,
    store: KeyedStore,
    partition: ValueState<Partition>,
    pending: Vec<Change>,
}

impl RankOperator {
    /// The Top-N `spec` over rows of `input`, producing `schema` (the input's columns, then
    /// the row number if `spec.output_rank`).
    pub fn new(spec: RankSpec, input: &SchemaRef, schema: SchemaRef) -> Result<Self> {
        Ok(RankOperator {
            keys: KeyCodec::new(input, spec.keys)?,
            rows: KeyCodec::new(input, input.fields().len())?,
            sort: SortCodec::new(input, &spec)?,
            spec,
            schema,
            store: KeyedStore::default(),
            partition: ValueState::new("rank-partition"),
            pending: Vec::new(),
        })
    }

    /// Lets each partition's state expire `ttl` after its last change (`table.exec.state.ttl`;
    /// zero keeps it forever).
    pub fn with_state_ttl(mut self, ttl: Duration) -> Self {
        self.partition = expiring(self.partition, ttl);
        self
    }

    /// How many rows of a partition are kept: over an insert-only input, those that can still
    /// be ranked up to `end`.
    fn keep(&self) -> Option<usize> {
        self.spec
            .append_only
            .then(|| usize::try_from(self.spec.end).unwrap_or(usize::MAX))
    }

    /// How changes are reported.
    fn style(&self) -> Style {
        Style {
            positional: self.spec.positional(),
            skip_equal: self.spec.skips_equal_updates(),
        }
    }

    /// Adds (or, for a retraction, removes) one row to partition `key`, queueing the changes
    /// of its ranked rows when `emit`; whether the partition changed.
    fn apply(
        &mut self,
        key: &GroupKey,
        kind: RowKind,
        sort: Vec<u8>,
        row: Vec<u8>,
        emit: bool,
    ) -> Result<bool> {
        let (spec, keep, style) = (&self.spec, self.keep(), self.style());
        // RANK() and DENSE_RANK() rows of equal order share a rank; ROW_NUMBER() numbers them.
        let shared = spec.function != RankFunction::RowNumber;
        let pending = &mut self.pending;
        let update = |p: &mut Partition| -> bool {
            if p.fired {
                return false;
            }
            let numbered = (emit && !shared).then(|| p.ranked(spec.start, spec.end).to_vec());
            let ranked = (emit && shared).then(|| p.ranked_by(spec.function, spec.start, spec.end));
            let changed = if kind.is_accumulate() {
                let at = p.position(&sort, spec.newest_first());
                if !shared && keep.is_some_and(|k| at >= k) {
                    return false;
                }
                p.insert(at, sort, row);
                true
            } else {
                p.retract(&sort, &row)
            };
            if changed {
                if let Some(before) = numbered {
                    let after = p.ranked(spec.start, spec.end);
                    changes(&before, after, spec.start, style, pending);
                }
                if let Some(before) = ranked {
                    let after = p.ranked_by(spec.function, spec.start, spec.end);
                    rank_changes(&before, &after, pending);
                }
            }
            if let Some(keep) = keep {
                p.truncate(if shared {
                    p.rows_up_to(spec.function, spec.end)
                } else {
                    keep
                });
            }
            changed
        };
        let mut access = self.store.access(key.clone())?;
        let state = &self.partition;
        let mut fresh = None;
        let found = state.with_value_mut(&mut access, |p| match p {
            Some(p) => Some((update(p), p.is_empty() && !p.fired)),
            None => {
                let mut p = Partition::default();
                let changed = kind.is_accumulate() && update(&mut p);
                fresh = changed.then_some(p);
                None
            }
        })?;
        match (found, fresh) {
            (Some((changed, true)), _) => {
                state.clear(&mut access)?;
                Ok(changed)
            }
            (Some((changed, false)), _) => Ok(changed),
            (None, Some(p)) => {
                state.update(&mut access, p)?;
                Ok(true)
            }
            (None, None) => Ok(false),
        }
    }

    /// Emits the ranked rows of partition `key` (whose time to be emitted has come) as
    /// inserts; then forgets a window's rows, or marks a first row in event time as emitted.
    fn fire(&mut self, key: GroupKey) -> Result<()> {
        let mut access = self.store.access(key)?;
        let Some(mut p) = self.partition.value(&mut access)? else {
            return Ok(());
        };
        if p.fired {
            return Ok(());
        }
        let ranked = p.ranked(self.spec.start, self.spec.end);
        let style = Style {
            positional: true,
            skip_equal: false,
        };
        changes(&[], ranked, self.spec.start, style, &mut self.pending);
        if self.spec.window_end.is_some() {
            self.partition.clear(&mut access)
        } else {
            p.clear();
            p.fired = true;
            self.partition.update(&mut access, p)
        }
    }

    /// Builds a batch of the queued changes, if there are any.
    fn take_output(&mut self) -> Result<Option<ChangeBatch>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        let pending = std::mem::take(&mut self.pending);
        let rows: Vec<GroupKey> = pending.iter().map(|(_, row, _)| row.clone()).collect();
        let mut columns = self.rows.decode(&rows)?;
        if self.spec.output_rank {
            let ranks: Int64Array = pending.iter().map(|(_, _, r)| *r as i64).collect();
            columns.push(Arc::new(ranks));
        }
        let rows = RecordBatch::try_new(self.schema.clone(), columns).map_err(arrow_error)?;
        let kinds: Vec<RowKind> = pending.iter().map(|(k, _, _)| *k).collect();
        let insert_only = kinds.iter().all(|k| *k == RowKind::Insert);
        Ok(Some(ChangeBatch {
            rows,
            kinds: (!insert_only).then_some(kinds),
        }))
    }

    /// For a Top-N emitted on the watermark, when each row's partition is emitted: the last
    /// millisecond of its window, or the row's event time for a first row; `None` for a row
    /// that comes too late for that.
    fn fire_times(&self, batch: &RecordBatch) -> Result<Option<Vec<Option<i64>>>> {
        if !self.spec.on_watermark() {
            return Ok(None);
        }
        let (column, before_end) = match (self.spec.window_end, self.spec.order.first()) {
            (Some(end), _) => (end, 1),
            (None, Some(time)) => (time.column, 0),
            (None, None) => return Ok(None),
        };
        let times = timestamps_ms(batch.column(column))?;
        let watermark = self.store.timers.watermark();
        Ok(Some(
            (0..times.len())
                .map(|i| {
                    let time = times.is_valid(i).then(|| times.value(i) - before_end)?;
                    // A window fired when the watermark reached its last millisecond; a first
                    // row is late once the watermark passed it.
                    let late = time < watermark || (before_end == 1 && time == watermark);
                    (!late).then_some(time)
                })
                .collect(),
        ))
    }
}

impl StreamOperator for RankOperator {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.store.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.store.snapshot(snapshot)
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        let keys = self.keys.encode(&change.rows)?;
        let rows = self.rows.encode(&change.rows)?;
        let sorts = self.sort.encode(&change.rows)?;
        let fire_times = self.fire_times(&change.rows)?;
        for (i, ((key, row), sort)) in keys.into_iter().zip(rows).zip(sorts).enumerate() {
            let Some(times) = &fire_times else {
                self.apply(&key, change.kind(i), sort, row, true)?;
                continue;
            };
            let Some(fire_at) = times[i] else {
                continue; // late
            };
            if self.apply(&key, RowKind::Insert, sort, row, false)? {
                self.store
                    .timers
                    .register(TimeDomain::EventTime, fire_at, key, Namespace::Void);
            }
        }
        if let Some(output) = self.take_output()? {
            out.collect(output.into_batch())?;
        }
        Ok(())
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        if self.spec.on_watermark() {
            self.store.timers.advance_watermark(watermark.0);
            while let Some((_, key, _)) = self.store.timers.pop_event_timer() {
                self.fire(key)?;
            }
            if let Some(output) = self.take_output()? {
                out.collect(output.into_batch())?;
            }
        }
        out.emit_watermark(watermark)
    }
}
