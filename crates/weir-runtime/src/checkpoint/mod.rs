//! Checkpoints in the running job: the coordinator that triggers them, what tasks send and
//! receive, the thread that writes snapshots, and restoring a job from a checkpoint or
//! savepoint.
//!
//! One checkpoint goes like this (Flink's asynchronous barrier snapshots):
//!
//! 1. The [`CheckpointCoordinator`] (on the job master thread) starts checkpoint `n`: it
//!    creates `chk-<n>/` in the checkpoint storage and sends [`TaskControl::Trigger`] to every
//!    running source task.
//! 2. A source task, between two polls, snapshots its reader and sends barrier `n` into its
//!    chain and channels. Every operator snapshots its state when the barrier passes it;
//!    tasks with several input channels first align the barriers (see [`crate::input`]).
//! 3. Each task hands its operators' snapshots ([`TaskSnapshot`]) to the [`SnapshotWriter`]
//!    thread and goes on processing. The writer encodes keyed state (the asynchronous part),
//!    writes one file per operator subtask and acknowledges to the coordinator.
//! 4. Once every task acknowledged (tasks that already finished count as acknowledged with
//!    no state), the coordinator writes `_metadata` (which completes the checkpoint
//!    atomically), applies retention and sends [`TaskControl::Complete`] to every task, so
//!    that two-phase-commit sinks commit.
//!
//! A job started from a checkpoint or savepoint (`execution.savepoint.path`, `weir run -s`),
//! and every restart after a failure, restores each subtask from a [`RestorePoint`].

pub(crate) mod coordinator;
mod restore;
mod writer;

pub use coordinator::{CheckpointCoordinator, CheckpointSettings, SavepointRequest};
pub use restore::RestorePoint;
pub use writer::SnapshotWriter;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use weir_core::element::CheckpointBarrier;
use weir_core::keygroup::KeyGroupRange;
use weir_core::{Result, WeirError};
use weir_state::StateSnapshot;

use crate::operator::OperatorContext;

/// What the coordinator tells a task.
#[derive(Debug, Clone, Copy)]
pub enum TaskControl {
    /// Source tasks: snapshot and emit this barrier.
    Trigger(CheckpointBarrier),
    /// Source tasks: snapshot and emit the barrier of a stop-with-savepoint, then read
    /// nothing more, so that no record follows the savepoint (as in Flink), until the job
    /// stops or [`TaskControl::Resume`] comes.
    TriggerFinal(CheckpointBarrier),
    /// Source tasks: read again (a stop-with-savepoint failed).
    Resume,
    /// Checkpoint `n` is complete on every task.
    Complete(u64),
    /// Source tasks: stop reading and end the input (stop with a savepoint, draining).
    Finish,
}

/// The snapshot of one operator subtask, still to be encoded and written.
pub struct OperatorPart {
    pub uid: String,
    pub subtask: usize,
    /// The key groups the subtask owns, for keyed operators.
    pub key_groups: Option<KeyGroupRange>,
    pub snapshot: StateSnapshot,
}

/// The snapshots a task collects while a barrier passes through its chain.
#[derive(Default)]
pub struct ChainSnapshot {
    pub parts: Vec<OperatorPart>,
    /// Why an operator could not snapshot its state: the task declines the checkpoint (the
    /// barrier still goes on, so that downstream alignments complete).
    pub declined: Option<WeirError>,
}

impl ChainSnapshot {
    /// Snapshots the operator subtask of `ctx` at `barrier` with `take` and adds its part
    /// (keyed state covering `key_groups`), or records why it failed.
    pub fn take(
        &mut self,
        barrier: &CheckpointBarrier,
        ctx: &OperatorContext,
        key_groups: Option<KeyGroupRange>,
        take: impl FnOnce(&mut StateSnapshot) -> Result<()>,
    ) {
        let mut snapshot = if barrier.is_savepoint {
            StateSnapshot::savepoint(barrier.checkpoint_id)
        } else {
            StateSnapshot::new(barrier.checkpoint_id)
        };
        match take(&mut snapshot) {
            Ok(()) => self.parts.push(OperatorPart {
                uid: ctx.uid.clone(),
                subtask: ctx.subtask_index,
                key_groups,
                snapshot,
            }),
            Err(e) => {
                self.declined.get_or_insert(e);
            }
        }
    }
}

/// What a task hands to the writer at a checkpoint: the snapshots of its operators, or why
/// it declines the checkpoint.
pub struct TaskSnapshot {
    pub checkpoint_id: u64,
    pub task: usize,
    pub parts: Result<Vec<OperatorPart>>,
}

/// A task's end of the checkpoint protocol.
pub struct TaskCheckpointing {
    /// The task's index in the attempt.
    pub task: usize,
    pub control: Receiver<TaskControl>,
    pub snapshots: Sender<TaskSnapshot>,
    /// The newest checkpoint whose completion the task has handled; `u64::MAX` once the task
    /// ended, since an ended task has nothing left to commit.
    pub notified: Arc<AtomicU64>,
}

impl Drop for TaskCheckpointing {
    fn drop(&mut self) {
        self.notified.store(u64::MAX, Ordering::SeqCst);
    }
}

impl TaskCheckpointing {
    /// Records that the task handled the completion of `checkpoint_id`.
    pub fn mark_notified(&self, checkpoint_id: u64) {
        self.notified.fetch_max(checkpoint_id, Ordering::SeqCst);
    }

    /// Hands a snapshot to the writer (ignored if the writer is gone: the job is ending).
    pub fn submit(&self, checkpoint_id: u64, chain: ChainSnapshot) {
        let parts = match chain.declined {
            Some(e) => Err(e),
            None => Ok(chain.parts),
        };
        let snapshot = TaskSnapshot {
            checkpoint_id,
            task: self.task,
            parts,
        };
        let _ = self.snapshots.send(snapshot);
    }
}
