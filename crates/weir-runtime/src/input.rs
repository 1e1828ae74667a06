//! The input gate of a task: merges the channels from all upstream subtasks.
//!
//! It tracks, per channel, the last watermark and whether the channel ended, and turns the
//! raw elements into [`InputEvent`]s: batches per logical input, a watermark when the
//! minimum over the live channels advances, the end of a logical input when all its
//! channels ended, and a checkpoint barrier once it arrived on every live channel.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, Select};
use weir_core::element::{Batch, CheckpointBarrier, StreamElement, Watermark, WatermarkStatus};
use weir_core::metrics::TaskMetrics;
use weir_core::{Result, WeirError};

use crate::channel::CANCEL_CHECK_INTERVAL;

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
    Barrier(CheckpointBarrier),
    EndOfInput {
        input: usize,
    },
    /// Every channel has ended.
    Finished,
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
                (
                    c.receiver,
                    ChannelState {
                        input: c.input,
                        watermark: Watermark::MIN,
                        idle: false,
                        ended: false,
                    },
                )
            })
            .unzip();
        InputGate {
            receivers,
            channels,
            emitted_watermark: Watermark::MIN,
            barriers_seen: BTreeMap::new(),
            live,
        }
    }

    /// Runs `on_event` for every event until all channels ended or `on_event` fails. Time
    /// spent waiting for input counts as idle.
    pub fn run(
        &mut self,
        metrics: &TaskMetrics,
        cancelled: &AtomicBool,
        mut on_event: impl FnMut(InputEvent) -> Result<()>,
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
                    let started = Instant::now();
                    let ready = select.ready_timeout(CANCEL_CHECK_INTERVAL);
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
            self.handle(index, element, &mut on_event)?;
        }
        on_event(InputEvent::Finished)
    }

    fn handle(
        &mut self,
        index: usize,
        element: StreamElement,
        on_event: &mut impl FnMut(InputEvent) -> Result<()>,
    ) -> Result<()> {
        match element {
            StreamElement::Batch(batch) => {
                self.channels[index].idle = false;
                on_event(InputEvent::Batch {
                    input: self.channels[index].input,
                    batch,
                })
            }
            StreamElement::Watermark(w) => {
                let c = &mut self.channels[index];
                c.watermark = c.watermark.max(w);
                c.idle = false;
                self.advance_watermark(on_event)
            }
            StreamElement::WatermarkStatus(status) => {
                self.channels[index].idle = status == WatermarkStatus::Idle;
                self.advance_watermark(on_event)
            }
            StreamElement::Barrier(barrier) => {
                let seen = self.barriers_seen.entry(barrier.checkpoint_id).or_insert(0);
                *seen += 1;
                if *seen == self.live {
                    self.barriers_seen.remove(&barrier.checkpoint_id);
                    on_event(InputEvent::Barrier(barrier))?;
                }
                Ok(())
            }
            StreamElement::EndOfInput => {
                let input = self.channels[index].input;
                self.channels[index].ended = true;
                self.live -= 1;
                if self.channels.iter().all(|c| c.input != input || c.ended) {
                    on_event(InputEvent::EndOfInput { input })?;
                }
                self.advance_watermark(on_event)
            }
        }
    }

    /// Emits the minimum watermark over live, active channels if it advanced.
    fn advance_watermark(
        &mut self,
        on_event: &mut impl FnMut(InputEvent) -> Result<()>,
    ) -> Result<()> {
        let min = self
            .channels
            .iter()
            .filter(|c| !c.ended && !c.idle)
            .map(|c| c.watermark)
            .min();
        match min {
            Some(w) if w > self.emitted_watermark => {
                self.emitted_watermark = w;
                on_event(InputEvent::Watermark(w))
            }
            _ => Ok(()),
        }
    }
}
