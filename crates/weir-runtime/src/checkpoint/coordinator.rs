//! The checkpoint coordinator: triggers checkpoints and savepoints, collects the tasks'
//! acknowledgements, completes checkpoints and tells the tasks; see the module documentation
//! of [`crate::checkpoint`].
//!
//! It runs on the job master's thread: [`CheckpointCoordinator::tick`] is called every few
//! milliseconds with the current attempt's tasks. Checkpoint ids keep growing across
//! restarts. Flink's settings apply: `execution.checkpointing.interval`, `timeout`,
//! `min-pause` (between the end of one checkpoint and the start of the next),
//! `max-concurrent-checkpoints`, `tolerable-failed-checkpoints` (consecutive failures after
//! which the job fails), `num-retained`, and `externalized-checkpoint-retention`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use weir_core::config::{options, CheckpointRetention, Configuration};
use weir_core::element::CheckpointBarrier;
use weir_core::metrics::{Counter, Gauge, OperatorMetricGroup};
use weir_core::{Result, WeirError};
use weir_state::storage::{
    CheckpointMetadata, CheckpointStorage, CompletedCheckpoint, OperatorSubtaskState,
    PendingCheckpoint,
};

use super::writer::{OpenCheckpoints, TaskAck};
use super::{SnapshotWriter, TaskControl, TaskSnapshot};
use crate::operator::now_ms;

/// The checkpointing options of a job.
#[derive(Debug, Clone)]
pub struct CheckpointSettings {
    /// `None`: no periodic checkpoints (savepoints still work).
    pub interval: Option<Duration>,
    pub timeout: Duration,
    pub min_pause: Duration,
    pub max_concurrent: usize,
    pub tolerable_failures: usize,
    /// `execution.checkpointing.externalized-checkpoint-retention`.
    pub retention: CheckpointRetention,
}

impl CheckpointSettings {
    /// The settings in `config`.
    pub fn from_config(config: &Configuration) -> Result<Self> {
        Ok(CheckpointSettings {
            interval: config.get_optional(&options::CHECKPOINTING_INTERVAL)?,
            timeout: config.get(&options::CHECKPOINTING_TIMEOUT)?,
            min_pause: config.get(&options::CHECKPOINTING_MIN_PAUSE)?,
            max_concurrent: config.get(&options::CHECKPOINTING_MAX_CONCURRENT)?,
            tolerable_failures: config.get(&options::CHECKPOINTING_TOLERABLE_FAILURES)?,
            retention: config.get(&options::CHECKPOINTING_EXTERNALIZED_RETENTION)?,
        })
    }
}

/// A savepoint asked for through the job handle.
pub struct SavepointRequest {
    /// Where to write it; the configured savepoint directory if `None`.
    pub target_dir: Option<String>,
    /// Stop the job once the savepoint is complete: `Some(true)` drains (sources end, event
    /// time goes to the end, everything is flushed), `Some(false)` stops at once.
    pub stop: Option<bool>,
    /// Gets the savepoint's path, or why it failed.
    pub reply: Sender<Result<String>>,
}

/// The tasks of the running attempt, as the coordinator sees them.
pub struct AttemptTasks<'a> {
    pub controls: &'a [Sender<TaskControl>],
    pub is_source: &'a [bool],
    /// The operators (uid, subtask) of each task.
    pub operators: &'a [Vec<(String, usize)>],
    pub finished: &'a [bool],
    pub notified: &'a [Arc<std::sync::atomic::AtomicU64>],
}

/// What the job master must do after a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoordinatorAction {
    Continue,
    /// A stop-with-savepoint completed: drain (`true`) or cancel the tasks (`false`).
    Stop {
        drain: bool,
    },
}

struct Pending {
    checkpoint: PendingCheckpoint,
    started: Instant,
    awaiting: BTreeSet<usize>,
    metadata: CheckpointMetadata,
    savepoint: Option<SavepointRequest>,
}

/// Flink's checkpoint metrics, on the job's metric group.
struct CheckpointMetrics {
    completed: Counter,
    failed: Counter,
    in_progress: Gauge,
    last_size: Gauge,
    last_full_size: Gauge,
    last_duration: Gauge,
    last_restore_timestamp: Gauge,
}

impl CheckpointMetrics {
    fn new(group: &OperatorMetricGroup) -> Self {
        CheckpointMetrics {
            completed: group.counter("numberOfCompletedCheckpoints"),
            failed: group.counter("numberOfFailedCheckpoints"),
            in_progress: group.gauge("numberOfInProgressCheckpoints"),
            last_size: group.gauge("lastCheckpointSize"),
            last_full_size: group.gauge("lastCheckpointFullSize"),
            last_duration: group.gauge("lastCheckpointDuration"),
            last_restore_timestamp: group.gauge("lastCheckpointRestoreTimestamp"),
        }
    }
}

/// Triggers and completes checkpoints; see the module documentation.
pub struct CheckpointCoordinator {
    settings: CheckpointSettings,
    storage: CheckpointStorage,
    /// Whether `execution.checkpointing.dir` is set; without it checkpoints go to a temporary
    /// directory deleted when the job ends (as Flink keeps them in the JobManager's memory).
    durable: bool,
    next_id: u64,
    pending: BTreeMap<u64, Pending>,
    next_trigger: Instant,
    last_completed_at: Option<Instant>,
    consecutive_failures: usize,
    open: OpenCheckpoints,
    snapshots: Option<Sender<TaskSnapshot>>,
    acks: Receiver<TaskAck>,
    _writer: SnapshotWriter,
    requests: Receiver<SavepointRequest>,
    latest: Option<CompletedCheckpoint>,
    metrics: CheckpointMetrics,
    /// A stop-with-savepoint failed after its sources stopped reading: they resume.
    resume_sources: bool,
}

impl CheckpointCoordinator {
    /// A coordinator for job `job_id` configured by `config`; savepoints are asked for on
    /// `requests`. Checkpoint ids start after `first_id - 1` (after the restored one).
    pub fn new(
        config: &Configuration,
        job_id: &str,
        first_id: u64,
        requests: Receiver<SavepointRequest>,
        metrics: &OperatorMetricGroup,
    ) -> Result<Self> {
        let settings = CheckpointSettings::from_config(config)?;
        let durable = config.get_optional(&options::CHECKPOINTING_DIR)?.is_some();
        let storage = if durable {
            CheckpointStorage::from_config(config, job_id)?
        } else {
            let mut temporary = config.clone();
            let dir = std::env::temp_dir().join("weir-checkpoints");
            temporary.set(&options::CHECKPOINTING_DIR, dir.display().to_string());
            CheckpointStorage::from_config(&temporary, job_id)?
        };
        let (snapshots_tx, snapshots_rx) = crossbeam_channel::unbounded();
        let (acks_tx, acks) = crossbeam_channel::unbounded();
        let open = OpenCheckpoints::default();
        let writer = SnapshotWriter::start(snapshots_rx, Arc::clone(&open), acks_tx)?;
        Ok(CheckpointCoordinator {
            next_trigger: Instant::now() + settings.interval.unwrap_or_default(),
            settings,
            storage,
            durable,
            next_id: first_id.max(1),
            pending: BTreeMap::new(),
            last_completed_at: None,
            consecutive_failures: 0,
            open,
            snapshots: Some(snapshots_tx),
            acks,
            _writer: writer,
            requests,
            latest: None,
            metrics: CheckpointMetrics::new(metrics),
            resume_sources: false,
        })
    }

    /// Where tasks send their snapshots.
    pub fn snapshot_sender(&self) -> Sender<TaskSnapshot> {
        self.snapshots
            .clone()
            .expect("the coordinator holds its sender until it is dropped")
    }

    /// The newest checkpoint completed by this coordinator.
    pub fn latest_completed(&self) -> Option<&CompletedCheckpoint> {
        self.latest.as_ref()
    }

    /// Records that the job was restored now (the `lastCheckpointRestoreTimestamp` metric).
    pub fn record_restore(&self) {
        self.metrics.last_restore_timestamp.set(now_ms());
    }

    /// Aborts every checkpoint in progress (the attempt that was taking them ended). Pending
    /// savepoint requests get an error.
    pub fn abort_all(&mut self, reason: &str) {
        let ids: Vec<u64> = self.pending.keys().copied().collect();
        for id in ids {
            self.abort(id, reason, false);
        }
    }

    /// Runs one round: handles acknowledgements, timeouts, savepoint requests and the
    /// periodic trigger. An error fails the job (more consecutive failed checkpoints than
    /// tolerated).
    pub fn tick(&mut self, tasks: &AttemptTasks<'_>) -> Result<CoordinatorAction> {
        while let Ok(ack) = self.acks.try_recv() {
            self.on_ack(ack)?;
        }
        self.count_finished_tasks(tasks);
        let mut action = CoordinatorAction::Continue;
        let done: Vec<u64> = (self.pending.iter())
            .filter(|(_, p)| p.awaiting.is_empty())
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            if let Some(stop) = self.complete(id, tasks)? {
                action = CoordinatorAction::Stop { drain: stop };
            }
        }
        let timed_out: Vec<u64> = (self.pending.iter())
            .filter(|(_, p)| p.started.elapsed() >= self.settings.timeout)
            .map(|(id, _)| *id)
            .collect();
        for id in timed_out {
            let reason = format!(
                "checkpoint {id} expired before completing (execution.checkpointing.timeout = {:?})",
                self.settings.timeout
            );
            self.abort(id, &reason, true);
            self.check_tolerance(&reason)?;
        }
        while let Ok(request) = self.requests.try_recv() {
            self.trigger(tasks, Some(request));
        }
        if self.periodic_due(tasks) {
            self.trigger(tasks, None);
        }
        if std::mem::take(&mut self.resume_sources) {
            for (task, control) in tasks.controls.iter().enumerate() {
                if tasks.is_source[task] && !tasks.finished[task] {
                    let _ = control.send(TaskControl::Resume);
                }
            }
        }
        self.metrics.in_progress.set(self.pending.len() as i64);
        Ok(action)
    }

    /// Whether a periodic checkpoint should start now.
    fn periodic_due(&self, tasks: &AttemptTasks<'_>) -> bool {
        if self.settings.interval.is_none() {
            return false;
        }
        let now = Instant::now();
        let paused = self
            .last_completed_at
            .is_some_and(|t| now < t + self.settings.min_pause);
        let any_source_running = (tasks.is_source.iter().zip(tasks.finished))
            .any(|(source, finished)| *source && !finished);
        now >= self.next_trigger
            && !paused
            && self.pending.len() < self.settings.max_concurrent
            && any_source_running
    }

    /// Starts a checkpoint (or the savepoint of `request`).
    fn trigger(&mut self, tasks: &AttemptTasks<'_>, request: Option<SavepointRequest>) {
        let id = self.next_id;
        let started = match &request {
            Some(r) => self.storage.begin_savepoint(r.target_dir.as_deref(), id),
            None => self.storage.begin(id),
        };
        if let Some(interval) = self.settings.interval {
            self.next_trigger = Instant::now() + interval;
        }
        let checkpoint = match started {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("cannot start checkpoint {id}: {e}");
                if let Some(r) = request {
                    let _ = r.reply.send(Err(e));
                }
                return;
            }
        };
        self.next_id += 1;
        let metadata = checkpoint.new_metadata();
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, checkpoint.file_writer());
        let barrier = CheckpointBarrier {
            checkpoint_id: id,
            timestamp_ms: now_ms(),
            is_savepoint: request.is_some(),
        };
        let trigger = match request.as_ref().and_then(|r| r.stop) {
            Some(_) => TaskControl::TriggerFinal(barrier),
            None => TaskControl::Trigger(barrier),
        };
        let mut pending = Pending {
            checkpoint,
            started: Instant::now(),
            awaiting: (0..tasks.controls.len()).collect(),
            metadata,
            savepoint: request,
        };
        for (task, control) in tasks.controls.iter().enumerate() {
            if tasks.finished[task] {
                record_empty(&mut pending, tasks, task);
            } else if tasks.is_source[task] {
                let _ = control.send(trigger);
            }
        }
        tracing::debug!("triggered checkpoint {id}");
        self.pending.insert(id, pending);
    }

    /// Tasks that finished acknowledge every checkpoint in progress with no state.
    fn count_finished_tasks(&mut self, tasks: &AttemptTasks<'_>) {
        for pending in self.pending.values_mut() {
            let finished: Vec<usize> = (pending.awaiting.iter())
                .copied()
                .filter(|t| tasks.finished[*t])
                .collect();
            for task in finished {
                record_empty(pending, tasks, task);
            }
        }
    }

    fn on_ack(&mut self, ack: TaskAck) -> Result<()> {
        let Some(pending) = self.pending.get_mut(&ack.checkpoint_id) else {
            return Ok(());
        };
        match ack.result {
            Ok(states) => {
                if pending.awaiting.remove(&ack.task) {
                    for (uid, state) in states {
                        for handle in &state.handles {
                            pending.checkpoint.add_written(handle.clone());
                        }
                        pending
                            .metadata
                            .operators
                            .entry(uid)
                            .or_default()
                            .push(state);
                    }
                }
                Ok(())
            }
            Err(e) => {
                let reason = format!("checkpoint {} failed: {e}", ack.checkpoint_id);
                self.abort(ack.checkpoint_id, &reason, true);
                self.check_tolerance(&reason)
            }
        }
    }

    /// Completes checkpoint `id`; `Some(drain)` if it was a stop-with-savepoint.
    fn complete(&mut self, id: u64, tasks: &AttemptTasks<'_>) -> Result<Option<bool>> {
        let Some(mut pending) = self.pending.remove(&id) else {
            return Ok(None);
        };
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        for subtasks in pending.metadata.operators.values_mut() {
            subtasks.sort_by_key(|s| s.subtask);
        }
        let completed = match pending.checkpoint.complete(pending.metadata) {
            Ok(c) => c,
            Err(e) => {
                let reason = format!("checkpoint {id} could not be completed: {e}");
                self.metrics.failed.inc();
                if let Some(r) = pending.savepoint {
                    let _ = r.reply.send(Err(WeirError::Other(reason.clone())));
                }
                tracing::warn!("{reason}");
                self.consecutive_failures += 1;
                return self.check_tolerance(&reason).map(|_| None);
            }
        };
        let full_size = completed.metadata().state_size();
        let previous = self.latest.as_ref().map(CompletedCheckpoint::metadata);
        let size = completed.metadata().size_beyond(previous);
        let duration = pending.started.elapsed();
        tracing::info!(
            "Completed {} {id} ({size} bytes written, {full_size} bytes in all, {} ms) at {}",
            if pending.savepoint.is_some() {
                "savepoint"
            } else {
                "checkpoint"
            },
            duration.as_millis(),
            completed.dir().display()
        );
        self.metrics.completed.inc();
        self.metrics.last_size.set(size as i64);
        self.metrics.last_full_size.set(full_size as i64);
        self.metrics.last_duration.set(duration.as_millis() as i64);
        self.consecutive_failures = 0;
        self.last_completed_at = Some(Instant::now());
        for (task, control) in tasks.controls.iter().enumerate() {
            if !tasks.finished[task] {
                let _ = control.send(TaskControl::Complete(id));
            }
        }
        let path = completed.dir().display().to_string();
        let stop = match pending.savepoint {
            Some(request) => {
                let stop = request.stop;
                if stop.is_some() {
                    wait_until_notified(tasks, id);
                }
                let _ = request.reply.send(Ok(path));
                stop
            }
            None => {
                self.latest = Some(completed);
                None
            }
        };
        Ok(stop)
    }

    /// Aborts checkpoint `id`; counts it as failed if `failed`.
    fn abort(&mut self, id: u64, reason: &str, failed: bool) {
        let Some(pending) = self.pending.remove(&id) else {
            return;
        };
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        if failed {
            self.metrics.failed.inc();
            self.consecutive_failures += 1;
            tracing::warn!("{reason}");
        }
        if let Some(r) = pending.savepoint {
            self.resume_sources |= r.stop.is_some();
            let _ = r.reply.send(Err(WeirError::Other(reason.to_string())));
        }
        if let Err(e) = pending.checkpoint.abort() {
            tracing::warn!("cannot remove aborted checkpoint {id}: {e}");
        }
    }

    /// An error once more consecutive checkpoints failed than tolerated.
    fn check_tolerance(&self, reason: &str) -> Result<()> {
        if self.consecutive_failures > self.settings.tolerable_failures {
            return Err(WeirError::Other(format!(
                "exceeded checkpoint tolerable failure threshold ({} consecutive failed checkpoints, execution.checkpointing.tolerable-failed-checkpoints = {}); last: {reason}",
                self.consecutive_failures, self.settings.tolerable_failures
            )));
        }
        Ok(())
    }

    /// Deletes the job's checkpoints when the job ended (`failed` or not), as
    /// `externalized-checkpoint-retention` says: retained checkpoints survive a failure, and
    /// with `RETAIN_ON_CANCELLATION` any end.
    pub fn on_job_end(&mut self, failed: bool) {
        self.abort_all("the job ended");
        let keep = match self.settings.retention {
            CheckpointRetention::RetainOnCancellation => true,
            CheckpointRetention::DeleteOnCancellation => failed,
            CheckpointRetention::NoExternalizedCheckpoints => false,
        };
        if !self.durable || !keep {
            let dir = self.storage.job_dir();
            if dir.exists() {
                if let Err(e) = std::fs::remove_dir_all(dir) {
                    tracing::warn!("cannot delete the checkpoints in {}: {e}", dir.display());
                }
            }
        }
    }
}

/// Records the operators of `task` in `pending` with no state, and the task as acknowledged.
fn record_empty(pending: &mut Pending, tasks: &AttemptTasks<'_>, task: usize) {
    if pending.awaiting.remove(&task) {
        for (uid, subtask) in &tasks.operators[task] {
            let state = OperatorSubtaskState {
                subtask: *subtask,
                key_group_range: None,
                handles: Vec::new(),
            };
            pending
                .metadata
                .operators
                .entry(uid.clone())
                .or_default()
                .push(state);
        }
    }
}

/// Waits (at most 10 s) until every task handled the completion of `id` or ended, so that
/// their commits happen before the job stops.
fn wait_until_notified(tasks: &AttemptTasks<'_>, id: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if tasks
            .notified
            .iter()
            .all(|n| n.load(Ordering::SeqCst) >= id)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    tracing::warn!("not every task confirmed the completion of savepoint {id} within 10 s");
}
