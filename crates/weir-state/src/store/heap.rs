//! [`HeapTable`]: a state table on the heap, a [`KeyGroupedMap`] of key → namespaces.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use weir_core::keygroup::KeyGroupRange;
use weir_core::Result;

use super::{Entry, Namespaces, TableStore};
use crate::backend::Namespace;
use crate::data::{StateKey, StateValue};
use crate::grouped::KeyGroupedMap;
use crate::snapshot::{KeyGroupBytes, KeyedWriter};

/// A state table kept on the heap, snapshotted copy-on-write.
pub(crate) struct HeapTable<K, V> {
    map: KeyGroupedMap<K, Namespaces<V>>,
    _v: PhantomData<fn() -> V>,
}

impl<K: StateKey, V: StateValue> HeapTable<K, V> {
    /// An empty table for the key groups in `range` out of `max_parallelism`.
    pub(crate) fn new(range: KeyGroupRange, max_parallelism: usize) -> Self {
        HeapTable {
            map: KeyGroupedMap::new(range, max_parallelism),
            _v: PhantomData,
        }
    }
}

impl<K: StateKey, V: StateValue> TableStore for HeapTable<K, V> {
    type Key = K;
    type Value = V;

    #[inline]
    fn get_mut(&mut self, group: usize, key: &K, ns: Namespace) -> Result<Option<&mut Entry<V>>> {
        let map = self.map.group_mut(group);
        Ok(map.get_mut(key).and_then(|n| n.get_mut(&ns)))
    }

    #[inline]
    fn insert(&mut self, group: usize, key: &K, ns: Namespace, entry: Entry<V>) -> Result<()> {
        let map = self.map.group_mut(group);
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

    #[inline]
    fn remove(&mut self, group: usize, key: &K, ns: Namespace) -> Result<Option<Entry<V>>> {
        let map = self.map.group_mut(group);
        let Some(namespaces) = map.get_mut(key) else {
            return Ok(None);
        };
        let removed = namespaces.remove(&ns);
        if namespaces.is_empty() {
            map.remove(key);
        }
        Ok(removed)
    }

    fn entries(&self) -> Result<usize> {
        Ok(self
            .map
            .groups()
            .flat_map(|g| g.values())
            .map(BTreeMap::len)
            .sum())
    }

    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    fn snapshot(&mut self) -> Option<KeyedWriter> {
        Some(self.map.snapshot())
    }

    fn restore(&mut self, groups: &KeyGroupBytes, what: &str) -> Result<()> {
        self.map.restore(groups, what)
    }
}
