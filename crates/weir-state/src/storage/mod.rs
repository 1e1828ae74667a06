//! Checkpoint storage on a directory, laid out like Flink's `FsCheckpointStorage`:
//!
//! ```text
//! <execution.checkpointing.dir>/<job-id>/
//!     shared/          files of incremental checkpoints, by owner (a RocksDB instance), each
//!         <owner>/     referenced by every checkpoint that holds it (as
//!                      `../shared/<owner>/<name>`), deleted with the last of them
//!     taskowned/       state owned by the tasks, never deleted by the coordinator (unused yet)
//!     chk-<n>/         one checkpoint: its state files, then `_metadata`
//!         _metadata
//!         <state files>
//! <savepoint dir>/savepoint-<first 6 chars of job id>-<12 hex digits>/
//!         _metadata
//!         <state files>
//! ```
//!
//! A checkpoint is complete exactly when its `_metadata` file exists: state files are written
//! and fsynced first, then the metadata is written to a temporary file, fsynced, renamed to
//! `_metadata` and the directory fsynced. A crash at any point leaves either a directory without
//! `_metadata` (refused as incomplete) or a complete checkpoint. The metadata carries its own
//! CRC-32 and the size and CRC-32 of every state file, so a damaged checkpoint is refused on
//! restore, and [`CheckpointStorage::latest_completed`] falls back to the previous one.
//!
//! State handles hold paths relative to the checkpoint directory, so a savepoint directory can
//! be moved or copied elsewhere and still loads.

mod checksum;
mod metadata;
mod read;

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use weir_core::config::{options, Configuration};
use weir_core::{Result, WeirError};

pub use checksum::{crc32, format_checksum};
pub use metadata::{
    CheckpointMetadata, OperatorSubtaskState, StateHandle, METADATA_FILE, METADATA_VERSION,
};
pub use read::{load, scan_job_dir, CompletedCheckpoint, RefusedCheckpoint, ScanResult};

/// Prefix of checkpoint directories, as in Flink.
pub const CHECKPOINT_DIR_PREFIX: &str = "chk-";
/// Directory for state shared between checkpoints.
pub const SHARED_DIR: &str = "shared";
/// How a handle's path starts when the file is in [`SHARED_DIR`].
pub const SHARED_PATH_PREFIX: &str = "../shared/";
/// Directory for state owned by tasks.
pub const TASK_OWNED_DIR: &str = "taskowned";
/// Name under which metadata is written before the atomic rename to `_metadata`.
const METADATA_TEMP_FILE: &str = "_metadata.inprogress";

/// Where the checkpoints of one job are written and read.
#[derive(Debug, Clone)]
pub struct CheckpointStorage {
    job_id: String,
    job_dir: PathBuf,
    savepoint_dir: Option<PathBuf>,
    num_retained: usize,
}

impl CheckpointStorage {
    /// Storage under `base_dir/<job_id>/`, keeping one completed checkpoint and without a
    /// default savepoint directory. Does not touch the disk; see [`CheckpointStorage::init`].
    pub fn new(base_dir: impl Into<PathBuf>, job_id: impl Into<String>) -> Self {
        let job_id = job_id.into();
        CheckpointStorage {
            job_dir: base_dir.into().join(&job_id),
            job_id,
            savepoint_dir: None,
            num_retained: 1,
        }
    }

    /// Storage configured by `execution.checkpointing.dir` (or `state.checkpoints.dir`),
    /// `execution.checkpointing.num-retained` and `execution.checkpointing.savepoint-dir`.
    /// The directories may be plain paths or `file://` URIs; other schemes are refused.
    pub fn from_config(config: &Configuration, job_id: &str) -> Result<Self> {
        let key = options::CHECKPOINTING_DIR.key;
        let dir = config
            .get_optional(&options::CHECKPOINTING_DIR)?
            .ok_or_else(|| {
                WeirError::Config(format!(
                    "no checkpoint directory: set '{key}' to a path or file:// URI"
                ))
            })?;
        let base = resolve_dir(key, &dir)?;
        let savepoint_dir = config
            .get_optional(&options::CHECKPOINTING_SAVEPOINT_DIR)?
            .map(|d| resolve_dir(options::CHECKPOINTING_SAVEPOINT_DIR.key, &d))
            .transpose()?;
        let num_retained = config.get(&options::CHECKPOINTING_NUM_RETAINED)?;
        Ok(CheckpointStorage::new(base, job_id)
            .with_num_retained(num_retained)
            .with_savepoint_dir(savepoint_dir))
    }

    /// Sets how many completed checkpoints are kept (at least one).
    pub fn with_num_retained(mut self, n: usize) -> Self {
        self.num_retained = n.max(1);
        self
    }

    /// Sets the default savepoint directory.
    pub fn with_savepoint_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.savepoint_dir = dir;
        self
    }

    /// The job this storage belongs to.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// `<checkpoint dir>/<job id>`.
    pub fn job_dir(&self) -> &Path {
        &self.job_dir
    }

    /// The directory of checkpoint `id`: `<job dir>/chk-<id>`.
    pub fn checkpoint_dir(&self, id: u64) -> PathBuf {
        self.job_dir.join(format!("{CHECKPOINT_DIR_PREFIX}{id}"))
    }

    /// Number of completed checkpoints kept.
    pub fn num_retained(&self) -> usize {
        self.num_retained
    }

    /// Creates the job directory with `shared/` and `taskowned/`, as Flink does.
    pub fn init(&self) -> Result<()> {
        for sub in [SHARED_DIR, TASK_OWNED_DIR] {
            let dir = self.job_dir.join(sub);
            fs::create_dir_all(&dir)
                .map_err(|e| WeirError::io(format!("creating {}", dir.display()), e))?;
        }
        sync_dir(&self.job_dir)
    }

    /// Starts checkpoint `checkpoint_id`: creates `chk-<id>/`. A leftover incomplete directory
    /// of the same id (from a crash) is removed; a completed one is an error.
    pub fn begin(&self, checkpoint_id: u64) -> Result<PendingCheckpoint> {
        self.init()?;
        let dir = self.checkpoint_dir(checkpoint_id);
        if dir.join(METADATA_FILE).exists() {
            return Err(WeirError::io(
                format!("starting checkpoint {checkpoint_id}"),
                format!("{} already holds a completed checkpoint", dir.display()),
            ));
        }
        if dir.exists() {
            remove_dir(&dir)?;
        }
        create_new_dir(&dir)?;
        sync_dir(&self.job_dir)?;
        Ok(PendingCheckpoint::new(
            dir,
            self.job_id.clone(),
            checkpoint_id,
            false,
            Some(self.clone()),
        ))
    }

    /// Starts a savepoint in `target_dir` (or the configured savepoint directory) as a new,
    /// self-contained directory `savepoint-<first 6 chars of job id>-<12 hex digits>`.
    pub fn begin_savepoint(
        &self,
        target_dir: Option<&str>,
        checkpoint_id: u64,
    ) -> Result<PendingCheckpoint> {
        let base = match target_dir {
            Some(d) => resolve_dir("savepoint target directory", d)?,
            None => self.savepoint_dir.clone().ok_or_else(|| {
                WeirError::Config(format!(
                    "no savepoint directory: pass a target directory or set '{}'",
                    options::CHECKPOINTING_SAVEPOINT_DIR.key
                ))
            })?,
        };
        fs::create_dir_all(&base)
            .map_err(|e| WeirError::io(format!("creating {}", base.display()), e))?;
        let short: String = self.job_id.chars().take(6).collect();
        let dir = loop {
            let random = RandomState::new().build_hasher().finish() & 0xFFFF_FFFF_FFFF;
            let dir = base.join(format!("savepoint-{short}-{random:012x}"));
            if !dir.exists() {
                break dir;
            }
        };
        create_new_dir(&dir)?;
        sync_dir(&base)?;
        Ok(PendingCheckpoint::new(
            dir,
            self.job_id.clone(),
            checkpoint_id,
            true,
            None,
        ))
    }

    /// The newest checkpoint of this job that is complete and intact, or `None`. Refused
    /// (incomplete or corrupt) checkpoints are skipped and logged as warnings; use
    /// [`CheckpointStorage::scan`] to get them.
    pub fn latest_completed(&self) -> Result<Option<CompletedCheckpoint>> {
        let scan = self.scan()?;
        for refused in &scan.refused {
            tracing::warn!("{refused}; falling back to an earlier checkpoint");
        }
        Ok(scan.latest)
    }

    /// Like [`CheckpointStorage::latest_completed`], also returning the refused checkpoints.
    pub fn scan(&self) -> Result<ScanResult> {
        scan_job_dir(&self.job_dir)
    }

    /// Completed checkpoint ids (those with `_metadata`, not validated), oldest first.
    pub fn completed_ids(&self) -> Result<Vec<u64>> {
        Ok(read::checkpoint_dirs(&self.job_dir)?
            .into_iter()
            .filter(|(_, dir)| dir.join(METADATA_FILE).is_file())
            .map(|(id, _)| id)
            .collect())
    }

    /// Deletes completed checkpoints beyond the newest `num_retained`, and incomplete
    /// checkpoint directories older than the newest completed one (subsumed, as in Flink),
    /// then the shared files that no retained checkpoint references: those of subsumed
    /// checkpoints, and those of owners (RocksDB instances) that the newest checkpoint does
    /// not reference, which are gone (an owner that the newest checkpoint references may be
    /// writing files for the next checkpoint).
    pub fn apply_retention(&self) -> Result<()> {
        let dirs = read::checkpoint_dirs(&self.job_dir)?;
        let completed: Vec<u64> = dirs
            .iter()
            .filter(|(_, d)| d.join(METADATA_FILE).is_file())
            .map(|(id, _)| *id)
            .collect();
        let Some(&newest) = completed.last() else {
            return Ok(());
        };
        let keep_from = completed
            .len()
            .checked_sub(self.num_retained)
            .map_or(0, |i| completed[i]);
        let mut released = BTreeSet::new();
        for (id, dir) in &dirs {
            let is_complete = completed.binary_search(id).is_ok();
            if is_complete && *id < keep_from {
                released.extend(shared_files_of(dir));
                remove_dir(dir)?;
            } else if !is_complete && *id < newest {
                remove_dir(dir)?;
            }
        }
        let referenced: BTreeSet<String> = (dirs.iter())
            .filter(|(id, _)| *id >= keep_from)
            .flat_map(|(_, dir)| shared_files_of(dir))
            .collect();
        let live_owners: BTreeSet<String> = (shared_files_of(&self.checkpoint_dir(newest)).iter())
            .filter_map(|path| path.split_once('/').map(|(owner, _)| owner.to_string()))
            .collect();
        let shared = self.job_dir.join(SHARED_DIR);
        for (owner, files) in list_shared(&shared)? {
            let gone = !live_owners.contains(owner.as_str());
            for file in files {
                let path = format!("{owner}/{file}");
                if !referenced.contains(&path) && (gone || released.contains(&path)) {
                    remove_file(&shared.join(&path))?;
                }
            }
            // Removes the owner's folder once it is empty.
            let _ = fs::remove_dir(shared.join(&owner));
        }
        Ok(())
    }
}

/// A checkpoint or savepoint being written: state files first, then [`PendingCheckpoint::complete`].
/// Dropping it without completing leaves an incomplete directory, which is never restored from.
#[derive(Debug)]
pub struct PendingCheckpoint {
    dir: PathBuf,
    job_id: String,
    checkpoint_id: u64,
    is_savepoint: bool,
    timestamp_ms: u64,
    written: BTreeMap<String, StateHandle>,
    /// The storage to apply retention on after completion; `None` for savepoints.
    storage: Option<CheckpointStorage>,
}

impl PendingCheckpoint {
    fn new(
        dir: PathBuf,
        job_id: String,
        checkpoint_id: u64,
        is_savepoint: bool,
        storage: Option<CheckpointStorage>,
    ) -> Self {
        let timestamp_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        PendingCheckpoint {
            dir,
            job_id,
            checkpoint_id,
            is_savepoint,
            timestamp_ms,
            written: BTreeMap::new(),
            storage,
        }
    }

    /// The directory being written.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The checkpoint id.
    pub fn checkpoint_id(&self) -> u64 {
        self.checkpoint_id
    }

    /// Whether this is a savepoint.
    pub fn is_savepoint(&self) -> bool {
        self.is_savepoint
    }

    /// Metadata for this checkpoint with no operators yet, to be filled with the handles
    /// returned by [`PendingCheckpoint::write_state`].
    pub fn new_metadata(&self) -> CheckpointMetadata {
        CheckpointMetadata {
            version: METADATA_VERSION,
            checkpoint_id: self.checkpoint_id,
            timestamp_ms: self.timestamp_ms,
            job_id: self.job_id.clone(),
            is_savepoint: self.is_savepoint,
            operators: BTreeMap::new(),
        }
    }

    /// Writes one state file (durably) and returns its handle. `name` is a plain file name,
    /// unique within the checkpoint, not starting with `_` or `.`.
    pub fn write_state(&mut self, name: &str, bytes: &[u8]) -> Result<StateHandle> {
        if self.written.contains_key(name) {
            return Err(WeirError::Other(format!(
                "state file '{name}' written twice in checkpoint {}",
                self.checkpoint_id
            )));
        }
        let handle = self.file_writer().write(name, bytes)?;
        self.add_written(handle.clone());
        Ok(handle)
    }

    /// A writer of state files into this checkpoint's directory, for other threads; hand the
    /// handles it returns to [`PendingCheckpoint::add_written`].
    pub fn file_writer(&self) -> StateFileWriter {
        StateFileWriter {
            dir: self.dir.clone(),
        }
    }

    /// Records a state file written by a [`StateFileWriter`] of this checkpoint.
    pub fn add_written(&mut self, handle: StateHandle) {
        self.written.insert(handle.path.clone(), handle);
    }

    /// Completes the checkpoint: checks that `metadata` belongs to it and references only
    /// state files written through it, writes `_metadata` atomically, then (for checkpoints)
    /// deletes checkpoints beyond the retained number.
    pub fn complete(self, metadata: CheckpointMetadata) -> Result<CompletedCheckpoint> {
        let what = format!("completing checkpoint {}", self.checkpoint_id);
        if metadata.checkpoint_id != self.checkpoint_id
            || metadata.job_id != self.job_id
            || metadata.is_savepoint != self.is_savepoint
            || metadata.version != METADATA_VERSION
        {
            return Err(WeirError::Other(format!(
                "{what}: metadata is for another checkpoint (id {}, job {}, savepoint {}, version {})",
                metadata.checkpoint_id, metadata.job_id, metadata.is_savepoint, metadata.version
            )));
        }
        for (uid, handle) in metadata.handles() {
            if self.written.get(&handle.path) != Some(handle) {
                return Err(WeirError::Other(format!(
                    "{what}: operator '{uid}' references state file '{}' that was not written \
                     to this checkpoint",
                    handle.path
                )));
            }
        }
        // Sync the state files' directory entries before the metadata can exist.
        sync_dir(&self.dir)?;
        let temp = self.dir.join(METADATA_TEMP_FILE);
        write_durably(&temp, &metadata::encode(&metadata), false)?;
        let target = self.dir.join(METADATA_FILE);
        fs::rename(&temp, &target).map_err(|e| {
            WeirError::io(
                format!("renaming {} to {}", temp.display(), target.display()),
                e,
            )
        })?;
        sync_dir(&self.dir)?;
        let completed = CompletedCheckpoint::new(self.dir.clone(), metadata);
        if let Some(storage) = &self.storage {
            storage.apply_retention()?;
        }
        Ok(completed)
    }

    /// Abandons the checkpoint and removes its directory.
    pub fn abort(self) -> Result<()> {
        remove_dir(&self.dir)
    }
}

/// Writes state files into one pending checkpoint's directory; cheap to clone and to send to
/// the threads that write snapshots.
#[derive(Debug, Clone)]
pub struct StateFileWriter {
    dir: PathBuf,
}

impl StateFileWriter {
    /// Writes one state file (durably) and returns its handle. `name` is a plain file name,
    /// unique within the checkpoint, not starting with `_` or `.`.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<StateHandle> {
        self.write_with(name, |out| out.write_all(bytes))
    }

    /// Writes one state file (durably) with what `write` streams into it, and returns its
    /// handle; the same rules for `name` as [`StateFileWriter::write`].
    pub fn write_with(
        &self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<StateHandle> {
        self.write_file(name, name, write)
    }

    /// Writes `name` at `relative` (to the checkpoint directory) with what `write` streams
    /// into it, durably, and returns its handle.
    fn write_file(
        &self,
        name: &str,
        relative: &str,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<StateHandle> {
        if name.is_empty()
            || name.starts_with('_')
            || name.starts_with('.')
            || name.contains(['/', '\\'])
        {
            return Err(WeirError::Other(format!(
                "invalid state file name '{name}': must be a plain file name not starting with '_' or '.'"
            )));
        }
        let path = self.dir.join(relative);
        let ctx = || format!("writing {}", path.display());
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| WeirError::io(ctx(), e))?;
        let mut out =
            checksum::ChecksumWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
        write(&mut out).map_err(|e| WeirError::io(ctx(), e))?;
        out.flush().map_err(|e| WeirError::io(ctx(), e))?;
        let (buffered, size, checksum) = out.finish();
        let file = buffered
            .into_inner()
            .map_err(|e| WeirError::io(ctx(), e.into_error()))?;
        file.sync_all().map_err(|e| WeirError::io(ctx(), e))?;
        Ok(StateHandle {
            path: relative.to_string(),
            size,
            checksum,
        })
    }
}

/// Where the files of an incremental snapshot go: the job's folder of files shared between
/// checkpoints, one folder per owner (a RocksDB instance, named uniquely in the job).
pub trait CheckpointFiles {
    /// Copies `source` into the shared folder of `owner` as `name`, to be referenced by this
    /// checkpoint and maybe later ones.
    fn copy_shared(&self, owner: &str, name: &str, source: &Path) -> Result<StateHandle>;
}

impl CheckpointFiles for StateFileWriter {
    fn copy_shared(&self, owner: &str, name: &str, source: &Path) -> Result<StateHandle> {
        if owner.is_empty() || owner.starts_with('.') || owner.contains(['/', '\\']) {
            return Err(WeirError::Other(format!(
                "invalid owner '{owner}' of shared state files: must be a plain folder name"
            )));
        }
        let folder = self.dir.join("..").join(SHARED_DIR).join(owner);
        if !folder.is_dir() {
            fs::create_dir_all(&folder)
                .map_err(|e| WeirError::io(format!("creating {}", folder.display()), e))?;
            sync_dir(&self.dir.join("..").join(SHARED_DIR))?;
        }
        let relative = format!("{SHARED_PATH_PREFIX}{owner}/{name}");
        let handle = self.write_file(name, &relative, |out| copy_from(source, out))?;
        sync_dir(&folder)?;
        Ok(handle)
    }
}

fn copy_from(source: &Path, out: &mut dyn Write) -> std::io::Result<()> {
    std::io::copy(&mut fs::File::open(source)?, out).map(drop)
}

/// Resolves a configured directory: a plain path or a `file://` URI (`file:///abs`,
/// `file:/abs`, `file://localhost/abs`). Other schemes are refused, naming `key`.
pub fn resolve_dir(key: &str, value: &str) -> Result<PathBuf> {
    let value = value.trim();
    if value.is_empty() {
        return Err(WeirError::Config(format!("'{key}' is empty")));
    }
    let path = if let Some(rest) = value.strip_prefix("file:") {
        let rest = if let Some(authority_and_path) = rest.strip_prefix("//") {
            let slash = authority_and_path
                .find('/')
                .unwrap_or(authority_and_path.len());
            let (host, path) = authority_and_path.split_at(slash);
            if !(host.is_empty() || host == "localhost") {
                return Err(WeirError::Config(format!(
                    "'{key}' = '{value}': file:// URIs with a host ('{host}') are not supported; \
                     use file:///absolute/path"
                )));
            }
            path
        } else {
            rest
        };
        if rest.is_empty() {
            return Err(WeirError::Config(format!(
                "'{key}' = '{value}' has no path"
            )));
        }
        PathBuf::from(rest)
    } else if let Some(scheme) = uri_scheme(value) {
        return Err(WeirError::Config(format!(
            "'{key}' = '{value}': the '{scheme}://' file system is not supported yet; \
             use a local path or a file:// URI"
        )));
    } else {
        PathBuf::from(value)
    };
    std::path::absolute(&path)
        .map_err(|e| WeirError::io(format!("resolving '{key}' = '{value}'"), e))
}

/// The scheme of `value` if it looks like `scheme://...` (two letters or more, so that
/// Windows drive letters are paths).
fn uri_scheme(value: &str) -> Option<&str> {
    let (scheme, _) = value.split_once("://")?;
    let mut chars = scheme.chars();
    let valid = scheme.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// The names of the shared files that the checkpoint in `dir` references (none if it has no
/// readable metadata: an incomplete checkpoint holds no reference yet).
fn shared_files_of(dir: &Path) -> Vec<String> {
    let Ok(bytes) = fs::read(dir.join(METADATA_FILE)) else {
        return Vec::new();
    };
    let Ok(metadata) = metadata::decode(&bytes) else {
        return Vec::new();
    };
    metadata
        .handles()
        .filter_map(|(_, h)| h.path.strip_prefix(SHARED_PATH_PREFIX))
        .map(str::to_string)
        .collect()
}

/// The files in the shared folder `shared`, by owner folder.
fn list_shared(shared: &Path) -> Result<Vec<(String, Vec<String>)>> {
    let names = |dir: &Path| -> Result<Vec<String>> {
        let listing = |e| WeirError::io(format!("listing {}", dir.display()), e);
        let mut names = Vec::new();
        match fs::read_dir(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(listing(e)),
            Ok(entries) => {
                for entry in entries {
                    names.push(
                        entry
                            .map_err(listing)?
                            .file_name()
                            .to_string_lossy()
                            .into_owned(),
                    );
                }
            }
        }
        Ok(names)
    };
    names(shared)?
        .into_iter()
        .filter(|owner| shared.join(owner).is_dir())
        .map(|owner| Ok((owner.clone(), names(&shared.join(&owner))?)))
        .collect()
}

fn remove_file(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(WeirError::io(format!("deleting {}", path.display()), e)),
    }
}

fn create_new_dir(dir: &Path) -> Result<()> {
    fs::create_dir(dir).map_err(|e| WeirError::io(format!("creating {}", dir.display()), e))
}

fn remove_dir(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(WeirError::io(format!("deleting {}", dir.display()), e)),
    }
}

/// Writes a file and fsyncs it. With `create_new`, an existing file is an error.
fn write_durably(path: &Path, bytes: &[u8], create_new: bool) -> Result<()> {
    let ctx = || format!("writing {}", path.display());
    let mut options = fs::OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    let mut file = options.open(path).map_err(|e| WeirError::io(ctx(), e))?;
    file.write_all(bytes).map_err(|e| WeirError::io(ctx(), e))?;
    file.sync_all().map_err(|e| WeirError::io(ctx(), e))
}

/// Fsyncs a directory so that entries created or renamed in it survive a crash.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)
            .and_then(|f| f.sync_all())
            .map_err(|e| WeirError::io(format!("syncing directory {}", dir.display()), e))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_paths_and_file_uris() {
        let k = "execution.checkpointing.dir";
        assert_eq!(resolve_dir(k, "/tmp/ck").unwrap(), PathBuf::from("/tmp/ck"));
        assert_eq!(
            resolve_dir(k, "file:///tmp/ck").unwrap(),
            PathBuf::from("/tmp/ck")
        );
        assert_eq!(
            resolve_dir(k, "file:/tmp/ck").unwrap(),
            PathBuf::from("/tmp/ck")
        );
        assert_eq!(
            resolve_dir(k, "file://localhost/tmp/ck").unwrap(),
            PathBuf::from("/tmp/ck")
        );
        assert!(resolve_dir(k, "relative/ck").unwrap().is_absolute());
        let err = resolve_dir(k, "s3://bucket/ck").unwrap_err().to_string();
        assert!(
            err.contains(k) && err.contains("'s3://'") && err.contains("not supported yet"),
            "{err}"
        );
        let err = resolve_dir(k, "file://host/ck").unwrap_err().to_string();
        assert!(err.contains("host"), "{err}");
        assert!(resolve_dir(k, " ").is_err());
    }
}
