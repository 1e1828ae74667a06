//! The interval join (Flink's `IntervalJoinOperator`), as a [`KeyedCoProcessFunction`].
//!
//! Left element `a` and right element `b` of the same key join when
//! `a.ts + lower <= b.ts <= a.ts + upper` (either bound can be made exclusive). Each side is
//! buffered in keyed [`MapState`] by timestamp; a new element is added to its side's buffer
//! and joined with the matching elements buffered on the other side. The pair's output
//! timestamp is the larger of the two. A buffered element is dropped by an event-time timer
//! once the watermark has passed the last timestamp an element of the other side could join
//! it with. Late elements (timestamp below the watermark) are dropped, as in Flink, and counted
//! in the operator's `numLateRecordsDropped` metric.

use std::marker::PhantomData;

use weir_core::element::Records;
use weir_core::metrics::{Counter, NUM_LATE_RECORDS_DROPPED};
use weir_core::{Result, WeirError};
use weir_state::MapState;

use super::KeyedCoProcessFunction;
use crate::keyed::{KeyType, KeyedContext};
use crate::operator::OperatorContext;
use crate::side_output::{OutputTag, SideOutputBuffers};

/// Called for every joined pair (Flink's `ProcessJoinFunction`).
///
/// Closures `FnMut(A, B, &mut ProcessJoinContext<O>) -> Result<()>` are join functions too.
pub trait ProcessJoinFunction<A, B, O>: Clone + Send + Sync + 'static {
    /// Called once per subtask before the first pair.
    fn open(&mut self, _ctx: &OperatorContext) -> Result<()> {
        Ok(())
    }
    /// Processes one pair of a left and a right element.
    fn process_element(
        &mut self,
        left: A,
        right: B,
        ctx: &mut ProcessJoinContext<'_, O>,
    ) -> Result<()>;
}

impl<A, B, O, F> ProcessJoinFunction<A, B, O> for F
where
    F: FnMut(A, B, &mut ProcessJoinContext<'_, O>) -> Result<()> + Clone + Send + Sync + 'static,
{
    fn process_element(
        &mut self,
        left: A,
        right: B,
        ctx: &mut ProcessJoinContext<'_, O>,
    ) -> Result<()> {
        self(left, right, ctx)
    }
}

/// What a [`ProcessJoinFunction`] can see and do for one pair.
pub struct ProcessJoinContext<'a, O> {
    out: &'a mut Records<O>,
    side: &'a mut SideOutputBuffers,
    runtime: &'a OperatorContext,
    left_timestamp: i64,
    right_timestamp: i64,
}

impl<O> ProcessJoinContext<'_, O> {
    /// Emits a record with the pair's timestamp.
    pub fn collect(&mut self, value: O) {
        self.out.push(value, Some(self.timestamp()));
    }

    /// Emits a record on the side output `tag`, with the pair's timestamp.
    pub fn output<X: weir_state::StateValue>(&mut self, tag: &OutputTag<X>, value: X) {
        self.side.push(tag, value, Some(self.timestamp()));
    }

    /// The timestamp of the left element.
    pub fn left_timestamp(&self) -> i64 {
        self.left_timestamp
    }

    /// The timestamp of the right element.
    pub fn right_timestamp(&self) -> i64 {
        self.right_timestamp
    }

    /// The pair's timestamp: the larger of the two.
    pub fn timestamp(&self) -> i64 {
        self.left_timestamp.max(self.right_timestamp)
    }

    /// The subtask this function runs in.
    pub fn runtime_context(&self) -> &OperatorContext {
        self.runtime
    }
}

/// The interval join of left elements `A` and right elements `B`; see the module documentation.
pub struct IntervalJoin<A, B, O, F> {
    /// Inclusive bounds (exclusive ones are moved inwards by one millisecond).
    lower: i64,
    upper: i64,
    left: MapState<i64, Vec<A>>,
    right: MapState<i64, Vec<B>>,
    function: F,
    /// Late elements dropped: Flink's `numLateRecordsDropped`.
    dropped: Counter,
    _t: PhantomData<fn() -> O>,
}

impl<A, B, O, F: Clone> Clone for IntervalJoin<A, B, O, F> {
    fn clone(&self) -> Self {
        IntervalJoin {
            lower: self.lower,
            upper: self.upper,
            left: self.left.clone(),
            right: self.right.clone(),
            function: self.function.clone(),
            dropped: Counter::default(),
            _t: PhantomData,
        }
    }
}

impl<A, B, O, F> IntervalJoin<A, B, O, F>
where
    A: weir_state::StateValue,
    B: weir_state::StateValue,
    O: weir_state::StateValue,
    F: ProcessJoinFunction<A, B, O>,
{
    /// Joins `a` and `b` when `a.ts + lower <= b.ts <= a.ts + upper` (in milliseconds; a bound
    /// that is not inclusive excludes equality). An error if `lower > upper`.
    pub fn new(
        lower: i64,
        upper: i64,
        lower_inclusive: bool,
        upper_inclusive: bool,
        function: F,
    ) -> Result<Self> {
        if lower > upper {
            return Err(WeirError::InvalidJob(format!(
                "interval join: the lower bound ({lower} ms) must not be above the upper bound ({upper} ms)"
            )));
        }
        Ok(IntervalJoin {
            lower: if lower_inclusive {
                lower
            } else {
                lower.saturating_add(1)
            },
            upper: if upper_inclusive {
                upper
            } else {
                upper.saturating_sub(1)
            },
            left: MapState::new("LEFT_BUFFER"),
            right: MapState::new("RIGHT_BUFFER"),
            function,
            dropped: Counter::default(),
            _t: PhantomData,
        })
    }

    /// How long after its timestamp a left element can still be joined.
    fn left_retention(&self) -> i64 {
        self.upper.max(0)
    }

    /// How long after its timestamp a right element can still be joined.
    fn right_retention(&self) -> i64 {
        self.lower.saturating_neg().max(0)
    }

    /// Calls the join function for one pair, with the pair's timestamps.
    fn emit<K>(
        &mut self,
        ctx: &mut KeyedContext<'_, K, O>,
        (left, left_timestamp): (A, i64),
        (right, right_timestamp): (B, i64),
    ) -> Result<()> {
        let mut join_ctx = ProcessJoinContext {
            out: &mut *ctx.out,
            side: &mut *ctx.side,
            runtime: ctx.runtime,
            left_timestamp,
            right_timestamp,
        };
        self.function.process_element(left, right, &mut join_ctx)
    }
}

/// The element's timestamp, or `None` if it is late (its timestamp is below the watermark).
fn on_time_timestamp<K: KeyType, O>(ctx: &KeyedContext<'_, K, O>) -> Result<Option<i64>> {
    match ctx.timestamp() {
        Some(ts) if ts != i64::MIN => Ok((ts >= ctx.current_watermark()).then_some(ts)),
        _ => Err(WeirError::Other(
            "interval join: an element has no timestamp; interval joins need event-time \
             timestamps (assign_timestamps_and_watermarks before the join)"
                .into(),
        )),
    }
}

/// Buffers `value` (at `ts`) in `ours`, registers its cleanup timer `retention` after `ts`,
/// and returns the elements buffered in `other` with timestamps in `ts + from ..= ts + to`,
/// each with its timestamp.
fn buffer_and_match<K: KeyType, O, X, Y>(
    ctx: &mut KeyedContext<'_, K, O>,
    ours: &MapState<i64, Vec<X>>,
    other: &MapState<i64, Vec<Y>>,
    value: X,
    ts: i64,
    (from, to): (i64, i64),
    retention: i64,
) -> Result<Vec<(Y, i64)>>
where
    X: weir_state::StateValue,
    Y: weir_state::StateValue,
{
    let mut bucket = ours.remove(ctx, &ts)?.unwrap_or_default();
    bucket.push(value);
    ours.put(ctx, ts, bucket)?;
    ctx.register_event_time_timer(ts.saturating_add(retention));
    let range = ts.saturating_add(from)..=ts.saturating_add(to);
    let mut matches = Vec::new();
    other.for_each(ctx, |t, values| {
        if range.contains(t) {
            matches.extend(values.iter().map(|v| (v.clone(), *t)));
        }
    })?;
    Ok(matches)
}

impl<K, A, B, O, F> KeyedCoProcessFunction<K, A, B, O> for IntervalJoin<A, B, O, F>
where
    K: KeyType,
    A: weir_state::StateValue,
    B: weir_state::StateValue,
    O: weir_state::StateValue,
    F: ProcessJoinFunction<A, B, O>,
{
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.dropped = ctx.metrics().counter(NUM_LATE_RECORDS_DROPPED);
        self.function.open(ctx)
    }

    fn process_element1(&mut self, value: A, ctx: &mut KeyedContext<'_, K, O>) -> Result<()> {
        let Some(ts) = on_time_timestamp(ctx)? else {
            self.dropped.inc();
            return Ok(());
        };
        let bounds = (self.lower, self.upper);
        let retention = self.left_retention();
        let matches = buffer_and_match(
            ctx,
            &self.left,
            &self.right,
            value.clone(),
            ts,
            bounds,
            retention,
        )?;
        for right in matches {
            self.emit(ctx, (value.clone(), ts), right)?;
        }
        Ok(())
    }

    fn process_element2(&mut self, value: B, ctx: &mut KeyedContext<'_, K, O>) -> Result<()> {
        let Some(ts) = on_time_timestamp(ctx)? else {
            self.dropped.inc();
            return Ok(());
        };
        let bounds = (self.upper.saturating_neg(), self.lower.saturating_neg());
        let retention = self.right_retention();
        let matches = buffer_and_match(
            ctx,
            &self.right,
            &self.left,
            value.clone(),
            ts,
            bounds,
            retention,
        )?;
        for left in matches {
            self.emit(ctx, left, (value.clone(), ts))?;
        }
        Ok(())
    }

    /// The buffered elements whose retention ends at `timestamp` can no longer join.
    fn on_timer(&mut self, timestamp: i64, ctx: &mut KeyedContext<'_, K, O>) -> Result<()> {
        self.left
            .remove(ctx, &timestamp.saturating_sub(self.left_retention()))?;
        self.right
            .remove(ctx, &timestamp.saturating_sub(self.right_retention()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use weir_core::element::{Batch, Records, Watermark};

    use super::*;
    use crate::keyed_co::KeyedCoProcessOperator;
    use crate::test_util::{context, CollectOutput};
    use crate::StreamOperator;

    /// (key, timestamp)
    type Event = (u32, i64);
    type Joined = (Event, Event, i64);
    type Join = fn(Event, Event, &mut ProcessJoinContext<'_, Joined>) -> Result<()>;

    type KeyOf = fn(&Event) -> u32;
    type Operator = KeyedCoProcessOperator<
        u32,
        Event,
        Event,
        Joined,
        KeyOf,
        KeyOf,
        IntervalJoin<Event, Event, Joined, Join>,
    >;

    fn operator(lower: (i64, bool), upper: (i64, bool)) -> Operator {
        let join: Join = |a, b, ctx| {
            ctx.collect((a, b, ctx.timestamp()));
            Ok(())
        };
        let key: KeyOf = |e| e.0;
        let function = IntervalJoin::new(lower.0, upper.0, lower.1, upper.1, join).unwrap();
        let mut op = KeyedCoProcessOperator::new(key, key, function);
        op.open(&context()).unwrap();
        op
    }

    fn batch(events: &[Event]) -> Batch {
        Batch::from_records(Records {
            values: events.to_vec(),
            timestamps: Some(events.iter().map(|e| e.1).collect()),
        })
    }

    #[test]
    fn joins_within_bounds_with_the_later_timestamp() {
        for (lower_inclusive, upper_inclusive) in [(true, true), (false, true), (true, false)] {
            let mut op = operator((-5, lower_inclusive), (10, upper_inclusive));
            let mut out = CollectOutput::default();
            op.process_batch(0, batch(&[(1, 100)]), &mut out).unwrap();
            let rights = [(1, 94), (1, 95), (1, 96), (1, 110), (1, 111), (2, 100)];
            op.process_batch(1, batch(&rights), &mut out).unwrap();
            let mut expected = vec![((1, 100), (1, 96), 100)];
            if lower_inclusive {
                expected.insert(0, ((1, 100), (1, 95), 100));
            }
            if upper_inclusive {
                expected.push(((1, 100), (1, 110), 110));
            }
            let got = out.take::<Joined>();
            assert!(got.iter().all(|(j, ts)| Some(j.2) == *ts));
            let got: Vec<Joined> = got.into_iter().map(|(j, _)| j).collect();
            assert_eq!(
                got, expected,
                "inclusive: {lower_inclusive}, {upper_inclusive}"
            );
        }
    }

    #[test]
    fn buffers_are_cleaned_up_when_the_watermark_passes_and_late_elements_dropped() {
        let mut op = operator((-5, true), (10, true));
        let mut out = CollectOutput::default();
        let events: Vec<Event> = (0..10).map(|k| (k, k as i64 * 100)).collect();
        op.process_batch(0, batch(&events), &mut out).unwrap();
        op.process_batch(1, batch(&events), &mut out).unwrap();
        assert_eq!(out.take::<Joined>().len(), 10);
        let buffered = |op: &Operator| {
            let state = op.core.state();
            (
                state.entry_count("LEFT_BUFFER").unwrap(),
                state.entry_count("RIGHT_BUFFER").unwrap(),
                op.core.timers.len(),
            )
        };
        assert_eq!(buffered(&op), (10, 10, 20));

        // Left elements wait 10 ms after their timestamp, right ones 5 ms.
        op.process_watermark(Watermark(405), &mut out).unwrap();
        assert_eq!(buffered(&op), (6, 5, 11));
        op.process_watermark(Watermark(410), &mut out).unwrap();
        assert_eq!(buffered(&op), (5, 5, 10));

        // Late: below the watermark, neither joined nor buffered.
        op.process_batch(1, batch(&[(3, 309), (4, 409)]), &mut out)
            .unwrap();
        assert!(out.take::<Joined>().is_empty());
        assert_eq!(buffered(&op), (5, 5, 10));

        op.process_watermark(Watermark::MAX, &mut out).unwrap();
        assert_eq!(buffered(&op), (0, 0, 0));
        assert_eq!(op.core.state().total_entries().unwrap(), 0);
        assert_eq!(out.watermarks.last(), Some(&Watermark::MAX));
    }
}
