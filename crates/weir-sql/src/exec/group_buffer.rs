//! The groups an aggregation works on between two writes to keyed state: each group touched
//! by the current batch (or mini-batch) is read out of state once, updated in place by all its
//! rows, and written back once, so that a row costs the same whatever the size of its group.

use std::collections::HashMap;

use super::keyed::GroupKey;
use weir_core::Result;

/// Groups by key, in the order they were first touched.
pub struct GroupBuffer<V> {
    index: HashMap<GroupKey, usize>,
    entries: Vec<(GroupKey, V)>,
}

impl<V> Default for GroupBuffer<V> {
    fn default() -> Self {
        GroupBuffer {
            index: HashMap::new(),
            entries: Vec::new(),
        }
    }
}

impl<V> GroupBuffer<V> {
    /// The group of `key`, which `load` makes when the key is first touched.
    pub fn entry(
        &mut self,
        key: GroupKey,
        load: impl FnOnce(&GroupKey) -> Result<V>,
    ) -> Result<&mut V> {
        let i = match self.index.get(&key) {
            Some(i) => *i,
            None => {
                let value = load(&key)?;
                let i = self.entries.len();
                self.entries.push((key.clone(), value));
                self.index.insert(key, i);
                i
            }
        };
        Ok(&mut self.entries[i].1)
    }

    /// Whether no group was touched.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes out every group, in the order they were first touched.
    pub fn drain(&mut self) -> std::vec::Drain<'_, (GroupKey, V)> {
        self.index.clear();
        self.entries.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_each_key_once_and_drains_in_first_touch_order() {
        let mut buffer = GroupBuffer::default();
        let mut loads = 0;
        for key in [b"b", b"a", b"b", b"a", b"c"] {
            *buffer
                .entry(key.to_vec(), |_| {
                    loads += 1;
                    Ok(0)
                })
                .unwrap() += 1;
        }
        assert_eq!(loads, 3);
        let drained: Vec<_> = buffer.drain().collect();
        assert_eq!(
            drained,
            vec![(b"b".to_vec(), 2), (b"a".to_vec(), 2), (b"c".to_vec(), 1)]
        );
        assert!(buffer.is_empty());
    }
}
