//! A parallel data generator (Flink's `DataGeneratorSource`): record `i` of the sequence is
//! `generate(i)`. Optionally bounded by a count, optionally throttled to a total rate in
//! records per second, released in small batches (about 20 per second) on a fixed schedule
//! so that the long-run rate is exact.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_core::Result;

use super::{decode_splits, encode_splits, share_of, Source, SourceReader, SourceStatus};
use crate::functions::RuntimeContext;
use crate::Record;

/// Generates `generate(i)` for `i = 0, 1, 2, ...`.
pub struct GeneratorSource<F> {
    generate: Arc<F>,
    count: Option<u64>,
    records_per_second: Option<f64>,
}

impl<F> GeneratorSource<F> {
    /// `count` records (unbounded if `None`) at a total of `records_per_second` over all
    /// subtasks (as fast as possible if `None`).
    pub fn new(generate: F, count: Option<u64>, records_per_second: Option<f64>) -> Self {
        GeneratorSource {
            generate: Arc::new(generate),
            count,
            records_per_second,
        }
    }
}

impl<T: Record, F: Fn(u64) -> T + Send + Sync + 'static> Source<T> for GeneratorSource<F> {
    fn create_reader(&self, ctx: &RuntimeContext) -> Result<Box<dyn SourceReader<T>>> {
        let (next, end) = match self.count {
            Some(count) => share_of(count, ctx.subtask_index, ctx.parallelism),
            // Unbounded: subtasks take disjoint, practically endless ranges.
            None => share_of(u64::MAX, ctx.subtask_index, ctx.parallelism),
        };
        Ok(self.reader(ctx, VecDeque::from([(next, end)])))
    }

    fn restore_reader(
        &self,
        ctx: &RuntimeContext,
        splits: &[Vec<u8>],
    ) -> Result<Box<dyn SourceReader<T>>> {
        Ok(self.reader(ctx, decode_splits::<Range>(splits)?.into()))
    }
}

impl<F> GeneratorSource<F> {
    /// A reader of the index ranges `ranges`, at this subtask's share of the rate.
    fn reader<T: Record>(
        &self,
        ctx: &RuntimeContext,
        ranges: VecDeque<Range>,
    ) -> Box<dyn SourceReader<T>>
    where
        F: Fn(u64) -> T + Send + Sync + 'static,
    {
        let rate = self
            .records_per_second
            .map(|r| r / ctx.parallelism as f64)
            .filter(|r| *r > 0.0);
        Box::new(GeneratorReader {
            generate: Arc::clone(&self.generate),
            ranges,
            emitted: 0,
            rate,
            started: None,
        })
    }
}

/// The indexes `[next, end)` still to generate.
type Range = (u64, u64);

struct GeneratorReader<F> {
    generate: Arc<F>,
    ranges: VecDeque<Range>,
    emitted: u64,
    /// Records per second of this subtask.
    rate: Option<f64>,
    started: Option<Instant>,
}

impl<T: Record, F: Fn(u64) -> T + Send + Sync> SourceReader<T> for GeneratorReader<F> {
    fn snapshot_splits(&mut self) -> Result<Vec<Vec<u8>>> {
        encode_splits(&self.ranges)
    }

    fn poll_next(&mut self, out: &mut Vec<T>, max_records: usize) -> Result<SourceStatus> {
        let Some(&(next, end)) = self.ranges.front() else {
            return Ok(SourceStatus::Finished);
        };
        let mut allowed = (end - next).min(max_records as u64);
        if let Some(rate) = self.rate {
            let started = *self.started.get_or_insert_with(Instant::now);
            // Records are released in steps of `step` at fixed times: step k at k·step/rate s.
            let step = (rate / 20.0).ceil().max(1.0);
            let elapsed = started.elapsed().as_secs_f64();
            let due = (((elapsed * rate / step).floor() + 1.0) * step) as u64;
            if due <= self.emitted {
                let next_step_at = (self.emitted as f64 / step).floor() * step / rate;
                return Ok(SourceStatus::Pending(Duration::from_secs_f64(
                    (next_step_at - elapsed).max(0.0),
                )));
            }
            allowed = allowed.min(due - self.emitted);
        }
        out.extend((next..next + allowed).map(|i| (self.generate)(i)));
        self.emitted += allowed;
        if next + allowed == end {
            self.ranges.pop_front();
        } else if let Some(front) = self.ranges.front_mut() {
            front.0 = next + allowed;
        }
        Ok(if self.ranges.is_empty() {
            SourceStatus::Finished
        } else {
            SourceStatus::More
        })
    }
}
