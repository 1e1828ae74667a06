//! User function traits that need more than a closure: process functions with side outputs.

use std::any::Any;

use weir_core::element::Batch;
use weir_core::Result;

use crate::stream::OutputTag;
use crate::Record;

/// What a function knows about the subtask it runs in (Flink's `RuntimeContext`).
pub use weir_runtime::OperatorContext as RuntimeContext;

/// A function called for every element, which may emit any number of records on the main
/// output and on side outputs (Flink's `ProcessFunction`).
///
/// Closures `FnMut(T, &mut ProcessContext<U>) -> Result<()>` are process functions too.
pub trait ProcessFunction<T, U>: Clone + Send + Sync + 'static {
    /// Called once per subtask before the first element.
    fn open(&mut self, _ctx: &RuntimeContext) -> Result<()> {
        Ok(())
    }
    /// Processes one element.
    fn process_element(&mut self, value: T, ctx: &mut ProcessContext<'_, U>) -> Result<()>;
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
    pub(crate) out: &'a mut Vec<U>,
    pub(crate) side: &'a mut SideOutputBuffers,
    pub(crate) runtime: &'a RuntimeContext,
}

impl<U> ProcessContext<'_, U> {
    /// Emits a record on the main output.
    pub fn collect(&mut self, value: U) {
        self.out.push(value);
    }

    /// Emits a record on the side output `tag`.
    pub fn output<X: Record>(&mut self, tag: &OutputTag<X>, value: X) {
        self.side.push(tag.id(), value);
    }

    /// The subtask this function runs in.
    pub fn runtime_context(&self) -> &RuntimeContext {
        self.runtime
    }
}

/// Records emitted to side outputs during one batch, by tag.
#[derive(Default)]
pub(crate) struct SideOutputBuffers {
    buffers: Vec<(String, Box<dyn SideBuffer>)>,
}

trait SideBuffer: Send {
    fn take_batch(&mut self) -> Batch;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<X: Record> SideBuffer for Vec<X> {
    fn take_batch(&mut self) -> Batch {
        Batch::from_vec(std::mem::take(self))
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl SideOutputBuffers {
    fn push<X: Record>(&mut self, tag: &str, value: X) {
        let index = match self.buffers.iter().position(|(t, _)| t == tag) {
            Some(i) => i,
            None => {
                self.buffers
                    .push((tag.to_string(), Box::new(Vec::<X>::new())));
                self.buffers.len() - 1
            }
        };
        match self.buffers[index].1.as_any_mut().downcast_mut::<Vec<X>>() {
            Some(buffer) => buffer.push(value),
            None => panic!("output tag '{tag}' is used with two different record types"),
        }
    }

    /// Takes the non-empty buffers as batches.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = (&str, Batch)> {
        self.buffers
            .iter_mut()
            .map(|(tag, buffer)| (tag.as_str(), buffer.take_batch()))
            .filter(|(_, b)| !b.is_empty())
    }
}
