//! The outputs of operators inside a task: the next operators of the chain, or record
//! writers that partition batches onto channels to other tasks.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crossbeam_channel::Sender;
use weir_core::element::{Batch, CheckpointBarrier, StreamElement, Watermark, WatermarkStatus};
use weir_core::metrics::TaskMetrics;
use weir_core::Result;

use crate::channel::send;
use crate::checkpoint::ChainSnapshot;
use crate::operator::{OperatorContext, Output, StreamOperator};
use crate::panic_capture;
use crate::partitioner::Partitioner;

/// Writes batches of one stream edge onto the channels of its target subtasks.
pub struct RecordWriter {
    pub(crate) partitioner: Box<dyn Partitioner>,
    pub(crate) channels: Vec<Sender<StreamElement>>,
    pub(crate) max_batch: usize,
    pub(crate) metrics: Arc<TaskMetrics>,
    pub(crate) cancelled: Arc<AtomicBool>,
}

impl RecordWriter {
    fn write(&mut self, mut batch: Batch) -> Result<()> {
        if batch.len() <= self.max_batch {
            return self.write_bounded(batch);
        }
        // Cut from the back so that each record is copied once.
        let mut chunks = Vec::with_capacity(batch.len() / self.max_batch + 1);
        while batch.len() > self.max_batch {
            let at = (batch.len() - 1) / self.max_batch * self.max_batch;
            chunks.push(batch.split_off(at));
        }
        self.write_bounded(batch)?;
        chunks
            .into_iter()
            .rev()
            .try_for_each(|c| self.write_bounded(c))
    }

    fn write_bounded(&mut self, batch: Batch) -> Result<()> {
        let (channels, metrics, cancelled) = (&self.channels, &self.metrics, &self.cancelled);
        self.partitioner
            .partition(batch, channels.len(), &mut |target, part| {
                metrics.add_records_out(part.len());
                send(
                    &channels[target],
                    StreamElement::Batch(part),
                    metrics,
                    cancelled,
                )
            })
    }

    /// Sends a control element to every target channel.
    pub fn broadcast(&self, element: impl Fn() -> StreamElement) -> Result<()> {
        for c in &self.channels {
            send(c, element(), &self.metrics, &self.cancelled)?;
        }
        Ok(())
    }
}

/// Where one output of an operator leads.
pub enum Target {
    /// The next operator of the chain, called directly.
    Chained(Box<ChainedOperator>),
    /// Channels to another task.
    Network(RecordWriter),
}

impl Target {
    fn push(&mut self, batch: Batch) -> Result<()> {
        match self {
            Target::Chained(op) => op.process_batch(0, batch),
            Target::Network(w) => w.write(batch),
        }
    }

    fn watermark(&mut self, w: Watermark) -> Result<()> {
        match self {
            Target::Chained(op) => op.process_watermark(w),
            Target::Network(n) => n.broadcast(|| StreamElement::Watermark(w)),
        }
    }

    fn watermark_status(&mut self, status: WatermarkStatus) -> Result<()> {
        match self {
            Target::Chained(op) => op.process_watermark_status(status),
            Target::Network(n) => n.broadcast(|| StreamElement::WatermarkStatus(status)),
        }
    }

    fn next_deadline(&self) -> Option<i64> {
        match self {
            Target::Chained(op) => op.next_deadline(),
            Target::Network(_) => None,
        }
    }

    fn fire_processing_time(&mut self, now_ms: i64) -> Result<()> {
        match self {
            Target::Chained(op) => op.fire_processing_time(now_ms),
            Target::Network(_) => Ok(()),
        }
    }

    fn barrier(&mut self, b: CheckpointBarrier, parts: &mut ChainSnapshot) -> Result<()> {
        match self {
            Target::Chained(op) => op.checkpoint(b, parts),
            Target::Network(n) => n.broadcast(|| StreamElement::Barrier(b)),
        }
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> Result<()> {
        match self {
            Target::Chained(op) => op.notify_checkpoint_complete(checkpoint_id),
            Target::Network(_) => Ok(()),
        }
    }

    fn end(&mut self) -> Result<()> {
        match self {
            Target::Chained(op) => op.end_all_inputs(),
            Target::Network(n) => n.broadcast(|| StreamElement::EndOfInput),
        }
    }

    fn open(&mut self) -> Result<()> {
        match self {
            Target::Chained(op) => op.open(),
            Target::Network(_) => Ok(()),
        }
    }
}

/// The outputs of one operator: its main output and its side outputs by tag, each fanning out
/// to any number of targets.
pub struct Outputs {
    pub(crate) main: Vec<Target>,
    pub(crate) side: Vec<(String, Target)>,
    /// Index of the emitting operator in the task's operator metrics.
    pub(crate) operator_index: usize,
    pub(crate) metrics: Arc<TaskMetrics>,
}

impl Outputs {
    fn all_targets(&mut self) -> impl Iterator<Item = &mut Target> {
        self.main
            .iter_mut()
            .chain(self.side.iter_mut().map(|(_, t)| t))
    }

    /// Opens the chained operators behind these outputs.
    pub fn open(&mut self) -> Result<()> {
        self.all_targets().try_for_each(Target::open)
    }

    /// The earliest processing-time deadline of the chained operators behind these outputs.
    pub fn next_deadline(&self) -> Option<i64> {
        self.main
            .iter()
            .chain(self.side.iter().map(|(_, t)| t))
            .filter_map(Target::next_deadline)
            .min()
    }

    /// Runs the processing-time callbacks that are due behind these outputs.
    pub fn fire_processing_time(&mut self, now_ms: i64) -> Result<()> {
        self.all_targets()
            .try_for_each(|t| t.fire_processing_time(now_ms))
    }

    /// Passes a checkpoint barrier on to every target; the chained operators behind these
    /// outputs add their snapshots to `parts`.
    pub fn forward_barrier(
        &mut self,
        b: CheckpointBarrier,
        parts: &mut ChainSnapshot,
    ) -> Result<()> {
        self.all_targets().try_for_each(|t| t.barrier(b, parts))
    }

    /// Tells the chained operators behind these outputs that a checkpoint completed.
    pub fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> Result<()> {
        self.all_targets()
            .try_for_each(|t| t.notify_checkpoint_complete(checkpoint_id))
    }

    /// Ends every target: chained operators end and flush, channels get end of input.
    pub fn end(&mut self) -> Result<()> {
        self.all_targets().try_for_each(Target::end)
    }
}

/// Sends `batch` to every target, copying it for all but the last.
fn fan_out<'a>(targets: impl Iterator<Item = &'a mut Target>, batch: Batch) -> Result<()> {
    let mut targets = targets.peekable();
    while let Some(t) = targets.next() {
        if targets.peek().is_some() {
            t.push(batch.clone())?;
        } else {
            return t.push(batch);
        }
    }
    Ok(())
}

impl Output for Outputs {
    fn collect(&mut self, batch: Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.metrics.operators[self.operator_index].add_out(batch.len());
        fan_out(self.main.iter_mut(), batch)
    }

    fn collect_side(&mut self, tag: &str, batch: Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.metrics.operators[self.operator_index].add_out(batch.len());
        fan_out(
            self.side
                .iter_mut()
                .filter(|(t, _)| t == tag)
                .map(|(_, t)| t),
            batch,
        )
    }

    fn emit_watermark(&mut self, watermark: Watermark) -> Result<()> {
        self.all_targets().try_for_each(|t| t.watermark(watermark))
    }

    fn emit_watermark_status(&mut self, status: WatermarkStatus) -> Result<()> {
        self.all_targets()
            .try_for_each(|t| t.watermark_status(status))
    }
}

/// An operator inside a task together with its outputs. Errors and panics in the operator are
/// attributed to it by name.
pub struct ChainedOperator {
    pub(crate) operator: Box<dyn StreamOperator>,
    pub(crate) ctx: OperatorContext,
    pub(crate) outputs: Outputs,
    pub(crate) inputs: usize,
}

impl ChainedOperator {
    fn attribute<T>(ctx: &OperatorContext, f: impl FnOnce() -> Result<T>) -> Result<T> {
        panic_capture::catch(f).map_err(|e| e.in_operator(&ctx.operator_name, ctx.subtask_index))
    }

    /// Opens this operator, then those chained after it.
    pub fn open(&mut self) -> Result<()> {
        let (op, ctx) = (&mut self.operator, &self.ctx);
        Self::attribute(ctx, || op.open(ctx))?;
        self.outputs.open()
    }

    /// Processes a batch from logical input `input`.
    pub fn process_batch(&mut self, input: usize, batch: Batch) -> Result<()> {
        self.outputs.metrics.operators[self.outputs.operator_index].add_in(batch.len());
        let (op, out) = (&mut self.operator, &mut self.outputs);
        Self::attribute(&self.ctx, || op.process_batch(input, batch, out))
    }

    /// Passes a watermark to the operator.
    pub fn process_watermark(&mut self, w: Watermark) -> Result<()> {
        let (op, out) = (&mut self.operator, &mut self.outputs);
        Self::attribute(&self.ctx, || op.process_watermark(w, out))
    }

    /// Passes a change of watermark status to the operator.
    pub fn process_watermark_status(&mut self, status: WatermarkStatus) -> Result<()> {
        let (op, out) = (&mut self.operator, &mut self.outputs);
        Self::attribute(&self.ctx, || op.process_watermark_status(status, out))
    }

    /// The earliest processing-time deadline of this operator and those chained after it.
    pub fn next_deadline(&self) -> Option<i64> {
        match (
            self.operator.next_processing_time(),
            self.outputs.next_deadline(),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the processing-time callbacks due at `now_ms`, here and down the chain.
    pub fn fire_processing_time(&mut self, now_ms: i64) -> Result<()> {
        if self
            .operator
            .next_processing_time()
            .is_some_and(|t| t <= now_ms)
        {
            let (op, out) = (&mut self.operator, &mut self.outputs);
            Self::attribute(&self.ctx, || op.on_processing_time(now_ms, out))?;
        }
        self.outputs.fire_processing_time(now_ms)
    }

    /// Logical input `input` ended.
    pub fn end_input(&mut self, input: usize) -> Result<()> {
        let (op, out) = (&mut self.operator, &mut self.outputs);
        Self::attribute(&self.ctx, || op.end_input(input, out))
    }

    /// A checkpoint barrier arrived on all inputs: let this operator emit what it holds
    /// before the barrier, snapshot it into `chain` (or record why it cannot), then pass the
    /// barrier on.
    pub fn checkpoint(&mut self, b: CheckpointBarrier, chain: &mut ChainSnapshot) -> Result<()> {
        let (op, out) = (&mut self.operator, &mut self.outputs);
        Self::attribute(&self.ctx, || op.prepare_snapshot_pre_barrier(out))?;
        let (op, ctx) = (&mut self.operator, &self.ctx);
        chain.take(&b, ctx, Some(ctx.key_group_range()), |snapshot| {
            Self::attribute(ctx, || op.snapshot_state(snapshot))
        });
        self.outputs.forward_barrier(b, chain)
    }

    /// Checkpoint `checkpoint_id` completed: tell this operator, then those chained after it.
    pub fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> Result<()> {
        let (op, ctx) = (&mut self.operator, &self.ctx);
        Self::attribute(ctx, || op.notify_checkpoint_complete(checkpoint_id))?;
        self.outputs.notify_checkpoint_complete(checkpoint_id)
    }

    /// All inputs ended: flush this operator, then end everything after it.
    pub fn finish(&mut self) -> Result<()> {
        let (op, out) = (&mut self.operator, &mut self.outputs);
        Self::attribute(&self.ctx, || op.finish(out))?;
        self.outputs.end()
    }

    /// For chained operators: the one input ended, so end it and finish.
    fn end_all_inputs(&mut self) -> Result<()> {
        for input in 0..self.inputs {
            self.end_input(input)?;
        }
        self.finish()
    }
}
