//! Event time: event-time and processing-time timers of keyed process functions, watermarks
//! over parallel and idle source subtasks, punctuated and periodic generators, and what
//! happens to records with bad or missing timestamps. Each test compares the job's output
//! with a result computed here.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{collected, env, Rng, ScriptedSource, Step};
use weir_datastream::prelude::*;

const MIN: i64 = i64::MIN;
const MAX: i64 = i64::MAX;

/// A punctuated generator: after every record, the highest timestamp so far minus 1 (the
/// watermark of `for_monotonous_timestamps`, but at once instead of periodically), so that
/// the tests know exactly where watermarks fall.
struct AfterEveryRecord {
    max: i64,
}

impl AfterEveryRecord {
    fn strategy<T: 'static>(timestamp: fn(&T) -> i64) -> WatermarkStrategy<T> {
        WatermarkStrategy::for_generator(|| AfterEveryRecord { max: MIN })
            .with_timestamp_assigner(move |r, _| Ok(timestamp(r)))
    }
}

impl<T> WatermarkGenerator<T> for AfterEveryRecord {
    fn on_event(&mut self, _record: &T, timestamp: i64, output: &mut WatermarkOutput) {
        self.max = self.max.max(timestamp);
        output.emit(Watermark(self.max - 1));
    }

    fn on_periodic_emit(&mut self, _output: &mut WatermarkOutput) {}
}

/// `(key, timestamp, timer, delete)`: register the event-time timer `timer` of `key` (twice),
/// or delete it.
type TimerInput = (u32, i64, i64, bool);
/// `(key, timer, watermark, subtask, ctx.timestamp(), is event time)` when a timer fires.
type Fired = (u32, i64, i64, usize, Option<i64>, bool);

/// Registers and deletes event-time timers, reports them when they fire and sends late
/// records (at or below the watermark) to a side output.
#[derive(Clone)]
struct TimerProbe {
    late: OutputTag<(u32, i64)>,
}

impl KeyedProcessFunction<u32, TimerInput, Fired> for TimerProbe {
    fn process_element(
        &mut self,
        (key, timestamp, timer, delete): TimerInput,
        ctx: &mut KeyedContext<'_, u32, Fired>,
    ) -> Result<()> {
        if timestamp <= ctx.current_watermark() {
            ctx.output(&self.late, (key, timestamp));
        }
        if delete {
            ctx.delete_event_time_timer(timer);
        } else {
            ctx.register_event_time_timer(timer);
            ctx.register_event_time_timer(timer);
        }
        Ok(())
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut KeyedContext<'_, u32, Fired>) -> Result<()> {
        let fired = (
            *ctx.current_key(),
            timestamp,
            ctx.current_watermark(),
            ctx.runtime_context().subtask_index,
            ctx.timestamp(),
            ctx.time_domain() == Some(TimeDomain::EventTime),
        );
        ctx.collect(fired);
        Ok(())
    }
}

/// Out-of-order records of 12 keys; a quarter delete the key's latest timer.
fn timer_input(n: usize, seed: u64) -> Vec<TimerInput> {
    let mut rng = Rng::new(seed);
    let mut latest: HashMap<u32, i64> = HashMap::new();
    let mut clock = 1_000;
    (0..n)
        .map(|_| {
            clock += rng.below(4) as i64;
            let timestamp = clock - rng.below(6) as i64;
            let key = rng.below(12) as u32;
            match latest.get(&key) {
                Some(&timer) if rng.below(4) == 0 => (key, timestamp, timer, true),
                _ => {
                    let timer = timestamp + rng.below(40) as i64;
                    latest.insert(key, timer);
                    (key, timestamp, timer, false)
                }
            }
        })
        .collect()
}

/// `(key, timer, watermark when it fired)`.
type KeyTimerWatermark = (u32, i64, i64);

/// What `TimerProbe` must produce: the timers that fire and the late `(key, timestamp)`
/// records, by replaying the records and the watermark after each.
fn expected_timers(input: &[TimerInput]) -> (Vec<KeyTimerWatermark>, Vec<(u32, i64)>) {
    let (mut pending, mut fired, mut late) = (BTreeSet::new(), Vec::new(), Vec::new());
    let (mut max, mut watermark) = (MIN, MIN);
    let mut fire_until = |watermark: i64, pending: &mut BTreeSet<(i64, u32)>| {
        while let Some(&(timer, key)) = pending.first().filter(|(t, _)| *t <= watermark) {
            pending.remove(&(timer, key));
            fired.push((key, timer, watermark));
        }
    };
    for &(key, timestamp, timer, delete) in input {
        if timestamp <= watermark {
            late.push((key, timestamp));
        }
        if delete {
            pending.remove(&(timer, key));
        } else {
            pending.insert((timer, key));
        }
        max = max.max(timestamp);
        if max - 1 > watermark {
            watermark = max - 1;
            fire_until(watermark, &mut pending);
        }
    }
    fire_until(MAX, &mut pending);
    fired.sort();
    late.sort();
    (fired, late)
}

#[test]
fn event_time_timers_fire_once_in_order_with_their_key() {
    let input = timer_input(3_000, 7);
    let (expected_fired, expected_late) = expected_timers(&input);
    assert!(expected_late.len() > 50 && expected_fired.iter().any(|f| f.2 == MAX));
    for parallelism in [1, 3] {
        let env = env(parallelism);
        let late = OutputTag::<(u32, i64)>::new("late");
        let fired = env
            .from_collection(input.clone())
            .assign_timestamps_and_watermarks(AfterEveryRecord::strategy(|r: &TimerInput| r.1))
            .set_parallelism(1)
            .key_by(|r: &TimerInput| r.0)
            .process(TimerProbe { late: late.clone() });
        let late_out = collected(&fired.get_side_output(&late));
        let fired_out = collected(&fired);
        env.execute("timers").unwrap();

        let fired = fired_out.lock().unwrap().clone();
        assert!(
            fired.iter().all(|f| f.4 == Some(f.1) && f.5),
            "timestamp and domain"
        );
        // Per subtask the timers that a watermark passes fire in timestamp order (a timer
        // registered below the watermark waits for the next one).
        let mut by_subtask: BTreeMap<usize, Vec<(i64, i64)>> = BTreeMap::new();
        for f in &fired {
            by_subtask.entry(f.3).or_default().push((f.2, f.1));
        }
        assert_eq!(by_subtask.len(), parallelism);
        assert!(by_subtask.values().all(|t| t.is_sorted()), "order");
        // Exactly once, with the key that registered it, when the watermark passed it.
        let mut fired: Vec<_> = fired.iter().map(|f| (f.0, f.1, f.2)).collect();
        fired.sort();
        assert_eq!(fired, expected_fired, "parallelism {parallelism}");
        let mut late = late_out.lock().unwrap().clone();
        late.sort();
        assert_eq!(late, expected_late);
    }
}

/// A function that reports `(key, registered time, fired at, is processing time, timestamp)`
/// for the processing-time timers it registers: one per key, 200 ms + 100 ms per key after
/// the key's first record, registered twice; key 5's is deleted again.
#[derive(Clone)]
struct ProcessingTimeProbe {
    registered: ValueState<i64>,
}

type ProcessingFired = (u32, i64, i64, bool, Option<i64>);

impl KeyedProcessFunction<u32, u32, ProcessingFired> for ProcessingTimeProbe {
    fn process_element(
        &mut self,
        key: u32,
        ctx: &mut KeyedContext<'_, u32, ProcessingFired>,
    ) -> Result<()> {
        if self.registered.value(ctx)?.is_none() {
            let time = ctx.current_processing_time() + 200 + 100 * key as i64;
            ctx.register_processing_time_timer(time);
            ctx.register_processing_time_timer(time);
            if key == 5 {
                ctx.delete_processing_time_timer(time);
            }
            self.registered.update(ctx, time)?;
        }
        Ok(())
    }

    fn on_timer(
        &mut self,
        timestamp: i64,
        ctx: &mut KeyedContext<'_, u32, ProcessingFired>,
    ) -> Result<()> {
        let fired = (
            *ctx.current_key(),
            timestamp,
            ctx.current_processing_time(),
            ctx.time_domain() == Some(TimeDomain::ProcessingTime),
            ctx.timestamp(),
        );
        ctx.collect(fired);
        Ok(())
    }
}

#[test]
fn processing_time_timers_fire_on_the_wall_clock() {
    // Keys 0..6 twice, then the source stays open for 2 s: the timers are due within 0.7 s.
    let mut items: Vec<_> = (0..12u32).map(|i| (Duration::ZERO, i % 6)).collect();
    items.push((Duration::from_secs(2), 0));
    let env = env(2);
    let fired = env
        .from_source(ScriptedSource::paced(items), "Keys")
        .key_by(|k: &u32| *k)
        .process(ProcessingTimeProbe {
            registered: ValueState::new("registered"),
        })
        .execute_and_collect()
        .unwrap();
    let mut keys: Vec<u32> = fired.iter().map(|f| f.0).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![0, 1, 2, 3, 4],
        "once per key, none for the deleted one"
    );
    for (key, time, fired_at, processing, timestamp) in fired {
        assert!(processing && timestamp.is_none(), "key {key}");
        assert!(
            fired_at >= time && fired_at < time + 1_000,
            "key {key}: due at {time}, fired at {fired_at}"
        );
    }
}

/// When a source subtask finished, for another that must end clearly after it (after the
/// finished one's final watermark has arrived downstream).
#[derive(Clone, Default)]
struct Finished(Arc<Mutex<Option<Instant>>>);

impl Finished {
    fn now(&self) {
        *self.0.lock().unwrap() = Some(Instant::now());
    }

    /// Whether it finished more than half a second ago.
    fn long_ago(&self) -> bool {
        self.0
            .lock()
            .unwrap()
            .is_some_and(|at| at.elapsed() > Duration::from_millis(500))
    }
}

/// Reports `(is timer, time, watermark)`: for every record its timestamp and the watermark
/// it sees; for every timer (one at each record's timestamp) its time and the watermark.
#[derive(Clone)]
struct WatermarkProbe;

type Seen = (bool, i64, i64);

impl KeyedProcessFunction<i64, i64, Seen> for WatermarkProbe {
    fn process_element(&mut self, ts: i64, ctx: &mut KeyedContext<'_, i64, Seen>) -> Result<()> {
        let seen = (false, ts, ctx.current_watermark());
        ctx.collect(seen);
        ctx.register_event_time_timer(ts);
        Ok(())
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut KeyedContext<'_, i64, Seen>) -> Result<()> {
        let seen = (true, timestamp, ctx.current_watermark());
        ctx.collect(seen);
        Ok(())
    }
}

/// Runs `source` (records are their own timestamps) with monotonous timestamps, periodic
/// watermarks every 50 ms and the given idleness, into a [`WatermarkProbe`] at parallelism 2.
fn probe_watermarks(source: ScriptedSource<i64>, idleness: Option<Duration>) -> Vec<Seen> {
    let env = env(2);
    env.configure("pipeline.auto-watermark-interval", "50 ms");
    let mut strategy = WatermarkStrategy::for_monotonous_timestamps()
        .with_timestamp_assigner(|ts: &i64, _| Ok(*ts));
    if let Some(timeout) = idleness {
        strategy = strategy.with_idleness(timeout);
    }
    env.from_source(source, "Scripted")
        .assign_timestamps_and_watermarks(strategy)
        .key_by(|ts: &i64| ts % 5)
        .process(WatermarkProbe)
        .execute_and_collect()
        .unwrap()
}

#[test]
fn the_watermark_after_two_source_subtasks_is_their_minimum() {
    // Subtask 1 emits timestamps 0..1000 at once, then waits for subtask 0 to end; subtask 0
    // runs ahead in event time (0, 100, ..., 9900), one record every 10 ms.
    let done = Finished::default();
    let source = ScriptedSource::new(move |subtask, n| match (subtask, n) {
        (0, n) if n >= 200 => {
            done.now();
            Step::End
        }
        (0, n) if n % 2 == 0 => Step::Pause(Duration::from_millis(10)),
        (0, n) => Step::Emit(vec![(n as i64 / 2) * 100]),
        (_, 0) => Step::Emit((0..1000).collect()),
        _ if done.long_ago() => Step::End,
        _ => Step::Pause(Duration::from_millis(10)),
    });
    let seen = probe_watermarks(source, None);
    // The slow subtask's watermark is 998: records never see more, and only the timers
    // up to 998 fire before the end of input.
    let record_watermarks: Vec<i64> = seen.iter().filter(|s| !s.0).map(|s| s.2).collect();
    assert_eq!(record_watermarks.len(), 1100);
    assert_eq!(record_watermarks.iter().max(), Some(&998));
    let timers: Vec<(i64, i64)> = seen.iter().filter(|s| s.0).map(|s| (s.1, s.2)).collect();
    let expected_keys: BTreeSet<i64> = (0..1000).chain((0..100).map(|i| i * 100)).collect();
    assert_eq!(timers.len(), expected_keys.len(), "one timer per timestamp");
    for (time, watermark) in timers {
        if time <= 998 {
            assert!(
                watermark >= time && watermark <= 998,
                "{time} at {watermark}"
            );
        } else {
            assert_eq!(
                watermark, MAX,
                "timer {time} fired before the slow subtask allowed"
            );
        }
    }
}

#[test]
fn an_idle_source_subtask_stops_holding_back_the_watermark() {
    // Subtask 1 emits one record and then nothing until subtask 0, which emits a record
    // every 10 ms for 1.5 s, has ended.
    let script = || {
        let done = Finished::default();
        ScriptedSource::new(move |subtask, n| match (subtask, n) {
            (0, n) if n >= 300 => {
                done.now();
                Step::End
            }
            (0, n) if n % 2 == 0 => Step::Pause(Duration::from_millis(10)),
            (0, n) => Step::Emit(vec![(n as i64 / 2) * 10]),
            (_, 0) => Step::Emit(vec![0]),
            _ if done.long_ago() => Step::End,
            _ => Step::Pause(Duration::from_millis(10)),
        })
    };
    let fired_before_end = |seen: &[Seen]| {
        let timers: Vec<&Seen> = seen.iter().filter(|s| s.0).collect();
        assert_eq!(timers.len(), 150, "one timer per timestamp");
        assert!(timers.iter().all(|s| s.2 >= s.1));
        timers.iter().filter(|s| s.2 < MAX).count()
    };

    // Without idleness the quiet subtask holds event time at -1 until the end.
    assert_eq!(fired_before_end(&probe_watermarks(script(), None)), 0);
    // With idleness it is ignored after 200 ms, and the timers fire as subtask 0 goes on.
    let early = fired_before_end(&probe_watermarks(
        script(),
        Some(Duration::from_millis(200)),
    ));
    assert!(
        early >= 75,
        "only {early} of 150 timers fired before the end"
    );
}

#[test]
fn a_punctuated_watermark_follows_the_record_that_caused_it() {
    // Every record whose timestamp ends in 7 is a marker: the watermark moves to it.
    struct Markers;
    impl WatermarkGenerator<i64> for Markers {
        fn on_event(&mut self, _: &i64, timestamp: i64, output: &mut WatermarkOutput) {
            if timestamp % 10 == 7 {
                output.emit(Watermark(timestamp));
            }
        }
        fn on_periodic_emit(&mut self, _: &mut WatermarkOutput) {}
    }
    let input: Vec<i64> = (0..2_000).map(|i| i * 3).collect();
    let env = env(1);
    let seen = env
        .from_collection(input.clone())
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_generator(|| Markers)
                .with_timestamp_assigner(|ts: &i64, _| Ok(*ts)),
        )
        .key_by(|_: &i64| 0i64)
        .process(WatermarkProbe)
        .execute_and_collect()
        .unwrap();
    let seen: Vec<(i64, i64)> = seen.iter().filter(|s| !s.0).map(|s| (s.1, s.2)).collect();
    let mut watermark = MIN;
    let expected: Vec<(i64, i64)> = input
        .iter()
        .map(|&ts| {
            let seen = (ts, watermark);
            if ts % 10 == 7 {
                watermark = ts;
            }
            seen
        })
        .collect();
    assert_eq!(seen, expected);
}

/// A periodic generator (`for_monotonous_timestamps`) that counts its periodic calls.
struct CountingPeriodic {
    max: i64,
    calls: Arc<AtomicUsize>,
}

impl WatermarkGenerator<i64> for CountingPeriodic {
    fn on_event(&mut self, _: &i64, timestamp: i64, _: &mut WatermarkOutput) {
        self.max = self.max.max(timestamp);
    }
    fn on_periodic_emit(&mut self, output: &mut WatermarkOutput) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.max > MIN {
            output.emit(Watermark(self.max - 1));
        }
    }
}

#[test]
fn periodic_watermarks_follow_the_auto_watermark_interval() {
    let run = |interval_ms: u64| {
        let calls = Arc::new(AtomicUsize::new(0));
        let generator_calls = Arc::clone(&calls);
        let env = env(1);
        env.configure(
            "pipeline.auto-watermark-interval",
            &format!("{interval_ms} ms"),
        );
        // 50 records, 20 ms apart: about a second.
        let items = (0..50).map(|i| (Duration::from_millis(20), i)).collect();
        let started = Instant::now();
        let seen = env
            .from_source(ScriptedSource::paced(items), "Paced")
            .assign_timestamps_and_watermarks(
                WatermarkStrategy::for_generator(move || CountingPeriodic {
                    max: MIN,
                    calls: Arc::clone(&generator_calls),
                })
                .with_timestamp_assigner(|ts: &i64, _| Ok(*ts)),
            )
            .key_by(|_: &i64| 0i64)
            .process(WatermarkProbe)
            .execute_and_collect()
            .unwrap();
        let elapsed_ms = started.elapsed().as_millis() as usize;
        let seen: Vec<(i64, i64)> = seen.iter().filter(|s| !s.0).map(|s| (s.1, s.2)).collect();
        (calls.load(Ordering::SeqCst), elapsed_ms, seen)
    };

    let (calls, elapsed_ms, seen) = run(100);
    let periods = elapsed_ms / 100;
    assert!(
        calls <= periods + 1 && calls + 1 >= periods / 2,
        "{calls} periodic calls in {elapsed_ms} ms"
    );
    // Records see the watermark of the records before them, never their own.
    assert!(seen.iter().all(|&(ts, w)| w < ts));
    assert!(
        seen.iter().any(|&(_, w)| w > MIN),
        "no watermark during the job"
    );

    // An interval of 0 turns periodic watermarks off: only the final one arrives.
    let (calls, _, seen) = run(0);
    assert_eq!(calls, 0);
    assert!(seen.iter().all(|&(_, w)| w == MIN));
}

#[test]
fn a_failing_timestamp_assigner_fails_the_job_naming_the_operator() {
    for (line, expected) in [
        ("noon", "'noon' is not a timestamp"),
        ("-1", "negative timestamp"),
    ] {
        let env = env(1);
        env.from_collection(vec!["1".to_string(), line.to_string()])
            .assign_timestamps_and_watermarks(
                WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(
                    |line: &String, _| {
                        let ts: i64 = line
                            .parse()
                            .map_err(|_| WeirError::user(format!("'{line}' is not a timestamp")))?;
                        assert!(ts >= 0, "negative timestamp");
                        Ok(ts)
                    },
                ),
            )
            .name("Extract Timestamps")
            .print();
        let err = env.execute("bad timestamps").unwrap_err().to_string();
        assert!(
            err.contains("operator 'Extract Timestamps' (subtask 0) failed")
                && err.contains(expected),
            "{err}"
        );
    }
}

#[test]
fn built_in_strategies_bounded_out_of_orderness_and_ingestion_time() {
    // 40 values 20 ms apart; periodic watermarks every 50 ms.
    let run = |strategy: WatermarkStrategy<i64>| {
        let env = env(1);
        env.configure("pipeline.auto-watermark-interval", "50 ms");
        let items = (0..40).map(|i| (Duration::from_millis(20), i)).collect();
        let seen = env
            .from_source(ScriptedSource::paced(items), "Paced")
            .assign_timestamps_and_watermarks(strategy)
            .key_by(|_: &i64| 0i64)
            .process(TimestampProbe)
            .execute_and_collect()
            .unwrap();
        let records: Vec<(Option<i64>, i64)> =
            seen.iter().filter(|s| !s.0).map(|s| (s.1, s.2)).collect();
        assert_eq!(records.len(), 40);
        records
    };

    // Value i at 100·i ms, 500 ms of out-of-orderness: watermarks are 100·k − 501.
    let records = run(
        WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_millis(500))
            .with_timestamp_assigner(|v: &i64, _| Ok(v * 100)),
    );
    for (i, &(timestamp, watermark)) in records.iter().enumerate() {
        assert_eq!(timestamp, Some(i as i64 * 100));
        assert!(
            watermark == MIN || (watermark + 501) % 100 == 0,
            "{watermark}"
        );
        assert!(
            watermark <= i as i64 * 100 - 601,
            "record {i} sees {watermark}"
        );
    }
    assert!(
        records.iter().any(|r| r.1 > MIN),
        "no watermark during the job"
    );

    // Ingestion time: the wall clock when a record passes the strategy.
    let started = weir_runtime::operator::now_ms();
    let records = run(WatermarkStrategy::ingestion_time());
    let ended = weir_runtime::operator::now_ms();
    let timestamps: Vec<i64> = records.iter().filter_map(|r| r.0).collect();
    assert_eq!(timestamps.len(), 40);
    assert!(timestamps.is_sorted());
    assert!(timestamps[0] >= started && timestamps[39] <= ended);
    assert!(timestamps[39] - timestamps[0] >= 39 * 20, "20 ms apart");
    assert!(records.iter().all(|&(ts, w)| ts.is_some_and(|ts| w < ts)));
}

#[test]
fn records_without_timestamps() {
    // A strategy without an assigner needs records that already have timestamps.
    let env = env(1);
    env.from_sequence(1, 10)
        .assign_timestamps_and_watermarks(WatermarkStrategy::for_monotonous_timestamps())
        .print();
    let err = env.execute("no timestamps").unwrap_err().to_string();
    assert!(
        err.contains("operator 'Timestamps/Watermarks' (subtask 0) failed")
            && err.contains("a record has no timestamp")
            && err.contains("with_timestamp_assigner"),
        "{err}"
    );

    // Without any strategy records have no timestamp, event time stays at its minimum, and
    // event-time timers fire only at the end of the input, with the final watermark.
    let env = common::env(2);
    let seen = env
        .from_sequence(1, 100)
        .key_by(|x: &i64| x % 7)
        .process(TimestampProbe)
        .execute_and_collect()
        .unwrap();
    let (timers, records): (Vec<_>, Vec<_>) = seen.into_iter().partition(|s| s.0);
    assert_eq!(records.len(), 100);
    assert!(records.iter().all(|&(_, ts, w)| ts.is_none() && w == MIN));
    assert_eq!(
        timers,
        vec![(true, Some(1_000), MAX); 7],
        "one timer per key, at the end"
    );
}

/// Reports `(is timer, ctx.timestamp(), watermark)` for records and for the event-time timer
/// at 1000 that each record registers.
#[derive(Clone)]
struct TimestampProbe;

type TimestampSeen = (bool, Option<i64>, i64);

impl KeyedProcessFunction<i64, i64, TimestampSeen> for TimestampProbe {
    fn process_element(
        &mut self,
        _: i64,
        ctx: &mut KeyedContext<'_, i64, TimestampSeen>,
    ) -> Result<()> {
        ctx.collect((false, ctx.timestamp(), ctx.current_watermark()));
        ctx.register_event_time_timer(1_000);
        Ok(())
    }

    fn on_timer(&mut self, _: i64, ctx: &mut KeyedContext<'_, i64, TimestampSeen>) -> Result<()> {
        ctx.collect((true, ctx.timestamp(), ctx.current_watermark()));
        Ok(())
    }
}
