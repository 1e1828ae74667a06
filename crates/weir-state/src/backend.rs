//! The heap keyed state backend.
//!
//! State lives in named tables; a table holds, per key group, a map from key to the entries of
//! that key's namespaces (a namespace separates the state of one window from another's; plain
//! keyed state uses [`Namespace::Void`]). The operator sets the current key before it calls
//! user code; state handles then read and write the current key's entries.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use serde::{Deserialize, Serialize};
use weir_core::keygroup::{key_group_for_key, KeyGroupRange, StableBuildHasher};
use weir_core::{Result, WeirError};

use crate::ttl::{now_ms, StateTtlConfig, StateVisibility, TtlUpdateType};

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
pub(crate) struct Entry<V> {
    pub value: V,
    pub touched_ms: i64,
}

/// The entries of one key, by namespace. Plain keyed state has one namespace per key; window
/// state can have hundreds while the watermark lags (panes of sliding windows), hence a map.
type Namespaces<V> = BTreeMap<Namespace, Entry<V>>;

/// A state table: per key group, key → namespaces → entry.
pub(crate) struct Table<K, V> {
    groups: Vec<HashMap<K, Namespaces<V>, StableBuildHasher>>,
    ttl: Option<StateTtlConfig>,
}

/// What the backend needs of a table without knowing its value type.
trait ErasedTable: Send {
    fn entries(&self) -> usize;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<K: Send + 'static, V: Send + 'static> ErasedTable for Table<K, V> {
    fn entries(&self) -> usize {
        self.groups
            .iter()
            .flat_map(|g| g.values())
            .map(BTreeMap::len)
            .sum()
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
    current_key: Option<K>,
    current_group: usize,
}

impl<K: Hash + Eq + Clone + Send + 'static> KeyedStateBackend<K> {
    /// An empty backend for the key groups in `range` out of `max_parallelism`.
    pub fn new(range: KeyGroupRange, max_parallelism: usize) -> Self {
        KeyedStateBackend {
            range,
            max_parallelism,
            names: Vec::new(),
            tables: Vec::new(),
            current_key: None,
            current_group: 0,
        }
    }

    /// Makes `key` the key that state handles read and write.
    pub fn set_current_key(&mut self, key: K) -> Result<()> {
        let kg = key_group_for_key(&key, self.max_parallelism);
        if !self.range.contains(kg) {
            return Err(WeirError::Other(format!(
                "key group {kg} is not in this subtask's key groups {}..={}: a keyed operator received a record of another partition",
                self.range.start, self.range.end_inclusive
            )));
        }
        self.current_group = kg - self.range.start;
        self.current_key = Some(key);
        Ok(())
    }

    /// The current key.
    pub fn current_key(&self) -> Option<&K> {
        self.current_key.as_ref()
    }

    /// The id of the table `name` of state kind `kind` (the handle type) holding values of
    /// type `V`, created on first use. Using one name with two kinds is an error, even when
    /// they store the same type (`ValueState<Vec<i64>>` and `ListState<i64>`).
    pub(crate) fn table_id<V: Send + 'static>(
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
        let groups = (0..self.range.len()).map(|_| HashMap::default()).collect();
        self.tables.push(Box::new(Table::<K, V> { groups, ttl }));
        self.names.push((name.to_string(), kind.to_string()));
        Ok(self.tables.len() - 1)
    }

    /// The current key, the map of its key group in table `id`, and the table's TTL.
    #[allow(clippy::type_complexity)]
    fn parts<V: Send + 'static>(
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
        Ok((key, &mut table.groups[self.current_group], table.ttl))
    }

    /// The live entry of the current key in `ns`, if any (expired entries are dropped unless
    /// the TTL config lets them be seen).
    pub(crate) fn get<V: Send + 'static>(
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
    pub(crate) fn put<V: Send + 'static>(
        &mut self,
        id: usize,
        ns: Namespace,
        value: V,
    ) -> Result<()> {
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
    pub(crate) fn touch<V: Send + 'static>(&mut self, id: usize, ns: Namespace) -> Result<()> {
        let (key, map, ttl) = self.parts::<V>(id)?;
        if ttl.is_some() {
            if let Some(e) = map.get_mut(key).and_then(|n| n.get_mut(&ns)) {
                e.touched_ms = now_ms();
            }
        }
        Ok(())
    }

    /// Removes the entry of the current key in `ns`, returning its value.
    pub(crate) fn remove<V: Send + 'static>(
        &mut self,
        id: usize,
        ns: Namespace,
    ) -> Result<Option<V>> {
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
