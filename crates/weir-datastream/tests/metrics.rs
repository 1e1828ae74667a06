//! Metrics that operators register themselves, read from the job result: late records that
//! windows and interval joins drop (`numLateRecordsDropped`) and the last watermark that the
//! timestamps/watermarks operator emitted (`currentOutputWatermark`).

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{collected, env, Rng, ScriptedSource, Step};
use weir_core::element::Watermark;
use weir_datastream::prelude::*;

/// (key, value, timestamp in ms)
type Event = (u64, i64, i64);

const DROPPED: &str = "numLateRecordsDropped";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A watermark right after every record, trailing the highest timestamp by `lag` ms.
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
    .with_timestamp_assigner(|e: &Event, _| Ok(e.2))
}

/// `n` events about 3 ms apart and up to 200 ms out of order.
fn out_of_order(n: usize, seed: u64) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let ts = 10_000 + 3 * i as i64 - rng.below(200) as i64;
            (rng.below(5), rng.below(100) as i64, ts)
        })
        .collect()
}

/// How many of `events` a window operator drops at parallelism 1 with a watermark trailing
/// the highest timestamp so far by `lag` after every record: those whose last window
/// (`size` ms every `slide` ms) ended `allowed` ms or more before the watermark.
fn late_count(events: &[Event], lag: i64, size: i64, slide: i64, allowed: i64) -> u64 {
    let mut watermark = i64::MIN;
    let mut late = 0;
    for &(_, _, ts) in events {
        let last_window_max = ts.div_euclid(slide) * slide + size - 1;
        if last_window_max + allowed <= watermark {
            late += 1;
        }
        watermark = watermark.max(ts - lag);
    }
    late
}

enum Function {
    Sum,
    Process,
}

/// Runs windows of `size` every `slide` ms over `events` (lag 20 ms, allowed lateness
/// 30 ms), with or without a late-data side output; returns the job result and the number of
/// records on the side output.
fn window_job(
    events: Vec<Event>,
    size: u64,
    slide: u64,
    function: Function,
    side_output: bool,
) -> (JobExecutionResult, usize) {
    let env = env(1);
    let tag = OutputTag::<Event>::new("late");
    let mut windowed = env
        .from_collection(events)
        .assign_timestamps_and_watermarks(punctuated(20))
        .key_by(|e: &Event| e.0)
        .window(SlidingEventTimeWindows::of(ms(size), ms(slide)))
        .allowed_lateness(ms(30));
    if side_output {
        windowed = windowed.side_output_late_data(&tag);
    }
    let out = match function {
        Function::Sum => windowed.sum(1),
        Function::Process => windowed.process(
            |_: &u64, events: Vec<Event>, ctx: &mut WindowContext<'_, u64, TimeWindow, Event>| {
                ctx.collect(events[0]);
                Ok(())
            },
        ),
    }
    .name("Window");
    let late = collected(&out.get_side_output(&tag));
    collected(&out);
    let result = env.execute("late data").unwrap();
    let late = late.lock().unwrap().len();
    (result, late)
}

#[test]
fn windows_count_the_late_records_they_drop() {
    let events = out_of_order(3_000, 7);
    for (size, slide, function) in [
        (50, 50, Function::Sum),
        (60, 20, Function::Sum),
        (60, 20, Function::Process),
    ] {
        let expected = late_count(&events, 20, size as i64, slide as i64, 30);
        assert!(expected > 50, "the input has late records: {expected}");
        let (result, side) = window_job(events.clone(), size, slide, function, false);
        assert_eq!(side, 0);
        assert_eq!(
            result.operator_metric("Window", DROPPED),
            Some(expected as i64),
            "windows of {size} ms every {slide} ms"
        );
    }
}

#[test]
fn late_records_sent_to_the_side_output_are_not_counted_as_dropped() {
    let events = out_of_order(3_000, 8);
    for (size, slide, function) in [(50, 50, Function::Sum), (60, 20, Function::Process)] {
        let expected = late_count(&events, 20, size, slide, 30);
        let (result, side) = window_job(events.clone(), size as u64, slide as u64, function, true);
        assert_eq!(side as u64, expected);
        assert_eq!(result.operator_metric("Window", DROPPED), Some(0));
    }
}

/// A one-subtask source that emits `before` one record a step, waits until `gate` is set
/// (at most 10 s, so that a bug fails the test instead of hanging it), then emits `after`.
fn gated(before: Vec<Event>, gate: Arc<AtomicBool>, after: Vec<Event>) -> ScriptedSource<Event> {
    let items: Vec<Event> = before.iter().chain(&after).copied().collect();
    let (cursor, started) = (AtomicUsize::new(0), Instant::now());
    ScriptedSource::new(move |_, _| {
        let i = cursor.load(Ordering::SeqCst);
        let open = gate.load(Ordering::SeqCst) || started.elapsed() > Duration::from_secs(10);
        if i == before.len() && !open {
            return Step::Pause(ms(1));
        }
        match items.get(i) {
            Some(e) => {
                cursor.store(i + 1, Ordering::SeqCst);
                Step::Emit(vec![*e])
            }
            None => Step::End,
        }
    })
}

#[test]
fn interval_joins_count_the_late_records_they_drop() {
    // Watermarks equal the highest timestamp so far. The pair at 5000 joins only after the
    // join has seen the left watermark 1000 and the right watermark 900 (each travels ahead
    // of the record that follows it), so from then on the join's watermark is at least 900,
    // and the records both sources send after the join below 900 are late; the one at 6000
    // is not.
    let joined = Arc::new(AtomicBool::new(false));
    let env = env(1);
    let stream = |before: Vec<Event>, after: Vec<Event>| {
        env.from_source(gated(before, Arc::clone(&joined), after), "scripted")
            .assign_timestamps_and_watermarks(punctuated(0))
            .key_by(|e: &Event| e.0)
    };
    let left = stream(vec![(1, 0, 1000), (1, 1, 5000)], vec![(1, 2, 800)]);
    let right = stream(
        vec![(1, 10, 900), (1, 11, 5000)],
        vec![(1, 12, 10), (1, 13, 20), (1, 14, 500), (1, 15, 6000)],
    );
    let flag = Arc::clone(&joined);
    let pairs = left
        .interval_join(&right)
        .between(0, 0)
        .process(
            move |l: Event, r: Event, ctx: &mut ProcessJoinContext<'_, (i64, i64)>| {
                flag.store(true, Ordering::SeqCst);
                ctx.collect((l.1, r.1));
                Ok(())
            },
        )
        .name("Join");
    let out = collected(&pairs);
    let result = env.execute("interval join").unwrap();
    assert_eq!(*out.lock().unwrap(), vec![(1, 11)]);
    assert_eq!(result.operator_metric("Join", DROPPED), Some(4));
}

#[test]
fn the_watermark_operator_reports_its_output_watermark() {
    let env = env(1);
    let events: Vec<Event> = (0..100)
        .map(|i| (i % 3, i as i64, 1000 + i as i64))
        .collect();
    let timed = env
        .from_collection(events)
        .assign_timestamps_and_watermarks(punctuated(10))
        .name("Timestamps");
    collected(&timed);
    let result = env.execute("watermarks").unwrap();
    // At the end of the input the final watermark passed through.
    assert_eq!(
        result.operator_metric("Timestamps", "currentOutputWatermark"),
        Some(Watermark::MAX.0)
    );
    // Only operators that register metrics report them.
    assert_eq!(
        result.operator_metric("Sink: Collect", "currentOutputWatermark"),
        None
    );
}
