//! The source's part in checkpoints, as in Flink's `KafkaSource`:
//!
//! - at a checkpoint every subtask stores the position of each of its splits (the offset of
//!   the next record to read) in the union list state [`SPLITS_STATE`]. Partitions go to
//!   subtasks by a pure formula ([`TopicPartition::owner`]), so on restore, whatever the new
//!   parallelism, each subtask picks its own partitions' positions out of the union of all;
//! - when the checkpoint completes, the offsets it stored are committed to the consumer group
//!   (for monitoring and for `group-offsets` starts; never what the source restores from).

use std::collections::BTreeMap;

use weir_core::Result;
use weir_state::RestoredState;

use super::split::{PartitionSplit, TopicPartition};

/// The name of the list state holding the splits.
pub(crate) const SPLITS_STATE: &str = "kafka-source-splits";

/// The splits that subtask `subtask` of `parallelism` restores: those of the union of all old
/// subtasks' splits that it owns now.
pub(crate) fn restored_splits(
    restored: &RestoredState,
    subtask: usize,
    parallelism: usize,
) -> Result<BTreeMap<TopicPartition, PartitionSplit>> {
    Ok(restored
        .list::<PartitionSplit>(SPLITS_STATE)?
        .into_iter()
        .filter(|split| split.partition.owner(parallelism) == subtask)
        .map(|split| (split.partition.clone(), split))
        .collect())
}

/// The offsets stored by checkpoints that have not completed yet, to be committed to the
/// consumer group when they do.
#[derive(Debug, Default)]
pub(crate) struct OffsetCommits {
    pending: BTreeMap<u64, Vec<(TopicPartition, i64)>>,
}

impl OffsetCommits {
    /// Remembers the next offsets stored by checkpoint `checkpoint_id`.
    pub fn remember(&mut self, checkpoint_id: u64, offsets: Vec<(TopicPartition, i64)>) {
        self.pending.insert(checkpoint_id, offsets);
    }

    /// Checkpoint `checkpoint_id` completed: the offsets to commit (those it stored, which
    /// supersede those of older checkpoints), if it stored any. Older checkpoints are
    /// forgotten; newer ones stay pending.
    pub fn complete(&mut self, checkpoint_id: u64) -> Option<Vec<(TopicPartition, i64)>> {
        let newer = match checkpoint_id.checked_add(1) {
            Some(next) => self.pending.split_off(&next),
            None => BTreeMap::new(),
        };
        let done = std::mem::replace(&mut self.pending, newer);
        done.into_iter().next_back().map(|(_, offsets)| offsets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completed_checkpoint_commits_its_offsets_and_forgets_older_ones() {
        let tp = TopicPartition::new("t", 0);
        let mut commits = OffsetCommits::default();
        commits.remember(1, vec![(tp.clone(), 10)]);
        commits.remember(2, vec![(tp.clone(), 20)]);
        commits.remember(3, vec![(tp.clone(), 30)]);
        // Checkpoint 1's notification was lost; 2 completes and supersedes it.
        assert_eq!(commits.complete(2), Some(vec![(tp.clone(), 20)]));
        assert_eq!(commits.complete(2), None);
        assert_eq!(commits.complete(3), Some(vec![(tp, 30)]));
    }
}
