//! User function traits that need more than a closure: process functions with side outputs.

use weir_core::element::Records;
use weir_core::Result;
use weir_state::StateSnapshot;

use crate::Record;
use weir_runtime::side_output::{OutputTag, SideOutputBuffers};

/// What a function knows about the subtask it runs in (Flink's `RuntimeContext`).
pub use weir_runtime::OperatorContext as RuntimeContext;

/// A function called for every element, which may emit any number of records on the main
/// output and on side outputs (Flink's `ProcessFunction`).
///
/// Closures `FnMut(T, &mut ProcessContext<U>) -> Result<()>` are process functions too.
///
/// Operator state (Flink's `CheckpointedFunction`): add it to checkpoints in
/// [`snapshot_state`](ProcessFunction::snapshot_state) as list state
/// (`snapshot.add_list(name, ListMode::Split or ListMode::Union, elements)`), and take it back
/// in `open` from `ctx.restored_state()` (`restored.list::<T>(name)`): with `Split` each
/// subtask gets a share of all elements when the parallelism changes, with `Union` every
/// subtask gets all of them.
pub trait ProcessFunction<T, U>: Clone + Send + Sync + 'static {
    /// Called once per subtask before the first element.
    fn open(&mut self, _ctx: &RuntimeContext) -> Result<()> {
        Ok(())
    }
    /// Processes one element.
    fn process_element(&mut self, value: T, ctx: &mut ProcessContext<'_, U>) -> Result<()>;
    /// Adds the function's operator state to the checkpoint being taken.
    fn snapshot_state(&mut self, _snapshot: &mut StateSnapshot) -> Result<()> {
        Ok(())
    }
    /// The input ended: emit what the function still holds.
    fn finish(&mut self, _ctx: &mut ProcessContext<'_, U>) -> Result<()> {
        Ok(())
    }
}

impl<T, U, F> ProcessFunction<T, U> for F
where
    F: FnMut(T, &mut ProcessContext<'_, U>) -> Result<()> + Clone + Send + Sync + 'static,
{
    fn process_element(&mut self, value: T, ctx: &mut ProcessContext<'_, U>) -> Result<()> {
        self(value, ctx)
    }
}

/// Lets a process function emit records and read its context.
pub struct ProcessContext<'a, U> {
    pub(crate) out: &'a mut Records<U>,
    pub(crate) side: &'a mut SideOutputBuffers,
    pub(crate) runtime: &'a RuntimeContext,
    pub(crate) timestamp: Option<i64>,
}

impl<U> ProcessContext<'_, U> {
    /// Emits a record on the main output, with the current element's timestamp.
    pub fn collect(&mut self, value: U) {
        self.out.push(value, self.timestamp);
    }

    /// Emits a record on the side output `tag`, with the current element's timestamp.
    pub fn output<X: Record>(&mut self, tag: &OutputTag<X>, value: X) {
        self.side.push(tag, value, self.timestamp);
    }

    /// The event-time timestamp of the current element, if it has one.
    pub fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }

    /// The subtask this function runs in.
    pub fn runtime_context(&self) -> &RuntimeContext {
        self.runtime
    }
}
