//! The reader of one source subtask: finds its partitions, resolves where each starts (from
//! the restored checkpoint or the startup mode), polls the consumer, deserializes, stamps and
//! watermarks the records, and keeps each partition's next offset (the split state), which
//! checkpoints store and commit to the consumer group (see [`super::checkpoint`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};
use weir_core::config::options;
use weir_core::element::{Batch, Records};
use weir_core::metrics::Counter;
use weir_core::{Result, WeirError};
use weir_runtime::operator::now_ms;
use weir_runtime::{OperatorContext, SourceEventTime, SourcePoll, SourceReader};
use weir_state::{ListMode, StateSnapshot};

use super::checkpoint::{restored_splits, OffsetCommits, SPLITS_STATE};
use super::split::{PartitionSplit, TopicPartition};
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
    /// Partitions a bounded read finished.
    finished: BTreeSet<TopicPartition>,
    /// The splits of this subtask in the checkpoint the job was restored from, if it was.
    restored: Option<BTreeMap<TopicPartition, PartitionSplit>>,
    commits: OffsetCommits,
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
            finished: BTreeSet::new(),
            restored: None,
            commits: OffsetCommits::default(),
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
    /// them: where the restored checkpoint says, else at the configured start the first time,
    /// and from the earliest offset for partitions that appeared later (new partitions, as in
    /// Flink).
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
                if tp.owner(self.parallelism) == self.subtask
                    && !self.splits.contains_key(&tp)
                    && !self.finished.contains(&tp)
                {
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
        if !initial {
            tracing::info!("Kafka source subtask {} discovered {:?}", self.subtask, new);
        }
        let (mut at_offset, mut at_startup, mut at_earliest) = (Vec::new(), Vec::new(), Vec::new());
        for tp in new {
            match self.restored.as_ref().map(|r| r.get(&tp)) {
                Some(Some(split)) => match split.next_offset {
                    Some(offset) => at_offset.push((tp, Offset::Offset(offset))),
                    None => at_startup.push(tp),
                },
                // Not in the checkpoint: the partition is new since.
                Some(None) => at_earliest.push(tp),
                None if initial => at_startup.push(tp),
                None => at_earliest.push(tp),
            }
        }
        self.assign(at_offset, None)?;
        let consumer = Arc::clone(self.consumer());
        let options = &settings.options;
        let earliest = StartupMode::EarliestOffset;
        let starts = starting_offsets(&earliest, options, &consumer, &at_earliest, timeout)?;
        self.assign(starts, None)?;
        let starts = starting_offsets(&settings.startup, options, &consumer, &at_startup, timeout)?;
        let skip_before = match settings.startup {
            StartupMode::Timestamp(millis) => Some(millis),
            _ => None,
        };
        self.assign(starts, skip_before)
    }

    /// The position of every split of this subtask, for a checkpoint.
    fn positions(&self) -> Vec<PartitionSplit> {
        let reading = self.splits.iter().map(|(tp, split)| PartitionSplit {
            partition: tp.clone(),
            next_offset: split.next_offset,
            finished: false,
        });
        let finished = self.finished.iter().map(|tp| PartitionSplit {
            partition: tp.clone(),
            next_offset: None,
            finished: true,
        });
        // Restored splits whose partitions the metadata has not shown again yet.
        let waiting = self
            .restored
            .iter()
            .flat_map(|r| r.values())
            .filter(|split| {
                !self.splits.contains_key(&split.partition)
                    && !self.finished.contains(&split.partition)
            });
        reading.chain(finished).chain(waiting.cloned()).collect()
    }

    fn assign(
        &mut self,
        starts: Vec<(TopicPartition, Offset)>,
        skip_before: Option<i64>,
    ) -> Result<()> {
        if starts.is_empty() {
            return Ok(());
        }
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
        self.finished.insert(tp.clone());
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
        if let Some(restored) = ctx.restored_state() {
            let splits = restored_splits(restored, self.subtask, self.parallelism)?;
            self.finished = (splits.values())
                .filter(|split| split.finished)
                .map(|split| split.partition.clone())
                .collect();
            self.restored = Some(splits);
        }
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

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        let positions = self.positions();
        snapshot.add_list(SPLITS_STATE, ListMode::Union, &positions)?;
        let offsets = positions
            .into_iter()
            .filter_map(|split| Some((split.partition, split.next_offset?)))
            .collect();
        self.commits.remember(snapshot.checkpoint_id(), offsets);
        Ok(())
    }

    /// Commits the offsets of the completed checkpoint to the consumer group, asynchronously
    /// (as Flink does; a failed commit is logged by the client and does not fail the job:
    /// the source restores from checkpoints, not from the group).
    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> Result<()> {
        let Some(offsets) = self.commits.complete(checkpoint_id) else {
            return Ok(());
        };
        if offsets.is_empty() {
            return Ok(());
        }
        let mut list = TopicPartitionList::new();
        for (tp, offset) in &offsets {
            list.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*offset))
                .map_err(|e| WeirError::io(format!("Kafka {tp}"), e))?;
        }
        if let Err(e) = self.consumer().commit(&list, CommitMode::Async) {
            tracing::warn!(
                "Kafka source subtask {}: committing the offsets of checkpoint {checkpoint_id} \
                 to the consumer group failed: {e}",
                self.subtask
            );
        }
        Ok(())
    }

    fn take_event_time(&mut self, out: &mut Vec<SourceEventTime>) {
        if let Some(w) = &mut self.watermarks {
            w.take(out);
        }
    }
}
