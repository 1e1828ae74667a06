//! The input gate of a task: merges the channels from all upstream subtasks.
//!
//! It tracks, per channel, the last watermark, whether the channel is idle and whether it
//! ended, and turns the raw elements into [`InputEvent`]s: batches per logical input, a
//! watermark when the minimum over the live, active channels advances, a status change when
//! all channels become idle or one becomes active again, the end of a logical input when all
//! its channels ended, and a checkpoint barrier once it arrived on every live channel. It also
//! wakes the task for processing-time deadlines.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Select};
use weir_core::element::{Batch, CheckpointBarrier, StreamElement, Watermark, WatermarkStatus};
use weir_core::metrics::TaskMetrics;
use weir_core::{Result, WeirError};

use crate::channel::CANCEL_CHECK_INTERVAL;
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

/// Merges channels; see the module documentation.
pub struct InputGate {
    receivers: Vec<Receiver<StreamElement>>,
    channels: Vec<ChannelState>,
    emitted_watermark: Watermark,
    all_idle: bool,
    barriers_seen: BTreeMap<u64, usize>,
    live: usize,
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
            barriers_seen: BTreeMap::new(),
            live,
        }
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
        let mut select = Select::new();
        for r in &receivers {
            select.recv(r);
        }
        while self.live > 0 {
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
            let element = match receivers[index].try_recv() {
                Ok(e) => e,
                Err(crossbeam_channel::TryRecvError::Empty) => continue,
                // The sender went away without an end of input: its task failed or was cancelled.
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    return Err(WeirError::Cancelled)
                }
            };
            if let StreamElement::EndOfInput = element {
                select.remove(index);
            }
            self.handle(index, element, handler)?;
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
                let seen = self.barriers_seen.entry(barrier.checkpoint_id).or_insert(0);
                *seen += 1;
                if *seen == self.live {
                    self.barriers_seen.remove(&barrier.checkpoint_id);
                    handler.handle(InputEvent::Barrier(barrier))?;
                }
                Ok(())
            }
            StreamElement::EndOfInput => {
                let input = self.channels[index].input;
                self.channels[index].ended = true;
                self.live -= 1;
                if self.channels.iter().all(|c| c.input != input || c.ended) {
                    handler.handle(InputEvent::EndOfInput { input })?;
                }
                self.advance_watermark(handler)
            }
        }
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
