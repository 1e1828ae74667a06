//! Where the keyed state backend keeps its tables: on the heap or in RocksDB.
//!
//! The backend ([`KeyedStateBackend`](crate::KeyedStateBackend)) implements state semantics
//! (kinds, namespaces, TTL) once, on top of a [`TableStore`] per state table: a store keeps,
//! per key group, key → namespace → entry, and writes snapshots in the one portable format
//! (per key group, the encoded map of key → namespaces → entry), whatever keeps the entries.
//! So a savepoint taken on one backend restores on the other, with any parallelism.
//!
//! - [`heap::HeapTable`]: a [`KeyGroupedMap`](crate::KeyGroupedMap) with copy-on-write
//!   snapshots (the default, `state.backend.type: hashmap`).
//! - `rocks::RocksTable` (cargo feature `rocksdb`): rows in a RocksDB instance per operator
//!   subtask on local disk, so that state can be larger than memory
//!   (`state.backend.type: rocksdb`).

mod config;
pub(crate) mod heap;
#[cfg(feature = "rocksdb")]
pub(crate) mod rocks;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use weir_core::Result;

use crate::backend::Namespace;
use crate::snapshot::{KeyGroupBytes, KeyedWriter};

pub use config::StateBackendConfig;

/// One stored value with the time it was last accessed (for TTL).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Entry<V> {
    pub value: V,
    pub touched_ms: i64,
}

/// The entries of one key, by namespace. Plain keyed state has one namespace per key; window
/// state can have hundreds while the watermark lags (panes of sliding windows), hence a map.
/// A key group of a snapshot is the encoded map of key → `Namespaces`.
pub(crate) type Namespaces<V> = BTreeMap<Namespace, Entry<V>>;

/// The entries of one state table. `group` is the index of the key's key group within the
/// subtask's range.
pub(crate) trait TableStore: Send + 'static {
    type Key;
    type Value;

    /// The entry of `key` in `ns`, for reading and writing in place.
    fn get_mut(
        &mut self,
        group: usize,
        key: &Self::Key,
        ns: Namespace,
    ) -> Result<Option<&mut Entry<Self::Value>>>;

    /// Sets the entry of `key` in `ns`.
    fn insert(
        &mut self,
        group: usize,
        key: &Self::Key,
        ns: Namespace,
        entry: Entry<Self::Value>,
    ) -> Result<()>;

    /// Removes the entry of `key` in `ns`.
    fn remove(
        &mut self,
        group: usize,
        key: &Self::Key,
        ns: Namespace,
    ) -> Result<Option<Entry<Self::Value>>>;

    /// Number of (key, namespace) entries.
    fn entries(&self) -> Result<usize>;

    /// Writes back what is cached in memory (before a snapshot of the source is taken).
    fn flush(&mut self) -> Result<()>;

    /// A writer that encodes the table as it is now in the portable format, or `None` when
    /// the store snapshots all tables of its instance at once (RocksDB: one checkpoint of
    /// the instance, see `rocks::snapshot`).
    fn snapshot(&mut self) -> Option<KeyedWriter>;

    /// Adds the restored key groups of `groups` that the subtask owns; `what` names the
    /// state in errors.
    fn restore(&mut self, groups: &KeyGroupBytes, what: &str) -> Result<()>;
}
