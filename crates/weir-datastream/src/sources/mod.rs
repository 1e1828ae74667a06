//! Sources: where streams start. [`Source`] is the public trait (one [`SourceReader`] per
//! parallel subtask); collections, number sequences, text files, sockets and a rate-limited
//! generator are built on it.

mod collection;
mod generator;
mod sequence;
mod socket;
mod text_file;

pub use collection::CollectionSource;
pub use generator::GeneratorSource;
pub use sequence::SequenceSource;
pub use socket::SocketTextSource;
pub use text_file::TextFileSource;

use std::sync::Arc;
use std::time::Duration;

use weir_core::element::Batch;
use weir_core::Result;
use weir_runtime::job::SourceFactory;
use weir_runtime::SourcePoll;

use crate::functions::RuntimeContext;
use crate::Record;

/// A source of records of type `T`.
pub trait Source<T>: Send + Sync + 'static {
    /// `Some(1)` for sources that cannot run in parallel (collections, sockets).
    fn max_parallelism(&self) -> Option<usize> {
        None
    }
    /// The reader of the subtask described by `ctx`.
    fn create_reader(&self, ctx: &RuntimeContext) -> Result<Box<dyn SourceReader<T>>>;
}

/// What a reader says after a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStatus {
    /// More records may be read at once.
    More,
    /// Nothing more before this much time has passed (rate limits, waiting on a socket).
    Pending(Duration),
    /// The input has ended.
    Finished,
}

/// Reads the records of one source subtask.
pub trait SourceReader<T>: Send {
    /// Called once before the first poll: connect, open files.
    fn open(&mut self) -> Result<()> {
        Ok(())
    }
    /// Appends up to `max_records` records to `out`, blocking for at most ~100 ms.
    fn poll_next(&mut self, out: &mut Vec<T>, max_records: usize) -> Result<SourceStatus>;
}

/// Adapts a typed reader to the runtime's erased one.
struct ErasedReader<T> {
    reader: Box<dyn SourceReader<T>>,
}

impl<T: Record> weir_runtime::SourceReader for ErasedReader<T> {
    fn open(&mut self, _ctx: &RuntimeContext) -> Result<()> {
        self.reader.open()
    }

    fn poll_next(&mut self, max_records: usize) -> Result<SourcePoll> {
        let mut out = Vec::with_capacity(max_records.min(4096));
        let status = self.reader.poll_next(&mut out, max_records)?;
        let batch = Batch::from_vec(out);
        Ok(match status {
            SourceStatus::More => SourcePoll::Ready(batch),
            SourceStatus::Pending(wait) => SourcePoll::Pending(batch, wait),
            SourceStatus::Finished => SourcePoll::Finished(batch),
        })
    }
}

/// The runtime factory for a typed source.
pub(crate) fn source_factory<T: Record>(source: impl Source<T>) -> SourceFactory {
    let source = Arc::new(source);
    Arc::new(move |ctx| {
        Ok(Box::new(ErasedReader {
            reader: source.create_reader(ctx)?,
        }) as Box<dyn weir_runtime::SourceReader>)
    })
}

/// The part `[start, end)` of `0..total` that subtask `index` of `parallelism` handles.
pub(crate) fn share_of(total: u64, index: usize, parallelism: usize) -> (u64, u64) {
    let (i, p) = (index as u128, parallelism as u128);
    (
        (total as u128 * i / p) as u64,
        (total as u128 * (i + 1) / p) as u64,
    )
}
