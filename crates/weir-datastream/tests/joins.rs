//! Joins of two streams (interval join, window join and co-group, keyed co-process) and the
//! broadcast state pattern, each compared with the same result computed by brute force on the
//! generated input.
//!
//! Inputs are out of order by less than `BOUND` ms and never late: every record's timestamp is
//! above the watermark of the records before it, with periodic bounded-out-of-orderness
//! watermarks (the records released over time by a throttled parallel source) as well as with
//! a watermark after every record.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{env, Rng};
use weir_core::element::Watermark;
use weir_datastream::prelude::*;

/// How far out of order the generated streams are, in ms.
const BOUND: i64 = 20;

/// (key, timestamp, id)
type Event = (u32, i64, u32);

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// `n` events over `keys` keys, about `step` ms apart, in an order that is out of order by
/// less than `BOUND` ms: sorted by timestamp minus a random delay below `BOUND`.
fn events(n: u32, keys: u64, step: u64, seed: u64) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    let mut ts = 0i64;
    let mut tagged: Vec<(i64, Event)> = (0..n)
        .map(|id| {
            ts += rng.below(step + 1) as i64;
            let delay = rng.below(BOUND as u64) as i64;
            (ts - delay, (rng.below(keys) as u32, ts, id))
        })
        .collect();
    tagged.sort_by_key(|(order, e)| (*order, e.2));
    tagged.into_iter().map(|(_, e)| e).collect()
}

/// A watermark right after every record: the highest timestamp so far minus `BOUND` - 1.
struct EveryRecord(i64);

impl<T> WatermarkGenerator<T> for EveryRecord {
    fn on_event(&mut self, _record: &T, timestamp: i64, output: &mut WatermarkOutput) {
        self.0 = self.0.max(timestamp);
        output.emit(Watermark(self.0 - BOUND - 1));
    }
    fn on_periodic_emit(&mut self, _output: &mut WatermarkOutput) {}
}

#[derive(Clone, Copy, Debug)]
enum Watermarks {
    /// `for_bounded_out_of_orderness(BOUND)`, emitted every millisecond.
    Periodic,
    /// [`EveryRecord`].
    Punctuated,
}

/// An environment whose periodic watermarks come every millisecond.
fn event_time_env(parallelism: usize) -> StreamExecutionEnvironment {
    let env = env(parallelism);
    env.configure("pipeline.auto-watermark-interval", "1 ms");
    env
}

/// `events` as a stream with event time from `ts_of`. With periodic watermarks the events
/// are released over about a quarter of a second, so that watermarks come between them.
fn timed<T: Record + Sync>(
    env: &StreamExecutionEnvironment,
    events: Vec<T>,
    ts_of: fn(&T) -> i64,
    watermarks: Watermarks,
) -> DataStream<T> {
    let (stream, strategy) = match watermarks {
        Watermarks::Periodic => {
            let (count, rate) = (events.len() as u64, events.len() as f64 * 4.0);
            let events = std::sync::Arc::new(events);
            let stream =
                env.from_generator(move |i| events[i as usize].clone(), Some(count), Some(rate));
            let bound = Duration::from_millis(BOUND as u64);
            (
                stream,
                WatermarkStrategy::for_bounded_out_of_orderness(bound),
            )
        }
        Watermarks::Punctuated => (
            env.from_collection(events),
            WatermarkStrategy::for_generator(|| EveryRecord(i64::MIN)),
        ),
    };
    stream.assign_timestamps_and_watermarks(
        strategy.with_timestamp_assigner(move |e, _| Ok(ts_of(e))),
    )
}

fn event_ts(e: &Event) -> i64 {
    e.1
}

// ----- interval join -----

/// (left id, right id, left timestamp, right timestamp, output timestamp)
type JoinedIds = (u32, u32, i64, i64, i64);

fn interval_join_brute_force(
    left: &[Event],
    right: &[Event],
    (lower, lower_inclusive): (i64, bool),
    (upper, upper_inclusive): (i64, bool),
) -> Vec<JoinedIds> {
    let mut out = Vec::new();
    for a in left {
        for b in right {
            let above_lower = if lower_inclusive {
                b.1 >= a.1 + lower
            } else {
                b.1 > a.1 + lower
            };
            let below_upper = if upper_inclusive {
                b.1 <= a.1 + upper
            } else {
                b.1 < a.1 + upper
            };
            if a.0 == b.0 && above_lower && below_upper {
                out.push((a.2, b.2, a.1, b.1, a.1.max(b.1)));
            }
        }
    }
    sorted(out)
}

#[test]
fn interval_join_equals_brute_force_with_inclusive_and_exclusive_bounds() {
    let left = events(1500, 10, 4, 1);
    let right = events(1500, 10, 4, 2);
    let cases = [
        ((-30, true), (50, true), Watermarks::Periodic),
        ((-30, false), (50, false), Watermarks::Punctuated),
        ((0, true), (0, true), Watermarks::Periodic),
        ((10, true), (40, false), Watermarks::Punctuated),
        ((-40, false), (-10, true), Watermarks::Punctuated),
    ];
    for parallelism in [1, 3] {
        for (lower, upper, watermarks) in cases {
            let env = event_time_env(parallelism);
            let a = timed(&env, left.clone(), event_ts, watermarks).key_by(|e: &Event| e.0);
            let b = timed(&env, right.clone(), event_ts, watermarks).key_by(|e: &Event| e.0);
            let mut joined = a.interval_join(&b).between(lower.0, upper.0);
            if !lower.1 {
                joined = joined.lower_bound_exclusive();
            }
            if !upper.1 {
                joined = joined.upper_bound_exclusive();
            }
            let out = joined
                .process(
                    |l: Event, r: Event, ctx: &mut ProcessJoinContext<'_, JoinedIds>| {
                        ctx.collect((
                            l.2,
                            r.2,
                            ctx.left_timestamp(),
                            ctx.right_timestamp(),
                            ctx.timestamp(),
                        ));
                        Ok(())
                    },
                )
                .execute_and_collect()
                .unwrap();
            let expected = interval_join_brute_force(&left, &right, lower, upper);
            assert!(!expected.is_empty());
            assert_eq!(
                sorted(out),
                expected,
                "parallelism {parallelism}, bounds {lower:?} {upper:?}, {watermarks:?}"
            );
        }
    }
}

#[test]
fn interval_join_emits_with_the_pair_timestamp_and_rejects_inverted_bounds() {
    let env = event_time_env(2);
    let left =
        timed(&env, vec![(1, 100, 0)], event_ts, Watermarks::Periodic).key_by(|e: &Event| e.0);
    let right = timed(
        &env,
        vec![(1, 90, 2), (1, 130, 1)],
        event_ts,
        Watermarks::Periodic,
    )
    .key_by(|e: &Event| e.0);
    let out = left
        .interval_join(&right)
        .between(-10, 30)
        .process(
            |l: Event, r: Event, ctx: &mut ProcessJoinContext<'_, (u32, u32)>| {
                ctx.collect((l.2, r.2));
                Ok(())
            },
        )
        .process(
            |pair: (u32, u32), ctx: &mut ProcessContext<'_, ((u32, u32), Option<i64>)>| {
                ctx.collect((pair, ctx.timestamp()));
                Ok(())
            },
        )
        .execute_and_collect()
        .unwrap();
    assert_eq!(sorted(out), vec![((0, 1), Some(130)), ((0, 2), Some(100))]);

    let env = event_time_env(1);
    let left =
        timed(&env, vec![(1, 100, 0)], event_ts, Watermarks::Periodic).key_by(|e: &Event| e.0);
    let err = left
        .interval_join(&left)
        .between(5, -5)
        .process(|_: Event, _: Event, _: &mut ProcessJoinContext<'_, u32>| Ok(()))
        .execute_and_collect()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("lower bound (5 ms) must not be above"),
        "{err}"
    );
}

// ----- window join and co-group -----

/// The windows `[start, end)` of `size` starting every `slide` that contain `ts`.
fn windows_of(ts: i64, size: i64, slide: i64) -> Vec<(i64, i64)> {
    let first = (ts - size).div_euclid(slide) - 1;
    let last = ts.div_euclid(slide) + 1;
    (first..=last)
        .map(|k| (k * slide, k * slide + size))
        .filter(|(start, end)| *start <= ts && ts < *end)
        .collect()
}

/// Per (key, window): the left and the right ids, sorted.
type Groups = BTreeMap<(u32, (i64, i64)), (Vec<u32>, Vec<u32>)>;

/// Groups `left` and `right` by key and by the windows `windows_of` a key and timestamp.
fn groups_by(
    left: &[Event],
    right: &[Event],
    windows_of: impl Fn(u32, i64) -> Vec<(i64, i64)>,
) -> Groups {
    let mut groups = Groups::new();
    for e in left {
        for w in windows_of(e.0, e.1) {
            groups.entry((e.0, w)).or_default().0.push(e.2);
        }
    }
    for e in right {
        for w in windows_of(e.0, e.1) {
            groups.entry((e.0, w)).or_default().1.push(e.2);
        }
    }
    for (l, r) in groups.values_mut() {
        l.sort();
        r.sort();
    }
    groups
}

fn groups(left: &[Event], right: &[Event], size: i64, slide: i64) -> Groups {
    groups_by(left, right, |_, ts| windows_of(ts, size, slide))
}

/// Session windows with `gap` per key over the timestamps of both sides together, as Flink
/// merges them: windows `[ts, ts + gap)` that overlap or touch merge.
fn session_groups(left: &[Event], right: &[Event], gap: i64) -> Groups {
    let mut times: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
    for e in left.iter().chain(right) {
        times.entry(e.0).or_default().push(e.1);
    }
    let mut sessions: BTreeMap<u32, Vec<(i64, i64)>> = BTreeMap::new();
    for (key, mut ts) in times {
        ts.sort();
        let key_sessions = sessions.entry(key).or_default();
        for t in ts {
            match key_sessions.last_mut() {
                Some((_, end)) if t <= *end => *end = (*end).max(t + gap),
                _ => key_sessions.push((t, t + gap)),
            }
        }
    }
    groups_by(left, right, |key, ts| {
        sessions[&key]
            .iter()
            .copied()
            .filter(|(start, end)| *start <= ts && ts < *end)
            .collect()
    })
}

/// Attaches each record's timestamp.
fn with_timestamps<T: Record>(stream: &DataStream<T>) -> DataStream<(T, Option<i64>)> {
    stream.process(|v: T, ctx: &mut ProcessContext<'_, (T, Option<i64>)>| {
        ctx.collect((v, ctx.timestamp()));
        Ok(())
    })
}

const WINDOWS: [(i64, i64); 2] = [(100, 100), (100, 30)];

fn ms(ms: i64) -> Duration {
    Duration::from_millis(ms as u64)
}

/// The (left id, right id) pairs of the window join of `a` and `b` on their keys, with
/// their timestamps.
fn joined_ids<WA: WindowAssigner<Either<Event, Event>>>(
    a: &DataStream<Event>,
    b: &DataStream<Event>,
    assigner: WA,
) -> Vec<((u32, u32), Option<i64>)> {
    let joined = a
        .join(b)
        .where_key(|e: &Event| e.0)
        .equal_to(|e: &Event| e.0)
        .window(assigner)
        .apply(|l: Event, r: Event| (l.2, r.2));
    sorted(with_timestamps(&joined).execute_and_collect().unwrap())
}

/// What the join of every group emits: each pair, with the timestamp `end - 1`.
fn expected_pairs(groups: Groups) -> Vec<((u32, u32), Option<i64>)> {
    let mut expected = Vec::new();
    for ((_, (_, end)), (ls, rs)) in groups {
        for l in &ls {
            expected.extend(rs.iter().map(|r| ((*l, *r), Some(end - 1))));
        }
    }
    assert!(!expected.is_empty());
    sorted(expected)
}

/// (key, left ids, right ids)
type CoGrouped = (u32, Vec<u32>, Vec<u32>);

/// The co-groups of `a` and `b` on their keys, with their timestamps.
fn co_grouped_ids<WA: WindowAssigner<Either<Event, Event>>>(
    a: &DataStream<Event>,
    b: &DataStream<Event>,
    assigner: WA,
) -> Vec<(CoGrouped, Option<i64>)> {
    let grouped = a
        .co_group(b)
        .where_key(|e: &Event| e.0)
        .equal_to(|e: &Event| e.0)
        .window(assigner)
        .apply(|ls: &[Event], rs: &[Event], out: &mut Vec<CoGrouped>| {
            let key = ls.first().or(rs.first()).map_or(u32::MAX, |e| e.0);
            let ids = |es: &[Event]| sorted(es.iter().map(|e| e.2).collect());
            out.push((key, ids(ls), ids(rs)));
        });
    sorted(with_timestamps(&grouped).execute_and_collect().unwrap())
}

/// What the co-group of every group emits, with the timestamp `end - 1`.
fn expected_co_groups(groups: Groups) -> Vec<(CoGrouped, Option<i64>)> {
    sorted(
        groups
            .into_iter()
            .map(|((key, (_, end)), (ls, rs))| ((key, ls, rs), Some(end - 1)))
            .collect(),
    )
}

#[test]
fn window_join_equals_brute_force_tumbling_and_sliding() {
    let left = events(1200, 7, 3, 3);
    let right = events(1200, 7, 3, 4);
    for parallelism in [1, 3] {
        for (size, slide) in WINDOWS {
            let env = event_time_env(parallelism);
            let a = timed(&env, left.clone(), event_ts, Watermarks::Periodic);
            let b = timed(&env, right.clone(), event_ts, Watermarks::Punctuated);
            let out = if size == slide {
                joined_ids(&a, &b, TumblingEventTimeWindows::of(ms(size)))
            } else {
                joined_ids(&a, &b, SlidingEventTimeWindows::of(ms(size), ms(slide)))
            };
            assert_eq!(
                out,
                expected_pairs(groups(&left, &right, size, slide)),
                "parallelism {parallelism}, window {size}/{slide}"
            );
        }
    }
}

#[test]
fn window_co_group_equals_brute_force_tumbling_and_sliding() {
    let left = events(1000, 5, 4, 5);
    let right = events(600, 5, 6, 6);
    for parallelism in [1, 3] {
        for (size, slide) in WINDOWS {
            let env = event_time_env(parallelism);
            let a = timed(&env, left.clone(), event_ts, Watermarks::Punctuated);
            let b = timed(&env, right.clone(), event_ts, Watermarks::Periodic);
            let out = if size == slide {
                co_grouped_ids(&a, &b, TumblingEventTimeWindows::of(ms(size)))
            } else {
                co_grouped_ids(&a, &b, SlidingEventTimeWindows::of(ms(size), ms(slide)))
            };
            assert_eq!(
                out,
                expected_co_groups(groups(&left, &right, size, slide)),
                "parallelism {parallelism}, window {size}/{slide}"
            );
        }
    }
}

/// The events with even timestamps (rounded down: still never late), for an odd session
/// gap: then no element's window just touches a session that may have fired already, a
/// race whose outcome depends on when watermarks come.
fn even(events: Vec<Event>) -> Vec<Event> {
    events
        .into_iter()
        .map(|(k, ts, id)| (k, ts & !1, id))
        .collect()
}

const SESSION_GAP: i64 = 41;

/// Checks that the sessions of `left` and `right` include sessions with both sides, and
/// keys with several sessions, so that merging across sides and splitting are tested.
fn check_session_groups(groups: &Groups) {
    let both = groups
        .values()
        .filter(|(l, r)| !l.is_empty() && !r.is_empty());
    assert!(both.count() > 5, "too few sessions with both sides");
    let one = groups
        .values()
        .filter(|(l, r)| l.is_empty() || r.is_empty());
    assert!(one.count() > 0, "no session with one side only");
    let keys: std::collections::BTreeSet<_> = groups.keys().map(|(k, _)| k).collect();
    assert!(groups.len() > 2 * keys.len(), "too few sessions per key");
}

#[test]
fn session_window_join_merges_sessions_across_both_sides() {
    let left = even(events(500, 4, 12, 7));
    let right = even(events(300, 4, 20, 8));
    let expected = session_groups(&left, &right, SESSION_GAP);
    check_session_groups(&expected);
    let expected = expected_pairs(expected);
    for parallelism in [1, 3] {
        let env = event_time_env(parallelism);
        let a = timed(&env, left.clone(), event_ts, Watermarks::Periodic);
        let b = timed(&env, right.clone(), event_ts, Watermarks::Punctuated);
        let out = joined_ids(&a, &b, EventTimeSessionWindows::with_gap(ms(SESSION_GAP)));
        assert_eq!(out, expected, "parallelism {parallelism}");
    }
}

#[test]
fn session_window_co_group_merges_sessions_across_both_sides() {
    let left = even(events(300, 3, 30, 9));
    let right = even(events(200, 3, 45, 10));
    let expected = session_groups(&left, &right, SESSION_GAP);
    check_session_groups(&expected);
    let expected = expected_co_groups(expected);
    for parallelism in [1, 3] {
        let env = event_time_env(parallelism);
        let a = timed(&env, left.clone(), event_ts, Watermarks::Punctuated);
        let b = timed(&env, right.clone(), event_ts, Watermarks::Periodic);
        let out = co_grouped_ids(&a, &b, EventTimeSessionWindows::with_gap(ms(SESSION_GAP)));
        assert_eq!(out, expected, "parallelism {parallelism}");
    }
}

// ----- keyed co-process -----

const TIMEOUT: i64 = 50;

/// Orders (first input) are paid if a payment (second input) of the same id arrives with a
/// timestamp at most `TIMEOUT` after the order's; decided by an event-time timer.
#[derive(Clone)]
struct PaymentCheck {
    order: ValueState<i64>,
    payment: ValueState<i64>,
}

impl KeyedCoProcessFunction<u32, Event, Event, (u32, bool)> for PaymentCheck {
    fn process_element1(
        &mut self,
        order: Event,
        ctx: &mut KeyedContext<'_, u32, (u32, bool)>,
    ) -> Result<()> {
        self.order.update(ctx, order.1)?;
        ctx.register_event_time_timer(order.1 + TIMEOUT);
        Ok(())
    }

    fn process_element2(
        &mut self,
        payment: Event,
        ctx: &mut KeyedContext<'_, u32, (u32, bool)>,
    ) -> Result<()> {
        self.payment.update(ctx, payment.1)
    }

    fn on_timer(
        &mut self,
        timestamp: i64,
        ctx: &mut KeyedContext<'_, u32, (u32, bool)>,
    ) -> Result<()> {
        let order = self.order.value(ctx)?;
        let paid = self.payment.value(ctx)?.is_some_and(|p| p <= timestamp);
        if order.map(|o| o + TIMEOUT) != Some(timestamp) {
            return Err(WeirError::user(format!(
                "timer at {timestamp} without its order"
            )));
        }
        self.order.clear(ctx)?;
        self.payment.clear(ctx)?;
        let id = *ctx.current_key();
        ctx.collect((id, paid));
        Ok(())
    }
}

#[test]
fn keyed_co_process_with_state_and_timers_equals_brute_force() {
    let mut rng = Rng::new(7);
    // Orders have ids 0..n (the key); about two thirds are paid, some too late.
    let orders = events(800, 1, 5, 8);
    let mut payments: Vec<(i64, Event)> = Vec::new();
    for o in &orders {
        if rng.below(3) > 0 {
            let ts = o.1 + rng.below(2 * TIMEOUT as u64) as i64;
            payments.push((ts - rng.below(BOUND as u64) as i64, (o.2, ts, o.2)));
        }
    }
    payments.sort_by_key(|(order, e)| (*order, e.2));
    let payments: Vec<Event> = payments.into_iter().map(|(_, e)| e).collect();
    let expected: Vec<(u32, bool)> = orders
        .iter()
        .map(|o| {
            (
                o.2,
                payments.iter().any(|p| p.0 == o.2 && p.1 <= o.1 + TIMEOUT),
            )
        })
        .collect();
    assert!(expected.iter().any(|e| e.1) && expected.iter().any(|e| !e.1));

    for parallelism in [1, 3] {
        let env = event_time_env(parallelism);
        let orders =
            timed(&env, orders.clone(), event_ts, Watermarks::Punctuated).key_by(|o: &Event| o.2);
        let payments =
            timed(&env, payments.clone(), event_ts, Watermarks::Periodic).key_by(|p: &Event| p.0);
        let out = orders
            .connect_keyed(&payments)
            .process(PaymentCheck {
                order: ValueState::new("order"),
                payment: ValueState::new("payment"),
            })
            .execute_and_collect()
            .unwrap();
        assert_eq!(
            sorted(out),
            sorted(expected.clone()),
            "parallelism {parallelism}"
        );
    }
}

// ----- broadcast state -----

/// (category, threshold): a threshold, or `None` to remove the category's rule.
type Rule = (u32, Option<i64>);
/// (item, category, value, timestamp)
type Item = (u32, u32, i64, i64);

fn rule_list() -> Vec<Rule> {
    vec![
        (0, Some(50)),
        (1, Some(10)),
        (2, Some(70)),
        (1, Some(30)),
        (3, Some(5)),
        (3, None),
    ]
}

fn items(n: u32) -> Vec<Item> {
    let mut rng = Rng::new(9);
    events(n, 5, 3, 10)
        .into_iter()
        .map(|(category, ts, id)| (id % 40, category, rng.below(100) as i64, ts))
        .collect()
}

/// Items are checked against the threshold of their category once the watermark passes
/// their timestamp: the rules stream has no event time and so holds the watermark back until
/// it has been read completely, which makes every check see all rules.
#[derive(Clone)]
struct ThresholdCheck {
    rules: BroadcastState<u32, i64>,
    pending: ListState<Item>,
}

/// (item, value, threshold, above threshold)
type Checked = (u32, i64, Option<i64>, bool);

impl KeyedBroadcastProcessFunction<u32, Item, Rule, Checked> for ThresholdCheck {
    fn process_element(
        &mut self,
        item: Item,
        ctx: &mut KeyedReadOnlyContext<'_, '_, u32, Checked>,
    ) -> Result<()> {
        self.pending.add(ctx, item)?;
        ctx.register_event_time_timer(item.3);
        Ok(())
    }

    fn process_broadcast_element(
        &mut self,
        (category, threshold): Rule,
        ctx: &mut BroadcastContext<'_, Checked>,
    ) -> Result<()> {
        match threshold {
            Some(t) => self.rules.put(ctx, category, t),
            None => self.rules.remove(ctx, &category).map(|_| ()),
        }
    }

    fn on_timer(
        &mut self,
        timestamp: i64,
        ctx: &mut KeyedReadOnlyContext<'_, '_, u32, Checked>,
    ) -> Result<()> {
        let (due, later): (Vec<Item>, Vec<Item>) = self
            .pending
            .get(ctx)?
            .into_iter()
            .partition(|i| i.3 <= timestamp);
        self.pending.update(ctx, later)?;
        for (item, category, value, _) in due {
            let threshold = self.rules.get(ctx, &category)?;
            ctx.collect((item, value, threshold, threshold.is_some_and(|t| value > t)));
        }
        Ok(())
    }
}

#[test]
fn keyed_broadcast_state_applies_rules_on_every_subtask() {
    let items = items(1000);
    let mut final_rules = BTreeMap::new();
    for (category, threshold) in rule_list() {
        match threshold {
            Some(t) => final_rules.insert(category, t),
            None => final_rules.remove(&category),
        };
    }
    let expected: Vec<Checked> = items
        .iter()
        .map(|&(item, category, value, _)| {
            let threshold = final_rules.get(&category).copied();
            (item, value, threshold, threshold.is_some_and(|t| value > t))
        })
        .collect();
    for parallelism in [1, 3] {
        let env = event_time_env(parallelism);
        let rules_state = BroadcastState::<u32, i64>::new("rules");
        let rules = env
            .from_collection(rule_list())
            .broadcast_state(&rules_state);
        let out = timed(&env, items.clone(), |i: &Item| i.3, Watermarks::Periodic)
            .key_by(|i: &Item| i.0)
            .connect_broadcast(&rules)
            .process(ThresholdCheck {
                rules: rules_state,
                pending: ListState::new("pending"),
            })
            .execute_and_collect()
            .unwrap();
        assert_eq!(
            sorted(out),
            sorted(expected.clone()),
            "parallelism {parallelism}"
        );
    }
}

/// Reports, for every rule it receives, how many rules it holds; labels elements with the
/// threshold known when they arrive.
#[derive(Clone)]
struct Label(BroadcastState<u32, i64>);

/// An element's category and threshold, or a rule count.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
enum Labelled {
    Element(u32, Option<i64>),
    RulesHeld(usize),
}

impl BroadcastProcessFunction<u32, Rule, Labelled> for Label {
    fn process_element(
        &mut self,
        category: u32,
        ctx: &mut ReadOnlyContext<'_, Labelled>,
    ) -> Result<()> {
        let threshold = self.0.get(ctx, &category)?;
        ctx.collect(Labelled::Element(category, threshold));
        Ok(())
    }

    fn process_broadcast_element(
        &mut self,
        (category, threshold): Rule,
        ctx: &mut BroadcastContext<'_, Labelled>,
    ) -> Result<()> {
        match threshold {
            Some(t) => self.0.put(ctx, category, t)?,
            None => {
                self.0.remove(ctx, &category)?;
            }
        }
        ctx.collect(Labelled::RulesHeld(self.0.entries(ctx)?.len()));
        Ok(())
    }
}

#[test]
fn broadcast_state_is_the_same_on_every_subtask() {
    let parallelism = 3;
    let env = env(parallelism);
    let state = BroadcastState::<u32, i64>::new("rules");
    let rules = env.from_collection(rule_list()).broadcast_state(&state);
    let categories: Vec<u32> = (0..300).map(|i| i % 5).collect();
    let out = env
        .from_collection(categories)
        .rebalance()
        .connect_broadcast(&rules)
        .process(Label(state))
        .execute_and_collect()
        .unwrap();

    // Every subtask applies every rule in order, so each reports the same counts.
    let mut held = BTreeMap::new();
    let mut expected_counts = Vec::new();
    for (category, threshold) in rule_list() {
        match threshold {
            Some(t) => held.insert(category, t),
            None => held.remove(&category),
        };
        for _ in 0..parallelism {
            expected_counts.push(Labelled::RulesHeld(held.len()));
        }
    }
    let (counts, elements): (Vec<_>, Vec<_>) = out
        .into_iter()
        .partition(|l| matches!(l, Labelled::RulesHeld(_)));
    assert_eq!(sorted(counts), sorted(expected_counts));
    // An element sees no rule or one its category had at some point.
    assert_eq!(elements.len(), 300);
    for e in elements {
        let Labelled::Element(category, threshold) = e else {
            unreachable!()
        };
        let possible = rule_list().into_iter().any(|r| r == (category, threshold));
        assert!(threshold.is_none() || possible, "{category} {threshold:?}");
    }
}

#[test]
fn undeclared_broadcast_state_fails_the_job_with_its_name() {
    let env = env(1);
    let rules = env
        .from_collection(rule_list())
        .broadcast_state(&BroadcastState::<u32, i64>::new("rules"));
    let err = env
        .from_collection(vec![1u32])
        .connect_broadcast(&rules)
        .process(Label(BroadcastState::new("ruels")))
        .execute_and_collect()
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("Co-Process-Broadcast"), "{message}");
    assert!(
        message.contains("broadcast state 'ruels' does not exist"),
        "{message}"
    );
}

#[test]
fn window_co_group_takes_any_assigner_and_trigger() {
    let env = env(2);
    let left = env.from_collection(vec![("a".to_string(), 1), ("b".to_string(), 2)]);
    let right = env.from_collection(vec![("a".to_string(), 10), ("c".to_string(), 20)]);
    let grouped = left
        .co_group(&right)
        .where_key(|l: &(String, i32)| l.0.clone())
        .equal_to(|r: &(String, i32)| r.0.clone())
        .window(GlobalWindows::create())
        .trigger(PurgingTrigger::of(CountTrigger::of(2)))
        .apply(
            |ls: &[(String, i32)], rs: &[(String, i32)], out: &mut Vec<(Vec<i32>, Vec<i32>)>| {
                out.push((
                    ls.iter().map(|l| l.1).collect(),
                    rs.iter().map(|r| r.1).collect(),
                ));
            },
        );
    // Only key "a" has two elements (one per side); "b" and "c" never fire.
    let out = with_timestamps(&grouped).execute_and_collect().unwrap();
    assert_eq!(out, vec![((vec![1], vec![10]), Some(i64::MAX))]);
}
