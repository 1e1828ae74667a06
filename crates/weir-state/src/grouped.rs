//! [`KeyGroupedMap`]: a map from key to value kept per key group, with copy-on-write
//! snapshots. It is the storage of the heap backend's state tables and of
//! [`KeyedMapState`](crate::KeyedMapState).
//!
//! Each key group's map sits behind an `Arc`. A snapshot clones the `Arc`s (one per key
//! group, no entries copied) and encodes them later on another thread; a write to a key group
//! that a pending snapshot still shares copies that one key group first. So the task stops
//! only for the `Arc` clones, and copies at most the key groups it writes while the snapshot
//! is being written: Flink's copy-on-write state map, at the granularity of key groups.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use weir_core::keygroup::{key_group_for_key, KeyGroupRange, StableBuildHasher};
use weir_core::{Result, WeirError};

use crate::data::{decode, encode};
use crate::snapshot::{KeyGroupBytes, KeyedWriter};

type Group<K, X> = HashMap<K, X, StableBuildHasher>;

/// Key → value, per key group of a subtask's range; see the module documentation.
pub struct KeyGroupedMap<K, X> {
    range: KeyGroupRange,
    max_parallelism: usize,
    groups: Vec<Arc<Group<K, X>>>,
}

impl<K: Hash + Eq + Clone, X: Clone> KeyGroupedMap<K, X> {
    /// An empty map for the key groups in `range` out of `max_parallelism`.
    pub fn new(range: KeyGroupRange, max_parallelism: usize) -> Self {
        KeyGroupedMap {
            range,
            max_parallelism,
            groups: (0..range.len()).map(|_| Arc::default()).collect(),
        }
    }

    /// The key groups this map holds.
    pub fn range(&self) -> KeyGroupRange {
        self.range
    }

    /// The index (within the range) of `key`'s key group; an error if the subtask does not
    /// own it.
    pub fn group_index(&self, key: &K) -> Result<usize> {
        let kg = key_group_for_key(key, self.max_parallelism);
        if !self.range.contains(kg) {
            return Err(WeirError::Other(format!(
                "key group {kg} is not in this subtask's key groups {}..={}: a keyed operator received a record of another partition",
                self.range.start, self.range.end_inclusive
            )));
        }
        Ok(kg - self.range.start)
    }

    /// The map of the key group at `index`, for writing (copied first if a snapshot shares it).
    pub fn group_mut(&mut self, index: usize) -> &mut Group<K, X> {
        Arc::make_mut(&mut self.groups[index])
    }

    /// The map of the key group at `index`, for reading.
    pub fn group(&self, index: usize) -> &Group<K, X> {
        &self.groups[index]
    }

    /// Every key group's map, in key group order.
    pub fn groups(&self) -> impl Iterator<Item = &Group<K, X>> {
        self.groups.iter().map(|g| &**g)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.len()).sum()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K, X> KeyGroupedMap<K, X>
where
    K: Hash + Eq + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    X: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    /// A writer that encodes the current contents, non-empty key groups only; the map may go
    /// on changing meanwhile.
    pub fn snapshot(&self) -> KeyedWriter {
        let start = self.range.start as u32;
        let groups: Vec<(u32, Arc<Group<K, X>>)> = (self.groups.iter().enumerate())
            .filter(|(_, g)| !g.is_empty())
            .map(|(i, g)| (start + i as u32, Arc::clone(g)))
            .collect();
        Box::new(move || {
            groups
                .iter()
                .map(|(kg, g)| Ok((*kg, encode(&**g)?)))
                .collect()
        })
    }

    /// Adds the restored key groups of `groups` that this map owns; `what` names the state in
    /// errors.
    pub fn restore(&mut self, groups: &KeyGroupBytes, what: &str) -> Result<()> {
        for (kg, bytes) in groups {
            let kg = *kg as usize;
            if !self.range.contains(kg) {
                continue;
            }
            let entries: Group<K, X> = decode(bytes, what)?;
            self.group_mut(kg - self.range.start).extend(entries);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(range: KeyGroupRange) -> KeyGroupedMap<u64, String> {
        let mut m = KeyGroupedMap::new(range, 128);
        for k in 0..1000u64 {
            if let Ok(i) = m.group_index(&k) {
                m.group_mut(i).insert(k, k.to_string());
            }
        }
        m
    }

    #[test]
    fn a_snapshot_keeps_the_contents_of_its_time_while_writes_go_on() {
        let range = KeyGroupRange::for_subtask(128, 1, 0);
        let mut m = filled(range);
        let writer = m.snapshot();
        for k in 0..1000u64 {
            let i = m.group_index(&k).unwrap();
            m.group_mut(i).insert(k, "changed".into());
        }
        let bytes = writer().unwrap();
        let mut restored = KeyGroupedMap::<u64, String>::new(range, 128);
        restored.restore(&bytes, "test").unwrap();
        for k in 0..1000u64 {
            let i = restored.group_index(&k).unwrap();
            assert_eq!(restored.group(i).get(&k), Some(&k.to_string()));
        }
    }

    #[test]
    fn restoring_takes_only_the_owned_key_groups() {
        let all = filled(KeyGroupRange::for_subtask(128, 1, 0));
        let bytes = all.snapshot()().unwrap();
        let mut total = 0;
        for subtask in 0..3 {
            let range = KeyGroupRange::for_subtask(128, 3, subtask);
            let mut part = KeyGroupedMap::<u64, String>::new(range, 128);
            part.restore(&bytes, "test").unwrap();
            for g in part.groups() {
                for k in g.keys() {
                    assert!(range.contains(key_group_for_key(k, 128)));
                }
            }
            total += part.len();
        }
        assert_eq!(total, 1000);
    }
}
