//! The input gate of a task: merges the channels from all upstream subtasks.
//!
//! It tracks, per channel, the last watermark, whether the channel is idle and whether it
//! ended, and turns the raw elements into [`InputEvent`]s: batches per logical input, a
//! watermark when the minimum over the live, active channels advances, a status change when
//! all channels become idle or one becomes active again, the end of a logical input when all
//! its channels ended, and a checkpoint barrier once it arrived on every live channel. It also
//! wakes the task for processing-time deadlines.
//!
//! # Checkpoint barriers
//!
//! How barriers are handled depends on `execution.checkpointing.mode`, as in Flink:
//!
//! - `EXACTLY_ONCE` (aligned checkpoints, the default): once the barrier of checkpoint `n`
//!   arrived on a channel, the gate stops reading that channel (its data stays in the bounded
//!   channel, so the upstream task is backpressured) until barrier `n` arrived on every live
//!   channel; then it emits the barrier once and reads all channels again. Records that
//!   follow the barrier on any channel are therefore never handled before the barrier. A
//!   channel that ends during the alignment counts as having delivered the barrier. A
//!   barrier of a newer checkpoint `m > n` arriving during the alignment of `n` aborts `n`
//!   (Flink cancels the older checkpoint): the blocked channels are released and the gate
//!   aligns `m` instead. Barriers of checkpoints not newer than the last one emitted or
//!   aborted are ignored. The time from the first to the last barrier of an alignment is
//!   recorded as the task's `checkpointAlignmentTime`.
//! - `AT_LEAST_ONCE`: channels are never blocked (records after a barrier may be handled
//!   before it); the barrier is emitted once it arrived on every live channel. Completing
//!   checkpoint `n` drops the pending state of older checkpoints, as Flink's barrier tracker
//!   does.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Select};
use weir_core::config::CheckpointingMode;
use weir_core::element::{Batch, CheckpointBarrier, StreamElement, Watermark, WatermarkStatus};
use weir_core::metrics::TaskMetrics;
use weir_core::{Result, WeirError};

use crate::channel::CANCEL_CHECK_INTERVAL;
use crate::checkpoint::TaskControl;
use crate::operator::now_ms;

/// One upstream channel of a task.
pub struct InputChannel {
    pub receiver: Receiver<StreamElement>,
    /// The logical input of the head operator this channel feeds.
    pub input: usize,
}

/// What the task loop reacts to.
pub enum InputEvent {
    Batch {
        input: usize,
        batch: Batch,
    },
    Watermark(Watermark),
    WatermarkStatus(WatermarkStatus),
    Barrier(CheckpointBarrier),
    EndOfInput {
        input: usize,
    },
    /// The wall clock passed the handler's deadline.
    ProcessingTime(i64),
    /// A message from the checkpoint coordinator.
    Control(TaskControl),
    /// Every channel has ended.
    Finished,
}

/// The task side of a gate: reacts to events and says when it next needs the clock.
pub trait InputHandler {
    /// The next processing-time deadline (ms since the epoch), if any.
    fn next_deadline(&self) -> Option<i64>;
    /// Reacts to one event.
    fn handle(&mut self, event: InputEvent) -> Result<()>;
}

struct ChannelState {
    input: usize,
    watermark: Watermark,
    idle: bool,
    ended: bool,
}

/// The alignment of one checkpoint in exactly-once mode.
struct Alignment {
    barrier: CheckpointBarrier,
    /// Per channel: the barrier arrived (the channel is blocked unless it ended).
    arrived: Vec<bool>,
    started: Instant,
}

/// Merges channels; see the module documentation.
pub struct InputGate {
    receivers: Vec<Receiver<StreamElement>>,
    channels: Vec<ChannelState>,
    emitted_watermark: Watermark,
    all_idle: bool,
    mode: CheckpointingMode,
    /// Exactly-once: the checkpoint being aligned.
    aligning: Option<Alignment>,
    /// At-least-once: per pending checkpoint, its barrier and the channels it arrived on.
    barriers_seen: BTreeMap<u64, (CheckpointBarrier, Vec<bool>)>,
    /// The newest checkpoint emitted or aborted; older barriers are ignored.
    last_checkpoint: Option<u64>,
    live: usize,
    /// Messages from the checkpoint coordinator, read along with the channels.
    control: Option<Receiver<TaskControl>>,
}

impl InputGate {
    /// A gate over `channels`.
    pub fn new(channels: Vec<InputChannel>) -> Self {
        let live = channels.len();
        let (receivers, channels) = channels
            .into_iter()
            .map(|c| {
                let state = ChannelState {
                    input: c.input,
                    watermark: Watermark::MIN,
                    idle: false,
                    ended: false,
                };
                (c.receiver, state)
            })
            .unzip();
        InputGate {
            receivers,
            channels,
            emitted_watermark: Watermark::MIN,
            all_idle: false,
            mode: CheckpointingMode::ExactlyOnce,
            aligning: None,
            barriers_seen: BTreeMap::new(),
            last_checkpoint: None,
            live,
            control: None,
        }
    }

    /// Also reads the checkpoint coordinator's messages from `control` (whose sender must
    /// outlive the task).
    pub fn with_control(mut self, control: Receiver<TaskControl>) -> Self {
        self.control = Some(control);
        self
    }

    /// Sets how checkpoint barriers are handled (`execution.checkpointing.mode`).
    pub fn with_mode(mut self, mode: CheckpointingMode) -> Self {
        self.mode = mode;
        self
    }

    /// Whether the gate currently does not read channel `index` (it ended, or it is blocked
    /// by an alignment).
    fn is_paused(&self, index: usize) -> bool {
        self.channels[index].ended || self.aligning.as_ref().is_some_and(|a| a.arrived[index])
    }

    /// The channels the gate reads, in order.
    fn readable(&self) -> Vec<usize> {
        (0..self.channels.len())
            .filter(|&i| !self.is_paused(i))
            .collect()
    }

    /// Feeds `handler` until all channels ended or it fails. Time spent waiting for input
    /// counts as idle.
    pub fn run(
        &mut self,
        metrics: &TaskMetrics,
        cancelled: &AtomicBool,
        handler: &mut dyn InputHandler,
    ) -> Result<()> {
        let receivers = std::mem::take(&mut self.receivers);
        let control = self.control.take();
        // The select reads the channels in `reading` (select index -> channel index), then
        // the control channel; it is rebuilt whenever a channel ends, gets blocked by an
        // alignment or is released.
        let build = |reading: &[usize]| {
            let mut select = Select::new();
            for &i in reading {
                select.recv(&receivers[i]);
            }
            if let Some(control) = &control {
                select.recv(control);
            }
            select
        };
        let mut reading = self.readable();
        let mut select = build(&reading);
        while self.live > 0 {
            let now_reading = self.readable();
            if now_reading != reading {
                reading = now_reading;
                select = build(&reading);
            }
            let index = match select.try_ready() {
                Ok(i) => i,
                Err(_) => {
                    let mut wait = CANCEL_CHECK_INTERVAL;
                    if let Some(deadline) = handler.next_deadline() {
                        let now = now_ms();
                        if deadline <= now {
                            handler.handle(InputEvent::ProcessingTime(now))?;
                            continue;
                        }
                        wait = wait.min(Duration::from_millis((deadline - now) as u64));
                    }
                    let started = Instant::now();
                    let ready = select.ready_timeout(wait);
                    metrics.add_idle(started.elapsed());
                    match ready {
                        Ok(i) => i,
                        Err(_) if cancelled.load(Ordering::Relaxed) => {
                            return Err(WeirError::Cancelled)
                        }
                        Err(_) => continue,
                    }
                }
            };
            if index == reading.len() {
                if let Some(Ok(message)) = control.as_ref().map(Receiver::try_recv) {
                    handler.handle(InputEvent::Control(message))?;
                }
                continue;
            }
            let index = reading[index];
            let element = match receivers[index].try_recv() {
                Ok(e) => e,
                Err(crossbeam_channel::TryRecvError::Empty) => continue,
                // The sender went away without an end of input: its task failed or was cancelled.
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    return Err(WeirError::Cancelled)
                }
            };
            self.handle(index, element, metrics, handler)?;
            if let Some(deadline) = handler.next_deadline() {
                let now = now_ms();
                if deadline <= now {
                    handler.handle(InputEvent::ProcessingTime(now))?;
                }
            }
        }
        handler.handle(InputEvent::Finished)
    }

    fn handle(
        &mut self,
        index: usize,
        element: StreamElement,
        metrics: &TaskMetrics,
        handler: &mut dyn InputHandler,
    ) -> Result<()> {
        match element {
            StreamElement::Batch(batch) => {
                let input = self.channels[index].input;
                self.set_idle(index, false, handler)?;
                handler.handle(InputEvent::Batch { input, batch })
            }
            StreamElement::Watermark(w) => {
                let c = &mut self.channels[index];
                c.watermark = c.watermark.max(w);
                self.set_idle(index, false, handler)?;
                self.advance_watermark(handler)
            }
            StreamElement::WatermarkStatus(status) => {
                self.set_idle(index, status == WatermarkStatus::Idle, handler)?;
                self.advance_watermark(handler)
            }
            StreamElement::Barrier(barrier) => {
                if self
                    .last_checkpoint
                    .is_some_and(|last| barrier.checkpoint_id <= last)
                {
                    return Ok(());
                }
                match self.mode {
                    CheckpointingMode::ExactlyOnce => self.align(index, barrier),
                    CheckpointingMode::AtLeastOnce => {
                        let n = self.channels.len();
                        self.barriers_seen
                            .entry(barrier.checkpoint_id)
                            .or_insert_with(|| (barrier, vec![false; n]))
                            .1[index] = true;
                    }
                }
                self.complete_checkpoints(metrics, handler)
            }
            StreamElement::EndOfInput => {
                let input = self.channels[index].input;
                self.channels[index].ended = true;
                self.live -= 1;
                if self.channels.iter().all(|c| c.input != input || c.ended) {
                    handler.handle(InputEvent::EndOfInput { input })?;
                }
                // An ended channel sends no more data: it no longer holds back a barrier.
                self.complete_checkpoints(metrics, handler)?;
                self.advance_watermark(handler)
            }
        }
    }

    /// Exactly-once: the barrier arrived on channel `index`, which gets blocked.
    fn align(&mut self, index: usize, barrier: CheckpointBarrier) {
        let id = barrier.checkpoint_id;
        if let Some(current) = &self.aligning {
            let current_id = current.barrier.checkpoint_id;
            if id < current_id {
                // The alignment started with a newer checkpoint: this one is superseded.
                return;
            }
            if id > current_id {
                tracing::debug!(
                    "checkpoint {id} barrier arrived while aligning {current_id}: aborting {current_id}"
                );
                self.last_checkpoint = Some(current_id);
                self.aligning = None;
            }
        }
        let n = self.channels.len();
        self.aligning
            .get_or_insert_with(|| Alignment {
                barrier,
                arrived: vec![false; n],
                started: Instant::now(),
            })
            .arrived[index] = true;
    }

    /// Emits the barriers that arrived on every live channel.
    fn complete_checkpoints(
        &mut self,
        metrics: &TaskMetrics,
        handler: &mut dyn InputHandler,
    ) -> Result<()> {
        let channels = &self.channels;
        let complete = |arrived: &[bool]| {
            arrived
                .iter()
                .zip(channels)
                .all(|(&arrived, c)| arrived || c.ended)
        };
        match self.mode {
            CheckpointingMode::ExactlyOnce => {
                if let Some(a) = self.aligning.take_if(|a| complete(&a.arrived)) {
                    metrics.set_checkpoint_alignment_time(a.started.elapsed());
                    self.last_checkpoint = Some(a.barrier.checkpoint_id);
                    handler.handle(InputEvent::Barrier(a.barrier))?;
                }
            }
            CheckpointingMode::AtLeastOnce => {
                let done = self
                    .barriers_seen
                    .iter()
                    .rev()
                    .find(|(_, (_, arrived))| complete(arrived))
                    .map(|(&id, &(barrier, _))| (id, barrier));
                if let Some((id, barrier)) = done {
                    // Older pending checkpoints can no longer complete.
                    self.barriers_seen = self.barriers_seen.split_off(&(id + 1));
                    self.last_checkpoint = Some(id);
                    handler.handle(InputEvent::Barrier(barrier))?;
                }
            }
        }
        Ok(())
    }

    /// Marks a channel idle or active and reports when the gate as a whole changes.
    fn set_idle(&mut self, index: usize, idle: bool, handler: &mut dyn InputHandler) -> Result<()> {
        self.channels[index].idle = idle;
        let all_idle = self.channels.iter().filter(|c| !c.ended).all(|c| c.idle);
        if all_idle != self.all_idle {
            self.all_idle = all_idle;
            let status = if all_idle {
                WatermarkStatus::Idle
            } else {
                WatermarkStatus::Active
            };
            handler.handle(InputEvent::WatermarkStatus(status))?;
        }
        Ok(())
    }

    /// Emits the minimum watermark over live, active channels if it advanced.
    fn advance_watermark(&mut self, handler: &mut dyn InputHandler) -> Result<()> {
        let min = self
            .channels
            .iter()
            .filter(|c| !c.ended && !c.idle)
            .map(|c| c.watermark)
            .min();
        match min {
            Some(w) if w > self.emitted_watermark => {
                self.emitted_watermark = w;
                handler.handle(InputEvent::Watermark(w))
            }
            _ => Ok(()),
        }
    }
}
