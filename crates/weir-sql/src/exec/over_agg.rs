//! OVER aggregation (Flink's OverAggregate): each input row is emitted once, as an insert,
//! with the aggregates of its window, the rows of its partition up to it in time order.
//!
//! In event time a row waits in keyed state until the watermark passes its time; then the
//! partition's waiting rows are aggregated in time order (rows of equal time in arrival
//! order). A row at or before the watermark when it arrives is late and dropped, as Flink
//! does. In processing time rows are aggregated as they arrive, the rows of one batch at
//! one time.
//!
//! A partition keeps the state of its calls' accumulators ([`GroupState`], retractable) and,
//! for a bounded window, the arguments of the rows in it: `ROWS` keeps the last `n` rows and
//! retracts the one that leaves; `RANGE` retracts the rows that fall more than the interval
//! behind, and an event-time timer forgets the partition once the watermark is so far past
//! its last row that no later row could see it. `RANK()` and `DENSE_RANK()` count the rows
//! the partition aggregated up to the current row's time (Flink's value for both).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use arrow::array::Array;
use arrow::datatypes::SchemaRef;
use serde::{Deserialize, Serialize};
use weir_core::element::{Batch, Watermark};
use weir_core::Result;
use weir_runtime::operator::now_ms;
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::{Namespace, StateSnapshot, TimeDomain, ValueState};

use super::accumulators::GroupState;
use super::keyed::{arguments, rows_by_key, AggCore, GroupKey, KeyCodec};
use super::value::{timestamps_ms, Value};
use crate::changelog::{ChangeBatch, RowKind};
use crate::plan::{OverCall, OverFrame, OverSpec, TimeAttribute};

/// A row with the arguments of the calls: the row in Arrow's row format and the arguments.
type ArgRow = (GroupKey, Vec<Option<Value>>);

/// What an OVER aggregation keeps per partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OverPartition {
    /// Event time: the rows waiting for the watermark, by time, in arrival order.
    waiting: BTreeMap<i64, Vec<ArgRow>>,
    /// Bounded windows: the time and call arguments of the rows in the window, oldest first.
    window: VecDeque<(i64, Vec<Option<Value>>)>,
    /// The aggregate calls' accumulators over the window's rows.
    group: GroupState,
    /// How many rows were aggregated, for `RANK()` and `DENSE_RANK()`.
    rows: i64,
}

/// The OVER aggregation operator.
pub struct OverAggOperator {
    /// The aggregate calls, the codec of whole input rows (emitted with the results), the
    /// keyed state.
    core: AggCore,
    /// The result columns.
    calls: Vec<OverCall>,
    keys: KeyCodec,
    time: usize,
    time_kind: TimeAttribute,
    frame: OverFrame,
    partition: ValueState<OverPartition>,
}

impl OverAggOperator {
    /// The OVER aggregation `spec` over rows of `input`, producing `schema` (the input's
    /// columns, then one per call).
    pub fn new(spec: &OverSpec, input: &SchemaRef, schema: SchemaRef) -> Result<Self> {
        let aggs = Arc::new(spec.aggs());
        Ok(OverAggOperator {
            core: AggCore::new(aggs, input, input.fields().len(), schema)?,
            calls: spec.calls.clone(),
            keys: KeyCodec::new(input, spec.keys)?,
            time: spec.time,
            time_kind: spec.time_kind,
            frame: spec.frame,
            partition: ValueState::new("over-partition"),
        })
    }

    fn load(&mut self, key: &GroupKey) -> Result<OverPartition> {
        let state = self.partition.clone();
        let found = state.value(&mut self.core.store.access(key.clone())?)?;
        Ok(found.unwrap_or_else(|| OverPartition {
            waiting: BTreeMap::new(),
            window: VecDeque::new(),
            group: GroupState::new(&self.core.calls),
            rows: 0,
        }))
    }

    /// Stores partition `key`, or forgets it when nothing in it can matter again: no row
    /// waits, its bounded `RANGE` window is empty and no rank counts its rows.
    fn store(&mut self, key: &GroupKey, p: OverPartition) -> Result<()> {
        let state = self.partition.clone();
        let mut access = self.core.store.access(key.clone())?;
        let ranks = (self.calls.iter()).any(|c| !matches!(c, OverCall::Agg(_)));
        let forgettable = matches!(self.frame, OverFrame::Range(Some(_)))
            && !ranks
            && p.waiting.is_empty()
            && p.window.is_empty();
        if forgettable {
            state.clear(&mut access)
        } else {
            state.update(&mut access, p)
        }
    }

    /// The result columns of a row of `p`, whose aggregates are `aggregates`.
    fn results(&self, p: &OverPartition, aggregates: Vec<Value>) -> Vec<Value> {
        let mut aggregates = aggregates.into_iter();
        (self.calls.iter())
            .map(|c| match c {
                OverCall::Agg(_) => aggregates.next().unwrap_or(Value::Null),
                OverCall::Rank => Value::Int(p.rows),
            })
            .collect()
    }

    /// Aggregates `rows` of partition `p`, all at `time`, and queues them with their results.
    fn aggregate(&mut self, p: &mut OverPartition, time: i64, rows: Vec<ArgRow>) {
        let calls = self.core.calls.clone();
        p.rows += rows.len() as i64;
        match self.frame {
            OverFrame::Rows(preceding) => {
                for (row, args) in rows {
                    p.group.update(&calls, args.clone(), false, false);
                    if let Some(n) = preceding {
                        p.window.push_back((time, args));
                        if p.window.len() as u64 > n + 1 {
                            if let Some((_, left)) = p.window.pop_front() {
                                p.group.update(&calls, left, true, false);
                            }
                        }
                    }
                    let results = self.results(p, p.group.results(&calls));
                    self.core.emit(RowKind::Insert, row, results);
                }
            }
            OverFrame::Range(preceding) => {
                let mut emitted = Vec::with_capacity(rows.len());
                for (row, args) in rows {
                    p.group.update(&calls, args.clone(), false, false);
                    if preceding.is_some() {
                        p.window.push_back((time, args));
                    }
                    emitted.push(row);
                }
                if let Some(ms) = preceding {
                    self.retract_before(p, time.saturating_sub(ms));
                }
                let results = self.results(p, p.group.results(&calls));
                for row in emitted {
                    self.core.emit(RowKind::Insert, row, results.clone());
                }
            }
        }
    }

    /// Retracts the rows of `p`'s window older than `oldest`.
    fn retract_before(&self, p: &mut OverPartition, oldest: i64) {
        while p.window.front().is_some_and(|(t, _)| *t < oldest) {
            if let Some((_, left)) = p.window.pop_front() {
                p.group.update(&self.core.calls, left, true, false);
            }
        }
    }

    /// Event time: queues the rows of `change` that are not late, each under a timer at its
    /// time.
    fn wait(&mut self, change: &ChangeBatch, keys: &[GroupKey], rows: &[GroupKey]) -> Result<()> {
        let times = timestamps_ms(change.rows.column(self.time))?;
        let watermark = self.core.store.timers.watermark();
        let late = |r: usize| times.is_null(r) || times.value(r) <= watermark;
        for (key, indices) in rows_by_key(keys, late) {
            let mut p = self.load(key)?;
            for r in indices {
                let time = times.value(r);
                let args = arguments(&self.core.calls, &change.rows, r);
                p.waiting
                    .entry(time)
                    .or_default()
                    .push((rows[r].clone(), args));
                self.core.store.timers.register(
                    TimeDomain::EventTime,
                    time,
                    key.clone(),
                    Namespace::Void,
                );
            }
            self.store(key, p)?;
        }
        Ok(())
    }

    /// Event time: aggregates the rows of partition `key` that the watermark passed, then
    /// retracts the rows of a `RANGE` window that no later row can see, and sets a timer to
    /// forget the rest when none can.
    fn fire(&mut self, key: GroupKey, watermark: i64) -> Result<()> {
        let mut p = self.load(&key)?;
        let later = p.waiting.split_off(&watermark.saturating_add(1));
        let due = std::mem::replace(&mut p.waiting, later);
        for (time, rows) in due {
            self.aggregate(&mut p, time, rows);
        }
        if let OverFrame::Range(Some(ms)) = self.frame {
            // Later rows come after the watermark: their windows start after `watermark - ms`.
            self.retract_before(&mut p, watermark.saturating_sub(ms).saturating_add(1));
            if let Some((newest, _)) = p.window.back() {
                let forget_at = newest.saturating_add(ms).saturating_add(1);
                self.core.store.timers.register(
                    TimeDomain::EventTime,
                    forget_at,
                    key.clone(),
                    Namespace::Void,
                );
            }
        }
        self.store(&key, p)
    }
}

impl StreamOperator for OverAggOperator {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.core.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.core.snapshot(snapshot)
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        let keys = self.keys.encode(&change.rows)?;
        let rows = self.core.codec.encode(&change.rows)?;
        if self.time_kind == TimeAttribute::Rowtime {
            return self.wait(&change, &keys, &rows);
        }
        let now = now_ms();
        for (key, indices) in rows_by_key(&keys, |_| false) {
            let mut p = self.load(key)?;
            let arg_rows = indices
                .into_iter()
                .map(|r| {
                    let args = arguments(&self.core.calls, &change.rows, r);
                    (rows[r].clone(), args)
                })
                .collect();
            self.aggregate(&mut p, now, arg_rows);
            self.store(key, p)?;
        }
        if let Some(output) = self.core.take_output()? {
            out.collect(output.into_batch())?;
        }
        Ok(())
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        self.core.store.timers.advance_watermark(watermark.0);
        while let Some((_, key, _)) = self.core.store.timers.pop_event_timer() {
            self.fire(key, watermark.0)?;
        }
        if let Some(output) = self.core.take_output()? {
            out.collect(output.into_batch())?;
        }
        out.emit_watermark(watermark)
    }
}
