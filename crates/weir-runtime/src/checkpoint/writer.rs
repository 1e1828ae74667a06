//! The thread that encodes and writes the tasks' snapshots, so that tasks go on processing
//! while their state is written.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use weir_core::{Result, WeirError};
use weir_state::storage::{OperatorSubtaskState, StateFileWriter};
use weir_state::OperatorSnapshot;

use super::{OperatorPart, TaskSnapshot};

/// A task's snapshot of checkpoint `checkpoint_id`, written: the state of its operator
/// subtasks (uid and state), or why it could not be written.
pub struct TaskAck {
    pub checkpoint_id: u64,
    pub task: usize,
    pub result: Result<Vec<(String, OperatorSubtaskState)>>,
}

/// The directories of the checkpoints in progress, by id.
pub type OpenCheckpoints = Arc<Mutex<HashMap<u64, StateFileWriter>>>;

/// Writes snapshots on its own thread; see the module documentation.
pub struct SnapshotWriter {
    thread: Option<JoinHandle<()>>,
}

impl SnapshotWriter {
    /// Starts the writer: it takes snapshots from `snapshots`, writes them into the
    /// directory registered in `open` for their checkpoint, and acknowledges on `acks`.
    /// It stops when every sender of `snapshots` is gone.
    pub fn start(
        snapshots: Receiver<TaskSnapshot>,
        open: OpenCheckpoints,
        acks: Sender<TaskAck>,
    ) -> Result<Self> {
        let thread = std::thread::Builder::new()
            .name("checkpoint-writer".into())
            .spawn(move || {
                for snapshot in snapshots {
                    let target = open
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&snapshot.checkpoint_id)
                        .cloned();
                    // A checkpoint no longer open was aborted: nothing to write.
                    let Some(target) = target else { continue };
                    let ack = TaskAck {
                        checkpoint_id: snapshot.checkpoint_id,
                        task: snapshot.task,
                        result: snapshot.parts.and_then(|parts| write_parts(&target, parts)),
                    };
                    if acks.send(ack).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| WeirError::io("starting the checkpoint writer thread", e))?;
        Ok(SnapshotWriter {
            thread: Some(thread),
        })
    }
}

impl Drop for SnapshotWriter {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Encodes the parts and writes one file per operator subtask that has state.
fn write_parts(
    target: &StateFileWriter,
    parts: Vec<OperatorPart>,
) -> Result<Vec<(String, OperatorSubtaskState)>> {
    let mut written = Vec::with_capacity(parts.len());
    for part in parts {
        let snapshot: OperatorSnapshot = part.snapshot.materialize(Some(target))?;
        let mut handles = Vec::new();
        if !snapshot.is_empty() {
            let name = format!("{}-{}", file_safe(&part.uid), part.subtask);
            let handle = target.write_with(&name, |out| {
                bincode::serialize_into(out, &snapshot).map_err(std::io::Error::other)
            })?;
            handles.push(handle);
            // The files the operator's file refers to, so that the checkpoint's metadata
            // names every file it needs (for validation and for deleting shared files).
            let native = snapshot.native.iter().flat_map(|n| &n.files);
            handles.extend(native.map(|(_, handle)| handle.clone()));
        }
        let key_group_range = part.key_groups.filter(|_| snapshot.has_keyed_state());
        let state = OperatorSubtaskState {
            subtask: part.subtask,
            key_group_range,
            handles,
        };
        written.push((part.uid, state));
    }
    Ok(written)
}

/// `uid` with every character that is not a letter, digit, `-` or `_` replaced by `_`, and a
/// hash of the original so that two uids never share a file name.
fn file_safe(uid: &str) -> String {
    let clean: String = uid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    let hash = weir_core::keygroup::stable_hash(&uid);
    format!("op-{clean}-{:08x}", hash as u32)
}
