//! The sink operator of one subtask: serializes records, picks partitions and hands them to
//! a plain producer or to the open transaction, and flushes or commits at checkpoints and at
//! the end of input: [`KafkaWriter::pre_commit`] (in `snapshot_state`) and
//! [`KafkaWriter::commit`] (in `notify_checkpoint_complete`) are the checkpoint's two phases.
//! An exactly-once writer restored from a checkpoint first finishes the transactions it
//! holds ([`super::recovery`]).

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use weir_core::element::Batch;
use weir_core::{Result, WeirError};
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::{ListMode, StateSnapshot};

use super::partitioner::{PartitionChooser, SinkPartitioner};
use super::producer::TrackedProducer;
use super::recovery::{ensure_marker_topic, recover};
use super::state::{PendingCommit, SinkRecord, COMMITS_STATE};
use super::transactions::{TransactionTarget, Transactions};
use super::{DeliveryGuarantee, SinkSettings};
use crate::Record;

/// The checkpoint id under which the end of input commits.
const END_OF_INPUT: u64 = u64::MAX;

/// Where records go: a plain producer, or transactions.
enum Target {
    Plain(TrackedProducer),
    Transactional(Transactions),
}

/// The sink operator; see the module documentation.
pub(crate) struct KafkaWriter<T> {
    settings: Arc<SinkSettings<T>>,
    target: Option<Target>,
    chooser: Option<PartitionChooser>,
}

impl<T: Record> KafkaWriter<T> {
    pub(crate) fn new(settings: Arc<SinkSettings<T>>) -> Self {
        KafkaWriter {
            settings,
            target: None,
            chooser: None,
        }
    }

    /// Sends `record` to the plain producer or into the open transaction.
    fn send(&mut self, record: SinkRecord) -> Result<()> {
        let topic = &self.settings.topic;
        match self
            .target
            .as_mut()
            .expect("the Kafka writer is opened before use")
        {
            Target::Plain(p) => p.send(record.to_base(topic)),
            Target::Transactional(t) => {
                t.send(record);
                Ok(())
            }
        }
    }

    /// Starts the transactions of subtask `ctx.subtask_index`; subtask 0 first finishes
    /// those of the checkpoint the job was restored from.
    fn start_transactions(&self, ctx: &OperatorContext, prefix: &str) -> Result<Transactions> {
        let settings = &self.settings;
        let target = TransactionTarget {
            config: settings.options.client_config(),
            bootstrap: settings.bootstrap().to_string(),
            topic: settings.topic.clone(),
            marker_topic: settings.marker_topic.clone(),
        };
        ensure_marker_topic(&target)?;
        if let Some(restored) = ctx.restored_state().filter(|_| ctx.subtask_index == 0) {
            recover(&target, &restored.list::<PendingCommit>(COMMITS_STATE)?)?;
        }
        // Tags this attempt's markers (see `PendingCommit::marker`).
        let attempt = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let id_base = format!("{prefix}-{}", ctx.subtask_index);
        Ok(Transactions::new(target, id_base, format!("{attempt:x}")))
    }

    /// The number of partitions of the sink's topic (for `fixed` and `round-robin`).
    fn partition_count(&self) -> Result<i32> {
        let settings = &self.settings;
        let consumer: BaseConsumer = settings.options.client_config().create().map_err(|e| {
            WeirError::Config(format!("cannot create a Kafka metadata client: {e}"))
        })?;
        let metadata = consumer
            .fetch_metadata(Some(&settings.topic), Duration::from_secs(30))
            .map_err(|e| {
                WeirError::io(
                    format!(
                        "reading the metadata of topic '{}' from the Kafka brokers at '{}'",
                        settings.topic,
                        settings.bootstrap()
                    ),
                    e,
                )
            })?;
        match metadata.topics().first() {
            Some(topic) if topic.error().is_none() && !topic.partitions().is_empty() => {
                Ok(topic.partitions().len() as i32)
            }
            _ => Err(WeirError::Config(format!(
                "the Kafka sink's topic '{}' does not exist",
                settings.topic
            ))),
        }
    }

    /// Phase one of a checkpoint, at its barrier: every record written so far is acknowledged
    /// (at-least-once), or kept in the checkpoint for [`commit`](Self::commit) (exactly-once).
    fn pre_commit(&mut self, checkpoint_id: u64) -> Result<()> {
        match self.target.as_mut() {
            Some(Target::Plain(p)) if self.settings.guarantee != DeliveryGuarantee::None => {
                p.flush()
            }
            Some(Target::Transactional(t)) => {
                t.pre_commit(checkpoint_id);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Phase two, when checkpoint `checkpoint_id` completed: writes and commits the records of
    /// the checkpoints up to it (exactly-once).
    fn commit(&mut self, checkpoint_id: u64) -> Result<()> {
        match self.target.as_mut() {
            Some(Target::Transactional(t)) => t.commit_up_to(checkpoint_id),
            _ => Ok(()),
        }
    }
}

impl<T: Record> StreamOperator for KafkaWriter<T> {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        let settings = Arc::clone(&self.settings);
        let config = settings.options.client_config();
        self.target = Some(match &settings.transactional_id_prefix {
            Some(prefix) if settings.guarantee == DeliveryGuarantee::ExactlyOnce => {
                Target::Transactional(self.start_transactions(ctx, prefix)?)
            }
            _ => Target::Plain(TrackedProducer::create(&config, settings.bootstrap())?),
        });
        if settings.partitioner != SinkPartitioner::Default {
            let partitions = self.partition_count()?;
            self.chooser = Some(PartitionChooser::new(
                settings.partitioner,
                ctx.subtask_index,
                partitions,
            ));
        }
        Ok(())
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, _out: &mut dyn Output) -> Result<()> {
        let settings = Arc::clone(&self.settings);
        let records = batch.into_records::<T>();
        for (record, timestamp) in records.into_iter_timestamped() {
            let bytes =
                settings
                    .serializer
                    .serialize(&record)
                    .map_err(|message| WeirError::BadInput {
                        location: format!("the Kafka sink of topic '{}'", settings.topic),
                        message,
                    })?;
            let record = SinkRecord {
                key: bytes.key,
                value: bytes.value,
                partition: self.chooser.as_mut().and_then(PartitionChooser::next),
                timestamp,
            };
            self.send(record)?;
        }
        Ok(())
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.pre_commit(snapshot.checkpoint_id())?;
        if let Some(Target::Transactional(t)) = &self.target {
            snapshot.add_list(COMMITS_STATE, ListMode::Union, t.pending())?;
        }
        Ok(())
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> Result<()> {
        self.commit(checkpoint_id)
    }

    fn finish(&mut self, _out: &mut dyn Output) -> Result<()> {
        match self.target.as_mut() {
            Some(Target::Plain(p)) => p.flush(),
            // The end of input is the last checkpoint: both phases at once.
            Some(Target::Transactional(_)) => {
                self.pre_commit(END_OF_INPUT)?;
                self.commit(END_OF_INPUT)
            }
            None => Ok(()),
        }
    }
}
