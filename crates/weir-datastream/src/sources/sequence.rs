//! A parallel source of the numbers `from..=to` (Flink's `fromSequence`): each subtask emits
//! one contiguous share, in order. In checkpoints, the rest of each share is a split.

use std::collections::VecDeque;

use weir_core::Result;

use super::{decode_splits, encode_splits, share_of, Source, SourceReader, SourceStatus};
use crate::functions::RuntimeContext;

/// Emits the numbers from `from` to `to`, both included.
pub struct SequenceSource {
    from: i64,
    to: i64,
}

impl SequenceSource {
    /// The numbers `from..=to` (none if `to < from`).
    pub fn new(from: i64, to: i64) -> Self {
        SequenceSource { from, to }
    }
}

/// The numbers `[next, end)` still to emit.
type Range = (i128, i128);

impl Source<i64> for SequenceSource {
    fn create_reader(&self, ctx: &RuntimeContext) -> Result<Box<dyn SourceReader<i64>>> {
        let count = if self.to < self.from {
            0
        } else {
            (self.to as i128 - self.from as i128 + 1) as u64
        };
        let (start, end) = share_of(count, ctx.subtask_index, ctx.parallelism);
        let range = (
            self.from as i128 + start as i128,
            self.from as i128 + end as i128,
        );
        Ok(Box::new(SequenceReader {
            ranges: VecDeque::from([range]),
        }))
    }

    fn restore_reader(
        &self,
        _ctx: &RuntimeContext,
        splits: &[Vec<u8>],
    ) -> Result<Box<dyn SourceReader<i64>>> {
        Ok(Box::new(SequenceReader {
            ranges: decode_splits::<Range>(splits)?.into(),
        }))
    }
}

struct SequenceReader {
    ranges: VecDeque<Range>,
}

impl SourceReader<i64> for SequenceReader {
    fn poll_next(&mut self, out: &mut Vec<i64>, max_records: usize) -> Result<SourceStatus> {
        let Some((next, end)) = self.ranges.front_mut() else {
            return Ok(SourceStatus::Finished);
        };
        let stop = (*end).min(*next + max_records as i128);
        out.extend((*next..stop).map(|n| n as i64));
        *next = stop;
        if stop == *end {
            self.ranges.pop_front();
        }
        Ok(if self.ranges.is_empty() {
            SourceStatus::Finished
        } else {
            SourceStatus::More
        })
    }

    fn snapshot_splits(&mut self) -> Result<Vec<Vec<u8>>> {
        encode_splits(&self.ranges)
    }
}
