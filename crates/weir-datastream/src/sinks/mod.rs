//! Sinks: where streams end. [`Sink`] is the public trait; `print`, text files, the
//! exactly-once [`FileSink`] and collecting into memory are built on it.

mod collect;
pub mod file;
mod print;
mod text_file;

pub use collect::CollectSink;
pub use file::FileSink;
pub use print::PrintSink;
pub use text_file::TextFileSink;

use weir_core::Result;
use weir_state::StateSnapshot;

use crate::functions::RuntimeContext;

/// A sink: creates one writer per parallel subtask.
pub trait Sink<T>: Send + Sync + 'static {
    /// The writer of the subtask described by `ctx`.
    fn create_writer(&self, ctx: &RuntimeContext) -> Result<Box<dyn SinkWriter<T>>>;
}

/// Writes the records of one sink subtask.
pub trait SinkWriter<T>: Send {
    /// Called once before the first write.
    fn open(&mut self, _ctx: &RuntimeContext) -> Result<()> {
        Ok(())
    }
    /// Writes a batch of records.
    fn write(&mut self, records: Vec<T>) -> Result<()>;
    /// The input ended: flush everything.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
    /// A checkpoint's barrier arrived after the records written so far: flush them and add
    /// what must survive a failure to `snapshot` (a two-phase-commit sink pre-commits here;
    /// it restores from the context's restored state when it is created).
    fn snapshot_state(&mut self, _snapshot: &mut StateSnapshot) -> Result<()> {
        Ok(())
    }
    /// Checkpoint `checkpoint_id` completed: commit what it covers.
    fn notify_checkpoint_complete(&mut self, _checkpoint_id: u64) -> Result<()> {
        Ok(())
    }
}

/// Every closure `FnMut(Vec<T>) -> Result<()>` that can be cloned per subtask is a sink.
impl<T, F> Sink<T> for F
where
    T: 'static,
    F: FnMut(Vec<T>) -> Result<()> + Clone + Send + Sync + 'static,
{
    fn create_writer(&self, _ctx: &RuntimeContext) -> Result<Box<dyn SinkWriter<T>>> {
        Ok(Box::new(FnWriter(self.clone())))
    }
}

struct FnWriter<F>(F);

impl<T, F: FnMut(Vec<T>) -> Result<()> + Send> SinkWriter<T> for FnWriter<F> {
    fn write(&mut self, records: Vec<T>) -> Result<()> {
        (self.0)(records)
    }
}
