//! A non-parallel source of the elements of a vector (Flink's `fromCollection`).

use std::sync::Arc;

use weir_core::Result;

use super::{decode_splits, encode_splits, Source, SourceReader, SourceStatus};
use crate::functions::RuntimeContext;
use crate::Record;

/// Emits the elements of a vector in order, once.
pub struct CollectionSource<T> {
    elements: Arc<Vec<T>>,
}

impl<T> CollectionSource<T> {
    /// A source of `elements`.
    pub fn new(elements: Vec<T>) -> Self {
        CollectionSource {
            elements: Arc::new(elements),
        }
    }
}

impl<T: Record + Sync> Source<T> for CollectionSource<T> {
    fn max_parallelism(&self) -> Option<usize> {
        Some(1)
    }

    fn create_reader(&self, _ctx: &RuntimeContext) -> Result<Box<dyn SourceReader<T>>> {
        Ok(Box::new(CollectionReader {
            elements: Arc::clone(&self.elements),
            next: 0,
        }))
    }

    /// The split is the index of the next element; without one, the collection was read.
    fn restore_reader(
        &self,
        _ctx: &RuntimeContext,
        splits: &[Vec<u8>],
    ) -> Result<Box<dyn SourceReader<T>>> {
        let next = decode_splits::<usize>(splits)?
            .into_iter()
            .min()
            .unwrap_or(self.elements.len());
        Ok(Box::new(CollectionReader {
            elements: Arc::clone(&self.elements),
            next,
        }))
    }
}

struct CollectionReader<T> {
    elements: Arc<Vec<T>>,
    next: usize,
}

impl<T: Record + Sync> SourceReader<T> for CollectionReader<T> {
    fn snapshot_splits(&mut self) -> Result<Vec<Vec<u8>>> {
        if self.next == self.elements.len() {
            return Ok(Vec::new());
        }
        encode_splits([&self.next])
    }

    fn poll_next(&mut self, out: &mut Vec<T>, max_records: usize) -> Result<SourceStatus> {
        let end = (self.next + max_records).min(self.elements.len());
        out.extend_from_slice(&self.elements[self.next..end]);
        self.next = end;
        Ok(if end == self.elements.len() {
            SourceStatus::Finished
        } else {
            SourceStatus::More
        })
    }
}
