//! Checkpoint barrier handling of the input gate: alignment in exactly-once mode, no
//! blocking in at-least-once mode.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{bounded, Sender};
use weir_core::config::CheckpointingMode;
use weir_core::element::{Batch, CheckpointBarrier, StreamElement};
use weir_core::metrics::TaskMetrics;
use weir_core::{Result, WeirError};
use weir_runtime::input::{InputChannel, InputEvent, InputGate, InputHandler};

/// A record: (channel, sequence number on that channel).
type Rec = (u32, u32);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Rec(Rec),
    Barrier(u64),
    End(usize),
    Finished,
}

#[derive(Default)]
struct Recorder {
    events: Vec<Ev>,
    deadline: Option<i64>,
    fired: usize,
}

impl InputHandler for Recorder {
    fn next_deadline(&self) -> Option<i64> {
        self.deadline
    }

    fn handle(&mut self, event: InputEvent) -> Result<()> {
        match event {
            InputEvent::Batch { batch, .. } => self
                .events
                .extend(batch.into_vec::<Rec>().into_iter().map(Ev::Rec)),
            InputEvent::Barrier(b) => self.events.push(Ev::Barrier(b.checkpoint_id)),
            InputEvent::EndOfInput { input } => self.events.push(Ev::End(input)),
            InputEvent::Finished => self.events.push(Ev::Finished),
            InputEvent::ProcessingTime(_) => {
                self.fired += 1;
                self.deadline = None;
            }
            InputEvent::Watermark(_) | InputEvent::WatermarkStatus(_) | InputEvent::Control(_) => {}
        }
        Ok(())
    }
}

/// What a test puts on a channel.
#[derive(Clone, Copy)]
enum Put {
    /// A batch of one record with this sequence number.
    R(u32),
    /// A barrier of this checkpoint.
    B(u64),
    End,
    /// The sending thread waits this many ms.
    Sleep(u64),
}
use Put::*;

fn element(channel: u32, put: Put) -> StreamElement {
    match put {
        R(seq) => StreamElement::Batch(Batch::from_vec(vec![(channel, seq)])),
        B(id) => StreamElement::Barrier(CheckpointBarrier {
            checkpoint_id: id,
            timestamp_ms: 0,
            is_savepoint: false,
        }),
        End => StreamElement::EndOfInput,
        Sleep(_) => unreachable!(),
    }
}

fn feed(channel: u32, tx: Sender<StreamElement>, puts: Vec<Put>) {
    for put in puts {
        match put {
            Sleep(ms) => thread::sleep(Duration::from_millis(ms)),
            put => {
                if tx.send(element(channel, put)).is_err() {
                    return;
                }
            }
        }
    }
}

/// Runs a gate over one bounded channel (capacity 2) per script, each fed by its own thread,
/// all into logical input 0.
fn run(mode: CheckpointingMode, scripts: Vec<Vec<Put>>) -> (Vec<Ev>, Arc<TaskMetrics>) {
    let mut channels = Vec::new();
    let mut feeders = Vec::new();
    for (i, puts) in scripts.into_iter().enumerate() {
        let (tx, rx) = bounded(2);
        channels.push(InputChannel {
            receiver: rx,
            input: 0,
        });
        feeders.push(thread::spawn(move || feed(i as u32, tx, puts)));
    }
    let metrics = Arc::new(TaskMetrics::new("v", 0, vec![]));
    let mut recorder = Recorder::default();
    InputGate::new(channels)
        .with_mode(mode)
        .run(&metrics, &AtomicBool::new(false), &mut recorder)
        .unwrap();
    for f in feeders {
        f.join().unwrap();
    }
    (recorder.events, metrics)
}

fn position(events: &[Ev], ev: &Ev) -> usize {
    let found: Vec<usize> = (0..events.len()).filter(|&i| events[i] == *ev).collect();
    assert_eq!(
        found.len(),
        1,
        "{ev:?} must occur exactly once in {events:?}"
    );
    found[0]
}

fn records(events: &[Ev]) -> Vec<Rec> {
    let mut recs: Vec<Rec> = events
        .iter()
        .filter_map(|e| match e {
            Ev::Rec(r) => Some(*r),
            _ => None,
        })
        .collect();
    recs.sort();
    recs
}

fn all(channel: u32, seqs: std::ops::Range<u32>) -> Vec<Rec> {
    seqs.map(|s| (channel, s)).collect()
}

#[test]
fn exactly_once_blocks_channels_behind_their_barrier() {
    // Channel 0 delivers its barrier at once, then many records (more than the channel holds);
    // channel 1 delivers records for a while before its barrier.
    let mut a = vec![R(0), R(1), B(1)];
    a.extend((2..40).map(R));
    a.push(End);
    let mut b = vec![Sleep(100)];
    b.extend((0..5).map(R));
    b.extend([B(1), R(5), R(6), End]);
    let (events, metrics) = run(CheckpointingMode::ExactlyOnce, vec![a, b]);

    let barrier = position(&events, &Ev::Barrier(1));
    for r in all(0, 0..2).into_iter().chain(all(1, 0..5)) {
        assert!(
            position(&events, &Ev::Rec(r)) < barrier,
            "{r:?} before the barrier"
        );
    }
    for r in all(0, 2..40).into_iter().chain(all(1, 5..7)) {
        assert!(
            position(&events, &Ev::Rec(r)) > barrier,
            "{r:?} after the barrier"
        );
    }
    let mut expected = all(0, 0..40);
    expected.extend(all(1, 0..7));
    assert_eq!(records(&events), expected);
    assert_eq!(&events[events.len() - 2..], &[Ev::End(0), Ev::Finished]);
    // The alignment lasted from channel 0's barrier to channel 1's.
    assert!(metrics.checkpoint_alignment_time() >= Duration::from_millis(50));
    assert!(metrics.snapshot().checkpoint_alignment_time >= 50_000_000);
}

#[test]
fn exactly_once_with_three_channels_and_two_checkpoints() {
    let scripts = vec![
        vec![R(0), B(1), R(1), B(2), R(2), End],
        vec![Sleep(30), R(0), B(1), R(1), Sleep(30), B(2), R(2), End],
        vec![R(0), R(1), Sleep(60), B(1), R(2), B(2), R(3), End],
    ];
    let (events, _) = run(CheckpointingMode::ExactlyOnce, scripts);
    let b1 = position(&events, &Ev::Barrier(1));
    let b2 = position(&events, &Ev::Barrier(2));
    assert!(b1 < b2);
    let between = |r: Rec| {
        let p = position(&events, &Ev::Rec(r));
        if p < b1 {
            0
        } else if p < b2 {
            1
        } else {
            2
        }
    };
    for (r, expected) in [
        ((0, 0), 0),
        ((0, 1), 1),
        ((0, 2), 2),
        ((1, 0), 0),
        ((1, 1), 1),
        ((1, 2), 2),
        ((2, 0), 0),
        ((2, 1), 0),
        ((2, 2), 1),
        ((2, 3), 2),
    ] {
        assert_eq!(between(r), expected, "{r:?} in {events:?}");
    }
    assert_eq!(records(&events).len(), 10);
}

#[test]
fn end_of_input_on_the_awaited_channel_completes_the_alignment() {
    // Channel 1 never sends the barrier: it ends while channel 0 is blocked.
    let a = vec![R(0), B(1), R(1), R(2), End];
    let b = vec![Sleep(100), R(0), R(1), End];
    let (events, _) = run(CheckpointingMode::ExactlyOnce, vec![a, b]);
    let barrier = position(&events, &Ev::Barrier(1));
    for r in [(0, 0), (1, 0), (1, 1)] {
        assert!(position(&events, &Ev::Rec(r)) < barrier);
    }
    for r in [(0, 1), (0, 2)] {
        assert!(position(&events, &Ev::Rec(r)) > barrier);
    }
    assert_eq!(records(&events).len(), 5);
    assert_eq!(events.last(), Some(&Ev::Finished));
}

#[test]
fn a_newer_barrier_aborts_the_older_alignment() {
    // Channel 0 is blocked on checkpoint 1 when channel 1 delivers checkpoint 2 (it never
    // took part in 1): checkpoint 1 is aborted, channel 0 released, and 2 is aligned.
    let a = vec![R(0), B(1), R(1), B(2), R(2), End];
    let b = vec![Sleep(100), R(0), B(2), R(1), End];
    let (events, _) = run(CheckpointingMode::ExactlyOnce, vec![a, b]);
    assert!(!events.contains(&Ev::Barrier(1)), "{events:?}");
    let barrier = position(&events, &Ev::Barrier(2));
    for r in [(0, 0), (0, 1), (1, 0)] {
        assert!(position(&events, &Ev::Rec(r)) < barrier);
    }
    for r in [(0, 2), (1, 1)] {
        assert!(position(&events, &Ev::Rec(r)) > barrier);
    }
    assert_eq!(records(&events).len(), 5);
}

#[test]
fn at_least_once_does_not_block() {
    let mut a = vec![R(0), B(1)];
    a.extend((1..20).map(R));
    a.push(End);
    let b = vec![Sleep(100), R(0), B(1), R(1), End];
    let (events, metrics) = run(CheckpointingMode::AtLeastOnce, vec![a, b]);
    let barrier = position(&events, &Ev::Barrier(1));
    // Records after the barrier on channel 0 were handled while channel 1 had not sent it.
    assert!(position(&events, &Ev::Rec((0, 19))) < barrier, "{events:?}");
    assert!(position(&events, &Ev::Rec((1, 0))) < barrier);
    assert!(position(&events, &Ev::Rec((1, 1))) > barrier);
    let mut expected = all(0, 0..20);
    expected.extend(all(1, 0..2));
    assert_eq!(records(&events), expected);
    assert_eq!(metrics.checkpoint_alignment_time(), Duration::ZERO);
}

#[test]
fn at_least_once_emits_when_the_last_live_channel_ends() {
    let a = vec![R(0), B(1), R(1), End];
    let b = vec![Sleep(100), R(0), End];
    let (events, _) = run(CheckpointingMode::AtLeastOnce, vec![a, b]);
    let barrier = position(&events, &Ev::Barrier(1));
    assert!(position(&events, &Ev::Rec((1, 0))) < barrier);
    assert_eq!(records(&events).len(), 3);
}

#[test]
fn a_blocked_gate_still_fires_timers_and_notices_cancellation() {
    let (tx_a, rx_a) = bounded(4);
    let (tx_b, rx_b) = bounded(4);
    tx_a.send(element(0, B(1))).unwrap();
    tx_a.send(element(0, R(0))).unwrap();
    let channels = vec![
        InputChannel {
            receiver: rx_a,
            input: 0,
        },
        InputChannel {
            receiver: rx_b,
            input: 0,
        },
    ];
    let cancelled = Arc::new(AtomicBool::new(false));
    let canceller = {
        let cancelled = Arc::clone(&cancelled);
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(150));
            cancelled.store(true, Ordering::Relaxed);
        })
    };
    let metrics = TaskMetrics::new("v", 0, vec![]);
    let mut recorder = Recorder {
        deadline: Some(weir_runtime::operator::now_ms() + 30),
        ..Recorder::default()
    };
    let result = InputGate::new(channels).run(&metrics, &cancelled, &mut recorder);
    assert!(matches!(result, Err(WeirError::Cancelled)));
    canceller.join().unwrap();
    assert_eq!(recorder.fired, 1);
    // Channel 0 stayed blocked behind its barrier.
    assert!(recorder.events.is_empty(), "{:?}", recorder.events);
    drop((tx_a, tx_b));
}
