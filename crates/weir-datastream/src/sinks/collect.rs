//! Collects a stream into memory shared with the caller (tests, `execute_and_collect`).

use std::sync::{Arc, Mutex};

use weir_core::Result;

use super::{Sink, SinkWriter};
use crate::functions::RuntimeContext;

/// Appends every record of every subtask to one shared vector.
pub struct CollectSink<T> {
    records: Arc<Mutex<Vec<T>>>,
}

impl<T> CollectSink<T> {
    /// A sink appending to `records`.
    pub fn new(records: Arc<Mutex<Vec<T>>>) -> Self {
        CollectSink { records }
    }
}

impl<T: Send + 'static> Sink<T> for CollectSink<T> {
    fn create_writer(&self, _ctx: &RuntimeContext) -> Result<Box<dyn SinkWriter<T>>> {
        Ok(Box::new(CollectSink {
            records: Arc::clone(&self.records),
        }))
    }
}

impl<T: Send> SinkWriter<T> for CollectSink<T> {
    fn write(&mut self, records: Vec<T>) -> Result<()> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(records);
        Ok(())
    }
}
