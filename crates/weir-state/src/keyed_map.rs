//! [`KeyedMapState`]: one value per key, by key group; the simplest keyed state, used by
//! operators that keep exactly one value per key (rolling reduce).

use std::collections::HashMap;
use std::hash::Hash;

use weir_core::keygroup::{key_group_for_key, KeyGroupRange, StableBuildHasher};
use weir_core::{Result, WeirError};

/// One value per key, for the keys of the key groups a subtask owns (heap backend).
pub struct KeyedMapState<K, V> {
    range: KeyGroupRange,
    max_parallelism: usize,
    groups: Vec<HashMap<K, V, StableBuildHasher>>,
}

impl<K: Hash + Eq, V> KeyedMapState<K, V> {
    /// Empty state for the key groups in `range` out of `max_parallelism`.
    pub fn new(range: KeyGroupRange, max_parallelism: usize) -> Self {
        KeyedMapState {
            range,
            max_parallelism,
            groups: (0..range.len()).map(|_| HashMap::default()).collect(),
        }
    }

    /// The map of the key group that `key` belongs to; an error if this subtask does not own it.
    fn group_mut(&mut self, key: &K) -> Result<&mut HashMap<K, V, StableBuildHasher>> {
        let kg = key_group_for_key(key, self.max_parallelism);
        if !self.range.contains(kg) {
            return Err(WeirError::Other(format!(
                "key group {kg} is not in this subtask's key groups {}..={}: keyed state accessed with a key from another partition",
                self.range.start, self.range.end_inclusive
            )));
        }
        Ok(&mut self.groups[kg - self.range.start])
    }

    /// The value of `key`, inserting `make()` if there is none.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> Result<&mut V> {
        Ok(self.group_mut(&key)?.entry(key).or_insert_with(make))
    }

    /// The value of `key`.
    pub fn get_mut(&mut self, key: &K) -> Result<Option<&mut V>> {
        Ok(self.group_mut(key)?.get_mut(key))
    }

    /// Sets the value of `key`.
    pub fn insert(&mut self, key: K, value: V) -> Result<Option<V>> {
        Ok(self.group_mut(&key)?.insert(key, value))
    }

    /// Removes the value of `key`.
    pub fn remove(&mut self, key: &K) -> Result<Option<V>> {
        Ok(self.group_mut(key)?.remove(key))
    }

    /// The entries of one key group (for snapshots).
    pub fn key_group_entries(&self, key_group: usize) -> impl Iterator<Item = (&K, &V)> {
        self.range
            .contains(key_group)
            .then(|| self.groups[key_group - self.range.start].iter())
            .into_iter()
            .flatten()
    }

    /// All entries, key group by key group.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.groups.iter().flat_map(HashMap::iter)
    }

    /// Number of keys with a value.
    pub fn len(&self) -> usize {
        self.groups.iter().map(HashMap::len).sum()
    }

    /// Whether no key has a value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::keygroup::subtask_for_key;

    #[test]
    fn keeps_keys_by_key_group_and_refuses_foreign_keys() {
        let range = KeyGroupRange::for_subtask(128, 2, 0);
        let mut s = KeyedMapState::<u64, u64>::new(range, 128);
        let (mine, theirs): (Vec<u64>, Vec<u64>) =
            (0..100).partition(|k| subtask_for_key(k, 128, 2) == 0);
        for k in &mine {
            *s.get_or_insert_with(*k, || 0).unwrap() += k;
        }
        assert_eq!(s.len(), mine.len());
        assert!(s.insert(theirs[0], 1).is_err());
        let total: u64 = (range.start..=range.end_inclusive)
            .flat_map(|kg| s.key_group_entries(kg).map(|(_, v)| *v))
            .sum();
        assert_eq!(total, mine.iter().sum::<u64>());
    }
}
