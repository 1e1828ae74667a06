//! What the exactly-once sink keeps in checkpoints: the records of every checkpoint that is
//! not known to be committed to Kafka yet, with the transactional id and the marker of the
//! transaction that commits them (see [`super::transactions`]).

use rdkafka::producer::BaseRecord;
use serde::{Deserialize, Serialize};

/// The name of the union list state holding the checkpoints' records.
pub(crate) const COMMITS_STATE: &str = "kafka-sink-pending-commits";

/// One record as the sink writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SinkRecord {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// `None` lets Kafka's partitioner choose.
    pub partition: Option<i32>,
    pub timestamp: Option<i64>,
}

impl SinkRecord {
    /// The record for the client, to `topic`.
    pub fn to_base<'a>(&'a self, topic: &'a str) -> BaseRecord<'a, [u8], [u8]> {
        let mut out = BaseRecord::<[u8], [u8]>::to(topic);
        if let Some(key) = &self.key {
            out = out.key(key.as_slice());
        }
        if let Some(value) = &self.value {
            out = out.payload(value.as_slice());
        }
        if let Some(p) = self.partition {
            out = out.partition(p);
        }
        if let Some(ts) = self.timestamp {
            out = out.timestamp(ts);
        }
        out
    }
}

/// The records one subtask received before one checkpoint's barrier (and after the previous
/// one), to be written in one Kafka transaction once that checkpoint completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingCommit {
    /// `<prefix>-<subtask>-<checkpoint id>`: whoever writes the transaction initialises this
    /// id, which finishes any earlier attempt at it (and fences its producer).
    pub transactional_id: String,
    /// The key of the marker record the transaction writes to the marker topic: visible to
    /// `read_committed` consumers exactly when the transaction is committed. It starts with
    /// a tag of the attempt that took the checkpoint, so that markers of an earlier run of the
    /// job with the same prefix are never taken for this one's.
    pub marker: String,
    /// The records, in the order they were received.
    pub records: Vec<SinkRecord>,
}
