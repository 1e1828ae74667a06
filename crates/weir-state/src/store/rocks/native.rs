//! Incremental checkpoints (`execution.checkpointing.incremental`): a checkpoint holds the
//! files of the RocksDB instance as they are, in the instance's folder of the job's shared
//! folder. SST files never change once written, so each is copied once, when a checkpoint
//! first holds it, and later checkpoints only reference it; the small files that describe the
//! instance (`CURRENT`, `MANIFEST-*`, `OPTIONS-*`) are copied for every checkpoint, under
//! names that start with the checkpoint's id.
//!
//! Restoring opens the checkpoint's files as a read-only instance and moves the rows of the
//! key groups the subtask now owns into its working instance, renumbering tables by name, so
//! that an incremental checkpoint restores on any parallelism.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rocksdb::{Options, WriteBatch, DB};
use weir_core::keygroup::KeyGroupRange;
use weir_core::{Result, WeirError};

use super::layout::{prefix, prefix_end, row_prefix, with_table};
use super::{failed, scan_range, write_options, Checkpoint, Db, Folder};
use crate::snapshot::{NativeSnapshot, NativeWriter};
use crate::storage::CheckpointFiles;

/// Rows moved per write batch when restoring.
const RESTORE_BATCH_BYTES: usize = 4 << 20;

/// Writes the files of `checkpoint` (taken from `db` for checkpoint `checkpoint_id`, holding
/// the key groups `range`).
pub(crate) fn writer(
    db: Arc<Db>,
    checkpoint: Arc<Checkpoint>,
    checkpoint_id: u64,
    range: KeyGroupRange,
) -> NativeWriter {
    Box::new(move |files: &dyn CheckpointFiles| {
        let owner = format!("rocksdb-{}", db.instance_id);
        let mut written = Vec::new();
        for name in file_names(&checkpoint.folder.0)? {
            let source = checkpoint.folder.0.join(&name);
            let handle = if name.ends_with(".sst") {
                let mut shared = db.shared.lock().unwrap_or_else(|e| e.into_inner());
                match shared.get(&name) {
                    Some(handle) => handle.clone(),
                    None => {
                        let handle = files.copy_shared(&owner, &name, &source)?;
                        shared.insert(name.clone(), handle.clone());
                        handle
                    }
                }
            } else {
                files.copy_shared(&owner, &format!("{checkpoint_id}-{name}"), &source)?
            };
            written.push((name, handle));
        }
        Ok(NativeSnapshot {
            key_groups: range,
            tables: db.tables(),
            files: written,
            base: Default::default(),
        })
    })
}

/// The names of the files in `folder`, sorted.
fn file_names(folder: &Path) -> Result<Vec<String>> {
    let listing = || format!("listing the RocksDB checkpoint {}", folder.display());
    let mut names = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(|e| WeirError::io(listing(), e))? {
        let entry = entry.map_err(|e| WeirError::io(listing(), e))?;
        if entry
            .file_type()
            .map_err(|e| WeirError::io(listing(), e))?
            .is_file()
        {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Moves the rows of the key groups in `range` from the instance `native` describes into
/// `db`.
pub(crate) fn restore(db: &Db, native: &NativeSnapshot, range: KeyGroupRange) -> Result<()> {
    let Some(mine) = native.key_groups.intersection(range) else {
        return Ok(());
    };
    let parent = db.folder.0.parent().unwrap_or(Path::new("."));
    let folder = Folder::unique(parent, "restore");
    std::fs::create_dir_all(&folder.0)
        .map_err(|e| WeirError::io(format!("creating {}", folder.0.display()), e))?;
    for (name, handle) in &native.files {
        let source = native.base.join(&handle.path);
        let target = folder.0.join(name);
        // Files are only read: a hard link saves the copy where the file system allows it.
        if std::fs::hard_link(&source, &target).is_err() {
            std::fs::copy(&source, &target).map_err(|e| {
                WeirError::io(
                    format!("copying {} to {}", source.display(), target.display()),
                    e,
                )
            })?;
        }
    }
    let restored = DB::open_for_read_only(&Options::default(), &folder.0, false)
        .map_err(|e| failed("open a restored incremental checkpoint", e))?;
    let renumbered: BTreeMap<u16, u16> = (native.tables.iter())
        .map(|(name, old)| Ok((*old, db.table_id(name)?)))
        .collect::<Result<_>>()?;
    let write = write_options();
    let mut batch = WriteBatch::default();
    let from = prefix(mine.start as u16, 0);
    let to = prefix_end(prefix(mine.end_inclusive as u16, u16::MAX));
    scan_range(&restored, from, to, |row, value| {
        let (_, old) = row_prefix(row);
        let new = renumbered.get(&old).ok_or_else(|| {
            WeirError::Other(format!(
                "corrupt incremental checkpoint: a row of state table {old}, which it does not name"
            ))
        })?;
        batch.put(with_table(row, *new), value);
        if batch.size_in_bytes() >= RESTORE_BATCH_BYTES {
            db.write(std::mem::take(&mut batch), &write)?;
        }
        Ok(())
    })?;
    db.write(batch, &write)
}
