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
use crate::plan::{AggCall, OverCall, OverFrame, OverSpec, TimeAttribute};

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
    fn aggregate(&mut self, p: &mut OverPartition, time: i64, rows: Vec<ArgRow>) -> Result<()> {
        let calls = self.core.calls.clone();
        p.rows += rows.len() as i64;
        match self.frame {
            OverFrame::Rows(preceding) => {
                for (row, args) in rows {
                    Self::add(p, &calls, time, args, preceding.is_some())?;
                    if let Some(n) = preceding {
                        if p.window.len() as u64 > n + 1 {
                            if let Some((_, left)) = p.window.pop_front() {
                                p.group.update(&calls, left, true, false)?;
                            }
                        }
                    }
                    let results = self.results(p, p.group.results(&calls)?);
                    self.core.emit(RowKind::Insert, row, results);
                }
            }
            OverFrame::Range(preceding) => {
                let mut emitted = Vec::with_capacity(rows.len());
                for (row, args) in rows {
                    Self::add(p, &calls, time, args, preceding.is_some())?;
                    emitted.push(row);
                }
                if let Some(ms) = preceding {
                    self.retract_before(p, time.saturating_sub(ms))?;
                }
                let results = self.results(p, p.group.results(&calls)?);
                for row in emitted {
                    self.core.emit(RowKind::Insert, row, results.clone());
                }
            }
        }
        Ok(())
    }

    /// Adds a row at `time` with the call arguments `args` to the aggregates of `p`, and to
    /// its window when the window is `bounded`.
    fn add(
        p: &mut OverPartition,
        calls: &[AggCall],
        time: i64,
        args: Vec<Option<Value>>,
        bounded: bool,
    ) -> Result<()> {
        if bounded {
            p.group.update(calls, args.clone(), false, false)?;
            p.window.push_back((time, args));
        } else {
            p.group.update(calls, args, false, false)?;
        }
        Ok(())
    }

    /// Retracts the rows of `p`'s window older than `oldest`.
    fn retract_before(&self, p: &mut OverPartition, oldest: i64) -> Result<()> {
        while p.window.front().is_some_and(|(t, _)| *t < oldest) {
            if let Some((_, left)) = p.window.pop_front() {
                p.group.update(&self.core.calls, left, true, false)?;
            }
        }
        Ok(())
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
            self.aggregate(&mut p, time, rows)?;
        }
        if let OverFrame::Range(Some(ms)) = self.frame {
            // Later rows come after the watermark: their windows start after `watermark - ms`.
            self.retract_before(&mut p, watermark.saturating_sub(ms).saturating_add(1))?;
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
            self.aggregate(&mut p, now, arg_rows)?;
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

#[cfg(test)]
mod tests {
    use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use weir_core::element::WatermarkStatus;

    use super::*;
    use crate::plan::AggKind;

    /// Keeps the rows emitted.
    #[derive(Default)]
    struct Rows(Vec<RecordBatch>);

    impl Output for Rows {
        fn collect(&mut self, batch: Batch) -> Result<()> {
            self.0.push(ChangeBatch::from_batch(&batch).rows);
            Ok(())
        }
        fn collect_side(&mut self, _tag: &str, _batch: Batch) -> Result<()> {
            Ok(())
        }
        fn emit_watermark(&mut self, _watermark: Watermark) -> Result<()> {
            Ok(())
        }
        fn emit_watermark_status(&mut self, _status: WatermarkStatus) -> Result<()> {
            Ok(())
        }
    }

    fn input() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new("v", DataType::Int64, false),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                false,
            ),
        ]))
    }

    /// An event-time `SUM(v)` per `k` over `frame`, opened.
    fn operator(frame: OverFrame) -> OverAggOperator {
        let spec = OverSpec {
            keys: 1,
            time: 2,
            time_kind: TimeAttribute::Rowtime,
            frame,
            calls: vec![OverCall::Agg(AggCall {
                kind: AggKind::Sum,
                arg: Some(1),
                distinct: false,
                filter: None,
                insert_only: false,
                display: "SUM(v)".into(),
            })],
        };
        let mut fields = input().fields().to_vec();
        fields.push(Arc::new(Field::new("w0$o0", DataType::Int64, true)));
        let schema = Arc::new(Schema::new(fields));
        let mut op = OverAggOperator::new(&spec, &input(), schema).unwrap();
        op.open(&OperatorContext::detached("over", "over")).unwrap();
        op
    }

    /// Feeds rows `(v, ts)` of key `a`.
    fn feed(op: &mut OverAggOperator, rows: &[(i64, i64)], out: &mut Rows) {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["a"; rows.len()])),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(TimestampMillisecondArray::from_iter_values(
                rows.iter().map(|r| r.1),
            )),
        ];
        let batch = RecordBatch::try_new(input(), columns).unwrap();
        op.process_batch(0, ChangeBatch::inserts(batch).into_batch(), out)
            .unwrap();
    }

    fn sums(out: &Rows) -> Vec<i64> {
        (out.0.iter())
            .flat_map(|b| {
                let c = b.column(3).as_any().downcast_ref::<Int64Array>().unwrap();
                c.values().to_vec()
            })
            .collect()
    }

    fn stored(op: &mut OverAggOperator) -> Option<OverPartition> {
        let key = op
            .keys
            .encode(
                &RecordBatch::try_new(
                    input(),
                    vec![
                        Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
                        Arc::new(Int64Array::from(vec![0])),
                        Arc::new(TimestampMillisecondArray::from(vec![0])),
                    ],
                )
                .unwrap(),
            )
            .unwrap()
            .remove(0);
        let state = op.partition.clone();
        state
            .value(&mut op.core.store.access(key).unwrap())
            .unwrap()
    }

    #[test]
    fn rows_windows_keep_only_the_last_rows() {
        let mut op = operator(OverFrame::Rows(Some(1)));
        let mut out = Rows::default();
        let rows: Vec<(i64, i64)> = (1..=50).map(|i| (i, i * 1000)).collect();
        feed(&mut op, &rows, &mut out);
        op.process_watermark(Watermark(60_000), &mut out).unwrap();
        let expected: Vec<i64> = (1..=50).map(|i| i + (i - 1)).collect();
        assert_eq!(sums(&out), expected);
        let p = stored(&mut op).unwrap();
        assert_eq!(p.window.len(), 2);
        assert!(p.waiting.is_empty());
    }

    #[test]
    fn range_windows_are_forgotten_once_no_later_row_can_see_them() {
        let mut op = operator(OverFrame::Range(Some(2000)));
        let mut out = Rows::default();
        feed(
            &mut op,
            &[(1, 1000), (2, 2000), (4, 4000), (8, 3000)],
            &mut out,
        );
        op.process_watermark(Watermark(4000), &mut out).unwrap();
        // 1000: 1; 2000: 1+2; 3000: 1+2+8; 4000: 2+8+4 (1000 is more than 2 s behind).
        assert_eq!(sums(&out), vec![1, 3, 11, 14]);
        // A later row comes after 4000: its window starts after 2000.
        assert_eq!(stored(&mut op).unwrap().window.len(), 2);
        // Once the watermark is 2 s past the last row, no later row can see any.
        op.process_watermark(Watermark(6000), &mut out).unwrap();
        assert!(stored(&mut op).is_some());
        op.process_watermark(Watermark(6001), &mut out).unwrap();
        assert!(stored(&mut op).is_none(), "the partition is forgotten");
        // A late row is dropped; a later one starts afresh.
        feed(&mut op, &[(16, 6000), (32, 7000)], &mut out);
        op.process_watermark(Watermark(8000), &mut out).unwrap();
        assert_eq!(sums(&out), vec![1, 3, 11, 14, 32]);
    }
}
