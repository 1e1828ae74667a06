//! Finishing what earlier attempts of an exactly-once sink left, when the job is restored
//! from checkpoint `n`.
//!
//! The checkpoint holds, for every subtask, the records of the checkpoints up to `n` whose
//! Kafka transactions were not known to be committed when it was taken (see
//! [`super::transactions`]). Checkpoint `n` completed, so each of them must end up committed
//! exactly once; a crashed attempt may have committed it, left its transaction open (the
//! process died between the first record and the commit), or not begun it. Subtask 0 of
//! the restored sink (which gets the commits of all old subtasks: union list state) does, in
//! `open`, before any new transaction can begin:
//!
//! 1. initialises every pending commit's transactional id, which makes the broker finish an
//!    open transaction of it (Kafka aborts it; Tansu, the test broker, makes its records
//!    visible as if committed) and fences the producer that began it;
//! 2. reads the marker topic with `read_committed`: a commit's marker is there exactly when
//!    its transaction is committed (or, on Tansu, made visible);
//! 3. writes and commits again, under the same ids, the commits without a marker. Should this
//!    attempt crash before that, the next recovery does it again.
//!
//! Doing it in one subtask matters: a `read_committed` consumer stops at the first open
//! transaction of a partition, so the marker topic can only be read once every transaction
//! an earlier attempt left open is finished.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use weir_core::{Result, WeirError};

use super::state::PendingCommit;
use super::transactions::{init_producer, write_and_commit, TransactionTarget};

/// How long reading the marker topic may take.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Commits, exactly once, the `pending` commits of the checkpoint the job was restored from.
/// See the module documentation.
pub(crate) fn recover(target: &TransactionTarget, pending: &[PendingCommit]) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let producers = pending
        .iter()
        .map(|commit| init_producer(target, &commit.transactional_id))
        .collect::<Result<Vec<_>>>()?;
    let committed = committed_markers(target)?;
    let mut replayed = 0;
    for (commit, producer) in pending.iter().zip(&producers) {
        if !committed.contains(&commit.marker) {
            write_and_commit(producer, target, commit)?;
            replayed += 1;
        }
    }
    tracing::info!(
        "Kafka sink: of the {} checkpoints' records not known to be committed before the \
         restore, {} were committed and {replayed} are written again",
        pending.len(),
        pending.len() - replayed,
    );
    Ok(())
}

/// Creates the marker topic (one partition) unless it exists.
pub(crate) fn ensure_marker_topic(target: &TransactionTarget) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = target
        .config
        .create()
        .map_err(|e| WeirError::Config(format!("cannot create a Kafka admin client: {e}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| WeirError::io("starting a runtime for Kafka admin requests", e))?;
    let topic = NewTopic::new(&target.marker_topic, 1, TopicReplication::Fixed(1));
    let results = runtime
        .block_on(admin.create_topics(&[topic], &AdminOptions::new()))
        .map_err(|e| marker_error(target, "creating", e))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(marker_error(target, "creating", code)),
        }
    }
    Ok(())
}

/// The keys of the marker records of committed transactions.
fn committed_markers(target: &TransactionTarget) -> Result<HashSet<String>> {
    let mut config = target.config.clone();
    config
        .set("group.id", "weir-kafka-sink-recovery")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed");
    let consumer: BaseConsumer = config
        .create()
        .map_err(|e| WeirError::Config(format!("cannot create the Kafka consumer: {e}")))?;
    let metadata = consumer
        .fetch_metadata(Some(&target.marker_topic), READ_TIMEOUT)
        .map_err(|e| marker_error(target, "reading the metadata of", e))?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let mut list = TopicPartitionList::new();
    for p in &partitions {
        list.add_partition_offset(&target.marker_topic, *p, Offset::Beginning)
            .map_err(|e| marker_error(target, "assigning", e))?;
    }
    consumer
        .assign(&list)
        .map_err(|e| marker_error(target, "assigning", e))?;
    let deadline = Instant::now() + READ_TIMEOUT;
    let mut at_end = HashSet::new();
    let mut markers = HashSet::new();
    while at_end.len() < partitions.len() {
        if Instant::now() > deadline {
            return Err(marker_error(
                target,
                "reading",
                format!("its end was not reached within {READ_TIMEOUT:?}"),
            ));
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(message)) => {
                at_end.remove(&message.partition());
                if let Some(key) = message.key() {
                    markers.insert(String::from_utf8_lossy(key).into_owned());
                }
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            Some(Err(e)) => return Err(marker_error(target, "reading", e)),
        }
    }
    Ok(markers)
}

fn marker_error(target: &TransactionTarget, what: &str, e: impl std::fmt::Display) -> WeirError {
    WeirError::io(
        format!(
            "{what} the Kafka sink's transaction marker topic '{}' (sink.transaction-marker-topic, brokers '{}')",
            target.marker_topic, target.bootstrap
        ),
        e,
    )
}
