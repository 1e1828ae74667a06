//! `sink.partitioner`: which partition a record goes to.

use crate::options::parse_name;

/// Flink's `sink.partitioner` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkPartitioner {
    /// `default`: Kafka's partitioner (by the key's hash; unkeyed records spread).
    Default,
    /// `fixed`: subtask `i` writes to partition `i % partitions`.
    Fixed,
    /// `round-robin`: each subtask cycles through the partitions record by record.
    RoundRobin,
}

impl SinkPartitioner {
    /// The option value.
    pub fn name(self) -> &'static str {
        match self {
            SinkPartitioner::Default => "default",
            SinkPartitioner::Fixed => "fixed",
            SinkPartitioner::RoundRobin => "round-robin",
        }
    }
}

impl std::str::FromStr for SinkPartitioner {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        parse_name(
            text,
            &[
                ("default", SinkPartitioner::Default),
                ("fixed", SinkPartitioner::Fixed),
                ("round-robin", SinkPartitioner::RoundRobin),
            ],
        )
    }
}

/// Chooses partitions for the records of one subtask.
#[derive(Debug)]
pub(crate) struct PartitionChooser {
    kind: SinkPartitioner,
    subtask: usize,
    partitions: i32,
    next: i32,
}

impl PartitionChooser {
    /// A chooser for subtask `subtask` of a topic with `partitions` partitions.
    pub fn new(kind: SinkPartitioner, subtask: usize, partitions: i32) -> Self {
        PartitionChooser {
            kind,
            subtask,
            partitions: partitions.max(1),
            next: subtask as i32 % partitions.max(1),
        }
    }

    /// The partition of the next record, or `None` to let Kafka's partitioner decide.
    pub fn next(&mut self) -> Option<i32> {
        match self.kind {
            SinkPartitioner::Default => None,
            SinkPartitioner::Fixed => Some(self.subtask as i32 % self.partitions),
            SinkPartitioner::RoundRobin => {
                let p = self.next;
                self.next = (self.next + 1) % self.partitions;
                Some(p)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_round_robin() {
        let mut fixed = PartitionChooser::new(SinkPartitioner::Fixed, 5, 3);
        assert_eq!((fixed.next(), fixed.next()), (Some(2), Some(2)));
        let mut rr = PartitionChooser::new(SinkPartitioner::RoundRobin, 1, 3);
        let seq: Vec<_> = (0..4).map(|_| rr.next().unwrap()).collect();
        assert_eq!(seq, vec![1, 2, 0, 1]);
        assert_eq!(
            PartitionChooser::new(SinkPartitioner::Default, 0, 3).next(),
            None
        );
        assert!("hash"
            .parse::<SinkPartitioner>()
            .unwrap_err()
            .contains("round-robin"));
    }
}
