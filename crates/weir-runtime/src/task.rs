//! One task: a subtask of a chain of operators, run on its own thread.
//!
//! A source task polls its reader and pushes the batches through its chain; an operator task
//! takes events from its input gate. Both end by flushing the chain and sending end of input
//! downstream; both stop with [`WeirError::Cancelled`] when the job is cancelled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_core::element::Watermark;
use weir_core::metrics::TaskMetrics;
use weir_core::{Result, WeirError};

use crate::channel::CANCEL_CHECK_INTERVAL;
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
            } => run_source(
                reader,
                ctx,
                outputs,
                &metrics,
                &self.cancelled,
                self.batch_size,
            ),
            TaskHead::Operator { head, gate } => {
                run_operator(*head, gate, &metrics, &self.cancelled)
            }
        };
        metrics.finish();
        result
    }
}

fn run_source(
    mut reader: Box<dyn SourceReader>,
    ctx: OperatorContext,
    mut outputs: Outputs,
    metrics: &TaskMetrics,
    cancelled: &AtomicBool,
    batch_size: usize,
) -> Result<()> {
    let attribute = |e: WeirError| e.in_operator(&ctx.operator_name, ctx.subtask_index);
    panic_capture::catch(|| reader.open(&ctx)).map_err(attribute)?;
    outputs.open()?;
    let mut event_time = Vec::new();
    loop {
        if cancelled.load(Ordering::Relaxed) {
            return Err(WeirError::Cancelled);
        }
        let poll = panic_capture::catch(|| reader.poll_next(batch_size)).map_err(attribute)?;
        let deadline = outputs.next_deadline();
        if deadline.is_some_and(|d| d <= now_ms()) {
            outputs.fire_processing_time(now_ms())?;
        }
        match poll {
            SourcePoll::Ready(batch) => outputs.collect(batch)?,
            SourcePoll::Pending(batch, wait) => {
                outputs.collect(batch)?;
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
                outputs.collect(batch)?;
                break;
            }
        }
        reader.take_event_time(&mut event_time);
        for update in event_time.drain(..) {
            match update {
                SourceEventTime::Watermark(w) => outputs.emit_watermark(w)?,
                SourceEventTime::Status(s) => outputs.emit_watermark_status(s)?,
            }
        }
    }
    outputs.emit_watermark(Watermark::MAX)?;
    outputs.end()
}

fn run_operator(
    mut head: ChainedOperator,
    mut gate: InputGate,
    metrics: &TaskMetrics,
    cancelled: &AtomicBool,
) -> Result<()> {
    head.open()?;
    gate.run(metrics, cancelled, &mut OperatorTask { head, metrics })
}

/// Hands the gate's events to the head of the chain.
struct OperatorTask<'a> {
    head: ChainedOperator,
    metrics: &'a TaskMetrics,
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
            InputEvent::Barrier(b) => self.head.forward_barrier(b),
            InputEvent::EndOfInput { input } => self.head.end_input(input),
            InputEvent::ProcessingTime(now) => self.head.fire_processing_time(now),
            InputEvent::Finished => self.head.finish(),
        }
    }
}
