//! The Kafka sink (Flink's `KafkaSink`), with Flink's option keys:
//!
//! - `topic` (required) and `properties.*` (at least `properties.bootstrap.servers`);
//! - `sink.delivery-guarantee`: `none` (fire and forget), `at-least-once` (the default:
//!   every record is acknowledged before a checkpoint or the end of input completes) or
//!   `exactly-once` (pre-commit at the checkpoint barrier: the records since the previous
//!   barrier are stored in the checkpoint; commit when it completes: they are written in one
//!   Kafka transaction of the id `<sink.transactional-id-prefix>-<subtask>-<checkpoint>`,
//!   with a marker record in `sink.transaction-marker-topic` (default
//!   `weir-transaction-markers`, created with one partition if missing), by which a restored
//!   job tells which transactions of a crashed process were committed; why the records wait
//!   for the checkpoint instead of going into an open transaction at once is explained in
//!   the `transactions` module: librdkafka cannot resume another process's transaction);
//! - `sink.partitioner`: `default` (Kafka's: by key hash, unkeyed records spread),
//!   `fixed` (each subtask writes to one partition, `subtask % partitions`) or `round-robin`.
//!
//! Records keep their event-time timestamps as Kafka timestamps.

mod partitioner;
mod producer;
mod recovery;
mod state;
mod transactions;
mod writer;

pub use partitioner::SinkPartitioner;

use std::sync::Arc;

use weir_core::{Result, WeirError};
use weir_datastream::stream::DataStreamSink;
use weir_datastream::{DataStream, Record};
use weir_runtime::job::OperatorFactory;
use weir_runtime::StreamOperator;

use crate::format::KafkaSerializer;
use crate::options::{parse_name, ConnectorOptions};

/// The default of `sink.transaction-marker-topic`.
pub const DEFAULT_MARKER_TOPIC: &str = "weir-transaction-markers";

/// `sink.delivery-guarantee`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryGuarantee {
    /// `none`: records may be lost.
    None,
    /// `at-least-once`: records may be duplicated after a failure, never lost.
    AtLeastOnce,
    /// `exactly-once`: transactions committed with checkpoints.
    ExactlyOnce,
}

impl std::str::FromStr for DeliveryGuarantee {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        parse_name(
            text,
            &[
                ("none", DeliveryGuarantee::None),
                ("at-least-once", DeliveryGuarantee::AtLeastOnce),
                ("exactly-once", DeliveryGuarantee::ExactlyOnce),
            ],
        )
    }
}

/// Everything a writer needs, checked once when the sink is built.
pub(crate) struct SinkSettings<T> {
    pub options: ConnectorOptions,
    pub topic: String,
    pub guarantee: DeliveryGuarantee,
    pub transactional_id_prefix: Option<String>,
    pub marker_topic: String,
    pub partitioner: SinkPartitioner,
    pub serializer: Box<dyn KafkaSerializer<T>>,
}

impl<T> SinkSettings<T> {
    /// `properties.bootstrap.servers`, for messages.
    pub fn bootstrap(&self) -> &str {
        self.options.property("bootstrap.servers").unwrap_or("?")
    }
}

/// A Kafka sink of records of type `T`; see the module documentation.
pub struct KafkaSink<T> {
    settings: Arc<SinkSettings<T>>,
}

impl<T: Record> KafkaSink<T> {
    /// A builder; set at least the bootstrap servers, the topic and the serializer.
    pub fn builder() -> KafkaSinkBuilder<T> {
        KafkaSinkBuilder {
            options: ConnectorOptions::default(),
            serializer: None,
        }
    }

    /// The factory of the sink's writers, for [`DataStream::sink_to_operator`].
    pub fn operator_factory(&self) -> OperatorFactory {
        let settings = Arc::clone(&self.settings);
        Arc::new(move |_ctx| {
            Ok(Box::new(writer::KafkaWriter::new(Arc::clone(&settings)))
                as Box<dyn StreamOperator>)
        })
    }

    /// Sends `stream` to this sink (Flink's `stream.sinkTo(sink)`).
    pub fn sink(&self, stream: &DataStream<T>, name: &str) -> DataStreamSink {
        stream.sink_to_operator(self.operator_factory(), name)
    }
}

/// Builds a [`KafkaSink`] from typed settings or from Flink's option keys.
pub struct KafkaSinkBuilder<T> {
    options: ConnectorOptions,
    serializer: Option<Box<dyn KafkaSerializer<T>>>,
}

impl<T: Record> KafkaSinkBuilder<T> {
    /// Sets any option by its Flink key (see the module documentation).
    pub fn option(mut self, key: &str, value: impl Into<String>) -> Self {
        self.options.set(key, value);
        self
    }

    /// Sets the client property `name` (`properties.name`).
    pub fn property(self, name: &str, value: impl Into<String>) -> Self {
        self.option(&format!("properties.{name}"), value)
    }

    /// `properties.bootstrap.servers`.
    pub fn bootstrap_servers(self, servers: &str) -> Self {
        self.property("bootstrap.servers", servers)
    }

    /// `topic`: where records go.
    pub fn topic(self, topic: &str) -> Self {
        self.option("topic", topic)
    }

    /// `sink.delivery-guarantee`.
    pub fn delivery_guarantee(self, guarantee: DeliveryGuarantee) -> Self {
        let name = match guarantee {
            DeliveryGuarantee::None => "none",
            DeliveryGuarantee::AtLeastOnce => "at-least-once",
            DeliveryGuarantee::ExactlyOnce => "exactly-once",
        };
        self.option("sink.delivery-guarantee", name)
    }

    /// `sink.transactional-id-prefix`: the transactional ids of an exactly-once sink are
    /// `<prefix>-<subtask>-<n>`; a prefix must not be shared by two running jobs.
    pub fn transactional_id_prefix(self, prefix: &str) -> Self {
        self.option("sink.transactional-id-prefix", prefix)
    }

    /// `sink.partitioner`.
    pub fn partitioner(self, partitioner: SinkPartitioner) -> Self {
        self.option("sink.partitioner", partitioner.name())
    }

    /// How records become keys and values.
    pub fn serializer(mut self, serializer: impl KafkaSerializer<T>) -> Self {
        self.serializer = Some(Box::new(serializer));
        self
    }

    /// Checks the options and builds the sink.
    pub fn build(self) -> Result<KafkaSink<T>> {
        let options = self.options;
        options.required("properties.bootstrap.servers")?;
        let guarantee =
            options.choice("sink.delivery-guarantee", DeliveryGuarantee::AtLeastOnce)?;
        let prefix = options
            .get("sink.transactional-id-prefix")
            .map(String::from);
        if guarantee == DeliveryGuarantee::ExactlyOnce && prefix.is_none() {
            return Err(WeirError::Config(
                "'sink.delivery-guarantee' = 'exactly-once' needs 'sink.transactional-id-prefix'"
                    .into(),
            ));
        }
        let settings = SinkSettings {
            topic: options.required("topic")?.to_string(),
            guarantee,
            transactional_id_prefix: prefix,
            marker_topic: options
                .get("sink.transaction-marker-topic")
                .unwrap_or(DEFAULT_MARKER_TOPIC)
                .to_string(),
            partitioner: options.choice("sink.partitioner", SinkPartitioner::Default)?,
            serializer: self.serializer.ok_or_else(|| {
                WeirError::Config("the Kafka sink needs a serializer".to_string())
            })?,
            options,
        };
        Ok(KafkaSink {
            settings: Arc::new(settings),
        })
    }
}
