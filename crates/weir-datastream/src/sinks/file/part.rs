//! Part files: written as hidden in-progress files, closed into pending files (durable, still
//! hidden), and committed by an atomic rename to their final name.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use weir_core::{Result, WeirError};

use super::RollingPolicy;

/// A closed part file waiting for its checkpoint to complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingFile {
    /// Where it is now: the hidden in-progress name.
    pub in_progress: PathBuf,
    /// Where it goes when committed.
    pub target: PathBuf,
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> WeirError {
    WeirError::io(format!("file sink: cannot {what} '{}'", path.display()), e)
}

impl PendingFile {
    /// Commits the file: renames it to its final name. Committing again is harmless (after a
    /// restore, a file may already have been committed before the failure).
    pub fn commit(&self) -> Result<()> {
        if !self.in_progress.exists() && self.target.exists() {
            return Ok(());
        }
        std::fs::rename(&self.in_progress, &self.target)
            .map_err(|e| io_error(&self.in_progress, "commit part file", e))
    }

    /// Restores an in-progress file to the `length` it had at a checkpoint (dropping what a
    /// failed attempt appended after it) and makes it pending.
    pub fn truncated(self, length: u64) -> Result<Self> {
        if !self.in_progress.exists() && self.target.exists() {
            return Ok(self);
        }
        let file = OpenOptions::new()
            .write(true)
            .open(&self.in_progress)
            .map_err(|e| io_error(&self.in_progress, "reopen in-progress file", e))?;
        file.set_len(length)
            .and_then(|_| file.sync_all())
            .map_err(|e| io_error(&self.in_progress, "truncate in-progress file", e))?;
        Ok(self)
    }
}

/// The part file a bucket is writing.
pub(crate) struct InProgressPart {
    pub file: PendingFile,
    out: BufWriter<File>,
    size: u64,
    created_ms: i64,
    written_ms: i64,
}

impl InProgressPart {
    /// Creates `file.in_progress`.
    pub fn create(file: PendingFile, now_ms: i64) -> Result<Self> {
        if let Some(dir) = file.in_progress.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| io_error(dir, "create bucket directory", e))?;
        }
        let f = File::create(&file.in_progress)
            .map_err(|e| io_error(&file.in_progress, "create part file", e))?;
        Ok(InProgressPart {
            file,
            out: BufWriter::with_capacity(1 << 16, f),
            size: 0,
            created_ms: now_ms,
            written_ms: now_ms,
        })
    }

    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8], now_ms: i64) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| io_error(&self.file.in_progress, "write", e))?;
        self.size += bytes.len() as u64;
        self.written_ms = now_ms;
        Ok(())
    }

    /// Whether the part rolls at `now_ms` by `policy`.
    pub fn rolls(&self, policy: &RollingPolicy, now_ms: i64) -> bool {
        policy.should_roll(self.size, self.created_ms, self.written_ms, now_ms)
    }

    /// Flushes and syncs what was written; returns the durable length.
    pub fn persist(&mut self) -> Result<u64> {
        let path = &self.file.in_progress;
        self.out.flush().map_err(|e| io_error(path, "flush", e))?;
        self.out
            .get_ref()
            .sync_all()
            .map_err(|e| io_error(path, "sync", e))?;
        Ok(self.size)
    }

    /// Closes the part durably: it becomes pending.
    pub fn close(mut self) -> Result<PendingFile> {
        self.persist()?;
        Ok(self.file)
    }
}
