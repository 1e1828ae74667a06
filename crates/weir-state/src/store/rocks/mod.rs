//! The RocksDB store: one RocksDB instance per keyed operator subtask, in a folder of its own
//! on local disk, holding the rows of all the subtask's state tables
//! ([`layout`] says how); [`RocksTable`] is one table in it.
//!
//! Writes skip RocksDB's write-ahead log: the instance is a working copy, rebuilt from the
//! latest checkpoint after a failure, never reopened. A snapshot takes a RocksDB checkpoint
//! (the memtables flushed, the SST files hard-linked into another folder) while the task
//! waits, then reads it on the checkpoint writer's thread while the task goes on writing:
//! either row by row into the portable format ([`portable`]), or, for incremental
//! checkpoints, as files ([`native`]).
//!
//! Table ids in row keys are the instance's own ([`Db::table_id`]): restoring an incremental
//! checkpoint moves rows to the new instance's ids by table name.

mod layout;
pub(crate) mod native;
mod portable;
mod table;

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rocksdb::{
    DBCompressionType, DBPinnableSlice, Options, ReadOptions, WriteBatch, WriteOptions, DB,
};
use weir_core::{Result, WeirError};

use crate::backend::TABLE_PREFIX;
use crate::snapshot::StateSnapshot;
use crate::storage::StateHandle;
use weir_core::keygroup::KeyGroupRange;

pub(crate) use table::RocksTable;

/// Numbers the folders of this process's instances and checkpoints.
static NEXT_FOLDER: AtomicU64 = AtomicU64::new(0);

/// A folder of RocksDB files, deleted when dropped.
struct Folder(PathBuf);

impl Folder {
    /// A new, not yet existing folder under `parent` named after `what`.
    fn unique(parent: &Path, what: &str) -> Self {
        let n = NEXT_FOLDER.fetch_add(1, Ordering::Relaxed);
        let path = parent.join(format!("weir-rocksdb-{what}-{}-{n}", std::process::id()));
        // Left over by an earlier process with the same id.
        let _ = std::fs::remove_dir_all(&path);
        Folder(path)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Adds the tables of `db` (those of the key groups `range`) to `snapshot`, from a RocksDB
/// checkpoint taken now: their rows in the portable format, or with `incremental` (and not
/// for a savepoint) the instance's files.
pub(crate) fn snapshot(
    db: &Arc<Db>,
    range: KeyGroupRange,
    incremental: bool,
    snapshot: &mut StateSnapshot,
) -> Result<()> {
    let checkpoint = db.checkpoint()?;
    if incremental && !snapshot.is_savepoint() {
        let id = snapshot.checkpoint_id();
        snapshot.set_native(native::writer(Arc::clone(db), checkpoint, id, range));
        return Ok(());
    }
    for (name, id) in db.tables() {
        let writer = portable::table_writer(Arc::clone(&checkpoint), range, id, name.clone());
        snapshot.add_keyed(format!("{TABLE_PREFIX}{name}"), writer);
    }
    Ok(())
}

/// An error of RocksDB, with what was being done.
fn failed(doing: &str, e: rocksdb::Error) -> WeirError {
    WeirError::Other(format!("RocksDB state backend: cannot {doing}: {e}"))
}

/// Calls `f` with every row whose key starts with `prefix`, in key order.
fn scan(
    db: &DB,
    prefix: [u8; layout::PREFIX_LEN],
    f: impl FnMut(&[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    scan_range(db, prefix, layout::prefix_end(prefix), f)
}

/// Calls `f` with every row from the key `from` up to the key `to` (excluded), in key order.
fn scan_range(
    db: &DB,
    from: [u8; layout::PREFIX_LEN],
    to: [u8; layout::PREFIX_LEN],
    mut f: impl FnMut(&[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    let mut options = ReadOptions::default();
    options.set_iterate_upper_bound(to);
    options.fill_cache(false);
    let mut rows = db.raw_iterator_opt(options);
    rows.seek(from);
    while let (Some(key), Some(value)) = (rows.key(), rows.value()) {
        f(key, value)?;
        rows.next();
    }
    rows.status().map_err(|e| failed("read state", e))
}

/// How state is written: without the write-ahead log.
fn write_options() -> WriteOptions {
    let mut write = WriteOptions::default();
    write.disable_wal(true);
    write
}

/// The working RocksDB instance of one operator subtask.
pub(crate) struct Db {
    db: DB,
    /// State table ids by name.
    tables: Mutex<BTreeMap<String, u16>>,
    /// Names the instance's files in the job's shared folder (unique per instance).
    instance_id: String,
    /// The SST files already copied to the shared folder, by name in the instance.
    shared: Mutex<HashMap<String, StateHandle>>,
    /// Declared last: removed once the instance is closed.
    folder: Folder,
}

impl Db {
    /// A new, empty instance in a folder of its own under `local_dir` (the system's temporary
    /// directory if `None`).
    pub(crate) fn open(local_dir: Option<&Path>) -> Result<Arc<Self>> {
        let parent = local_dir.map_or_else(std::env::temp_dir, Path::to_path_buf);
        std::fs::create_dir_all(&parent).map_err(|e| {
            WeirError::Other(format!(
                "RocksDB state backend: cannot create the local directory {}: {e}",
                parent.display()
            ))
        })?;
        let folder = Folder::unique(&parent, "db");
        let mut options = Options::default();
        options.create_if_missing(true);
        // Built without compression libraries; the default would ask for Snappy.
        options.set_compression_type(DBCompressionType::None);
        let db = DB::open(&options, &folder.0).map_err(|e| failed("open its instance", e))?;
        let instance_id = format!(
            "{:016x}",
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        );
        Ok(Arc::new(Db {
            db,
            tables: Mutex::default(),
            instance_id,
            shared: Mutex::default(),
            folder,
        }))
    }

    /// The id of state table `name` in row keys, assigned on first use.
    pub(crate) fn table_id(&self, name: &str) -> Result<u16> {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = tables.get(name) {
            return Ok(*id);
        }
        let id = u16::try_from(tables.len())
            .map_err(|_| WeirError::Other("more than 65536 state tables in an operator".into()))?;
        tables.insert(name.to_string(), id);
        Ok(id)
    }

    /// The state tables by name, with their ids.
    pub(crate) fn tables(&self) -> BTreeMap<String, u16> {
        self.tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn get(&self, row: &[u8]) -> Result<Option<DBPinnableSlice<'_>>> {
        self.db.get_pinned(row).map_err(|e| failed("read state", e))
    }

    fn put(&self, row: &[u8], value: &[u8], options: &WriteOptions) -> Result<()> {
        (self.db.put_opt(row, value, options)).map_err(|e| failed("write state", e))
    }

    fn delete(&self, row: &[u8], options: &WriteOptions) -> Result<()> {
        (self.db.delete_opt(row, options)).map_err(|e| failed("delete state", e))
    }

    fn write(&self, batch: WriteBatch, options: &WriteOptions) -> Result<()> {
        (self.db.write_opt(batch, options)).map_err(|e| failed("write state", e))
    }

    /// A read-only view of everything written so far, taken as a RocksDB checkpoint beside
    /// the instance's folder.
    pub(crate) fn checkpoint(&self) -> Result<Arc<Checkpoint>> {
        let parent = self.folder.0.parent().unwrap_or(Path::new("."));
        let folder = Folder::unique(parent, "snapshot");
        rocksdb::checkpoint::Checkpoint::new(&self.db)
            .and_then(|c| c.create_checkpoint(&folder.0))
            .map_err(|e| failed("take a checkpoint", e))?;
        let db = DB::open_for_read_only(&Options::default(), &folder.0, false)
            .map_err(|e| failed("open a checkpoint", e))?;
        Ok(Arc::new(Checkpoint { db, folder }))
    }
}

/// A RocksDB checkpoint, open for reading; its files are deleted when it is dropped (after
/// the last table's snapshot was written from it).
pub(crate) struct Checkpoint {
    db: DB,
    /// Declared last: removed once the checkpoint is closed.
    folder: Folder,
}
