//! Weir's Kafka connector, with Flink's option names.
//!
//! - [`KafkaSource`] ([`source`]): partitions as splits spread over the subtasks, startup
//!   modes (`earliest-offset`, `latest-offset`, `group-offsets`, `timestamp`,
//!   `specific-offsets`), per-partition watermarks with idleness, partition discovery, bad
//!   records that fail the job naming topic, partition and offset, or are skipped with
//!   `<format>.ignore-parse-errors`, and each partition's offset in checkpoints (restored on
//!   any parallelism, committed to the consumer group when the checkpoint completes).
//! - [`KafkaSink`] ([`sink`]): `sink.delivery-guarantee` `none`, `at-least-once` (flush at
//!   checkpoints and at the end) or `exactly-once` (a checkpoint's records are kept in the
//!   checkpoint and written in one Kafka transaction when it completes, so that a restored
//!   job can finish the transactions of a crashed process; `sink.transactional-id-prefix`),
//!   and `sink.partitioner` `default`, `fixed` or `round-robin`.
//! - [`format`]: how records become bytes and back (JSON through serde, UTF-8 text, closures).
//!
//! The connector lives in its own crate so that only the crates that use Kafka pay for
//! building librdkafka.

pub mod format;
pub mod options;
pub mod sink;
pub mod source;

pub use format::{
    deserializer_fn, BytesSerializer, ConsumedRecord, JsonDeserializer, JsonSerializer,
    KafkaDeserializer, KafkaSerializer, ProducedRecord, StringDeserializer, StringSerializer,
};
pub use sink::{DeliveryGuarantee, KafkaSink, KafkaSinkBuilder, SinkPartitioner};
pub use source::{KafkaSource, KafkaSourceBuilder, StartupMode, TopicPartition};

use weir_datastream::Record;
