//! Partitions as splits: which subtask reads which partition, and the position of a split
//! (what a checkpoint stores and what is committed back to the consumer group).

use serde::{Deserialize, Serialize};

/// A partition of a topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl TopicPartition {
    /// The partition `partition` of `topic`.
    pub fn new(topic: &str, partition: i32) -> Self {
        TopicPartition {
            topic: topic.to_string(),
            partition,
        }
    }

    /// The subtask (of `parallelism`) that reads this partition. Flink's formula
    /// (`KafkaSourceEnumerator.getSplitOwner`): the partitions of a topic go round-robin over
    /// the subtasks from a start that depends on the topic's name, so that the partitions of
    /// several topics spread evenly. A pure function of the partition, so every subtask finds
    /// its own partitions, also those discovered later, without a coordinator.
    pub fn owner(&self, parallelism: usize) -> usize {
        let parallelism = parallelism.max(1) as i64;
        let start =
            (java_string_hash(&self.topic).wrapping_mul(31) & 0x7FFF_FFFF) as i64 % parallelism;
        ((start + self.partition as i64) % parallelism) as usize
    }
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "topic '{}', partition {}", self.topic, self.partition)
    }
}

/// Java's `String.hashCode`, over UTF-16 code units, so that splits land where Flink puts them.
fn java_string_hash(text: &str) -> i32 {
    text.encode_utf16()
        .fold(0i32, |h, unit| h.wrapping_mul(31).wrapping_add(unit as i32))
}

/// The state of one split, as checkpoints store it: where reading the partition goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionSplit {
    pub partition: TopicPartition,
    /// The offset of the next record to read; `None` while the reader has not read from the
    /// partition and its start (`scan.startup.mode`) is not resolved to an offset yet.
    pub next_offset: Option<i64>,
    /// A bounded read reached the partition's end: a restored reader does not read it again.
    pub finished: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_like_java() {
        // "".hashCode(), "a".hashCode() and "hello".hashCode() in Java; "é" is one UTF-16 unit.
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("é"), 233);
    }

    #[test]
    fn partitions_of_a_topic_go_round_robin_from_a_start() {
        // "hello": (99162322 * 31) & 0x7FFFFFFF = 3074031982 & 0x7FFFFFFF = 926548334; % 3 = 2.
        let owners: Vec<usize> = (0..6)
            .map(|p| TopicPartition::new("hello", p).owner(3))
            .collect();
        assert_eq!(owners, vec![2, 0, 1, 2, 0, 1]);
        assert_eq!(TopicPartition::new("hello", 5).owner(1), 0);
    }
}
