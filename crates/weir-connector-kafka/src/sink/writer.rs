//! The sink operator of one subtask: serializes records, picks partitions and hands them to
//! a plain producer or to the open transaction, and flushes or commits at the end of input.
//! [`KafkaWriter::pre_commit`] and [`KafkaWriter::commit`] are the checkpoint's two phases.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::BaseRecord;
use weir_core::element::Batch;
use weir_core::{Result, WeirError};
use weir_runtime::{OperatorContext, Output, StreamOperator};

use super::partitioner::{PartitionChooser, SinkPartitioner};
use super::producer::TrackedProducer;
use super::transactions::Transactions;
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

    fn producer(&self) -> &TrackedProducer {
        match self
            .target
            .as_ref()
            .expect("the Kafka writer is opened before use")
        {
            Target::Plain(p) => p,
            Target::Transactional(t) => t.producer(),
        }
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
    /// (at-least-once) or in a flushed transaction kept open for [`commit`](Self::commit).
    pub(crate) fn pre_commit(&mut self, checkpoint_id: u64) -> Result<()> {
        match self.target.as_mut() {
            Some(Target::Plain(p)) if self.settings.guarantee != DeliveryGuarantee::None => {
                p.flush()
            }
            Some(Target::Transactional(t)) => t.pre_commit(checkpoint_id),
            _ => Ok(()),
        }
    }

    /// Phase two, when checkpoint `checkpoint_id` completed: commits its transactions.
    pub(crate) fn commit(&mut self, checkpoint_id: u64) -> Result<()> {
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
                let prefix = format!("{prefix}-{}", ctx.subtask_index);
                Target::Transactional(Transactions::start(config, settings.bootstrap(), prefix)?)
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
            let partition = self.chooser.as_mut().and_then(PartitionChooser::next);
            let mut out = BaseRecord::<[u8], [u8]>::to(&settings.topic);
            if let Some(key) = &bytes.key {
                out = out.key(key);
            }
            if let Some(value) = &bytes.value {
                out = out.payload(value);
            }
            if let Some(p) = partition {
                out = out.partition(p);
            }
            if let Some(ts) = timestamp {
                out = out.timestamp(ts);
            }
            self.producer().send(out)?;
        }
        Ok(())
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
