//! Exactly-once writes to Kafka for checkpoints (a write-ahead log committed in Kafka
//! transactions):
//!
//! 1. records received before the barrier of checkpoint `n` are kept by the sink and stored
//!    in the checkpoint at the barrier (the pre-commit: they are durable in checkpoint `n`,
//!    and nothing is in Kafka yet);
//! 2. when checkpoint `n` completes, they are written in one Kafka transaction of the
//!    transactional id `<prefix>-<subtask>-<n>`, together with a marker record in the marker
//!    topic, and committed (the commit).
//!
//! So a Kafka transaction only ever holds records of a completed checkpoint: one that a crash
//! leaves unfinished must be completed, never discarded, and [`super::recovery`] does that.
//! This is why the sink does not write records into an open transaction as they arrive, as
//! Flink's `KafkaSink` does: a transaction left open by a crashed process can only be resumed
//! by Flink's Java client (it sets the producer id and epoch by reflection); librdkafka can
//! only abort it, by initialising its transactional id. Aborting the records written after
//! the last checkpoint would be right, but the aborted records of the pre-committed
//! transaction of a completed checkpoint would then be lost; and Tansu, the test broker,
//! shows aborted records to `read_committed` consumers and never times transactions out.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::ClientConfig;
use weir_core::Result;

use super::producer::TrackedProducer;
use super::state::{PendingCommit, SinkRecord};

/// How long transaction requests may take.
const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a sink's transactions go.
#[derive(Debug, Clone)]
pub(crate) struct TransactionTarget {
    pub config: ClientConfig,
    pub bootstrap: String,
    /// The sink's topic.
    pub topic: String,
    /// The topic of the commit markers.
    pub marker_topic: String,
}

/// The checkpointed records of one sink subtask, waiting for their commit.
pub(crate) struct Transactions {
    target: TransactionTarget,
    /// `<prefix>-<subtask>`.
    id_base: String,
    /// Tags the markers of this attempt.
    attempt: String,
    /// Records since the last barrier.
    open: Vec<SinkRecord>,
    /// Checkpointed records by checkpoint id.
    pending: BTreeMap<u64, PendingCommit>,
}

impl Transactions {
    /// The transactions of the ids `<id_base>-<checkpoint>`, markers tagged with `attempt`.
    pub fn new(target: TransactionTarget, id_base: String, attempt: String) -> Self {
        Transactions {
            target,
            id_base,
            attempt,
            open: Vec::new(),
            pending: BTreeMap::new(),
        }
    }

    /// Keeps `record` for the next checkpoint.
    pub fn send(&mut self, record: SinkRecord) {
        self.open.push(record);
    }

    /// At the barrier of `checkpoint_id`: the records so far become that checkpoint's.
    pub fn pre_commit(&mut self, checkpoint_id: u64) {
        if self.open.is_empty() {
            return;
        }
        let transactional_id = format!("{}-{checkpoint_id}", self.id_base);
        let commit = PendingCommit {
            marker: format!("{}/{transactional_id}", self.attempt),
            transactional_id,
            records: std::mem::take(&mut self.open),
        };
        self.pending.insert(checkpoint_id, commit);
    }

    /// The checkpointed records not committed yet, for a checkpoint.
    pub fn pending(&self) -> impl Iterator<Item = &PendingCommit> {
        self.pending.values()
    }

    /// Checkpoint `checkpoint_id` completed: commits the records of the checkpoints up to it.
    pub fn commit_up_to(&mut self, checkpoint_id: u64) -> Result<()> {
        let later = match checkpoint_id.checked_add(1) {
            Some(next) => self.pending.split_off(&next),
            None => BTreeMap::new(),
        };
        for commit in std::mem::replace(&mut self.pending, later).into_values() {
            let producer = init_producer(&self.target, &commit.transactional_id)?;
            write_and_commit(&producer, &self.target, &commit)?;
        }
        Ok(())
    }
}

/// The producer of `transactional_id`, its transactions initialised: the broker finishes
/// whatever an earlier producer of the same id left open (and fences that producer).
pub(crate) fn init_producer(
    target: &TransactionTarget,
    transactional_id: &str,
) -> Result<TrackedProducer> {
    let mut config = target.config.clone();
    config.set("transactional.id", transactional_id);
    let producer = TrackedProducer::create(&config, &target.bootstrap)?;
    producer
        .producer
        .init_transactions(TRANSACTION_TIMEOUT)
        .map_err(|e| {
            producer.error(
                format!("initialising the transactional id '{transactional_id}'"),
                e,
            )
        })?;
    Ok(producer)
}

/// Writes the records of `commit` and its marker in one transaction of `producer` (whose
/// transactional id is the commit's), and commits it.
pub(crate) fn write_and_commit(
    producer: &TrackedProducer,
    target: &TransactionTarget,
    commit: &PendingCommit,
) -> Result<()> {
    producer
        .producer
        .begin_transaction()
        .map_err(|e| producer.error("beginning a Kafka transaction".into(), e))?;
    for record in &commit.records {
        producer.send(record.to_base(&target.topic))?;
    }
    producer
        .send(BaseRecord::<[u8], [u8]>::to(&target.marker_topic).key(commit.marker.as_bytes()))?;
    producer.flush()?;
    producer
        .producer
        .commit_transaction(TRANSACTION_TIMEOUT)
        .map_err(|e| producer.error("committing a Kafka transaction".into(), e))
}
