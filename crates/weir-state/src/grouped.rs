//! [`KeyGroupedMap`]: a map from key to value kept per key group, with copy-on-write
//! snapshots. It is the storage of the heap backend's state tables and of
//! [`KeyedMapState`](crate::KeyedMapState).
//!
//! A snapshot moves each key group's map behind an `Arc` (no entries copied), keeps a clone of
//! the `Arc` and encodes it later on another thread. The first write to such a key group takes
//! the map back: for free if the snapshot is done with it, else by copying that one key group.
//! So the task stops only to wrap the maps, and copies at most the key groups it writes while
//! the snapshot is being written: Flink's copy-on-write state map, at the granularity of key
//! groups. Between snapshots the maps are owned plainly, so that accesses cost no atomic
//! operations.

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

/// One key group's map: owned, or shared with a snapshot.
enum Slot<K, X> {
    Owned(Group<K, X>),
    Shared(Arc<Group<K, X>>),
}

impl<K, X> Slot<K, X> {
    fn get(&self) -> &Group<K, X> {
        match self {
            Slot::Owned(g) => g,
            Slot::Shared(g) => g,
        }
    }
}

/// The index within `range` of `key`'s key group out of `max_parallelism`; an error if the
/// range does not hold it (the record belongs to another subtask).
pub(crate) fn group_index<K: Hash>(
    key: &K,
    range: KeyGroupRange,
    max_parallelism: usize,
) -> Result<usize> {
    let kg = key_group_for_key(key, max_parallelism);
    if !range.contains(kg) {
        return Err(WeirError::Other(format!(
            "key group {kg} is not in this subtask's key groups {}..={}: a keyed operator received a record of another partition",
            range.start, range.end_inclusive
        )));
    }
    Ok(kg - range.start)
}

/// Key → value, per key group of a subtask's range; see the module documentation.
pub struct KeyGroupedMap<K, X> {
    range: KeyGroupRange,
    max_parallelism: usize,
    groups: Vec<Slot<K, X>>,
}

impl<K: Hash + Eq + Clone, X: Clone> KeyGroupedMap<K, X> {
    /// An empty map for the key groups in `range` out of `max_parallelism`.
    pub fn new(range: KeyGroupRange, max_parallelism: usize) -> Self {
        KeyGroupedMap {
            range,
            max_parallelism,
            groups: (0..range.len())
                .map(|_| Slot::Owned(Group::default()))
                .collect(),
        }
    }

    /// The index (within the range) of `key`'s key group; an error if the subtask does not
    /// own it.
    pub fn group_index(&self, key: &K) -> Result<usize> {
        group_index(key, self.range, self.max_parallelism)
    }

    /// The map of the key group at `index`, for writing (taken back from a snapshot first,
    /// copied if the snapshot still needs it).
    pub fn group_mut(&mut self, index: usize) -> &mut Group<K, X> {
        let slot = &mut self.groups[index];
        if let Slot::Shared(shared) = slot {
            let shared = std::mem::take(shared);
            *slot = Slot::Owned(Arc::try_unwrap(shared).unwrap_or_else(|g| (*g).clone()));
        }
        match slot {
            Slot::Owned(g) => g,
            Slot::Shared(_) => unreachable!("made owned above"),
        }
    }

    /// The map of the key group at `index`, for reading.
    pub fn group(&self, index: usize) -> &Group<K, X> {
        self.groups[index].get()
    }

    /// Every key group's map, in key group order.
    pub fn groups(&self) -> impl Iterator<Item = &Group<K, X>> {
        self.groups.iter().map(Slot::get)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.groups().map(HashMap::len).sum()
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
    pub fn snapshot(&mut self) -> KeyedWriter {
        let start = self.range.start as u32;
        let mut groups: Vec<(u32, Arc<Group<K, X>>)> = Vec::new();
        for (i, slot) in self.groups.iter_mut().enumerate() {
            if slot.get().is_empty() {
                continue;
            }
            if let Slot::Owned(owned) = slot {
                *slot = Slot::Shared(Arc::new(std::mem::take(owned)));
            }
            if let Slot::Shared(shared) = slot {
                groups.push((start + i as u32, Arc::clone(shared)));
            }
        }
        // Each key group is released as soon as it is encoded, so that the task takes it back
        // without copying it.
        Box::new(move || {
            groups
                .into_iter()
                .map(|(kg, g)| Ok((kg, encode(&*g)?)))
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
        let mut all = filled(KeyGroupRange::for_subtask(128, 1, 0));
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
