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
use weir_core::{Result, WeirError};
use weir_runtime::job::SourceFactory;
use weir_runtime::SourcePoll;
use weir_state::{ListMode, ListSnapshot, StateSnapshot};

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
    /// The reader of the subtask described by `ctx` when the job is restored from a
    /// checkpoint: it reads `splits` (this subtask's share of what the readers'
    /// [`SourceReader::snapshot_splits`] returned), and nothing else.
    fn restore_reader(
        &self,
        ctx: &RuntimeContext,
        _splits: &[Vec<u8>],
    ) -> Result<Box<dyn SourceReader<T>>> {
        Err(WeirError::InvalidJob(format!(
            "source '{}' cannot be restored from a checkpoint: it does not implement Source::restore_reader",
            ctx.operator_name
        )))
    }
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
    /// The reader's position for a checkpoint: its unread splits, each encoded (with
    /// [`weir_state::encode`]) so that [`Source::restore_reader`] continues right after the
    /// records returned so far. Splits are spread over the subtasks on restore.
    fn snapshot_splits(&mut self) -> Result<Vec<Vec<u8>>> {
        Err(WeirError::Other(
            "this source does not support checkpoints (its reader does not implement SourceReader::snapshot_splits)".into(),
        ))
    }
}

/// The name of the list state that holds a source's splits in checkpoints.
const SPLITS: &str = "splits";

/// Adapts a typed reader to the runtime's erased one.
struct ErasedReader<T> {
    reader: Box<dyn SourceReader<T>>,
}

impl<T: Record> weir_runtime::SourceReader for ErasedReader<T> {
    fn open(&mut self, _ctx: &RuntimeContext) -> Result<()> {
        self.reader.open()
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        let list = ListSnapshot {
            mode: ListMode::Split,
            elements: self.reader.snapshot_splits()?,
        };
        snapshot.add_encoded_list(SPLITS, list);
        Ok(())
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
        let reader = match ctx.restored_state() {
            Some(restored) => source.restore_reader(ctx, restored.encoded_list(SPLITS))?,
            None => source.create_reader(ctx)?,
        };
        Ok(Box::new(ErasedReader { reader }) as Box<dyn weir_runtime::SourceReader>)
    })
}

/// Decodes restored splits of type `S`.
pub(crate) fn decode_splits<S: serde::de::DeserializeOwned>(splits: &[Vec<u8>]) -> Result<Vec<S>> {
    splits
        .iter()
        .map(|s| weir_state::decode(s, "source splits"))
        .collect()
}

/// Encodes splits for a checkpoint.
pub(crate) fn encode_splits<'a, S: serde::Serialize + 'a>(
    splits: impl IntoIterator<Item = &'a S>,
) -> Result<Vec<Vec<u8>>> {
    splits.into_iter().map(weir_state::encode).collect()
}

/// The part `[start, end)` of `0..total` that subtask `index` of `parallelism` handles.
pub(crate) fn share_of(total: u64, index: usize, parallelism: usize) -> (u64, u64) {
    let (i, p) = (index as u128, parallelism as u128);
    (
        (total as u128 * i / p) as u64,
        (total as u128 * (i + 1) / p) as u64,
    )
}
