//! The reader of one source subtask: finds its partitions, resolves where each starts, polls
//! the consumer, deserializes, stamps and watermarks the records, and keeps each partition's
//! next offset (the split state).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};
use weir_core::config::options;
use weir_core::element::{Batch, Records};
use weir_core::metrics::Counter;
use weir_core::{Result, WeirError};
use weir_runtime::operator::now_ms;
use weir_runtime::{OperatorContext, SourceEventTime, SourcePoll, SourceReader};

use super::split::TopicPartition;
use super::startup::{starting_offsets, BoundedMode, StartupMode};
use super::watermarks::PartitionWatermarks;
use super::SourceSettings;
use crate::format::ConsumedRecord;
use crate::Record;

/// How long one poll waits for the first record.
const POLL_WAIT: Duration = Duration::from_millis(100);

/// Where a split is.
struct SplitState {
    /// The offset of the next record to read, once known.
    next_offset: Option<i64>,
    /// With `scan.startup.mode = timestamp`: records before the first one stamped at or
    /// after this time are skipped. Kafka's look-up already starts there; Tansu, the test
    /// broker, answers with an earlier offset, which this corrects.
    skip_before: Option<i64>,
}

/// The reader of one subtask; see the module documentation.
pub(crate) struct KafkaSourceReader<T> {
    settings: Arc<SourceSettings<T>>,
    subtask: usize,
    parallelism: usize,
    consumer: Option<Arc<BaseConsumer>>,
    splits: BTreeMap<TopicPartition, SplitState>,
    watermarks: Option<PartitionWatermarks<T>>,
    next_discovery: Option<Instant>,
    parse_errors: Counter,
}

impl<T: Record> KafkaSourceReader<T> {
    pub(crate) fn new(settings: &Arc<SourceSettings<T>>, ctx: &OperatorContext) -> Self {
        KafkaSourceReader {
            settings: Arc::clone(settings),
            subtask: ctx.subtask_index,
            parallelism: ctx.parallelism,
            consumer: None,
            splits: BTreeMap::new(),
            watermarks: None,
            next_discovery: None,
            parse_errors: Counter::default(),
        }
    }

    fn consumer(&self) -> &Arc<BaseConsumer> {
        self.consumer
            .as_ref()
            .expect("the Kafka reader is opened before it is polled")
    }

    /// Looks for partitions of this subtask that it does not read yet, and starts reading
    /// them: at the configured start the first time, from the earliest offset later (they
    /// are new partitions, as in Flink).
    fn discover(&mut self, initial: bool) -> Result<()> {
        let settings = Arc::clone(&self.settings);
        let timeout = settings.request_timeout;
        let metadata = self
            .consumer()
            .fetch_metadata(settings.topics.single(), timeout)
            .map_err(|e| {
                WeirError::io(
                    format!(
                        "cannot read topic metadata from the Kafka brokers at '{}' \
                         (properties.bootstrap.servers)",
                        settings.bootstrap()
                    ),
                    e,
                )
            })?;
        let mut new = Vec::new();
        for topic in metadata.topics() {
            if topic.error().is_some() || !settings.topics.matches(topic.name()) {
                continue;
            }
            for partition in topic.partitions() {
                let tp = TopicPartition::new(topic.name(), partition.id());
                if tp.owner(self.parallelism) == self.subtask && !self.splits.contains_key(&tp) {
                    new.push(tp);
                }
            }
        }
        if let Some(interval) = settings.discovery_interval {
            self.next_discovery = Some(Instant::now() + interval);
        }
        if new.is_empty() {
            return Ok(());
        }
        let mode = if initial {
            settings.startup.clone()
        } else {
            tracing::info!("Kafka source subtask {} discovered {:?}", self.subtask, new);
            StartupMode::EarliestOffset
        };
        let starts = starting_offsets(&mode, &settings.options, self.consumer(), &new, timeout)?;
        let skip_before = match mode {
            StartupMode::Timestamp(millis) => Some(millis),
            _ => None,
        };
        self.assign(starts, skip_before)
    }

    fn assign(
        &mut self,
        starts: Vec<(TopicPartition, Offset)>,
        skip_before: Option<i64>,
    ) -> Result<()> {
        let now = now_ms();
        let mut list = TopicPartitionList::new();
        for (tp, offset) in starts {
            let next_offset = match offset {
                Offset::Offset(n) => Some(n),
                _ => None,
            };
            list.add_partition_offset(&tp.topic, tp.partition, offset)
                .map_err(|e| WeirError::io(format!("Kafka {tp}"), e))?;
            if let Some(w) = &mut self.watermarks {
                w.add_partition(tp.clone(), now);
            }
            self.splits.insert(
                tp,
                SplitState {
                    next_offset,
                    skip_before,
                },
            );
        }
        self.consumer()
            .incremental_assign(&list)
            .map_err(|e| WeirError::io("assigning Kafka partitions to the consumer", e))
    }

    /// Adds the record of `message` to `out`, or skips it.
    fn read(&mut self, message: &BorrowedMessage<'_>, out: &mut Records<T>) -> Result<()> {
        let tp = TopicPartition::new(message.topic(), message.partition());
        let offset = message.offset();
        let Some(split) = self.splits.get_mut(&tp) else {
            return Ok(());
        };
        split.next_offset = Some(offset + 1);
        let timestamp = message.timestamp().to_millis();
        if let Some(start) = split.skip_before {
            if timestamp.is_some_and(|ts| ts < start) {
                return Ok(());
            }
            split.skip_before = None;
        }
        let record = ConsumedRecord {
            topic: message.topic(),
            partition: message.partition(),
            offset,
            timestamp,
            key: message.key(),
            value: message.payload(),
        };
        match self.settings.deserializer.deserialize(&record) {
            Ok(value) => {
                let timestamp = match &mut self.watermarks {
                    Some(w) => w.on_record(&tp, &value, record.timestamp, now_ms())?,
                    None => record.timestamp,
                };
                out.push(value, timestamp);
            }
            Err(_) if self.settings.ignore_parse_errors => self.parse_errors.inc(),
            Err(message) => {
                return Err(WeirError::BadInput {
                    location: format!("Kafka {tp}, offset {offset}"),
                    message,
                })
            }
        }
        Ok(())
    }

    /// A bounded read of `tp` reached its end (the partition's end when the reader got
    /// there, told by partition EOF: Tansu, the test broker, reports wrong end offsets).
    fn finish_split(&mut self, tp: &TopicPartition) -> Result<()> {
        self.splits.remove(tp);
        if let Some(w) = &mut self.watermarks {
            w.remove_partition(tp);
        }
        let mut list = TopicPartitionList::new();
        list.add_partition(&tp.topic, tp.partition);
        self.consumer()
            .incremental_unassign(&list)
            .map_err(|e| WeirError::io(format!("unassigning Kafka {tp}"), e))
    }

    fn poll_error(&self, e: KafkaError) -> WeirError {
        WeirError::io(
            format!(
                "reading from the Kafka brokers at '{}'",
                self.settings.bootstrap()
            ),
            e,
        )
    }
}

impl<T: Record> SourceReader for KafkaSourceReader<T> {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        let mut config = self.settings.options.client_config();
        // Offsets are committed by the source when a checkpoint completes, never by the client.
        config.set("enable.auto.commit", "false");
        config.set("enable.auto.offset.store", "false");
        let bounded = self.settings.bounded == BoundedMode::LatestOffset;
        config.set("enable.partition.eof", bounded.to_string());
        if config.get("group.id").is_none() {
            config.set("group.id", format!("weir-{}", ctx.uid));
        }
        let consumer: BaseConsumer = config
            .create()
            .map_err(|e| WeirError::Config(format!("cannot create the Kafka consumer: {e}")))?;
        self.consumer = Some(Arc::new(consumer));
        self.parse_errors = ctx.metrics().counter("numRecordsInErrors");
        if let Some(strategy) = &self.settings.watermarks {
            let interval = ctx.config.get(&options::PIPELINE_AUTO_WATERMARK_INTERVAL)?;
            self.watermarks = Some(PartitionWatermarks::new(
                strategy.clone(),
                interval.as_millis() as i64,
                now_ms(),
            ));
        }
        self.discover(true)
    }

    fn poll_next(&mut self, max_records: usize) -> Result<SourcePoll> {
        if self.next_discovery.is_some_and(|at| Instant::now() >= at) {
            self.discover(false)?;
        }
        let mut records = Records::with_capacity(max_records.min(4096), true);
        let mut wait = POLL_WAIT;
        // The messages borrow the consumer, so poll through a second handle to it.
        let consumer = Arc::clone(self.consumer());
        while records.len() < max_records && !self.splits.is_empty() {
            match consumer.poll(wait) {
                None => break,
                Some(Ok(message)) => self.read(&message, &mut records)?,
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    // Bounded sources read a single topic, so the partition number names it.
                    if let Some(topic) = self.settings.topics.single() {
                        self.finish_split(&TopicPartition::new(topic, partition))?;
                    }
                }
                Some(Err(e)) => return Err(self.poll_error(e)),
            }
            wait = Duration::ZERO;
        }
        if let Some(w) = &mut self.watermarks {
            w.on_poll_end(now_ms());
        }
        let batch = Batch::from_records(records);
        Ok(
            if self.settings.bounded == BoundedMode::LatestOffset && self.splits.is_empty() {
                SourcePoll::Finished(batch)
            } else if self.splits.is_empty() {
                SourcePoll::Pending(batch, POLL_WAIT)
            } else {
                SourcePoll::Ready(batch)
            },
        )
    }

    fn take_event_time(&mut self, out: &mut Vec<SourceEventTime>) {
        if let Some(w) = &mut self.watermarks {
            w.take(out);
        }
    }
}
