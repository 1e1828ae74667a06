//! Reading checkpoints back: validation, the latest intact checkpoint, explicit restore paths.

use std::fmt;
use std::fs;
use std::path::{Component, Path, PathBuf};

use weir_core::{Result, WeirError};

use super::checksum::{format_checksum, ChecksumWriter};
use super::metadata::{decode, CheckpointMetadata, StateHandle, METADATA_FILE};
use super::{resolve_dir, CHECKPOINT_DIR_PREFIX, SHARED_PATH_PREFIX};

/// A complete, validated checkpoint or savepoint.
#[derive(Debug, Clone)]
pub struct CompletedCheckpoint {
    dir: PathBuf,
    metadata: CheckpointMetadata,
}

impl CompletedCheckpoint {
    pub(super) fn new(dir: PathBuf, metadata: CheckpointMetadata) -> Self {
        CompletedCheckpoint { dir, metadata }
    }

    /// The checkpoint (or savepoint) directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its `_metadata` file: the external pointer to pass to `-s` to restore from it.
    pub fn metadata_path(&self) -> PathBuf {
        self.dir.join(METADATA_FILE)
    }

    /// The checkpoint id.
    pub fn checkpoint_id(&self) -> u64 {
        self.metadata.checkpoint_id
    }

    /// The metadata.
    pub fn metadata(&self) -> &CheckpointMetadata {
        &self.metadata
    }

    /// Where a state file of this checkpoint is.
    pub fn state_path(&self, handle: &StateHandle) -> PathBuf {
        self.dir.join(&handle.path)
    }

    /// Reads a state file, checking its size and checksum again.
    pub fn read_state(&self, handle: &StateHandle) -> Result<Vec<u8>> {
        let path = self.state_path(handle);
        let bytes = fs::read(&path)
            .map_err(|e| WeirError::io(format!("reading state file {}", path.display()), e))?;
        check_state_bytes(handle, &bytes)
            .map_err(|m| WeirError::io(format!("reading state file {}", path.display()), m))?;
        Ok(bytes)
    }
}

/// A checkpoint directory that cannot be restored from, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedCheckpoint {
    /// The checkpoint directory.
    pub path: PathBuf,
    /// What is wrong, starting with `incomplete` or `corrupt` where that applies.
    pub reason: String,
}

impl fmt::Display for RefusedCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refusing checkpoint {}: {}",
            self.path.display(),
            self.reason
        )
    }
}

/// The outcome of scanning a job's checkpoint directory.
#[derive(Debug, Clone)]
pub struct ScanResult {
    /// The newest intact checkpoint.
    pub latest: Option<CompletedCheckpoint>,
    /// Checkpoints newer than `latest` that were refused, newest first.
    pub refused: Vec<RefusedCheckpoint>,
}

/// The `chk-<n>` directories of a job directory, by ascending id. A missing job directory has
/// none.
pub(super) fn checkpoint_dirs(job_dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let entries = match fs::read_dir(job_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(WeirError::io(format!("listing {}", job_dir.display()), e)),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| WeirError::io(format!("listing {}", job_dir.display()), e))?;
        let name = entry.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_prefix(CHECKPOINT_DIR_PREFIX))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        if entry.path().is_dir() {
            dirs.push((id, entry.path()));
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Scans `<job dir>/chk-*` newest first and returns the first intact checkpoint, with the
/// newer ones that were refused.
pub fn scan_job_dir(job_dir: &Path) -> Result<ScanResult> {
    let mut refused = Vec::new();
    for (id, dir) in checkpoint_dirs(job_dir)?.into_iter().rev() {
        let checked = validate(&dir).and_then(|c| {
            if c.checkpoint_id() == id {
                Ok(c)
            } else {
                Err(format!(
                    "corrupt: its metadata is for checkpoint {}",
                    c.checkpoint_id()
                ))
            }
        });
        match checked {
            Ok(checkpoint) => {
                return Ok(ScanResult {
                    latest: Some(checkpoint),
                    refused,
                })
            }
            Err(reason) => refused.push(RefusedCheckpoint { path: dir, reason }),
        }
    }
    Ok(ScanResult {
        latest: None,
        refused,
    })
}

/// Loads the checkpoint or savepoint at `path` (as given to `-s`): a `chk-<n>` or savepoint
/// directory, or its `_metadata` file; a plain path or `file://` URI. Errors if it is
/// incomplete or corrupt.
pub fn load(path: &str) -> Result<CompletedCheckpoint> {
    let resolved = resolve_dir("restore path", path)?;
    let dir = if resolved.is_file() {
        if resolved.file_name().is_some_and(|n| n == METADATA_FILE) {
            resolved.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            return Err(WeirError::io(
                format!("cannot restore from {}", resolved.display()),
                format!("not a checkpoint: expected a directory or its {METADATA_FILE} file"),
            ));
        }
    } else if resolved.is_dir() {
        resolved
    } else {
        return Err(WeirError::io(
            format!("cannot restore from {}", resolved.display()),
            "no such file or directory",
        ));
    };
    validate(&dir).map_err(|reason| {
        let hint = match checkpoint_dirs(&dir) {
            Ok(chks) if !chks.is_empty() => {
                " (this looks like a job's checkpoint directory: pass one of its chk-<n> directories)"
            }
            _ => "",
        };
        WeirError::io(
            format!("cannot restore from checkpoint {}", dir.display()),
            format!("{reason}{hint}"),
        )
    })
}

/// Validates a checkpoint directory: its metadata parses and matches its checksum, and every
/// state file it references exists with the recorded size and checksum.
fn validate(dir: &Path) -> Result<CompletedCheckpoint, String> {
    let metadata_path = dir.join(METADATA_FILE);
    let bytes = match fs::read(&metadata_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "incomplete: no {METADATA_FILE} file (the checkpoint never completed, \
                 for example because of a crash while it was written)"
            ))
        }
        Err(e) => return Err(format!("cannot read {}: {e}", metadata_path.display())),
    };
    let metadata = decode(&bytes).map_err(|m| format!("{}: {m}", metadata_path.display()))?;
    for (uid, handle) in metadata.handles() {
        if !is_valid_state_path(&handle.path) {
            return Err(format!(
                "corrupt: operator '{uid}' references state file '{}' outside the checkpoint directory",
                handle.path
            ));
        }
        let path = dir.join(&handle.path);
        check_state_file(handle, &path).map_err(|m| {
            format!(
                "corrupt: state file {} of operator '{uid}': {m}",
                path.display()
            )
        })?;
    }
    Ok(CompletedCheckpoint::new(dir.to_path_buf(), metadata))
}

/// Whether a handle's path names a file in the checkpoint directory, or in the job's shared
/// folder beside it.
fn is_valid_state_path(path: &str) -> bool {
    let plain = |p: &str| {
        !p.is_empty()
            && Path::new(p)
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
    };
    match path.strip_prefix(SHARED_PATH_PREFIX) {
        Some(owned) => plain(owned) && owned.split('/').count() == 2,
        None => plain(path),
    }
}

/// Checks the size and checksum of the file at `path` against its handle, reading it in
/// pieces (state files can be large).
fn check_state_file(handle: &StateHandle, path: &Path) -> Result<(), String> {
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("missing".into()),
        Err(e) => return Err(format!("cannot read it: {e}")),
    };
    let mut summed = ChecksumWriter::new(std::io::sink());
    std::io::copy(&mut std::io::BufReader::new(file), &mut summed)
        .map_err(|e| format!("cannot read it: {e}"))?;
    let (_, size, checksum) = summed.finish();
    check_size_and_checksum(handle, size, &checksum)
}

fn check_state_bytes(handle: &StateHandle, bytes: &[u8]) -> Result<(), String> {
    check_size_and_checksum(handle, bytes.len() as u64, &format_checksum(bytes))
}

fn check_size_and_checksum(handle: &StateHandle, size: u64, actual: &str) -> Result<(), String> {
    if size != handle.size {
        return Err(format!(
            "size is {size} bytes, metadata says {} (truncated or overwritten)",
            handle.size
        ));
    }
    if actual != handle.checksum {
        return Err(format!(
            "checksum mismatch (metadata says {}, content has {actual})",
            handle.checksum
        ));
    }
    Ok(())
}
