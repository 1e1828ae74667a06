//! Restoring a job from a completed checkpoint or a savepoint: state is matched to operators
//! by uid, and each new subtask gets the key groups it owns and its share of list state,
//! whatever the old and new parallelism.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use weir_core::graph::JobGraph;
use weir_core::keygroup::KeyGroupRange;
use weir_core::{Result, WeirError};
use weir_state::storage::{self, CompletedCheckpoint, OperatorSubtaskState};
use weir_state::{decode, OperatorSnapshot, RestoredState};

/// The state of one operator in a restore point.
struct RestoredOperator {
    /// The snapshots of its old subtasks, in subtask order (empty for stateless subtasks).
    snapshots: Vec<OperatorSnapshot>,
    /// The max parallelism its keyed state was written with, if it has keyed state.
    max_parallelism: Option<usize>,
}

/// A completed checkpoint or savepoint, read and decoded, ready to restore subtasks from.
pub struct RestorePoint {
    /// The checkpoint or savepoint directory.
    pub path: PathBuf,
    pub checkpoint_id: u64,
    pub is_savepoint: bool,
    operators: HashMap<String, RestoredOperator>,
}

impl RestorePoint {
    /// Reads the checkpoint or savepoint at `path` (a `chk-<n>` or savepoint directory or its
    /// `_metadata` file); refuses incomplete or corrupt ones.
    pub fn load(path: &str) -> Result<Self> {
        Self::read(&storage::load(path)?)
    }

    /// Reads a completed checkpoint's state files.
    pub fn read(checkpoint: &CompletedCheckpoint) -> Result<Self> {
        let metadata = checkpoint.metadata();
        let mut operators = HashMap::new();
        for (uid, subtasks) in &metadata.operators {
            let snapshots = subtasks
                .iter()
                .map(|s| read_subtask(checkpoint, uid, s))
                .collect::<Result<Vec<_>>>()?;
            let max_parallelism = subtasks
                .iter()
                .filter_map(|s| s.key_group_range)
                .map(|r| r.end_inclusive + 1)
                .max();
            let op = RestoredOperator {
                snapshots,
                max_parallelism,
            };
            operators.insert(uid.clone(), op);
        }
        Ok(RestorePoint {
            path: checkpoint.dir().to_path_buf(),
            checkpoint_id: metadata.checkpoint_id,
            is_savepoint: metadata.is_savepoint,
            operators,
        })
    }

    /// Checks that the state fits `graph`: state of an operator uid the job does not have is
    /// an error unless `allow_non_restored_state`; keyed state must have been written with the
    /// operator's max parallelism (its number of key groups).
    pub fn check_job(&self, graph: &JobGraph, allow_non_restored_state: bool) -> Result<()> {
        let nodes = &graph.stream_graph.nodes;
        let mut unclaimed: Vec<&str> = self
            .operators
            .iter()
            .filter(|(uid, op)| {
                !nodes.iter().any(|n| &n.uid == *uid) && op.snapshots.iter().any(|s| !s.is_empty())
            })
            .map(|(uid, _)| uid.as_str())
            .collect();
        unclaimed.sort();
        if !unclaimed.is_empty() && !allow_non_restored_state {
            return Err(WeirError::InvalidJob(format!(
                "cannot restore from {}: it holds state of operators that are not in the job (uids {}); \
                 give those operators their uids back, or skip their state with --allowNonRestoredState \
                 (execution.savepoint.ignore-unclaimed-state: true)",
                self.path.display(),
                unclaimed.join(", ")
            )));
        }
        for uid in &unclaimed {
            tracing::warn!(
                "not restoring the state of operator uid '{uid}': the job has no such operator"
            );
        }
        for node in nodes {
            let Some(op) = self.operators.get(&node.uid) else {
                continue;
            };
            if let Some(written) = op.max_parallelism {
                if written != node.max_parallelism {
                    return Err(WeirError::InvalidJob(format!(
                        "cannot restore operator '{}' (uid '{}') from {}: its keyed state was written with max parallelism {written}, the job now has {}; the max parallelism of a stateful operator cannot change",
                        node.name,
                        node.uid,
                        self.path.display(),
                        node.max_parallelism
                    )));
                }
            }
        }
        Ok(())
    }

    /// The state subtask `subtask` of `parallelism` of operator `uid` restores (it owns the
    /// key groups `range`); `None` if the restore point has no entry for the operator, which
    /// then starts empty.
    pub fn state_for(
        &self,
        uid: &str,
        subtask: usize,
        parallelism: usize,
        range: KeyGroupRange,
    ) -> Option<Arc<RestoredState>> {
        let op = self.operators.get(uid)?;
        Some(Arc::new(RestoredState::assemble(
            &op.snapshots,
            subtask,
            parallelism,
            range,
        )))
    }
}

/// Reads and decodes the state of one old subtask: its first file is the operator's
/// snapshot, the others are the files of an incremental snapshot, found through it.
fn read_subtask(
    checkpoint: &CompletedCheckpoint,
    uid: &str,
    subtask: &OperatorSubtaskState,
) -> Result<OperatorSnapshot> {
    let Some(handle) = subtask.handles.first() else {
        return Ok(OperatorSnapshot::default());
    };
    let mut snapshot: OperatorSnapshot = decode(
        &checkpoint.read_state(handle)?,
        &format!("{uid} (subtask {})", subtask.subtask),
    )?;
    if let Some(native) = &mut snapshot.native {
        native.base = checkpoint.dir().to_path_buf();
    }
    Ok(snapshot)
}
