//! [`RocksTable`]: a state table whose entries are rows of the subtask's RocksDB instance.
//!
//! Handles read and change entries in place (`&mut`), so the table keeps the entry accessed
//! last decoded in memory and writes it back when another entry is accessed, or before a
//! snapshot: a record that reads and updates its key's state costs one read and one write.
//! The write is skipped when the entry's encoding did not change.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use rocksdb::{WriteBatch, WriteOptions};
use weir_core::keygroup::{KeyGroupRange, StableBuildHasher};
use weir_core::Result;

use super::layout::{prefix, write_row_key};
use super::{scan, write_options, Db};
use crate::backend::Namespace;
use crate::data::{decode, encode, StateKey, StateValue};
use crate::snapshot::{KeyGroupBytes, KeyedWriter};
use crate::store::{Entry, Namespaces, TableStore};

/// What the instance holds for the cached row.
enum Stored {
    /// Not read (the entry was replaced without being read): write back in any case.
    Unknown,
    Absent,
    Bytes(Vec<u8>),
}

/// A state table in RocksDB; see the module documentation.
pub(crate) struct RocksTable<K, V> {
    db: Arc<Db>,
    /// Kept per table: RocksDB's write options may not be shared between threads.
    write: WriteOptions,
    id: u16,
    range: KeyGroupRange,
    /// The row key of the cached entry (empty when nothing is cached).
    row: Vec<u8>,
    stored: Stored,
    entry: Option<Entry<V>>,
    /// The row key being looked up (a buffer kept for its allocation).
    probe: Vec<u8>,
    _k: PhantomData<fn() -> K>,
}

impl<K: StateKey, V: StateValue> RocksTable<K, V> {
    /// The table `name` of `db` (empty unless restored rows are there already), for the key
    /// groups in `range`.
    pub(crate) fn new(db: Arc<Db>, name: &str, range: KeyGroupRange) -> Result<Self> {
        let id = db.table_id(name)?;
        Ok(RocksTable {
            db,
            write: write_options(),
            id,
            range,
            row: Vec::new(),
            stored: Stored::Unknown,
            entry: None,
            probe: Vec::new(),
            _k: PhantomData,
        })
    }

    /// Makes the entry of `key` in `ns` the cached one (writing the previous one back); reads
    /// it from the instance if `load`, else leaves it empty, to be replaced.
    fn seek(&mut self, group: usize, key: &K, ns: Namespace, load: bool) -> Result<()> {
        self.probe.clear();
        write_row_key(
            &mut self.probe,
            key_group(self.range, group),
            self.id,
            key,
            ns,
        )?;
        if self.probe == self.row {
            return Ok(());
        }
        self.flush()?;
        std::mem::swap(&mut self.row, &mut self.probe);
        (self.entry, self.stored) = (None, Stored::Unknown);
        if load {
            if let Some(bytes) = self.db.get(&self.row)? {
                self.entry = Some(decode(&bytes, "a state entry in RocksDB")?);
                self.stored = Stored::Bytes(bytes.to_vec());
            } else {
                self.stored = Stored::Absent;
            }
        }
        Ok(())
    }
}

/// The absolute key group of the key group at `index` within `range`.
fn key_group(range: KeyGroupRange, index: usize) -> u16 {
    (range.start + index) as u16
}

impl<K: StateKey, V: StateValue> TableStore for RocksTable<K, V> {
    type Key = K;
    type Value = V;

    fn get_mut(&mut self, group: usize, key: &K, ns: Namespace) -> Result<Option<&mut Entry<V>>> {
        self.seek(group, key, ns, true)?;
        Ok(self.entry.as_mut())
    }

    fn insert(&mut self, group: usize, key: &K, ns: Namespace, entry: Entry<V>) -> Result<()> {
        self.seek(group, key, ns, false)?;
        self.entry = Some(entry);
        Ok(())
    }

    fn remove(&mut self, group: usize, key: &K, ns: Namespace) -> Result<Option<Entry<V>>> {
        self.seek(group, key, ns, true)?;
        Ok(self.entry.take())
    }

    fn entries(&self) -> Result<usize> {
        let mut rows = 0;
        for kg in self.range.start..=self.range.end_inclusive {
            scan(&self.db.db, prefix(kg as u16, self.id), |_, _| {
                rows += 1;
                Ok(())
            })?;
        }
        // The cached entry may not be written back yet.
        if !self.row.is_empty() {
            let in_db = self.db.get(&self.row)?.is_some();
            rows = rows + usize::from(self.entry.is_some()) - usize::from(in_db);
        }
        Ok(rows)
    }

    fn flush(&mut self) -> Result<()> {
        if self.row.is_empty() {
            return Ok(());
        }
        match &self.entry {
            Some(entry) => {
                let bytes = encode(entry)?;
                if !matches!(&self.stored, Stored::Bytes(b) if *b == bytes) {
                    self.db.put(&self.row, &bytes, &self.write)?;
                }
                self.stored = Stored::Bytes(bytes);
            }
            None => {
                if !matches!(self.stored, Stored::Absent) {
                    self.db.delete(&self.row, &self.write)?;
                }
                self.stored = Stored::Absent;
            }
        }
        Ok(())
    }

    /// `None`: the backend snapshots all tables of the instance at once
    /// ([`super::snapshot`]).
    fn snapshot(&mut self) -> Option<KeyedWriter> {
        None
    }

    fn restore(&mut self, groups: &KeyGroupBytes, what: &str) -> Result<()> {
        let mut row = Vec::new();
        for (kg, bytes) in groups {
            if !self.range.contains(*kg as usize) {
                continue;
            }
            let entries: HashMap<K, Namespaces<V>, StableBuildHasher> = decode(bytes, what)?;
            let mut batch = WriteBatch::default();
            for (key, namespaces) in &entries {
                for (ns, entry) in namespaces {
                    row.clear();
                    write_row_key(&mut row, *kg as u16, self.id, key, *ns)?;
                    batch.put(&row, encode(entry)?);
                }
            }
            self.db.write(batch, &self.write)?;
        }
        Ok(())
    }
}
