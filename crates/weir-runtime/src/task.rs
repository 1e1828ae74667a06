//! One task: a subtask of a chain of operators, run on its own thread.
//!
//! A source task polls its reader and pushes the batches through its chain; an operator task
//! takes events from its input gate. Both end by flushing the chain and sending end of input
//! downstream; both stop with [`WeirError::Cancelled`] when the job is cancelled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use weir_core::element::Watermark;
use weir_core::metrics::TaskMetrics;
use weir_core::{Result, WeirError};

use crate::channel::CANCEL_CHECK_INTERVAL;
use crate::input::{InputEvent, InputGate};
use crate::operator::{OperatorContext, Output, SourcePoll, SourceReader};
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
    loop {
        if cancelled.load(Ordering::Relaxed) {
            return Err(WeirError::Cancelled);
        }
        let poll = panic_capture::catch(|| reader.poll_next(batch_size)).map_err(attribute)?;
        match poll {
            SourcePoll::Ready(batch) => outputs.collect(batch)?,
            SourcePoll::Pending(batch, wait) => {
                outputs.collect(batch)?;
                let started = Instant::now();
                std::thread::sleep(wait.min(CANCEL_CHECK_INTERVAL));
                metrics.add_idle(started.elapsed());
            }
            SourcePoll::Finished(batch) => {
                outputs.collect(batch)?;
                break;
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
    gate.run(metrics, cancelled, |event| match event {
        InputEvent::Batch { input, batch } => {
            metrics.add_records_in(batch.len());
            head.process_batch(input, batch)
        }
        InputEvent::Watermark(w) => head.process_watermark(w),
        InputEvent::Barrier(b) => head.forward_barrier(b),
        InputEvent::EndOfInput { input } => head.end_input(input),
        InputEvent::Finished => head.finish(),
    })
}
