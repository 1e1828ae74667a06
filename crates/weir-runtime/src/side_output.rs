//! Side outputs: records an operator emits besides its main output, under an [`OutputTag`].

use std::any::Any;
use std::marker::PhantomData;

use weir_core::element::{Batch, Records};
use weir_core::Result;

use crate::operator::Output;

/// Names a side output and its record type (Flink's `OutputTag`).
pub struct OutputTag<T> {
    id: String,
    _t: PhantomData<fn() -> T>,
}

impl<T> OutputTag<T> {
    /// A tag named `id`.
    pub fn new(id: &str) -> Self {
        OutputTag {
            id: id.to_string(),
            _t: PhantomData,
        }
    }

    /// The tag's name.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl<T> Clone for OutputTag<T> {
    fn clone(&self) -> Self {
        OutputTag::new(&self.id)
    }
}

/// Records emitted to side outputs while an operator processes a batch, by tag.
#[derive(Default)]
pub struct SideOutputBuffers {
    buffers: Vec<(String, Box<dyn SideBuffer>)>,
}

trait SideBuffer: Send {
    fn take_batch(&mut self) -> Batch;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<X: Clone + Send + 'static> SideBuffer for Records<X> {
    fn take_batch(&mut self) -> Batch {
        let timed = self.timestamps.is_some();
        Batch::from_records(std::mem::replace(self, Records::with_capacity(0, timed)))
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl SideOutputBuffers {
    /// Buffers `value` for the side output `tag`.
    ///
    /// # Panics
    /// If the same tag name is used with two record types (a programming error, reported as
    /// the operator's failure).
    pub fn push<X: Clone + Send + 'static>(
        &mut self,
        tag: &OutputTag<X>,
        value: X,
        timestamp: Option<i64>,
    ) {
        let index = match self.buffers.iter().position(|(t, _)| t == tag.id()) {
            Some(i) => i,
            None => {
                let buffer = Records::<X>::with_capacity(0, timestamp.is_some());
                self.buffers.push((tag.id().to_string(), Box::new(buffer)));
                self.buffers.len() - 1
            }
        };
        match self.buffers[index]
            .1
            .as_any_mut()
            .downcast_mut::<Records<X>>()
        {
            Some(buffer) => buffer.push(value, timestamp),
            None => panic!(
                "output tag '{}' is used with two different record types",
                tag.id()
            ),
        }
    }

    /// Emits the buffered records of every tag.
    pub fn flush(&mut self, out: &mut dyn Output) -> Result<()> {
        for (tag, buffer) in &mut self.buffers {
            let batch = buffer.take_batch();
            if !batch.is_empty() {
                out.collect_side(tag, batch)?;
            }
        }
        Ok(())
    }
}
