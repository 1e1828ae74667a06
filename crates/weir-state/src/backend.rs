//! The heap keyed state backend.
//!
//! State lives in named tables; a table holds, per key group, a map from key to the entries of
//! that key's namespaces (a namespace separates the state of one window from another's; plain
//! keyed state uses [`Namespace::Void`]). The operator sets the current key before it calls
//! user code; state handles then read and write the current key's entries.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use weir_core::keygroup::{KeyGroupRange, StableBuildHasher};
use weir_core::{Result, WeirError};

use crate::data::{StateKey, StateValue};
use crate::grouped::{group_index, KeyGroupedMap};
use crate::snapshot::{KeyGroupBytes, RestoredState, StateSnapshot};
use crate::ttl::{now_ms, StateTtlConfig, StateVisibility, TtlUpdateType};

/// Prefix of the snapshot components that hold state tables (`state/<name>`).
const TABLE_PREFIX: &str = "state/";

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

/// One stored value with the time it was last accessed (for TTL).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Entry<V> {
    pub value: V,
    pub touched_ms: i64,
}

/// The entries of one key, by namespace. Plain keyed state has one namespace per key; window
/// state can have hundreds while the watermark lags (panes of sliding windows), hence a map.
type Namespaces<V> = BTreeMap<Namespace, Entry<V>>;

/// A state table: per key group, key → namespaces → entry.
pub(crate) struct Table<K, V> {
    map: KeyGroupedMap<K, Namespaces<V>>,
    ttl: Option<StateTtlConfig>,
}

/// What the backend needs of a table without knowing its value type.
trait ErasedTable: Send {
    fn entries(&self) -> usize;
    fn snapshot(&mut self, name: &str, snapshot: &mut StateSnapshot);
    fn restore(&mut self, groups: &KeyGroupBytes, name: &str) -> Result<()>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<K: StateKey, V: StateValue> ErasedTable for Table<K, V> {
    fn entries(&self) -> usize {
        self.map
            .groups()
            .flat_map(|g| g.values())
            .map(BTreeMap::len)
            .sum()
    }
    fn snapshot(&mut self, name: &str, snapshot: &mut StateSnapshot) {
        snapshot.add_keyed(format!("{TABLE_PREFIX}{name}"), self.map.snapshot());
    }
    fn restore(&mut self, groups: &KeyGroupBytes, name: &str) -> Result<()> {
        self.map.restore(groups, name)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// The keyed state of one operator subtask (heap backend).
pub struct KeyedStateBackend<K> {
    range: KeyGroupRange,
    max_parallelism: usize,
    /// Name and kind (the handle type, as in `ValueState<i64>`) of each table.
    names: Vec<(String, String)>,
    tables: Vec<Box<dyn ErasedTable>>,
    /// Restored tables not declared yet, by name: decoded when a handle first uses them.
    restored: BTreeMap<String, KeyGroupBytes>,
    current_key: Option<K>,
    current_group: usize,
}

impl<K: StateKey> KeyedStateBackend<K> {
    /// An empty backend for the key groups in `range` out of `max_parallelism`.
    pub fn new(range: KeyGroupRange, max_parallelism: usize) -> Self {
        KeyedStateBackend {
            range,
            max_parallelism,
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
    /// they were restored).
    pub fn snapshot(&mut self, snapshot: &mut StateSnapshot) {
        for ((name, _), table) in self.names.iter().zip(&mut self.tables) {
            table.snapshot(name, snapshot);
        }
        for (name, groups) in &self.restored {
            let groups = groups.clone();
            snapshot.add_keyed(
                format!("{TABLE_PREFIX}{name}"),
                Box::new(move || Ok(groups)),
            );
        }
    }

    /// Takes the tables of `restored` (the key groups this backend owns); each is decoded
    /// when its state is first declared.
    pub fn restore(&mut self, restored: &RestoredState) {
        for (name, groups) in restored.keyed_with_prefix(TABLE_PREFIX) {
            self.restored.insert(name.to_string(), groups.clone());
        }
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
            if declared == kind && !self.tables[id].as_any().is::<Table<K, V>>() {
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
        let mut table = Table::<K, V> {
            map: KeyGroupedMap::new(self.range, self.max_parallelism),
            ttl,
        };
        if let Some(groups) = self.restored.remove(name) {
            table.restore(&groups, name)?;
        }
        self.tables.push(Box::new(table));
        self.names.push((name.to_string(), kind.to_string()));
        Ok(self.tables.len() - 1)
    }

    /// The current key, the map of its key group in table `id`, and the table's TTL.
    #[allow(clippy::type_complexity)]
    fn parts<V: StateValue>(
        &mut self,
        id: usize,
    ) -> Result<(
        &K,
        &mut HashMap<K, Namespaces<V>, StableBuildHasher>,
        Option<StateTtlConfig>,
    )> {
        let key = self.current_key.as_ref().ok_or_else(|| {
            WeirError::Other("keyed state was accessed outside a keyed context (no current key); keyed state needs key_by".into())
        })?;
        let table = self.tables[id]
            .as_any_mut()
            .downcast_mut::<Table<K, V>>()
            .expect("a table id always refers to a table of its type");
        Ok((key, table.map.group_mut(self.current_group), table.ttl))
    }

    /// The live entry of the current key in `ns`, if any (expired entries are dropped unless
    /// the TTL config lets them be seen).
    pub(crate) fn get<V: StateValue>(
        &mut self,
        id: usize,
        ns: Namespace,
    ) -> Result<Option<&mut V>> {
        let (key, map, ttl) = self.parts::<V>(id)?;
        let Some(ttl) = ttl else {
            let entry = map.get_mut(key).and_then(|n| n.get_mut(&ns));
            return Ok(entry.map(|e| &mut e.value));
        };
        let now = now_ms();
        let found = map
            .get(key)
            .and_then(|n| n.get(&ns).map(|e| ttl.is_expired(e.touched_ms, now)));
        let Some(expired) = found else {
            return Ok(None);
        };
        if expired && ttl.visibility == StateVisibility::NeverReturnExpired {
            if let Some(namespaces) = map.get_mut(key) {
                namespaces.remove(&ns);
                if namespaces.is_empty() {
                    map.remove(key);
                }
            }
            return Ok(None);
        }
        let entry = map
            .get_mut(key)
            .and_then(|n| n.get_mut(&ns))
            .expect("found above");
        if !expired && ttl.update_type == TtlUpdateType::OnReadAndWrite {
            entry.touched_ms = now;
        }
        Ok(Some(&mut entry.value))
    }

    /// Sets the entry of the current key in `ns`.
    pub(crate) fn put<V: StateValue>(&mut self, id: usize, ns: Namespace, value: V) -> Result<()> {
        let (key, map, ttl) = self.parts::<V>(id)?;
        let entry = Entry {
            value,
            touched_ms: ttl.map(|_| now_ms()).unwrap_or(0),
        };
        match map.get_mut(key) {
            Some(namespaces) => {
                namespaces.insert(ns, entry);
            }
            None => {
                map.insert(key.clone(), BTreeMap::from([(ns, entry)]));
            }
        }
        Ok(())
    }

    /// Marks the entry of the current key in `ns` as written now (after an in-place update).
    pub(crate) fn touch<V: StateValue>(&mut self, id: usize, ns: Namespace) -> Result<()> {
        let (key, map, ttl) = self.parts::<V>(id)?;
        if ttl.is_some() {
            if let Some(e) = map.get_mut(key).and_then(|n| n.get_mut(&ns)) {
                e.touched_ms = now_ms();
            }
        }
        Ok(())
    }

    /// Removes the entry of the current key in `ns`, returning its value.
    pub(crate) fn remove<V: StateValue>(&mut self, id: usize, ns: Namespace) -> Result<Option<V>> {
        let (key, map, _) = self.parts::<V>(id)?;
        let Some(namespaces) = map.get_mut(key) else {
            return Ok(None);
        };
        let removed = namespaces.remove(&ns).map(|e| e.value);
        if namespaces.is_empty() {
            map.remove(key);
        }
        Ok(removed)
    }

    /// Number of (key, namespace) entries in the table `name` (0 if it does not exist).
    pub fn entry_count(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|(n, _)| n == name)
            .map_or(0, |id| self.tables[id].entries())
    }

    /// Number of (key, namespace) entries over all tables.
    pub fn total_entries(&self) -> usize {
        self.tables.iter().map(|t| t.entries()).sum()
    }
}
