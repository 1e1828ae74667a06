//! The keyed state backend.
//!
//! State lives in named tables; a table holds, per key group, a map from key to the entries of
//! that key's namespaces (a namespace separates the state of one window from another's; plain
//! keyed state uses [`Namespace::Void`]). The operator sets the current key before it calls
//! user code; state handles then read and write the current key's entries.

use std::any::Any;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use weir_core::keygroup::KeyGroupRange;
use weir_core::{Result, WeirError};

use crate::data::{StateKey, StateValue};
use crate::grouped::group_index;
use crate::snapshot::{KeyGroupBytes, RestoredState, StateSnapshot};
use crate::store::heap::HeapTable;
use crate::store::{Entry, StateBackendConfig, TableStore};
use crate::ttl::{now_ms, StateTtlConfig, StateVisibility, TtlUpdateType};

/// Prefix of the snapshot components that hold state tables (`state/<name>`).
pub(crate) const TABLE_PREFIX: &str = "state/";

/// Separates the state of one window from another's under the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Namespace {
    /// Plain keyed state.
    Void,
    /// A time window `[start, end)`.
    Window { start: i64, end: i64 },
    /// The one global window.
    Global,
}

/// Where user code gets keyed state from: the backend with its current key, and the
/// namespace that state accesses use.
pub trait StateAccess<K> {
    /// The backend, positioned on the current key.
    fn backend(&mut self) -> &mut KeyedStateBackend<K>;
    /// The namespace of state accessed through this context.
    fn namespace(&self) -> Namespace {
        Namespace::Void
    }
}

/// A state table: its entries in a store, and its TTL.
pub(crate) struct Table<S> {
    store: S,
    ttl: Option<StateTtlConfig>,
}

/// What the backend needs of a table without knowing its store, key and value types.
trait ErasedTable: Send {
    fn entries(&self) -> Result<usize>;
    fn flush(&mut self) -> Result<()>;
    fn snapshot(&mut self, name: &str, snapshot: &mut StateSnapshot);
    fn restore(&mut self, groups: &KeyGroupBytes, name: &str) -> Result<()>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<S: TableStore> ErasedTable for Table<S> {
    fn entries(&self) -> Result<usize> {
        self.store.entries()
    }
    fn flush(&mut self) -> Result<()> {
        self.store.flush()
    }
    fn snapshot(&mut self, name: &str, snapshot: &mut StateSnapshot) {
        if let Some(writer) = self.store.snapshot() {
            snapshot.add_keyed(format!("{TABLE_PREFIX}{name}"), writer);
        }
    }
    fn restore(&mut self, groups: &KeyGroupBytes, name: &str) -> Result<()> {
        self.store.restore(groups, name)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Where the backend keeps its tables.
enum Store {
    Heap,
    /// A RocksDB instance, and whether checkpoints are incremental.
    #[cfg(feature = "rocksdb")]
    RocksDb(std::sync::Arc<crate::store::rocks::Db>, bool),
}

/// Runs the generic method `$method::<S, $v>` of the backend with `S` the table store of the
/// backend's kind, so that the state logic is written once and the heap path stays static.
macro_rules! on_store {
    ($self:ident . $method:ident :: <$v:ty> ($($arg:expr),*)) => {
        match $self.store {
            Store::Heap => $self.$method::<HeapTable<K, $v>, $v>($($arg),*),
            #[cfg(feature = "rocksdb")]
            Store::RocksDb(..) => {
                $self.$method::<crate::store::rocks::RocksTable<K, $v>, $v>($($arg),*)
            }
        }
    };
}

/// The keyed state of one operator subtask, on the heap or in RocksDB
/// ([`StateBackendConfig`]).
pub struct KeyedStateBackend<K> {
    range: KeyGroupRange,
    max_parallelism: usize,
    store: Store,
    /// Name and kind (the handle type, as in `ValueState<i64>`) of each table.
    names: Vec<(String, String)>,
    tables: Vec<Box<dyn ErasedTable>>,
    /// Restored tables not declared yet, by name: decoded when a handle first uses them.
    restored: BTreeMap<String, KeyGroupBytes>,
    current_key: Option<K>,
    current_group: usize,
}

impl<K: StateKey> KeyedStateBackend<K> {
    /// An empty heap backend for the key groups in `range` out of `max_parallelism`.
    pub fn new(range: KeyGroupRange, max_parallelism: usize) -> Self {
        Self::with_store(Store::Heap, range, max_parallelism)
    }

    /// An empty backend of the kind `config` chooses, for the key groups in `range` out of
    /// `max_parallelism`.
    pub fn open(
        config: &StateBackendConfig,
        range: KeyGroupRange,
        max_parallelism: usize,
    ) -> Result<Self> {
        let store = match config {
            StateBackendConfig::HashMap => Store::Heap,
            #[cfg(feature = "rocksdb")]
            StateBackendConfig::RocksDb {
                local_dir,
                incremental,
            } => Store::RocksDb(
                crate::store::rocks::Db::open(local_dir.as_deref())?,
                *incremental,
            ),
            #[cfg(not(feature = "rocksdb"))]
            StateBackendConfig::RocksDb { .. } => {
                return Err(WeirError::Config(
                    "this build of Weir has no RocksDB state backend (cargo feature 'rocksdb')"
                        .into(),
                ))
            }
        };
        Ok(Self::with_store(store, range, max_parallelism))
    }

    fn with_store(store: Store, range: KeyGroupRange, max_parallelism: usize) -> Self {
        KeyedStateBackend {
            range,
            max_parallelism,
            store,
            names: Vec::new(),
            tables: Vec::new(),
            restored: BTreeMap::new(),
            current_key: None,
            current_group: 0,
        }
    }

    /// Makes `key` the key that state handles read and write.
    pub fn set_current_key(&mut self, key: K) -> Result<()> {
        self.current_group = group_index(&key, self.range, self.max_parallelism)?;
        self.current_key = Some(key);
        Ok(())
    }

    /// Adds every table to `snapshot` (tables restored but not used since are passed on as
    /// they were restored). The tables are encoded later, while the state goes on changing.
    /// A RocksDB backend with incremental checkpoints adds its files instead, except to
    /// savepoints.
    pub fn snapshot(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        for table in &mut self.tables {
            table.flush()?;
        }
        match &self.store {
            Store::Heap => {
                for ((name, _), table) in self.names.iter().zip(&mut self.tables) {
                    table.snapshot(name, snapshot);
                }
            }
            #[cfg(feature = "rocksdb")]
            Store::RocksDb(db, incremental) => {
                crate::store::rocks::snapshot(db, self.range, *incremental, snapshot)?
            }
        }
        for (name, groups) in &self.restored {
            let groups = groups.clone();
            snapshot.add_keyed(
                format!("{TABLE_PREFIX}{name}"),
                Box::new(move || Ok(groups)),
            );
        }
        Ok(())
    }

    /// Takes the tables of `restored` (the key groups this backend owns); each is decoded
    /// when its state is first declared. The rows of restored RocksDB instances (incremental
    /// checkpoints) are moved into this backend's instance at once; a heap backend cannot
    /// restore them.
    pub fn restore(&mut self, restored: &RestoredState) -> Result<()> {
        for (name, groups) in restored.keyed_with_prefix(TABLE_PREFIX) {
            self.restored.insert(name.to_string(), groups.clone());
        }
        for native in restored.native() {
            match &self.store {
                Store::Heap => {
                    return Err(WeirError::Config(format!(
                        "cannot restore an incremental checkpoint of the rocksdb state backend \
                         (key groups {}-{}) into the hashmap backend: restore it with \
                         'state.backend.type: rocksdb', or switch backends through a savepoint",
                        native.key_groups.start, native.key_groups.end_inclusive
                    )))
                }
                #[cfg(feature = "rocksdb")]
                Store::RocksDb(db, _) => {
                    crate::store::rocks::native::restore(db, native, self.range)?
                }
            }
        }
        Ok(())
    }

    /// The current key.
    pub fn current_key(&self) -> Option<&K> {
        self.current_key.as_ref()
    }

    /// The id of the table `name` of state kind `kind` (the handle type) holding values of
    /// type `V`, created on first use. Using one name with two kinds is an error, even when
    /// they store the same type (`ValueState<Vec<i64>>` and `ListState<i64>`).
    pub(crate) fn table_id<V: StateValue>(
        &mut self,
        name: &str,
        kind: &str,
        ttl: Option<StateTtlConfig>,
    ) -> Result<usize> {
        if let Some(id) = self.names.iter().position(|(n, _)| n == name) {
            let declared = &self.names[id].1;
            if declared == kind && !on_store!(self.holds::<V>(id)) {
                // List and map state store time stamps per element when they have a TTL.
                return Err(WeirError::Other(format!(
                    "state '{name}' ({kind}) is declared twice, once with a time-to-live and once without"
                )));
            }
            if declared != kind {
                return Err(WeirError::Other(format!(
                    "state '{name}' is declared twice with different types: as {declared} and as {kind}"
                )));
            }
            return Ok(id);
        }
        let id = self.tables.len();
        let mut table: Box<dyn ErasedTable> = match &self.store {
            Store::Heap => Box::new(Table {
                store: HeapTable::<K, V>::new(self.range, self.max_parallelism),
                ttl,
            }),
            #[cfg(feature = "rocksdb")]
            Store::RocksDb(db, _) => Box::new(Table {
                store: crate::store::rocks::RocksTable::<K, V>::new(
                    std::sync::Arc::clone(db),
                    name,
                    self.range,
                )?,
                ttl,
            }),
        };
        if let Some(groups) = self.restored.remove(name) {
            table.restore(&groups, name)?;
        }
        self.tables.push(table);
        self.names.push((name.to_string(), kind.to_string()));
        Ok(id)
    }

    /// Whether table `id` holds values of type `V` in a store `S`.
    fn holds<S: TableStore<Key = K, Value = V>, V>(&self, id: usize) -> bool {
        self.tables[id].as_any().is::<Table<S>>()
    }

    /// The current key, its key group's index, and table `id`.
    fn parts<S: TableStore<Key = K>>(&mut self, id: usize) -> Result<(&K, usize, &mut Table<S>)> {
        let key = self.current_key.as_ref().ok_or_else(|| {
            WeirError::Other("keyed state was accessed outside a keyed context (no current key); keyed state needs key_by".into())
        })?;
        let table = self.tables[id]
            .as_any_mut()
            .downcast_mut::<Table<S>>()
            .expect("a table id always refers to a table of its type");
        Ok((key, self.current_group, table))
    }

    /// The live entry of the current key in `ns`, if any (expired entries are dropped unless
    /// the TTL config lets them be seen).
    pub(crate) fn get<V: StateValue>(
        &mut self,
        id: usize,
        ns: Namespace,
    ) -> Result<Option<&mut V>> {
        on_store!(self.get_in::<V>(id, ns))
    }

    fn get_in<S: TableStore<Key = K, Value = V>, V>(
        &mut self,
        id: usize,
        ns: Namespace,
    ) -> Result<Option<&mut V>> {
        let (key, group, table) = self.parts::<S>(id)?;
        let Some(ttl) = table.ttl else {
            let entry = table.store.get_mut(group, key, ns)?;
            return Ok(entry.map(|e| &mut e.value));
        };
        let now = now_ms();
        let found =
            (table.store.get_mut(group, key, ns)?).map(|e| ttl.is_expired(e.touched_ms, now));
        let Some(expired) = found else {
            return Ok(None);
        };
        if expired && ttl.visibility == StateVisibility::NeverReturnExpired {
            table.store.remove(group, key, ns)?;
            return Ok(None);
        }
        let entry = (table.store.get_mut(group, key, ns)?).expect("found above");
        if !expired && ttl.update_type == TtlUpdateType::OnReadAndWrite {
            entry.touched_ms = now;
        }
        Ok(Some(&mut entry.value))
    }

    /// Sets the entry of the current key in `ns`.
    pub(crate) fn put<V: StateValue>(&mut self, id: usize, ns: Namespace, value: V) -> Result<()> {
        on_store!(self.put_in::<V>(id, ns, value))
    }

    fn put_in<S: TableStore<Key = K, Value = V>, V>(
        &mut self,
        id: usize,
        ns: Namespace,
        value: V,
    ) -> Result<()> {
        let (key, group, table) = self.parts::<S>(id)?;
        let entry = Entry {
            value,
            touched_ms: table.ttl.map(|_| now_ms()).unwrap_or(0),
        };
        table.store.insert(group, key, ns, entry)
    }

    /// Marks the entry of the current key in `ns` as written now (after an in-place update).
    pub(crate) fn touch<V: StateValue>(&mut self, id: usize, ns: Namespace) -> Result<()> {
        on_store!(self.touch_in::<V>(id, ns))
    }

    fn touch_in<S: TableStore<Key = K, Value = V>, V>(
        &mut self,
        id: usize,
        ns: Namespace,
    ) -> Result<()> {
        let (key, group, table) = self.parts::<S>(id)?;
        if table.ttl.is_some() {
            if let Some(e) = table.store.get_mut(group, key, ns)? {
                e.touched_ms = now_ms();
            }
        }
        Ok(())
    }

    /// Removes the entry of the current key in `ns`, returning its value.
    pub(crate) fn remove<V: StateValue>(&mut self, id: usize, ns: Namespace) -> Result<Option<V>> {
        on_store!(self.remove_in::<V>(id, ns))
    }

    fn remove_in<S: TableStore<Key = K, Value = V>, V>(
        &mut self,
        id: usize,
        ns: Namespace,
    ) -> Result<Option<V>> {
        let (key, group, table) = self.parts::<S>(id)?;
        Ok(table.store.remove(group, key, ns)?.map(|e| e.value))
    }

    /// Number of (key, namespace) entries in the table `name` (0 if it does not exist).
    pub fn entry_count(&self, name: &str) -> Result<usize> {
        match self.names.iter().position(|(n, _)| n == name) {
            Some(id) => self.tables[id].entries(),
            None => Ok(0),
        }
    }

    /// Number of (key, namespace) entries over all tables.
    pub fn total_entries(&self) -> Result<usize> {
        self.tables.iter().map(|t| t.entries()).sum()
    }
}
