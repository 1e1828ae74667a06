//! [`KeyedMapState`]: one value per key, by key group; the simplest keyed state, used by
//! operators that keep exactly one value per key (rolling reduce).

use weir_core::keygroup::KeyGroupRange;
use weir_core::Result;

use crate::data::{StateKey, StateValue};
use crate::grouped::KeyGroupedMap;
use crate::snapshot::{RestoredState, StateSnapshot};

/// One value per key, for the keys of the key groups a subtask owns (heap backend), saved in
/// checkpoints as the keyed component `name`.
pub struct KeyedMapState<K, V> {
    name: String,
    map: KeyGroupedMap<K, V>,
}

impl<K: StateKey, V: StateValue> KeyedMapState<K, V> {
    /// Empty state `name` for the key groups in `range` out of `max_parallelism`.
    pub fn new(name: &str, range: KeyGroupRange, max_parallelism: usize) -> Self {
        KeyedMapState {
            name: name.to_string(),
            map: KeyGroupedMap::new(range, max_parallelism),
        }
    }

    /// The value of `key`, inserting `make()` if there is none; an error if the subtask does
    /// not own the key.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> Result<&mut V> {
        let group = self.map.group_index(&key)?;
        Ok(self.map.group_mut(group).entry(key).or_insert_with(make))
    }

    /// The value of `key`, for writing.
    pub fn get_mut(&mut self, key: &K) -> Result<Option<&mut V>> {
        let group = self.map.group_index(key)?;
        Ok(self.map.group_mut(group).get_mut(key))
    }

    /// Sets the value of `key`.
    pub fn insert(&mut self, key: K, value: V) -> Result<Option<V>> {
        let group = self.map.group_index(&key)?;
        Ok(self.map.group_mut(group).insert(key, value))
    }

    /// Removes the value of `key`.
    pub fn remove(&mut self, key: &K) -> Result<Option<V>> {
        let group = self.map.group_index(key)?;
        Ok(self.map.group_mut(group).remove(key))
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Result<Option<&V>> {
        Ok(self.map.group(self.map.group_index(key)?).get(key))
    }

    /// All entries, key group by key group.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.groups().flat_map(|g| g.iter())
    }

    /// Number of keys with a value.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no key has a value.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Adds the state to a checkpoint.
    pub fn snapshot(&mut self, snapshot: &mut StateSnapshot) {
        snapshot.add_keyed(self.name.clone(), self.map.snapshot());
    }

    /// Takes the restored key groups this subtask owns.
    pub fn restore(&mut self, restored: &RestoredState) -> Result<()> {
        match restored.keyed(&self.name) {
            Some(groups) => self.map.restore(groups, &self.name),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::keygroup::subtask_for_key;

    #[test]
    fn keeps_keys_by_key_group_and_refuses_foreign_keys() {
        let range = KeyGroupRange::for_subtask(128, 2, 0);
        let mut s = KeyedMapState::<u64, u64>::new("sums", range, 128);
        let (mine, theirs): (Vec<u64>, Vec<u64>) =
            (0..100).partition(|k| subtask_for_key(k, 128, 2) == 0);
        for k in &mine {
            *s.get_or_insert_with(*k, || 0).unwrap() += k;
        }
        assert_eq!(s.len(), mine.len());
        assert!(s.insert(theirs[0], 1).is_err());
        let total: u64 = s.iter().map(|(_, v)| *v).sum();
        assert_eq!(total, mine.iter().sum::<u64>());
    }
}
