//! The Kafka source (Flink's `KafkaSource`): partitions are splits spread over the subtasks
//! by Flink's formula, each subtask reads its own with a manually assigned consumer (no group
//! rebalancing), discovers new partitions periodically, gives every record its Kafka
//! timestamp, and generates watermarks per partition when given a [`WatermarkStrategy`].
//!
//! ```no_run
//! use weir_connector_kafka::{KafkaSource, StartupMode, StringDeserializer};
//! use weir_datastream::prelude::*;
//!
//! let env = StreamExecutionEnvironment::get_execution_environment()?;
//! let source = KafkaSource::builder()
//!     .bootstrap_servers("127.0.0.1:9092")
//!     .topics(&["input"])
//!     .group_id("my-group")
//!     .startup_mode(StartupMode::EarliestOffset)
//!     .deserializer(StringDeserializer)
//!     .build()?;
//! source.stream(&env, "Kafka Source").print();
//! # Ok::<(), WeirError>(())
//! ```

mod checkpoint;
mod reader;
mod split;
mod startup;
mod watermarks;

pub use split::{PartitionSplit, TopicPartition};
pub use startup::{BoundedMode, StartupMode};

use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use weir_core::{Result, WeirError};
use weir_datastream::{DataStream, Record, StreamExecutionEnvironment, WatermarkStrategy};
use weir_runtime::job::SourceFactory;

use crate::format::KafkaDeserializer;
use crate::options::{invalid, ConnectorOptions};

/// Which topics a source reads: `topic` (names separated by `;`) or `topic-pattern` (a
/// regular expression that must match a whole topic name).
#[derive(Debug, Clone)]
pub(crate) enum TopicSelector {
    Names(Vec<String>),
    Pattern(Regex),
}

impl TopicSelector {
    fn from_options(options: &ConnectorOptions) -> Result<Self> {
        match (options.get("topic"), options.get("topic-pattern")) {
            (Some(_), Some(_)) => Err(WeirError::Config(
                "the Kafka options 'topic' and 'topic-pattern' exclude each other".into(),
            )),
            (None, None) => Err(WeirError::Config(
                "the Kafka source needs 'topic' or 'topic-pattern'".into(),
            )),
            (Some(names), None) => Ok(TopicSelector::Names(
                names
                    .split(';')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(String::from)
                    .collect(),
            )),
            (None, Some(pattern)) => Regex::new(&format!("^(?:{pattern})$"))
                .map(TopicSelector::Pattern)
                .map_err(|e| invalid("topic-pattern", pattern, &e.to_string())),
        }
    }

    /// Whether the source reads `topic`.
    pub(crate) fn matches(&self, topic: &str) -> bool {
        match self {
            TopicSelector::Names(names) => names.iter().any(|n| n == topic),
            TopicSelector::Pattern(re) => re.is_match(topic),
        }
    }

    /// The one topic to ask the broker about, when there is exactly one.
    pub(crate) fn single(&self) -> Option<&str> {
        match self {
            TopicSelector::Names(names) if names.len() == 1 => Some(&names[0]),
            _ => None,
        }
    }
}

/// Everything a reader needs, checked once when the source is built.
pub(crate) struct SourceSettings<T> {
    pub options: ConnectorOptions,
    pub topics: TopicSelector,
    pub startup: StartupMode,
    pub bounded: BoundedMode,
    /// `None` disables discovery after the start.
    pub discovery_interval: Option<Duration>,
    pub ignore_parse_errors: bool,
    /// How long a request to the brokers may take (`properties.default.api.timeout.ms`).
    pub request_timeout: Duration,
    pub deserializer: Box<dyn KafkaDeserializer<T>>,
    pub watermarks: Option<WatermarkStrategy<T>>,
}

impl<T> SourceSettings<T> {
    /// `properties.bootstrap.servers`, for messages.
    pub fn bootstrap(&self) -> &str {
        self.options.property("bootstrap.servers").unwrap_or("?")
    }
}

/// A Kafka source of records of type `T`; see the module documentation.
pub struct KafkaSource<T> {
    settings: Arc<SourceSettings<T>>,
}

impl<T: Record> KafkaSource<T> {
    /// A builder; set at least the bootstrap servers, the topics and the deserializer.
    pub fn builder() -> KafkaSourceBuilder<T> {
        KafkaSourceBuilder {
            options: ConnectorOptions::default(),
            deserializer: None,
            watermarks: None,
        }
    }

    /// The factory of the source's readers, for
    /// [`StreamExecutionEnvironment::from_reader_factory`].
    pub fn reader_factory(&self) -> SourceFactory {
        let settings = Arc::clone(&self.settings);
        Arc::new(move |ctx| Ok(Box::new(reader::KafkaSourceReader::new(&settings, ctx))))
    }

    /// The stream of the source's records in `env` (Flink's `env.fromSource`).
    pub fn stream(&self, env: &StreamExecutionEnvironment, name: &str) -> DataStream<T> {
        env.from_reader_factory(self.reader_factory(), name)
    }
}

/// Builds a [`KafkaSource`] from typed settings or from Flink's option keys.
pub struct KafkaSourceBuilder<T> {
    options: ConnectorOptions,
    deserializer: Option<Box<dyn KafkaDeserializer<T>>>,
    watermarks: Option<WatermarkStrategy<T>>,
}

impl<T: Record> KafkaSourceBuilder<T> {
    /// Sets any option by its Flink key: `topic`, `topic-pattern`, `properties.*`,
    /// `scan.startup.mode`, `scan.startup.timestamp-millis`, `scan.startup.specific-offsets`,
    /// `scan.bounded.mode`, `scan.topic-partition-discovery.interval` (`'0'` disables),
    /// `<format>.ignore-parse-errors`.
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

    /// `properties.group.id`: the group whose offsets `group-offsets` starts from and to
    /// which offsets are committed.
    pub fn group_id(self, group: &str) -> Self {
        self.property("group.id", group)
    }

    /// `topic`: the topics to read.
    pub fn topics(self, topics: &[&str]) -> Self {
        self.option("topic", topics.join(";"))
    }

    /// `topic-pattern`: reads every topic whose whole name matches `pattern`.
    pub fn topic_pattern(self, pattern: &str) -> Self {
        self.option("topic-pattern", pattern)
    }

    /// `scan.startup.mode` and its parameters.
    pub fn startup_mode(mut self, mode: StartupMode) -> Self {
        mode.to_options(&mut self.options);
        self
    }

    /// `scan.bounded.mode = latest-offset`: end each partition at its end (needs a single
    /// topic).
    pub fn bounded(self) -> Self {
        self.option("scan.bounded.mode", "latest-offset")
    }

    /// How record values become `T`.
    pub fn deserializer(mut self, deserializer: impl KafkaDeserializer<T>) -> Self {
        self.deserializer = Some(Box::new(deserializer));
        self
    }

    /// Skips records that cannot be deserialized (`<format>.ignore-parse-errors`) instead of
    /// failing the job; call after [`deserializer`](Self::deserializer).
    pub fn ignore_parse_errors(self) -> Self {
        let format = self
            .deserializer
            .as_ref()
            .map_or("value".to_string(), |d| d.format().to_string());
        self.option(&format!("{format}.ignore-parse-errors"), "true")
    }

    /// Generates watermarks per partition with `strategy` (without one the source emits
    /// none, and records keep their Kafka timestamps).
    pub fn watermark_strategy(mut self, strategy: WatermarkStrategy<T>) -> Self {
        self.watermarks = Some(strategy);
        self
    }

    /// Checks the options and builds the source.
    pub fn build(self) -> Result<KafkaSource<T>> {
        let options = self.options;
        options.required("properties.bootstrap.servers")?;
        let deserializer = self.deserializer.ok_or_else(|| {
            WeirError::Config("the Kafka source needs a deserializer".to_string())
        })?;
        let ignore_key = format!("{}.ignore-parse-errors", deserializer.format());
        let discovery = options
            .parsed::<Duration>("scan.topic-partition-discovery.interval")?
            .unwrap_or(Duration::from_secs(30));
        let request_timeout = options
            .property("default.api.timeout.ms")
            .map(|ms| {
                ms.parse::<u64>().map(Duration::from_millis).map_err(|_| {
                    invalid(
                        "properties.default.api.timeout.ms",
                        ms,
                        "expected milliseconds",
                    )
                })
            })
            .transpose()?
            .unwrap_or(Duration::from_secs(30));
        let topics = TopicSelector::from_options(&options)?;
        let bounded = BoundedMode::from_options(&options)?;
        if bounded != BoundedMode::Unbounded && topics.single().is_none() {
            return Err(WeirError::Config(
                "'scan.bounded.mode' needs a single 'topic' (the end of a partition is told \
                 by partition EOF, which names only the partition)"
                    .into(),
            ));
        }
        let settings = SourceSettings {
            topics,
            startup: StartupMode::from_options(&options)?,
            bounded,
            discovery_interval: (!discovery.is_zero()).then_some(discovery),
            ignore_parse_errors: options.parsed::<bool>(&ignore_key)?.unwrap_or(false),
            request_timeout,
            deserializer,
            watermarks: self.watermarks,
            options,
        };
        Ok(KafkaSource {
            settings: Arc::new(settings),
        })
    }
}
