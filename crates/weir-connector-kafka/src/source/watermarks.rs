//! Watermarks generated per partition and combined (Flink's per-split watermarks): every
//! partition a subtask reads has its own generator from the [`WatermarkStrategy`]; the
//! subtask's watermark is the minimum over the partitions that are not idle, so that a
//! partition without traffic does not hold event time back once the strategy's idle timeout
//! passed. A subtask without partitions, or whose partitions are all idle, is idle itself.

use std::collections::BTreeMap;

use weir_core::element::{Watermark, WatermarkStatus};
use weir_core::Result;
use weir_runtime::watermark::{WatermarkGenerator, WatermarkOutput, WatermarkStrategy};
use weir_runtime::SourceEventTime;

use super::split::TopicPartition;

/// The event-time clock of one partition.
struct PartitionClock<T> {
    generator: Box<dyn WatermarkGenerator<T>>,
    output: WatermarkOutput,
    watermark: Watermark,
    last_record_at: i64,
    idle: bool,
}

/// The watermarks of one source subtask; see the module documentation. Times are wall-clock
/// milliseconds passed in by the caller.
pub(crate) struct PartitionWatermarks<T> {
    strategy: WatermarkStrategy<T>,
    partitions: BTreeMap<TopicPartition, PartitionClock<T>>,
    interval_ms: i64,
    next_periodic: i64,
    combined: Watermark,
    idle: bool,
    pending: Vec<SourceEventTime>,
}

impl<T: 'static> PartitionWatermarks<T> {
    /// Watermarks by `strategy`, emitted periodically every `interval_ms` from `now`.
    pub fn new(strategy: WatermarkStrategy<T>, interval_ms: i64, now: i64) -> Self {
        PartitionWatermarks {
            strategy,
            partitions: BTreeMap::new(),
            interval_ms,
            next_periodic: now + interval_ms,
            combined: Watermark::MIN,
            idle: false,
            pending: Vec::new(),
        }
    }

    /// Starts tracking `partition` (it holds event time back until it has records or is idle).
    pub fn add_partition(&mut self, partition: TopicPartition, now: i64) {
        self.partitions
            .entry(partition)
            .or_insert_with(|| PartitionClock {
                generator: self.strategy.create_watermark_generator(),
                output: WatermarkOutput::default(),
                watermark: Watermark::MIN,
                last_record_at: now,
                idle: false,
            });
    }

    /// Stops tracking a partition that has ended.
    pub fn remove_partition(&mut self, partition: &TopicPartition) {
        self.partitions.remove(partition);
        self.combine();
    }

    /// The timestamp of a record of `partition` that Kafka stamped with `kafka_timestamp`,
    /// by the strategy's assigner if it has one; feeds the partition's generator.
    pub fn on_record(
        &mut self,
        partition: &TopicPartition,
        record: &T,
        kafka_timestamp: Option<i64>,
        now: i64,
    ) -> Result<Option<i64>> {
        let timestamp = match self.strategy.timestamp_assigner() {
            Some(assign) => Some(assign(record, kafka_timestamp.unwrap_or(i64::MIN))?),
            None => kafka_timestamp,
        };
        if let (Some(clock), Some(ts)) = (self.partitions.get_mut(partition), timestamp) {
            clock.generator.on_event(record, ts, &mut clock.output);
            clock.last_record_at = now;
            let was_idle = std::mem::replace(&mut clock.idle, false);
            if advance(clock) || was_idle {
                self.combine();
            }
        }
        Ok(timestamp)
    }

    /// Periodic emission and idleness, called after every poll.
    pub fn on_poll_end(&mut self, now: i64) {
        let periodic = now >= self.next_periodic;
        if periodic {
            self.next_periodic = now + self.interval_ms;
        }
        let timeout = self.strategy.idle_timeout().map(|d| d.as_millis() as i64);
        for clock in self.partitions.values_mut() {
            if periodic {
                clock.generator.on_periodic_emit(&mut clock.output);
                advance(clock);
            }
            if timeout.is_some_and(|t| now - clock.last_record_at >= t) {
                clock.idle = true;
            }
        }
        self.combine();
    }

    /// Moves the watermarks and status changes decided so far into `out`.
    pub fn take(&mut self, out: &mut Vec<SourceEventTime>) {
        out.append(&mut self.pending);
    }

    fn combine(&mut self) {
        let active = self.partitions.values().filter(|c| !c.idle);
        let minimum = active.map(|c| c.watermark).min();
        match minimum {
            None => {
                if !self.idle {
                    self.idle = true;
                    self.pending
                        .push(SourceEventTime::Status(WatermarkStatus::Idle));
                }
            }
            Some(minimum) => {
                if self.idle {
                    self.idle = false;
                    self.pending
                        .push(SourceEventTime::Status(WatermarkStatus::Active));
                }
                if minimum > self.combined {
                    self.combined = minimum;
                    self.pending.push(SourceEventTime::Watermark(minimum));
                }
            }
        }
    }
}

/// Takes what the partition's generator emitted; whether its watermark rose.
fn advance<T>(clock: &mut PartitionClock<T>) -> bool {
    match clock.output.take() {
        Some(w) if w > clock.watermark => {
            clock.watermark = w;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    fn drain(w: &mut PartitionWatermarks<u32>) -> Vec<SourceEventTime> {
        let mut out = Vec::new();
        w.take(&mut out);
        out
    }

    #[test]
    fn the_slowest_active_partition_decides_and_idle_ones_do_not_count() {
        let strategy = WatermarkStrategy::<u32>::for_bounded_out_of_orderness(Duration::ZERO)
            .with_idleness(Duration::from_millis(1000));
        let mut w = PartitionWatermarks::new(strategy, 100, 0);
        w.add_partition(tp(0), 0);
        w.add_partition(tp(1), 0);
        w.on_record(&tp(0), &1, Some(5_000), 50).unwrap();
        w.on_record(&tp(1), &1, Some(3_000), 50).unwrap();
        w.on_poll_end(100);
        assert_eq!(
            drain(&mut w),
            vec![SourceEventTime::Watermark(Watermark(2_999))]
        );
        // Partition 1 falls silent; partition 0 goes on. Before the timeout nothing moves.
        w.on_record(&tp(0), &1, Some(9_000), 900).unwrap();
        w.on_poll_end(1_000);
        assert_eq!(drain(&mut w), vec![]);
        // After it, partition 1 no longer holds event time back.
        w.on_poll_end(1_100);
        assert_eq!(
            drain(&mut w),
            vec![SourceEventTime::Watermark(Watermark(8_999))]
        );
        // All idle: the subtask is idle; a record makes it active again.
        w.on_poll_end(2_000);
        assert_eq!(
            drain(&mut w),
            vec![SourceEventTime::Status(WatermarkStatus::Idle)]
        );
        w.on_record(&tp(1), &1, Some(4_000), 2_050).unwrap();
        assert_eq!(
            drain(&mut w),
            vec![SourceEventTime::Status(WatermarkStatus::Active)]
        );
    }

    #[test]
    fn a_subtask_without_partitions_is_idle_and_assigners_override_kafka_time() {
        let strategy = WatermarkStrategy::<u32>::for_monotonous_timestamps()
            .with_timestamp_assigner(|v: &u32, _| Ok(*v as i64));
        let mut w = PartitionWatermarks::new(strategy, 100, 0);
        w.on_poll_end(100);
        assert_eq!(
            drain(&mut w),
            vec![SourceEventTime::Status(WatermarkStatus::Idle)]
        );
        w.add_partition(tp(0), 100);
        assert_eq!(w.on_record(&tp(0), &7, Some(1_000), 100).unwrap(), Some(7));
        w.on_poll_end(200);
        assert_eq!(
            drain(&mut w),
            vec![
                SourceEventTime::Status(WatermarkStatus::Active),
                SourceEventTime::Watermark(Watermark(6)),
            ]
        );
    }
}
