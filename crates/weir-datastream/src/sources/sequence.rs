//! A parallel source of the numbers `from..=to` (Flink's `fromSequence`): each subtask emits
//! one contiguous share, in order.

use weir_core::Result;

use super::{share_of, Source, SourceReader, SourceStatus};
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

impl Source<i64> for SequenceSource {
    fn create_reader(&self, ctx: &RuntimeContext) -> Result<Box<dyn SourceReader<i64>>> {
        let count = if self.to < self.from {
            0
        } else {
            (self.to as i128 - self.from as i128 + 1) as u64
        };
        let (start, end) = share_of(count, ctx.subtask_index, ctx.parallelism);
        Ok(Box::new(SequenceReader {
            next: self.from as i128 + start as i128,
            end: self.from as i128 + end as i128,
        }))
    }
}

struct SequenceReader {
    next: i128,
    end: i128,
}

impl SourceReader<i64> for SequenceReader {
    fn poll_next(&mut self, out: &mut Vec<i64>, max_records: usize) -> Result<SourceStatus> {
        let stop = self.end.min(self.next + max_records as i128);
        out.extend((self.next..stop).map(|n| n as i64));
        self.next = stop;
        Ok(if stop == self.end {
            SourceStatus::Finished
        } else {
            SourceStatus::More
        })
    }
}
