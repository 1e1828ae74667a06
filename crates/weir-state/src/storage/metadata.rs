//! The `_metadata` file: what a checkpoint or savepoint holds, and its on-disk encoding.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use weir_core::keygroup::KeyGroupRange;

use super::checksum::format_checksum;

/// Name of the file whose presence completes a checkpoint, as in Flink.
pub const METADATA_FILE: &str = "_metadata";
/// Version of the metadata format this build writes and reads.
pub const METADATA_VERSION: u32 = 1;
/// First word of the header line of a metadata file.
const MAGIC: &str = "weir-checkpoint-metadata";

/// One state file of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateHandle {
    /// Path relative to the checkpoint (or savepoint) directory, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// `crc32:` and eight hex digits.
    pub checksum: String,
}

/// The state of one subtask of an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSubtaskState {
    /// Index of the subtask that wrote the state.
    pub subtask: usize,
    /// The key groups the state covers, for keyed state; `None` for operator state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_group_range: Option<KeyGroupRange>,
    /// The files holding the state.
    pub handles: Vec<StateHandle>,
}

/// Everything needed to restore a job from a checkpoint or savepoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointMetadata {
    /// Format version ([`METADATA_VERSION`]).
    pub version: u32,
    /// Checkpoint id (for a savepoint: the id of the checkpoint it was taken as).
    pub checkpoint_id: u64,
    /// When the checkpoint was triggered, in milliseconds since the epoch.
    pub timestamp_ms: u64,
    /// The job that wrote the checkpoint.
    pub job_id: String,
    /// Whether this is a savepoint.
    pub is_savepoint: bool,
    /// Per operator uid, the state of its subtasks.
    pub operators: BTreeMap<String, Vec<OperatorSubtaskState>>,
}

impl CheckpointMetadata {
    /// Every state handle referenced by the metadata, with the operator uid it belongs to.
    pub fn handles(&self) -> impl Iterator<Item = (&str, &StateHandle)> {
        self.operators.iter().flat_map(|(uid, subtasks)| {
            subtasks
                .iter()
                .flat_map(move |s| s.handles.iter().map(move |h| (uid.as_str(), h)))
        })
    }

    /// Total size of the state files in bytes.
    pub fn state_size(&self) -> u64 {
        self.handles().map(|(_, h)| h.size).sum()
    }

    /// Size in bytes of the state files this checkpoint wrote: all but the shared files that
    /// `previous` already holds (Flink's checkpointed size, against the full size of
    /// [`CheckpointMetadata::state_size`]).
    pub fn size_beyond(&self, previous: Option<&CheckpointMetadata>) -> u64 {
        let held: std::collections::HashSet<&str> = previous
            .into_iter()
            .flat_map(|p| p.handles())
            .filter(|(_, h)| h.path.starts_with(super::SHARED_PATH_PREFIX))
            .map(|(_, h)| h.path.as_str())
            .collect();
        self.handles()
            .filter(|(_, h)| !held.contains(h.path.as_str()))
            .map(|(_, h)| h.size)
            .sum()
    }
}

/// Encodes metadata as a header line (`weir-checkpoint-metadata v1 crc32:… <len>`) followed
/// by the JSON body; the checksum and length cover the body exactly.
pub(crate) fn encode(metadata: &CheckpointMetadata) -> Vec<u8> {
    let body = serde_json::to_vec_pretty(metadata).expect("metadata serializes");
    let mut out = format!(
        "{MAGIC} v{METADATA_VERSION} {} {}\n",
        format_checksum(&body),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// Decodes and verifies a metadata file; the error says what is wrong.
pub(crate) fn decode(bytes: &[u8]) -> Result<CheckpointMetadata, String> {
    let newline = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("corrupt: no header line (the file is empty or truncated)")?;
    let header = std::str::from_utf8(&bytes[..newline])
        .map_err(|_| "corrupt: the header line is not text")?;
    let body = &bytes[newline + 1..];
    let parts: Vec<&str> = header.split(' ').collect();
    let [magic, version, checksum, len] = parts[..] else {
        return Err(format!("corrupt: malformed header line '{header}'"));
    };
    if magic != MAGIC {
        return Err(format!(
            "not a Weir checkpoint metadata file (header '{header}')"
        ));
    }
    if version != format!("v{METADATA_VERSION}") {
        return Err(format!(
            "unsupported metadata version '{version}' (this build reads v{METADATA_VERSION})"
        ));
    }
    let len: usize = len
        .parse()
        .map_err(|_| format!("corrupt: malformed header line '{header}'"))?;
    if body.len() != len {
        return Err(format!(
            "corrupt: metadata body is {} bytes, header says {len} (truncated or appended to)",
            body.len()
        ));
    }
    let actual = format_checksum(body);
    if actual != checksum {
        return Err(format!(
            "corrupt: metadata checksum mismatch (header says {checksum}, content has {actual})"
        ));
    }
    let metadata: CheckpointMetadata = serde_json::from_slice(body)
        .map_err(|e| format!("corrupt: metadata does not parse: {e}"))?;
    if metadata.version != METADATA_VERSION {
        return Err(format!(
            "unsupported metadata version {} (this build reads {METADATA_VERSION})",
            metadata.version
        ));
    }
    Ok(metadata)
}
