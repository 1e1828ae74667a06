//! The elements that flow through channels between tasks.
//!
//! Records always travel in [`Batch`]es (never one per channel send). Between batches a
//! channel can carry control elements: watermarks, checkpoint barriers and the end of input.

use std::any::Any;

use serde::{Deserialize, Serialize};

/// One element on a channel.
pub enum StreamElement {
    /// A batch of records.
    Batch(Batch),
    /// Event time has reached this point on the sending channel.
    Watermark(Watermark),
    /// The sending channel became idle or active again (idle channels do not hold back
    /// watermarks).
    WatermarkStatus(WatermarkStatus),
    /// A checkpoint barrier: everything before it belongs to the checkpoint.
    Barrier(CheckpointBarrier),
    /// The sending subtask will send nothing more.
    EndOfInput,
}

/// Event time in milliseconds since the epoch, as in Flink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Watermark(pub i64);

impl Watermark {
    /// The watermark before any event time is known.
    pub const MIN: Watermark = Watermark(i64::MIN);
    /// The watermark that ends event time (sent when a bounded input finishes).
    pub const MAX: Watermark = Watermark(i64::MAX);
}

/// Whether a channel currently produces data that should hold back watermarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WatermarkStatus {
    Active,
    Idle,
}

/// A checkpoint barrier injected at the sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointBarrier {
    pub checkpoint_id: u64,
    pub timestamp_ms: i64,
    /// Savepoints are checkpoints triggered by the user.
    pub is_savepoint: bool,
}

/// Type-erased records of one batch. Implemented for `Vec<T>` (typed DataStream records);
/// the SQL layer adds columnar batches.
pub trait BatchData: Send {
    /// Number of records.
    fn len(&self) -> usize;
    /// Whether the batch has no records.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A deep copy, for broadcasting to several outputs.
    fn clone_box(&self) -> Box<dyn BatchData>;
    /// Splits off the records from `at` on, as Vec::split_off does.
    fn split_off(&mut self, at: usize) -> Box<dyn BatchData>;
    /// For downcasting to the concrete type.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    /// For downcasting to the concrete type, by reference.
    fn as_any(&self) -> &dyn Any;
}

impl<T: Clone + Send + 'static> BatchData for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn clone_box(&self) -> Box<dyn BatchData> {
        Box::new(self.clone())
    }
    fn split_off(&mut self, at: usize) -> Box<dyn BatchData> {
        Box::new(Vec::split_off(self, at))
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A batch of records of some type, erased so that the runtime can move it without knowing
/// the type. The typed layers put records in with [`Batch::from_vec`] and take them out with
/// [`Batch::into_vec`].
pub struct Batch(Box<dyn BatchData>);

impl Batch {
    /// Wraps typed records.
    pub fn from_vec<T: Clone + Send + 'static>(records: Vec<T>) -> Self {
        Batch(Box::new(records))
    }

    /// Wraps any batch data.
    pub fn from_data(data: Box<dyn BatchData>) -> Self {
        Batch(data)
    }

    /// Takes the typed records out.
    ///
    /// # Panics
    /// If the batch holds another type: the job graph connects operators of matching types,
    /// so this is a bug in the layer that built the graph, never a data error.
    pub fn into_vec<T: 'static>(self) -> Vec<T> {
        match self.0.into_any().downcast::<Vec<T>>() {
            Ok(v) => *v,
            Err(_) => panic!(
                "weir internal error: batch is not a Vec<{}>",
                std::any::type_name::<T>()
            ),
        }
    }

    /// Borrows the batch data as a concrete type, if it is one.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref::<T>()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the batch has no records.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Splits off the records from `at` on.
    pub fn split_off(&mut self, at: usize) -> Batch {
        Batch(self.0.split_off(at))
    }
}

impl Clone for Batch {
    fn clone(&self) -> Self {
        Batch(self.0.clone_box())
    }
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Batch({} records)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_round_trips_and_splits() {
        let mut b = Batch::from_vec(vec![1u32, 2, 3, 4]);
        let copy = b.clone();
        let tail = b.split_off(3);
        assert_eq!(b.into_vec::<u32>(), vec![1, 2, 3]);
        assert_eq!(tail.into_vec::<u32>(), vec![4]);
        assert_eq!(copy.len(), 4);
    }
}
