//! The operator primitive and the context it runs in.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weir_core::config::Configuration;
use weir_core::element::{Batch, Watermark, WatermarkStatus};
use weir_core::keygroup::KeyGroupRange;
use weir_core::metrics::OperatorMetricGroup;
use weir_core::Result;
use weir_state::{RestoredState, StateSnapshot};

/// Where an operator sends what it produces. Implemented by the runtime: the next operator
/// of the chain, or the channels to other tasks.
pub trait Output {
    /// Emits a batch on the main output.
    fn collect(&mut self, batch: Batch) -> Result<()>;
    /// Emits a batch on the side output named `tag`; dropped if nothing consumes it.
    fn collect_side(&mut self, tag: &str, batch: Batch) -> Result<()>;
    /// Forwards event-time progress.
    fn emit_watermark(&mut self, watermark: Watermark) -> Result<()>;
    /// Says that this output is idle (does not hold back watermarks) or active again.
    fn emit_watermark_status(&mut self, status: WatermarkStatus) -> Result<()>;
}

/// One operator: a step of a pipeline with one or two logical inputs.
///
/// The runtime calls [`process_batch`](StreamOperator::process_batch) for every batch that
/// arrives, [`process_watermark`](StreamOperator::process_watermark) when the task's
/// watermark (the minimum over its inputs) advances, [`end_input`](StreamOperator::end_input)
/// when a logical input will send nothing more, and [`finish`](StreamOperator::finish) once
/// after all inputs ended, to flush.
///
/// Checkpoints: when a checkpoint's barrier reaches the operator (after every record before
/// it and none after it), the runtime calls
/// [`prepare_snapshot_pre_barrier`](StreamOperator::prepare_snapshot_pre_barrier), which may
/// still emit records ahead of the barrier, then
/// [`snapshot_state`](StreamOperator::snapshot_state); once the checkpoint is complete on
/// every task, [`notify_checkpoint_complete`](StreamOperator::notify_checkpoint_complete).
/// When the job is restored from a checkpoint, `open` finds the operator's state in
/// [`OperatorContext::restored_state`].
pub trait StreamOperator: Send {
    /// Called once before any input; restores state from
    /// [`OperatorContext::restored_state`] when there is some.
    fn open(&mut self, _ctx: &OperatorContext) -> Result<()> {
        Ok(())
    }
    /// A checkpoint's barrier arrived: emit what the operator holds outside its state (a
    /// mini-batch's buffer) before the barrier goes on, so that the snapshot that follows
    /// covers everything before the barrier (Flink's `prepareSnapshotPreBarrier`).
    fn prepare_snapshot_pre_barrier(&mut self, _out: &mut dyn Output) -> Result<()> {
        Ok(())
    }
    /// Adds the operator's state to the checkpoint being taken. Keep it cheap: encode large
    /// state in the snapshot's writers, which run on another thread.
    fn snapshot_state(&mut self, _snapshot: &mut StateSnapshot) -> Result<()> {
        Ok(())
    }
    /// Checkpoint `checkpoint_id` completed on every task: commit what it covers.
    fn notify_checkpoint_complete(&mut self, _checkpoint_id: u64) -> Result<()> {
        Ok(())
    }
    /// Processes a batch that arrived on logical input `input` (0, or 1 for the second input).
    fn process_batch(&mut self, input: usize, batch: Batch, out: &mut dyn Output) -> Result<()>;
    /// Event time advanced to `watermark`; the default forwards it.
    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        out.emit_watermark(watermark)
    }
    /// The inputs became idle or active again; the default forwards it.
    fn process_watermark_status(
        &mut self,
        status: WatermarkStatus,
        out: &mut dyn Output,
    ) -> Result<()> {
        out.emit_watermark_status(status)
    }
    /// The wall-clock time (ms since the epoch) at which the operator next needs
    /// [`on_processing_time`](StreamOperator::on_processing_time), if any.
    fn next_processing_time(&self) -> Option<i64> {
        None
    }
    /// The wall clock reached the time given by `next_processing_time`.
    fn on_processing_time(&mut self, _now_ms: i64, _out: &mut dyn Output) -> Result<()> {
        Ok(())
    }
    /// Logical input `input` has ended.
    fn end_input(&mut self, _input: usize, _out: &mut dyn Output) -> Result<()> {
        Ok(())
    }
    /// All inputs have ended: emit anything still held.
    fn finish(&mut self, _out: &mut dyn Output) -> Result<()> {
        Ok(())
    }
}

/// The wall clock in milliseconds since the epoch (processing time).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What a source reader returns from one poll.
pub enum SourcePoll {
    /// Records read now (possibly empty); more may follow at once.
    Ready(Batch),
    /// Records read now (possibly empty); nothing more before `Duration` has passed.
    Pending(Batch, Duration),
    /// Records read now (possibly empty) and the end of the input.
    Finished(Batch),
}

/// Event-time progress that a source reader decides itself (as Kafka's does, per partition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceEventTime {
    /// Event time reached this watermark.
    Watermark(Watermark),
    /// The source became idle (it does not hold back watermarks) or active again.
    Status(WatermarkStatus),
}

/// A source subtask, erased: the DataStream layer adapts typed readers to this.
///
/// At a checkpoint the runtime calls [`snapshot_state`](SourceReader::snapshot_state)
/// between two polls, then sends the barrier downstream: the snapshot must hold the reader's
/// position after the records it returned so far, so that a restored reader continues right
/// after them.
pub trait SourceReader: Send {
    /// Called once before the first poll; seeks to the position in
    /// [`OperatorContext::restored_state`] when there is one.
    fn open(&mut self, _ctx: &OperatorContext) -> Result<()> {
        Ok(())
    }
    /// Adds the reader's position to the checkpoint being taken.
    fn snapshot_state(&mut self, _snapshot: &mut StateSnapshot) -> Result<()> {
        Ok(())
    }
    /// Checkpoint `checkpoint_id` completed on every task.
    fn notify_checkpoint_complete(&mut self, _checkpoint_id: u64) -> Result<()> {
        Ok(())
    }
    /// Reads up to `max_records` records without blocking for long (at most ~100 ms), so
    /// that the task can react to cancellation.
    fn poll_next(&mut self, max_records: usize) -> Result<SourcePoll>;
    /// Moves into `out`, in order, the watermarks and idleness changes the reader generated
    /// during the last poll; the task emits them after that poll's records. Readers that leave
    /// event time to a downstream `WatermarkStrategy` keep the default: none.
    fn take_event_time(&mut self, _out: &mut Vec<SourceEventTime>) {}
}

/// What an operator subtask knows about itself and its job.
#[derive(Clone)]
pub struct OperatorContext {
    pub operator_name: String,
    pub uid: String,
    pub subtask_index: usize,
    pub parallelism: usize,
    pub max_parallelism: usize,
    pub config: Arc<Configuration>,
    /// Set when the job is cancelled or failed; long-running code should check it.
    pub cancelled: Arc<AtomicBool>,
    /// Where the operator registers its own metrics; reported with the subtask's metrics
    /// (a detached group, for an operator driven by hand, is reported nowhere).
    pub metrics: Arc<OperatorMetricGroup>,
    /// The state this subtask restores, when the job started from a checkpoint or savepoint.
    pub restored: Option<Arc<RestoredState>>,
}

impl OperatorContext {
    /// The context of subtask 0 of 1 of an operator driven by hand, outside a job: default
    /// configuration, max parallelism 128, detached metrics, nothing restored.
    pub fn detached(operator_name: &str, uid: &str) -> Self {
        OperatorContext {
            operator_name: operator_name.to_string(),
            uid: uid.to_string(),
            subtask_index: 0,
            parallelism: 1,
            max_parallelism: 128,
            config: Arc::new(Configuration::new()),
            cancelled: Arc::new(AtomicBool::new(false)),
            metrics: Arc::default(),
            restored: None,
        }
    }

    /// The key groups this subtask owns.
    pub fn key_group_range(&self) -> KeyGroupRange {
        KeyGroupRange::for_subtask(self.max_parallelism, self.parallelism, self.subtask_index)
    }

    /// The operator's metric group (Flink's `getMetricGroup()`): register counters and gauges
    /// once, e.g. in `open`, and keep the handles, e.g.
    /// `ctx.metrics().counter("numLateRecordsDropped")`.
    pub fn metrics(&self) -> &OperatorMetricGroup {
        &self.metrics
    }

    /// The state this subtask restores, if the job was restored from a checkpoint or
    /// savepoint that holds state of this operator.
    pub fn restored_state(&self) -> Option<&RestoredState> {
        self.restored.as_deref()
    }

    /// Whether the job is being cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Flink's name for the subtask, as in logs and thread names: "Map (2/4)".
    pub fn task_name(&self) -> String {
        format!(
            "{} ({}/{})",
            self.operator_name,
            self.subtask_index + 1,
            self.parallelism
        )
    }
}
