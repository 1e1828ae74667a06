//! One task: a subtask of a chain of operators, run on its own thread.
//!
//! A source task polls its reader and pushes the batches through its chain; an operator task
//! takes events from its input gate. Both end by flushing the chain and sending end of input
//! downstream; both stop with [`WeirError::Cancelled`] when the job is cancelled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_core::element::{CheckpointBarrier, Watermark};
use weir_core::metrics::TaskMetrics;
use weir_core::{Result, WeirError};

use crate::channel::CANCEL_CHECK_INTERVAL;
use crate::checkpoint::{ChainSnapshot, TaskCheckpointing, TaskControl};
use crate::input::{InputEvent, InputGate, InputHandler};
use crate::operator::{now_ms, OperatorContext, Output, SourceEventTime, SourcePoll, SourceReader};
use crate::output::{ChainedOperator, Outputs};
use crate::panic_capture;

/// What drives a task.
pub enum TaskHead {
    /// A source reader and the outputs of the source node.
    Source {
        reader: Box<dyn SourceReader>,
        ctx: OperatorContext,
        outputs: Outputs,
    },
    /// The first operator of the chain, fed by the input gate.
    Operator {
        head: Box<ChainedOperator>,
        gate: InputGate,
    },
}

/// A runnable subtask.
pub struct Task {
    pub name: String,
    pub head: TaskHead,
    pub metrics: Arc<TaskMetrics>,
    pub cancelled: Arc<AtomicBool>,
    pub batch_size: usize,
    pub checkpointing: TaskCheckpointing,
}

impl Task {
    /// Runs the task to its end, then freezes its metrics.
    pub fn run(self) -> Result<()> {
        panic_capture::capture_on_this_thread();
        let metrics = Arc::clone(&self.metrics);
        let result = match self.head {
            TaskHead::Source {
                reader,
                ctx,
                outputs,
            } => SourceTask {
                reader,
                ctx,
                outputs,
                checkpointing: self.checkpointing,
            }
            .run(&metrics, &self.cancelled, self.batch_size),
            TaskHead::Operator { head, gate } => {
                run_operator(*head, gate, &metrics, &self.cancelled, self.checkpointing)
            }
        };
        metrics.finish();
        result
    }
}

/// A source reader with the chain it feeds.
struct SourceTask {
    reader: Box<dyn SourceReader>,
    ctx: OperatorContext,
    outputs: Outputs,
    checkpointing: TaskCheckpointing,
}

/// Attributes an error to the operator subtask of `ctx`.
fn attributed(ctx: &OperatorContext) -> impl Fn(WeirError) -> WeirError + '_ {
    |e| e.in_operator(&ctx.operator_name, ctx.subtask_index)
}

/// What a source task does after its control messages.
enum Continue {
    /// As before.
    Unchanged,
    /// A stop-with-savepoint's barrier went out: read nothing until the job stops.
    Suspend,
    /// The stop-with-savepoint failed: read again.
    Resume,
    /// Stop with a savepoint, draining: end the input now.
    Finish,
}

impl SourceTask {
    fn run(
        mut self,
        metrics: &TaskMetrics,
        cancelled: &AtomicBool,
        batch_size: usize,
    ) -> Result<()> {
        let mut event_time = Vec::new();
        let (reader, ctx) = (&mut self.reader, &self.ctx);
        panic_capture::catch(|| reader.open(ctx)).map_err(attributed(ctx))?;
        self.outputs.open()?;
        let mut suspended = false;
        loop {
            match self.handle_control()? {
                Continue::Finish => break,
                Continue::Suspend => suspended = true,
                Continue::Resume => suspended = false,
                Continue::Unchanged => {}
            }
            if cancelled.load(Ordering::Relaxed) {
                return Err(WeirError::Cancelled);
            }
            if suspended {
                if self.outputs.next_deadline().is_some_and(|d| d <= now_ms()) {
                    self.outputs.fire_processing_time(now_ms())?;
                }
                std::thread::sleep(CANCEL_CHECK_INTERVAL);
                continue;
            }
            let reader = &mut self.reader;
            let poll = panic_capture::catch(|| reader.poll_next(batch_size))
                .map_err(attributed(&self.ctx))?;
            let deadline = self.outputs.next_deadline();
            if deadline.is_some_and(|d| d <= now_ms()) {
                self.outputs.fire_processing_time(now_ms())?;
            }
            match poll {
                SourcePoll::Ready(batch) => self.outputs.collect(batch)?,
                SourcePoll::Pending(batch, wait) => {
                    self.outputs.collect(batch)?;
                    let until_deadline =
                        deadline.map(|d| Duration::from_millis((d - now_ms()).max(0) as u64));
                    let started = Instant::now();
                    std::thread::sleep(
                        wait.min(CANCEL_CHECK_INTERVAL)
                            .min(until_deadline.unwrap_or(wait)),
                    );
                    metrics.add_idle(started.elapsed());
                }
                SourcePoll::Finished(batch) => {
                    self.outputs.collect(batch)?;
                    break;
                }
            }
            self.emit_event_time(&mut event_time)?;
        }
        self.outputs.emit_watermark(Watermark::MAX)?;
        self.outputs.end()
    }

    /// Emits the watermarks and idleness changes the reader generated in its last poll.
    fn emit_event_time(&mut self, updates: &mut Vec<SourceEventTime>) -> Result<()> {
        self.reader.take_event_time(updates);
        for update in updates.drain(..) {
            match update {
                SourceEventTime::Watermark(w) => self.outputs.emit_watermark(w)?,
                SourceEventTime::Status(s) => self.outputs.emit_watermark_status(s)?,
            }
        }
        Ok(())
    }

    /// Handles the coordinator's messages: snapshots and barriers, completions; says whether
    /// to stop or start reading.
    fn handle_control(&mut self) -> Result<Continue> {
        let mut next = Continue::Unchanged;
        while let Ok(message) = self.checkpointing.control.try_recv() {
            match message {
                TaskControl::Trigger(barrier) => self.checkpoint(barrier)?,
                TaskControl::TriggerFinal(barrier) => {
                    self.checkpoint(barrier)?;
                    next = Continue::Suspend;
                }
                TaskControl::Resume => next = Continue::Resume,
                TaskControl::Complete(id) => {
                    let reader = &mut self.reader;
                    panic_capture::catch(|| reader.notify_checkpoint_complete(id))
                        .map_err(attributed(&self.ctx))?;
                    self.outputs.notify_checkpoint_complete(id)?;
                    self.checkpointing.mark_notified(id);
                }
                TaskControl::Finish => return Ok(Continue::Finish),
            }
        }
        Ok(next)
    }

    /// Snapshots the reader and sends `barrier` on.
    fn checkpoint(&mut self, barrier: CheckpointBarrier) -> Result<()> {
        let (reader, ctx) = (&mut self.reader, &self.ctx);
        let mut chain = ChainSnapshot::default();
        chain.take(&barrier, ctx, None, |snapshot| {
            panic_capture::catch(|| reader.snapshot_state(snapshot)).map_err(attributed(ctx))
        });
        self.outputs.forward_barrier(barrier, &mut chain)?;
        self.checkpointing.submit(barrier.checkpoint_id, chain);
        Ok(())
    }
}

fn run_operator(
    mut head: ChainedOperator,
    mut gate: InputGate,
    metrics: &TaskMetrics,
    cancelled: &AtomicBool,
    checkpointing: TaskCheckpointing,
) -> Result<()> {
    head.open()?;
    let mut task = OperatorTask {
        head,
        metrics,
        checkpointing,
    };
    gate.run(metrics, cancelled, &mut task)
}

/// Hands the gate's events to the head of the chain.
struct OperatorTask<'a> {
    head: ChainedOperator,
    metrics: &'a TaskMetrics,
    checkpointing: TaskCheckpointing,
}

impl InputHandler for OperatorTask<'_> {
    fn next_deadline(&self) -> Option<i64> {
        self.head.next_deadline()
    }

    fn handle(&mut self, event: InputEvent) -> Result<()> {
        match event {
            InputEvent::Batch { input, batch } => {
                self.metrics.add_records_in(batch.len());
                self.head.process_batch(input, batch)
            }
            InputEvent::Watermark(w) => self.head.process_watermark(w),
            InputEvent::WatermarkStatus(s) => self.head.process_watermark_status(s),
            InputEvent::Barrier(b) => {
                let mut chain = ChainSnapshot::default();
                self.head.checkpoint(b, &mut chain)?;
                self.checkpointing.submit(b.checkpoint_id, chain);
                Ok(())
            }
            InputEvent::Control(TaskControl::Complete(id)) => {
                self.head.notify_checkpoint_complete(id)?;
                self.checkpointing.mark_notified(id);
                Ok(())
            }
            // Only source tasks are triggered or finished by the coordinator.
            InputEvent::Control(
                TaskControl::Trigger(_)
                | TaskControl::TriggerFinal(_)
                | TaskControl::Resume
                | TaskControl::Finish,
            ) => Ok(()),
            InputEvent::EndOfInput { input } => self.head.end_input(input),
            InputEvent::ProcessingTime(now) => self.head.fire_processing_time(now),
            InputEvent::Finished => self.head.finish(),
        }
    }
}
