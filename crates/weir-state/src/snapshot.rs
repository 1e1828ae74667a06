//! Snapshots of operator state, and the state an operator subtask gets back on restore.
//!
//! When a checkpoint barrier passes an operator, the operator adds its state to a
//! [`StateSnapshot`]. That is the synchronous part of the checkpoint, and it is cheap: keyed
//! state adds a *writer* that holds shared references to the state maps (which copy a key
//! group on its next write, see [`crate::KeyGroupedMap`]), and runs later on the thread that
//! writes the checkpoint ([`StateSnapshot::materialize`]), while the task goes on processing.
//!
//! A materialized [`OperatorSnapshot`] holds bytes only:
//! - keyed state, by component (a state table, the timers, ...) and key group, so that on
//!   restore every subtask takes exactly the key groups it now owns, whatever the old and new
//!   parallelism;
//! - operator list state, by name, with Flink's redistribution modes ([`ListMode`]);
//! - or, for an incremental checkpoint of the RocksDB backend, the files of the RocksDB
//!   instance ([`NativeSnapshot`]): files that earlier checkpoints wrote to the job's shared
//!   folder are referenced, not written again.
//!
//! [`RestoredState::assemble`] builds what one new subtask gets from the snapshots of all old
//! subtasks of its operator.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use weir_core::keygroup::KeyGroupRange;
use weir_core::Result;

use crate::data::{decode, encode};
use crate::storage::{CheckpointFiles, StateHandle};

/// Encoded keyed state of one component: bytes per key group (absolute index).
pub type KeyGroupBytes = BTreeMap<u32, Vec<u8>>;

/// Encodes keyed state later, on the checkpoint writer's thread.
pub type KeyedWriter = Box<dyn FnOnce() -> Result<KeyGroupBytes> + Send>;

/// Writes the files of a [`NativeSnapshot`] later, on the checkpoint writer's thread.
pub type NativeWriter = Box<dyn FnOnce(&dyn CheckpointFiles) -> Result<NativeSnapshot> + Send>;

/// Keyed state as the files of a RocksDB instance at a checkpoint (an incremental
/// checkpoint): SST files in the job's shared folder, each written once and referenced by
/// every checkpoint that holds it, and the instance's small private files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeSnapshot {
    /// The key groups the instance holds.
    pub key_groups: KeyGroupRange,
    /// The instance's state tables: name → table id in its rows.
    pub tables: BTreeMap<String, u16>,
    /// The instance's files: name in the instance's folder, and the checkpoint's file.
    pub files: Vec<(String, StateHandle)>,
    /// The checkpoint directory the handles' paths are relative to (set when restoring).
    #[serde(skip)]
    pub base: PathBuf,
}

/// How an operator list state is redistributed when a job is restored (Flink's operator
/// state modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListMode {
    /// Each subtask gets a share of all elements (round robin); with unchanged parallelism
    /// every subtask gets its own elements back (Flink's `getListState`).
    Split,
    /// Every subtask gets all elements of all subtasks (Flink's `getUnionListState`).
    Union,
    /// The elements are the same on every subtask (broadcast state): subtask `i` gets those of
    /// old subtask `i` modulo the old parallelism.
    Broadcast,
}

/// One operator list state in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSnapshot {
    pub mode: ListMode,
    #[serde(with = "blobs::list")]
    pub elements: Vec<Vec<u8>>,
}

/// The state of one operator subtask at a checkpoint, encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSnapshot {
    /// Keyed state by component name, then key group.
    #[serde(with = "blobs::components")]
    pub keyed: BTreeMap<String, KeyGroupBytes>,
    /// Operator list state by name.
    pub lists: BTreeMap<String, ListSnapshot>,
    /// Keyed state as files of a RocksDB instance, in an incremental checkpoint.
    pub native: Option<NativeSnapshot>,
}

impl OperatorSnapshot {
    /// Whether the snapshot holds no state at all.
    pub fn is_empty(&self) -> bool {
        self.keyed.is_empty() && self.lists.is_empty() && self.native.is_none()
    }

    /// Whether the snapshot holds keyed state.
    pub fn has_keyed_state(&self) -> bool {
        !self.keyed.is_empty() || self.native.is_some()
    }
}

/// What an operator writes at a checkpoint; see the module documentation.
pub struct StateSnapshot {
    checkpoint_id: u64,
    is_savepoint: bool,
    keyed: Vec<(String, KeyedWriter)>,
    lists: BTreeMap<String, ListSnapshot>,
    native: Option<NativeWriter>,
}

impl StateSnapshot {
    /// An empty snapshot for checkpoint `checkpoint_id`.
    pub fn new(checkpoint_id: u64) -> Self {
        StateSnapshot {
            checkpoint_id,
            is_savepoint: false,
            keyed: Vec::new(),
            lists: BTreeMap::new(),
            native: None,
        }
    }

    /// An empty snapshot for savepoint `checkpoint_id`: its state must be self-contained and
    /// portable, so it is never incremental.
    pub fn savepoint(checkpoint_id: u64) -> Self {
        StateSnapshot {
            is_savepoint: true,
            ..Self::new(checkpoint_id)
        }
    }

    /// The checkpoint being taken (two-phase-commit sinks remember what it covers).
    pub fn checkpoint_id(&self) -> u64 {
        self.checkpoint_id
    }

    /// Whether a savepoint is being taken.
    pub fn is_savepoint(&self) -> bool {
        self.is_savepoint
    }

    /// Sets the keyed state's files, written later by `writer` (incremental checkpoints).
    pub fn set_native(&mut self, writer: NativeWriter) {
        self.native = Some(writer);
    }

    /// Adds the keyed state component `name`, encoded later by `writer`.
    pub fn add_keyed(&mut self, name: impl Into<String>, writer: KeyedWriter) {
        self.keyed.push((name.into(), writer));
    }

    /// Adds the operator list state `name` with `elements`, redistributed by `mode`.
    pub fn add_list<'a, T: Serialize + 'a>(
        &mut self,
        name: &str,
        mode: ListMode,
        elements: impl IntoIterator<Item = &'a T>,
    ) -> Result<()> {
        let elements = elements.into_iter().map(encode).collect::<Result<_>>()?;
        self.add_encoded_list(name, ListSnapshot { mode, elements });
        Ok(())
    }

    /// Adds an operator list state whose elements are already encoded.
    pub fn add_encoded_list(&mut self, name: &str, list: ListSnapshot) {
        self.lists.insert(name.to_string(), list);
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.keyed.is_empty() && self.lists.is_empty() && self.native.is_none()
    }

    /// Runs the keyed writers: the asynchronous part of the snapshot. `files` is where the
    /// files of an incremental snapshot go; without it, such a snapshot is an error.
    pub fn materialize(self, files: Option<&dyn CheckpointFiles>) -> Result<OperatorSnapshot> {
        let mut keyed = BTreeMap::new();
        for (name, writer) in self.keyed {
            keyed.insert(name, writer()?);
        }
        let native = match (self.native, files) {
            (None, _) => None,
            (Some(writer), Some(files)) => Some(writer(files)?),
            (Some(_), None) => {
                return Err(weir_core::WeirError::Other(
                    "an incremental snapshot needs a checkpoint to write its files to".into(),
                ))
            }
        };
        Ok(OperatorSnapshot {
            keyed,
            lists: self.lists,
            native,
        })
    }
}

/// The state one operator subtask restores: its key groups of every keyed component, and
/// its share of every list state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoredState {
    keyed: BTreeMap<String, KeyGroupBytes>,
    lists: BTreeMap<String, Vec<Vec<u8>>>,
    native: Vec<NativeSnapshot>,
}

impl RestoredState {
    /// What new subtask `subtask` of `parallelism`, owning the key groups `range`, gets from
    /// `old`, the snapshots of all old subtasks of the operator in subtask order.
    pub fn assemble(
        old: &[OperatorSnapshot],
        subtask: usize,
        parallelism: usize,
        range: KeyGroupRange,
    ) -> RestoredState {
        let mut restored = RestoredState::default();
        for snapshot in old {
            for (name, groups) in &snapshot.keyed {
                let mine = groups
                    .range(range.start as u32..=range.end_inclusive as u32)
                    .map(|(kg, bytes)| (*kg, bytes.clone()));
                restored.keyed.entry(name.clone()).or_default().extend(mine);
            }
            if let Some(native) = &snapshot.native {
                if native.key_groups.intersection(range).is_some() {
                    restored.native.push(native.clone());
                }
            }
        }
        let names: std::collections::BTreeSet<&String> =
            old.iter().flat_map(|s| s.lists.keys()).collect();
        for name in names {
            let lists: Vec<Option<&ListSnapshot>> = old.iter().map(|s| s.lists.get(name)).collect();
            let mode = lists.iter().flatten().map(|l| l.mode).next();
            let elements_of = |i: usize| lists[i].map(|l| l.elements.clone()).unwrap_or_default();
            let elements = match mode {
                None => Vec::new(),
                Some(ListMode::Union) => (0..old.len()).flat_map(elements_of).collect(),
                Some(ListMode::Broadcast) => elements_of(subtask % old.len()),
                Some(ListMode::Split) if old.len() == parallelism => elements_of(subtask),
                Some(ListMode::Split) => (0..old.len())
                    .flat_map(elements_of)
                    .enumerate()
                    .filter(|(i, _)| i % parallelism == subtask)
                    .map(|(_, e)| e)
                    .collect(),
            };
            restored.lists.insert(name.clone(), elements);
        }
        restored
    }

    /// The restored key groups of keyed component `name` (empty if there are none).
    pub fn keyed(&self, name: &str) -> Option<&KeyGroupBytes> {
        self.keyed.get(name)
    }

    /// The keyed components whose names start with `prefix`, with the rest of their names.
    pub fn keyed_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a KeyGroupBytes)> + 'a {
        self.keyed
            .iter()
            .filter_map(move |(name, groups)| Some((name.strip_prefix(prefix)?, groups)))
    }

    /// The restored RocksDB instances (incremental checkpoints) that hold some of the key
    /// groups restored.
    pub fn native(&self) -> &[NativeSnapshot] {
        &self.native
    }

    /// The restored elements of list state `name`, decoded (empty if there are none).
    pub fn list<T: DeserializeOwned>(&self, name: &str) -> Result<Vec<T>> {
        self.encoded_list(name)
            .iter()
            .map(|bytes| decode(bytes, name))
            .collect()
    }

    /// The restored elements of list state `name`, still encoded.
    pub fn encoded_list(&self, name: &str) -> &[Vec<u8>] {
        self.lists.get(name).map_or(&[], Vec::as_slice)
    }

    /// Whether nothing was restored.
    pub fn is_empty(&self) -> bool {
        self.keyed.is_empty() && self.lists.is_empty() && self.native.is_empty()
    }
}

/// Serde helpers that encode byte blobs as byte strings, so that bincode copies each blob in
/// one piece instead of element by element.
mod blobs {
    use serde_bytes::{ByteBuf, Bytes};

    pub mod list {
        use super::*;
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        pub fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
            let view: Vec<&Bytes> = list.iter().map(|b| Bytes::new(b)).collect();
            view.serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
            let raw: Vec<ByteBuf> = Deserialize::deserialize(d)?;
            Ok(raw.into_iter().map(ByteBuf::into_vec).collect())
        }
    }

    pub mod components {
        use std::collections::BTreeMap;

        use super::*;
        use crate::snapshot::KeyGroupBytes;
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        pub fn serialize<S: Serializer>(
            components: &BTreeMap<String, KeyGroupBytes>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            let view: BTreeMap<&String, BTreeMap<&u32, &Bytes>> = (components.iter())
                .map(|(name, groups)| {
                    let groups = groups.iter().map(|(kg, b)| (kg, Bytes::new(b))).collect();
                    (name, groups)
                })
                .collect();
            view.serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<BTreeMap<String, KeyGroupBytes>, D::Error> {
            let raw: BTreeMap<String, BTreeMap<u32, ByteBuf>> = Deserialize::deserialize(d)?;
            Ok(raw
                .into_iter()
                .map(|(name, groups)| {
                    let groups = groups
                        .into_iter()
                        .map(|(kg, b)| (kg, b.into_vec()))
                        .collect();
                    (name, groups)
                })
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(key_groups: &[u32], list: &[i32], mode: ListMode) -> OperatorSnapshot {
        let mut s = StateSnapshot::new(1);
        let groups: KeyGroupBytes = key_groups.iter().map(|kg| (*kg, vec![*kg as u8])).collect();
        s.add_keyed("state/count", Box::new(move || Ok(groups)));
        s.add_list("offsets", mode, list).unwrap();
        s.materialize(None).unwrap()
    }

    #[test]
    fn keyed_state_follows_the_key_groups_to_the_new_subtasks() {
        // Four key groups on two subtasks, restored on three.
        let old = [
            snapshot(&[0, 1], &[], ListMode::Split),
            snapshot(&[2, 3], &[], ListMode::Split),
        ];
        let owned: Vec<Vec<u32>> = (0..3)
            .map(|i| {
                let range = KeyGroupRange::for_subtask(4, 3, i);
                let r = RestoredState::assemble(&old, i, 3, range);
                r.keyed("state/count")
                    .map_or(vec![], |g| g.keys().copied().collect())
            })
            .collect();
        let expected: Vec<Vec<u32>> = (0..3)
            .map(|i| {
                let r = KeyGroupRange::for_subtask(4, 3, i);
                (r.start as u32..=r.end_inclusive as u32).collect()
            })
            .collect();
        assert_eq!(owned, expected);
        assert_eq!(owned.concat(), vec![0, 1, 2, 3]);
    }

    #[test]
    fn snapshots_survive_encoding() {
        let snapshot = snapshot(&[3, 9], &[7, 8], ListMode::Union);
        let bytes = encode(&snapshot).unwrap();
        assert_eq!(
            decode::<OperatorSnapshot>(&bytes, "test").unwrap(),
            snapshot
        );
    }

    #[test]
    fn list_state_is_split_unioned_or_broadcast() {
        let range = KeyGroupRange::for_subtask(128, 1, 0);
        let restore = |mode, parallelism, subtask| {
            let old = [
                snapshot(&[], &[1, 2, 3], mode),
                snapshot(&[], &[4, 5], mode),
            ];
            RestoredState::assemble(&old, subtask, parallelism, range)
                .list::<i32>("offsets")
                .unwrap()
        };
        // Same parallelism: every subtask gets its own elements back.
        assert_eq!(restore(ListMode::Split, 2, 1), vec![4, 5]);
        // Other parallelism: round robin over all elements.
        assert_eq!(restore(ListMode::Split, 3, 0), vec![1, 4]);
        assert_eq!(restore(ListMode::Split, 3, 2), vec![3]);
        assert_eq!(restore(ListMode::Union, 3, 1), vec![1, 2, 3, 4, 5]);
        assert_eq!(restore(ListMode::Broadcast, 3, 2), vec![1, 2, 3]);
    }
}
