//! Windows: tumbling, sliding and session windows compared with brute-force references
//! computed here, late data and allowed lateness, merging sessions, count windows, triggers,
//! evictors, process window functions with window and global state, window_all, processing
//! time, bad input, and the state a window operator keeps.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{env, Rng};
use weir_core::element::{Batch, Records, Watermark, WatermarkStatus};
use weir_datastream::prelude::*;
use weir_datastream::sinks::CollectSink;
use weir_runtime::window::{
    Accumulated, Aggregate, Lateness, PassThrough, TriggeredWindows, WindowOperator,
};
use weir_runtime::{OperatorContext, Output, StreamOperator};

/// (key, value, timestamp in ms)
type Event = (u64, i64, i64);
/// (key, window start, window end, sum of values, number of elements)
type Row = (u64, i64, i64, i64, u64);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// `n` events over `keys` keys, about 3 ms apart, each at most `bound - 1` ms older than
/// the newest before it: out of order, but never late for a watermark trailing by `bound`.
fn out_of_order_events(n: usize, keys: u64, bound: u64, seed: u64) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let clock = 10_000 + 3 * i as i64;
            let key = rng.below(keys);
            let value = rng.below(100) as i64;
            (key, value, clock - rng.below(bound) as i64)
        })
        .collect()
}

/// An environment of `parallelism` that emits periodic watermarks every millisecond.
fn event_env(parallelism: usize) -> StreamExecutionEnvironment {
    let env = env(parallelism);
    env.configure("pipeline.auto-watermark-interval", "1 ms");
    env
}

fn timed(
    env: &StreamExecutionEnvironment,
    events: Vec<Event>,
    strategy: WatermarkStrategy<Event>,
) -> DataStream<Event> {
    env.from_collection(events)
        .assign_timestamps_and_watermarks(strategy.with_timestamp_assigner(|e: &Event, _| Ok(e.2)))
}

fn bounded(bound: u64) -> WatermarkStrategy<Event> {
    WatermarkStrategy::for_bounded_out_of_orderness(ms(bound))
}

/// A watermark right after every record, trailing its timestamp by `lag` ms.
struct Punctuated {
    lag: i64,
    max: i64,
}

impl<T> WatermarkGenerator<T> for Punctuated {
    fn on_event(&mut self, _: &T, timestamp: i64, output: &mut WatermarkOutput) {
        self.max = self.max.max(timestamp);
        output.emit(Watermark(self.max - self.lag));
    }
    fn on_periodic_emit(&mut self, _: &mut WatermarkOutput) {}
}

fn punctuated(lag: i64) -> WatermarkStrategy<Event> {
    WatermarkStrategy::for_generator(move || Punctuated {
        lag,
        max: i64::MIN + lag,
    })
}

/// No watermark before the end of the input.
struct NoWatermarks;

impl<T> WatermarkGenerator<T> for NoWatermarks {
    fn on_event(&mut self, _: &T, _: i64, _: &mut WatermarkOutput) {}
    fn on_periodic_emit(&mut self, _: &mut WatermarkOutput) {}
}

/// Sum and count of the values.
struct SumCount;

impl AggregateFunction<Event, (i64, u64), (i64, u64)> for SumCount {
    fn create_accumulator(&self) -> (i64, u64) {
        (0, 0)
    }
    fn add(&self, value: Event, acc: &mut (i64, u64)) {
        acc.0 += value.1;
        acc.1 += 1;
    }
    fn get_result(&self, acc: &(i64, u64)) -> (i64, u64) {
        *acc
    }
    fn merge(&self, a: (i64, u64), b: (i64, u64)) -> (i64, u64) {
        (a.0 + b.0, a.1 + b.1)
    }
}

/// Labels a pre-aggregated (sum, count) with its key and window.
fn label(
    key: &u64,
    results: Vec<(i64, u64)>,
    ctx: &mut WindowContext<'_, u64, TimeWindow, Row>,
) -> Result<()> {
    let w = ctx.window();
    for (sum, count) in results {
        ctx.collect((*key, w.start, w.end, sum, count));
    }
    Ok(())
}

/// Sums and counts all elements of a window.
fn sum_all(
    key: &u64,
    events: Vec<Event>,
    ctx: &mut WindowContext<'_, u64, TimeWindow, Row>,
) -> Result<()> {
    let w = ctx.window();
    let sum = events.iter().map(|e| e.1).sum();
    ctx.collect((*key, w.start, w.end, sum, events.len() as u64));
    Ok(())
}

/// Brute force: sum and count per key and window, with `windows(ts)` the windows of a
/// timestamp.
fn reference(events: &[Event], windows: impl Fn(i64) -> Vec<(i64, i64)>) -> Vec<Row> {
    let mut acc: BTreeMap<(u64, i64, i64), (i64, u64)> = BTreeMap::new();
    for &(key, value, ts) in events {
        for (start, end) in windows(ts) {
            let e = acc.entry((key, start, end)).or_default();
            e.0 += value;
            e.1 += 1;
        }
    }
    acc.into_iter()
        .map(|((k, s, e), (sum, n))| (k, s, e, sum, n))
        .collect()
}

fn tumbling_reference(events: &[Event], size: i64) -> Vec<Row> {
    reference(events, |ts| {
        let start = ts.div_euclid(size) * size;
        vec![(start, start + size)]
    })
}

fn sliding_reference(events: &[Event], size: i64, slide: i64) -> Vec<Row> {
    reference(events, |ts| {
        (ts.div_euclid(slide) - size / slide..=ts.div_euclid(slide))
            .map(|i| (i * slide, i * slide + size))
            .filter(|&(start, end)| start <= ts && ts < end)
            .collect()
    })
}

/// Brute force sessions: per key, sorted timestamps join a session while they are at most
/// `gap` after its last one (the windows `[t, t + gap)` touch or overlap).
fn session_reference(events: &[Event], gap: i64) -> Vec<Row> {
    let mut by_key: BTreeMap<u64, Vec<(i64, i64)>> = BTreeMap::new();
    for &(key, value, ts) in events {
        by_key.entry(key).or_default().push((ts, value));
    }
    let mut rows = Vec::new();
    for (key, mut list) in by_key {
        list.sort();
        let mut session: Option<Row> = None;
        for (ts, value) in list {
            match &mut session {
                Some(s) if ts <= s.2 => {
                    s.2 = ts + gap;
                    s.3 += value;
                    s.4 += 1;
                }
                _ => {
                    rows.extend(session.take());
                    session = Some((key, ts, ts + gap, value, 1));
                }
            }
        }
        rows.extend(session);
    }
    sorted(rows)
}

#[test]
fn tumbling_sliding_and_session_windows_match_brute_force() {
    let bound = 50;
    let events = out_of_order_events(20_000, 10, bound, 7);
    let keyed = |env: &StreamExecutionEnvironment| {
        timed(env, events.clone(), bounded(bound)).key_by(|e: &Event| e.0)
    };
    for parallelism in [1, 4] {
        let run = |job: &dyn Fn(&StreamExecutionEnvironment) -> DataStream<Row>| {
            let env = event_env(parallelism);
            sorted(job(&env).execute_and_collect().unwrap())
        };
        let tumbling = run(&|env| {
            keyed(env)
                .window(TumblingEventTimeWindows::of(ms(100)))
                .aggregate_with(SumCount, label)
        });
        assert_eq!(
            tumbling,
            tumbling_reference(&events, 100),
            "tumbling, parallelism {parallelism}"
        );

        let sliding_ref = sliding_reference(&events, 100, 30);
        let window = || SlidingEventTimeWindows::of(ms(100), ms(30));
        let per_pane = run(&|env| keyed(env).window(window()).aggregate_with(SumCount, label));
        assert_eq!(
            per_pane, sliding_ref,
            "sliding per pane, parallelism {parallelism}"
        );
        let per_window = run(&|env| keyed(env).window(window()).process(sum_all));
        assert_eq!(
            per_window, sliding_ref,
            "sliding per window, parallelism {parallelism}"
        );
        let env = event_env(parallelism);
        let sums = keyed(&env)
            .window(window())
            .sum(1)
            .execute_and_collect()
            .unwrap();
        let sums: Vec<(u64, i64)> = sorted(sums.into_iter().map(|e| (e.0, e.1)).collect());
        assert_eq!(
            sums,
            sorted(sliding_ref.iter().map(|r| (r.0, r.3)).collect())
        );

        let session_ref = session_reference(&events, 40);
        let sessions = || EventTimeSessionWindows::with_gap(ms(40));
        let merged_accumulators = run(&|env| {
            keyed(env)
                .window(sessions())
                .aggregate_with(SumCount, label)
        });
        assert_eq!(
            merged_accumulators, session_ref,
            "sessions, parallelism {parallelism}"
        );
        let merged_lists = run(&|env| keyed(env).window(sessions()).process(sum_all));
        assert_eq!(
            merged_lists, session_ref,
            "sessions with all elements, parallelism {parallelism}"
        );
    }
}

#[test]
fn dynamic_session_gaps_come_from_the_elements() {
    // Key 1 uses a gap of 10 ms, key 2 of 100 ms.
    let events = vec![(1, 1, 0), (1, 2, 15), (2, 4, 0), (2, 8, 90)];
    let env = event_env(1);
    let out = timed(
        &env,
        events,
        WatermarkStrategy::for_generator(|| NoWatermarks),
    )
    .key_by(|e: &Event| e.0)
    .window(EventTimeSessionWindows::with_dynamic_gap(|e: &Event| {
        ms(if e.0 == 1 { 10 } else { 100 })
    }))
    .aggregate_with(SumCount, label)
    .execute_and_collect()
    .unwrap();
    assert_eq!(
        sorted(out),
        vec![(1, 0, 10, 1, 1), (1, 15, 25, 2, 1), (2, 0, 190, 12, 2)]
    );
}

/// The late-data scenario: tumbling windows of 10 ms, a watermark at every record's
/// timestamp. Returns the main output as (sum, timestamp) and the late side output.
fn late_run(lateness: u64, side_output: bool) -> (Vec<(i64, Option<i64>)>, Vec<Event>) {
    let events = vec![
        (1, 1, 1),
        (1, 2, 5),
        (1, 3, 12),
        (1, 10, 7),
        (1, 100, 20),
        (1, 1000, 8),
    ];
    let env = env(1);
    let tag = OutputTag::<Event>::new("late");
    let mut windowed = timed(&env, events, punctuated(0))
        .key_by(|e: &Event| e.0)
        .window(TumblingEventTimeWindows::of(ms(10)))
        .allowed_lateness(ms(lateness));
    if side_output {
        windowed = windowed.side_output_late_data(&tag);
    }
    let sums = windowed.sum(1);
    let late = Arc::new(Mutex::new(Vec::new()));
    sums.get_side_output(&tag)
        .sink_to(CollectSink::new(Arc::clone(&late)), "late");
    let main = sums
        .process(
            |e: Event, ctx: &mut ProcessContext<'_, (i64, Option<i64>)>| {
                ctx.collect((e.1, ctx.timestamp()));
                Ok(())
            },
        )
        .execute_and_collect()
        .unwrap();
    let late = late.lock().unwrap().clone();
    (main, late)
}

#[test]
fn late_elements_refire_within_allowed_lateness_and_go_to_the_side_output_after() {
    let (main, late) = late_run(5, true);
    // [0, 10) fires at watermark 12 and again for the element at 7; the element at 8 comes
    // after the watermark passed 9 + 5 and goes to the side output.
    assert_eq!(
        main,
        vec![(3, Some(9)), (13, Some(9)), (3, Some(19)), (100, Some(29))]
    );
    assert_eq!(late, vec![(1, 1000, 8)]);

    let (main, late) = late_run(0, true);
    assert_eq!(main, vec![(3, Some(9)), (3, Some(19)), (100, Some(29))]);
    assert_eq!(late, vec![(1, 10, 7), (1, 1000, 8)]);

    let (main, late) = late_run(0, false);
    assert_eq!(main, vec![(3, Some(9)), (3, Some(19)), (100, Some(29))]);
    assert!(late.is_empty());
}

#[test]
fn sliding_windows_per_pane_and_per_window_agree_on_late_data() {
    // Out of order by up to 200 ms, watermarks trailing by 20 ms: many late elements, some
    // within the allowed lateness of 30 ms.
    let events = out_of_order_events(5_000, 5, 200, 11);
    let run = |per_pane: bool| {
        let env = env(1);
        let tag = OutputTag::<Event>::new("late");
        let windowed = timed(&env, events.clone(), punctuated(20))
            .key_by(|e: &Event| e.0)
            .window(SlidingEventTimeWindows::of(ms(60), ms(20)))
            .allowed_lateness(ms(30))
            .side_output_late_data(&tag);
        let out = if per_pane {
            windowed.aggregate_with(SumCount, label)
        } else {
            windowed.process(sum_all)
        };
        let late = Arc::new(Mutex::new(Vec::new()));
        out.get_side_output(&tag)
            .sink_to(CollectSink::new(Arc::clone(&late)), "late");
        let main = out.execute_and_collect().unwrap();
        let late = late.lock().unwrap().clone();
        (sorted(main), sorted(late))
    };
    let (pane_main, pane_late) = run(true);
    let (window_main, window_late) = run(false);
    assert!(!pane_late.is_empty(), "the input has late elements");
    assert!(
        pane_main.len() > sliding_reference(&events, 60, 20).len(),
        "late elements re-fire windows"
    );
    assert_eq!(pane_main, window_main);
    assert_eq!(pane_late, window_late);
}

#[test]
fn sessions_merge_when_a_bridging_element_arrives() {
    // Key 1: sessions [0, 10) and [20, 30) are bridged by the element at 10.
    let events = vec![(1, 1, 0), (1, 2, 20), (2, 8, 0), (2, 16, 25), (1, 4, 10)];
    let env = event_env(1);
    let sessions = || {
        timed(
            &env,
            events.clone(),
            WatermarkStrategy::for_generator(|| NoWatermarks),
        )
        .key_by(|e: &Event| e.0)
        .window(EventTimeSessionWindows::with_gap(ms(10)))
    };
    let expected = vec![(1, 0, 30, 7, 3), (2, 0, 10, 8, 1), (2, 25, 35, 16, 1)];
    let accumulated = sessions()
        .aggregate_with(SumCount, label)
        .execute_and_collect()
        .unwrap();
    assert_eq!(sorted(accumulated), expected);
    let elements = sessions()
        .process(
            |key: &u64,
             events: Vec<Event>,
             ctx: &mut WindowContext<'_, u64, TimeWindow, (u64, i64, Vec<i64>)>| {
                let values = sorted(events.iter().map(|e| e.1).collect());
                ctx.collect((*key, ctx.window().end, values));
                Ok(())
            },
        )
        .execute_and_collect()
        .unwrap();
    assert_eq!(
        sorted(elements),
        vec![(1, 30, vec![1, 2, 4]), (2, 10, vec![8]), (2, 35, vec![16])]
    );
    // The counts of the two sessions merge: the bridging element is the third.
    let counted = sessions()
        .trigger(CountTrigger::of(3))
        .aggregate_with(SumCount, label)
        .execute_and_collect()
        .unwrap();
    assert_eq!(counted, vec![(1, 0, 30, 7, 3)]);
}

/// Events 1..=n of key 1 with timestamps equal to their value.
fn numbers(n: i64) -> Vec<Event> {
    (1..=n).map(|v| (1, v, v)).collect()
}

/// The values of each firing of a window, in arrival order.
fn values_of<W: Window>(
    _: &u64,
    events: Vec<Event>,
    ctx: &mut WindowContext<'_, u64, W, Vec<i64>>,
) -> Result<()> {
    ctx.collect(events.iter().map(|e| e.1).collect());
    Ok(())
}

#[test]
fn count_windows_tumble_and_slide() {
    let env = env(2);
    let keyed = || env.from_collection(numbers(7)).key_by(|e: &Event| e.0);
    let tumbling = keyed()
        .count_window(3)
        .process(values_of)
        .execute_and_collect()
        .unwrap();
    assert_eq!(tumbling, vec![vec![1, 2, 3], vec![4, 5, 6]]);
    let sliding = keyed()
        .count_window_slide(3, 2)
        .process(values_of)
        .execute_and_collect()
        .unwrap();
    assert_eq!(sliding, vec![vec![1, 2], vec![2, 3, 4], vec![4, 5, 6]]);
    let sums = keyed()
        .count_window(2)
        .sum(1)
        .execute_and_collect()
        .unwrap();
    assert_eq!(sums.iter().map(|e| e.1).collect::<Vec<_>>(), vec![3, 7, 11]);
}

/// Runs `window` over `events` of one key with a watermark at every timestamp, returning
/// the values of each firing.
fn fired<W: Window>(
    events: Vec<Event>,
    window: impl FnOnce(
        KeyedStream<Event, u64, fn(&Event) -> u64>,
    ) -> WindowedStream<Event, u64, fn(&Event) -> u64, W>,
) -> Vec<Vec<i64>> {
    let env = env(1);
    let keyed = timed(&env, events, punctuated(0)).key_by((|e: &Event| e.0) as fn(&Event) -> u64);
    window(keyed)
        .process(values_of)
        .execute_and_collect()
        .unwrap()
}

#[test]
fn count_purging_continuous_and_delta_triggers() {
    let tumbling = || TumblingEventTimeWindows::of(ms(100));
    // Count: fires every 2 elements, keeping the contents; nothing at the window's end.
    let count = fired(numbers(5), |k| {
        k.window(tumbling()).trigger(CountTrigger::of(2))
    });
    assert_eq!(count, vec![vec![1, 2], vec![1, 2, 3, 4]]);
    let purging = fired(numbers(5), |k| {
        k.window(tumbling())
            .trigger(PurgingTrigger::of(CountTrigger::of(2)))
    });
    assert_eq!(purging, vec![vec![1, 2], vec![3, 4]]);
    // Continuous: every 10 ms of event time in [0, 40), and at the end of the window.
    let events = vec![(1, 1, 1), (1, 2, 5), (1, 3, 12), (1, 4, 25)];
    let continuous = fired(events, |k| {
        k.window(TumblingEventTimeWindows::of(ms(40)))
            .trigger(ContinuousEventTimeTrigger::of(ms(10)))
    });
    let all = vec![1, 2, 3, 4];
    assert_eq!(
        continuous,
        vec![vec![1, 2, 3], all.clone(), all.clone(), all]
    );
    // Delta: fires when an element is more than 5 away from the one that last fired.
    let values: Vec<Event> = [1, 3, 7, 9, 14].iter().map(|&v| (1, v, v)).collect();
    let delta = |a: &Event, b: &Event| (a.1 - b.1).abs() as f64;
    let kept = fired(values.clone(), |k| {
        k.window(GlobalWindows::create())
            .trigger(DeltaTrigger::of(5.0, delta))
    });
    assert_eq!(kept, vec![vec![1, 3, 7], vec![1, 3, 7, 9, 14]]);
    let purged = fired(values, |k| {
        k.window(GlobalWindows::create())
            .trigger(PurgingTrigger::of(DeltaTrigger::of(5.0, delta)))
    });
    assert_eq!(purged, vec![vec![1, 3, 7], vec![9, 14]]);
}

/// A custom trigger: fires and purges on a negative value.
struct OnNegative;

impl<K: Key> Trigger<K, Event, GlobalWindow> for OnNegative {
    fn on_element(
        &self,
        e: &Event,
        _: Option<i64>,
        _: GlobalWindow,
        _: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        Ok(if e.1 < 0 {
            TriggerResult::FireAndPurge
        } else {
            TriggerResult::Continue
        })
    }
    fn describe(&self) -> String {
        "OnNegative".to_string()
    }
}

#[test]
fn custom_trigger_through_the_trait() {
    let values: Vec<Event> = [1, 2, -1, 5, -2, 7].iter().map(|&v| (1, v, 0)).collect();
    let out = fired(values, |k| {
        k.window(GlobalWindows::create()).trigger(OnNegative)
    });
    assert_eq!(out, vec![vec![1, 2, -1], vec![5, -2]]);
}

#[test]
fn count_time_and_delta_evictors() {
    let global = || GlobalWindows::create();
    // Time: keep the last 10 ms before the newest element; what is evicted stays evicted.
    let events: Vec<Event> = [0, 5, 12, 13, 14, 30].iter().map(|&t| (1, t, t)).collect();
    let time = fired(events, |k| {
        k.window(global())
            .trigger(CountTrigger::of(3))
            .evictor(TimeEvictor::of(ms(10)))
    });
    assert_eq!(time, vec![vec![5, 12], vec![30]]);
    // Delta: evict what is at least 5 away from the last element.
    let events: Vec<Event> = [1, 10, 8, 12].iter().map(|&v| (1, v, v)).collect();
    let delta = fired(events, |k| {
        k.window(global())
            .trigger(CountTrigger::of(4))
            .evictor(DeltaEvictor::of(5.0, |a: &Event, b: &Event| {
                (a.1 - b.1).abs() as f64
            }))
    });
    assert_eq!(delta, vec![vec![10, 8, 12]]);
    // Count, after evaluation: the function sees everything, then only 2 stay.
    let count = fired(numbers(6), |k| {
        k.window(global())
            .trigger(CountTrigger::of(3))
            .evictor(CountEvictor::of_after(2))
    });
    assert_eq!(count, vec![vec![1, 2, 3], vec![2, 3, 4, 5, 6]]);
    // An evictor with reduce keeps all elements and reduces what is left.
    let env = env(1);
    let sums = env
        .from_collection(numbers(6))
        .key_by(|e: &Event| e.0)
        .window(global())
        .trigger(CountTrigger::of(3))
        .evictor(CountEvictor::of(2))
        .reduce(|a, b| (a.0, a.1 + b.1, b.2))
        .execute_and_collect()
        .unwrap();
    assert_eq!(sums.iter().map(|e| e.1).collect::<Vec<_>>(), vec![5, 11]);
}

/// Counts the firings of each window in window state and of all windows in global state.
#[derive(Clone)]
struct Firings {
    window: ValueState<u32>,
    total: ValueState<u32>,
}

impl ProcessWindowFunction<u64, Event, (i64, i64, u32, u32, Vec<i64>), TimeWindow> for Firings {
    fn process(
        &mut self,
        _key: &u64,
        events: Vec<Event>,
        ctx: &mut WindowContext<'_, u64, TimeWindow, (i64, i64, u32, u32, Vec<i64>)>,
    ) -> Result<()> {
        let n = self.window.value(&mut ctx.window_state())?.unwrap_or(0) + 1;
        self.window.update(&mut ctx.window_state(), n)?;
        let total = self.total.value(&mut ctx.global_state())?.unwrap_or(0) + 1;
        self.total.update(&mut ctx.global_state(), total)?;
        let w = ctx.window();
        assert!(ctx.current_watermark() >= w.max_timestamp());
        ctx.collect((
            w.start,
            w.end,
            n,
            total,
            events.iter().map(|e| e.1).collect(),
        ));
        Ok(())
    }
    fn clear(
        &mut self,
        ctx: &mut WindowContext<'_, u64, TimeWindow, (i64, i64, u32, u32, Vec<i64>)>,
    ) -> Result<()> {
        self.window.clear(&mut ctx.window_state())
    }
}

#[test]
fn process_window_function_sees_window_elements_and_state() {
    let events = vec![
        (1, 1, 1),
        (1, 2, 5),
        (1, 3, 12),
        (1, 10, 7),
        (1, 100, 20),
        (1, 1000, 8),
    ];
    let env = env(1);
    let out = timed(&env, events, punctuated(0))
        .key_by(|e: &Event| e.0)
        .window(TumblingEventTimeWindows::of(ms(10)))
        .allowed_lateness(ms(5))
        .process(Firings {
            window: ValueState::new("firings"),
            total: ValueState::new("total"),
        })
        .execute_and_collect()
        .unwrap();
    assert_eq!(
        out,
        vec![
            (0, 10, 1, 1, vec![1, 2]),
            (0, 10, 2, 2, vec![1, 2, 10]),
            (10, 20, 1, 3, vec![3]),
            (20, 30, 1, 4, vec![100]),
        ]
    );
}

#[test]
fn window_all_runs_in_one_subtask() {
    let events = out_of_order_events(5_000, 10, 30, 3);
    let env = event_env(4);
    let out = timed(&env, events.clone(), bounded(30))
        .window_all(TumblingEventTimeWindows::of(ms(200)))
        .aggregate_with(
            SumCount,
            |_: &(), r: Vec<(i64, u64)>, ctx: &mut WindowContext<'_, (), TimeWindow, Row>| {
                let w = ctx.window();
                for (sum, count) in r {
                    ctx.collect((0, w.start, w.end, sum, count));
                }
                Ok(())
            },
        );
    let plan: serde_json::Value = serde_json::from_str(&env.get_execution_plan().unwrap()).unwrap();
    let window_node = plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| {
            n["contents"]
                .as_str()
                .unwrap()
                .starts_with("Window(TumblingEventTimeWindows(200)")
        })
        .unwrap();
    assert_eq!(window_node["parallelism"], 1);
    let all_keys: Vec<Event> = events.iter().map(|e| (0, e.1, e.2)).collect();
    assert_eq!(
        sorted(out.execute_and_collect().unwrap()),
        tumbling_reference(&all_keys, 200)
    );

    let counted = common::env(4)
        .from_collection(numbers(7))
        .rebalance()
        .map(|e: Event| e)
        .count_window_all(3)
        .process(
            |_: &(), events: Vec<Event>, ctx: &mut WindowContext<'_, (), GlobalWindow, i64>| {
                ctx.collect(events.iter().map(|e| e.1).sum());
                Ok(())
            },
        )
        .execute_and_collect()
        .unwrap();
    // Which elements share a window depends on the order they arrive in; there are 2.
    assert_eq!(counted.len(), 2);
    assert!(counted.iter().all(|s| (6..=18).contains(s)));
}

#[test]
fn processing_time_windows_fire_on_the_wall_clock() {
    let env = env(1);
    // 1000 records over about 1.2 s, windows of 200 ms.
    let out = env
        .from_generator(|i| (1u64, 1i64, i as i64), Some(1_200), Some(1_000.0))
        .key_by(|e: &Event| e.0)
        .window(TumblingProcessingTimeWindows::of(ms(200)))
        .process(
            |_: &u64,
             events: Vec<Event>,
             ctx: &mut WindowContext<'_, u64, TimeWindow, (TimeWindow, i64, usize)>| {
                ctx.collect((ctx.window(), ctx.current_processing_time(), events.len()));
                Ok(())
            },
        )
        .execute_and_collect()
        .unwrap();
    // Windows still open when the input ends do not fire (as in Flink).
    assert!(!out.is_empty(), "windows fired during the run");
    let counted: usize = out.iter().map(|o| o.2).sum();
    assert!(counted > 0 && counted <= 1_200);
    for (window, fired_at, _) in &out {
        assert_eq!(window.end - window.start, 200);
        assert_eq!(window.start % 200, 0);
        assert!(
            *fired_at >= window.max_timestamp(),
            "fired before its end: {out:?}"
        );
        assert!(
            *fired_at < window.end + 2_000,
            "fired much later than its end: {out:?}"
        );
    }
}

/// Runs a job and returns its error message.
fn error_of<T: Record>(stream: DataStream<T>) -> String {
    stream
        .execute_and_collect()
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_window_parameters_and_missing_timestamps_are_clear_errors() {
    // A fresh environment per job: a build error stays with its environment.
    let keyed = || env(1).from_collection(numbers(3)).key_by(|e: &Event| e.0);
    let cases = [
        (error_of(keyed().window(TumblingEventTimeWindows::of(ms(0))).sum(1)), "TumblingEventTimeWindows: the window size must be at least 1 ms"),
        (
            error_of(keyed().window(TumblingEventTimeWindows::of_with_offset(ms(10), ms(10))).sum(1)),
            "abs(offset) < size",
        ),
        (error_of(keyed().window(SlidingEventTimeWindows::of(ms(10), ms(0))).sum(1)), "slide must be at least 1 ms"),
        (error_of(keyed().window(SlidingProcessingTimeWindows::of(ms(0), ms(5))).sum(1)), "size and slide must be at least 1 ms"),
        (error_of(keyed().window(EventTimeSessionWindows::with_gap(ms(0))).sum(1)), "session gap must be at least 1 ms"),
        (error_of(keyed().count_window(0).sum(1)), "count windows must be at least 1"),
        (
            error_of(
                keyed()
                    .window(EventTimeSessionWindows::with_gap(ms(10)))
                    .trigger(DeltaTrigger::of(1.0, |a: &Event, b: &Event| (a.1 - b.1) as f64))
                    .sum(1),
            ),
            "does not support merging",
        ),
        (
            error_of(keyed().window(TumblingEventTimeWindows::of(ms(10))).sum(1)),
            "operator 'Window(TumblingEventTimeWindows(10), EventTimeTrigger, Sum)' (subtask 0) failed: record has no timestamp: did you forget assign_timestamps_and_watermarks?",
        ),
        (
            error_of(
                timed(&env(1), numbers(3), bounded(0))
                    .key_by(|e: &Event| e.0)
                    .window(EventTimeSessionWindows::with_dynamic_gap(|_: &Event| ms(0)))
                    .sum(1),
            ),
            "the dynamic session gap must be at least 1 ms",
        ),
        (
            error_of(env(1).from_collection(numbers(3)).window_all(GlobalWindows::create()).trigger(CountTrigger::of(2)).sum(1).set_parallelism(2)),
            "must be at most 1",
        ),
    ];
    for (error, expected) in cases {
        assert!(
            error.contains(expected),
            "{error:?} should contain {expected:?}"
        );
    }
}

/// Counts what a window operator emits.
#[derive(Default)]
struct Counting {
    records: usize,
    total: i64,
}

impl Output for Counting {
    fn collect(&mut self, batch: Batch) -> Result<()> {
        let records = batch.into_records::<(u64, i64, i64)>();
        self.records += records.len();
        self.total += records.values.iter().map(|r| r.1).sum::<i64>();
        Ok(())
    }
    fn collect_side(&mut self, _: &str, _: Batch) -> Result<()> {
        Ok(())
    }
    fn emit_watermark(&mut self, _: Watermark) -> Result<()> {
        Ok(())
    }
    fn emit_watermark_status(&mut self, _: WatermarkStatus) -> Result<()> {
        Ok(())
    }
}

/// Counts events per key and window.
struct Count;

impl AggregateFunction<(u64, i64), i64, i64> for Count {
    fn create_accumulator(&self) -> i64 {
        0
    }
    fn add(&self, _: (u64, i64), acc: &mut i64) {
        *acc += 1;
    }
    fn get_result(&self, acc: &i64) -> i64 {
        *acc
    }
    fn merge(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

#[test]
fn a_tumbling_count_over_ten_million_events_keeps_state_per_key_and_open_window() {
    const EVENTS: u64 = 10_000_000;
    const KEYS: u64 = 1_000;
    const BATCH: u64 = 4_096;
    // One event per 0.1 ms, out of order by up to 50 ms; windows of 1 s.
    let bound = 50;
    let logic = TriggeredWindows::new(
        Arc::new(TumblingEventTimeWindows::of(ms(1_000))),
        Arc::new(EventTimeTrigger),
        Accumulated::new(
            Aggregate::new(Count),
            |key: &u64,
             counts: Vec<i64>,
             ctx: &mut WindowContext<'_, u64, TimeWindow, (u64, i64, i64)>| {
                let end = ctx.window().end;
                for c in counts {
                    ctx.collect((*key, c, end));
                }
                Ok(())
            },
        ),
        Lateness::new(0, None),
    );
    let mut operator = WindowOperator::new(|e: &(u64, i64)| e.0, logic);
    let ctx = OperatorContext::detached("Window", "window");
    operator.open(&ctx).unwrap();
    let mut out = Counting::default();
    let mut rng = Rng::new(5);
    let mut max_entries = 0;
    for first in (0..EVENTS).step_by(BATCH as usize) {
        let mut records = Records::with_capacity(BATCH as usize, true);
        for i in first..(first + BATCH).min(EVENTS) {
            let ts = (i / 10) as i64 - rng.below(bound) as i64;
            records.push((rng.below(KEYS), 1i64), Some(ts.max(0)));
        }
        operator
            .process_batch(0, Batch::from_records(records), &mut out)
            .unwrap();
        let newest = ((first + BATCH) / 10) as i64;
        operator
            .process_watermark(Watermark(newest - bound as i64 - 1), &mut out)
            .unwrap();
        max_entries = max_entries.max(operator.state_entries().unwrap());
        // At most two windows are open per key: the current one and the one before it,
        // still waiting for out-of-order elements.
        assert!(
            operator.state_entries().unwrap() <= (KEYS * 2) as usize,
            "{} state entries",
            operator.state_entries().unwrap()
        );
    }
    operator
        .process_watermark(Watermark::MAX, &mut out)
        .unwrap();
    assert_eq!(operator.state_entries().unwrap(), 0);
    assert_eq!(operator.timers(), 0);
    assert_eq!(out.total, EVENTS as i64);
    assert!(max_entries >= KEYS as usize, "all keys had a window open");
    // 1000 windows of 1 s, each with (almost) every key.
    let windows = out.records as u64;
    assert!(
        windows <= KEYS * 1_000 && windows > KEYS * 990,
        "{windows} windows"
    );
}

#[test]
fn sliding_windows_keep_one_accumulator_per_pane() {
    // Windows of 1 s every 100 ms: 10 windows per element, but one accumulator per pane of
    // 100 ms, all panes of a key in one state entry.
    let logic = weir_runtime::window::SlidingPanes::<_, TimeWindow, _, _, _>::new(
        weir_runtime::window::PaneLayout {
            size: 1_000,
            slide: 100,
            offset: 0,
        },
        Aggregate::new(Count),
        PassThrough,
        Lateness::new(0, None),
    );
    let mut operator = WindowOperator::new(|e: &(u64, i64)| e.0, logic);
    let ctx = OperatorContext::detached("Window", "window");
    operator.open(&ctx).unwrap();
    let mut emitted = CountingI64::default();
    for step in 0..50i64 {
        let mut records = Records::with_capacity(0, true);
        for ms in 0..100 {
            for key in 0..10u64 {
                records.push((key, 1i64), Some(step * 100 + ms));
            }
        }
        operator
            .process_batch(0, Batch::from_records(records), &mut emitted)
            .unwrap();
        // One entry per key, holding the panes of the windows still open.
        assert_eq!(operator.state_entries().unwrap(), 10);
        operator
            .process_watermark(Watermark(step * 100 + 99), &mut emitted)
            .unwrap();
    }
    operator
        .process_watermark(Watermark::MAX, &mut emitted)
        .unwrap();
    assert_eq!(operator.state_entries().unwrap(), 0);
    // Every element is counted in 10 windows.
    assert_eq!(emitted.total, 10 * 5_000 * 10);
}

/// Sums the i64 results a window operator emits.
#[derive(Default)]
struct CountingI64 {
    total: i64,
}

impl Output for CountingI64 {
    fn collect(&mut self, batch: Batch) -> Result<()> {
        self.total += batch.into_vec::<i64>().iter().sum::<i64>();
        Ok(())
    }
    fn collect_side(&mut self, _: &str, _: Batch) -> Result<()> {
        Ok(())
    }
    fn emit_watermark(&mut self, _: Watermark) -> Result<()> {
        Ok(())
    }
    fn emit_watermark_status(&mut self, _: WatermarkStatus) -> Result<()> {
        Ok(())
    }
}
