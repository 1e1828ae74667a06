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
/// the type, with an optional event-time timestamp per record. The typed layers put records in
/// with [`Batch::from_records`] and take them out with [`Batch::into_records`].
pub struct Batch {
    data: Box<dyn BatchData>,
    timestamps: Option<Vec<i64>>,
}

impl Batch {
    /// Wraps typed records without timestamps.
    pub fn from_vec<T: Clone + Send + 'static>(records: Vec<T>) -> Self {
        Batch {
            data: Box::new(records),
            timestamps: None,
        }
    }

    /// Wraps typed records with their timestamps, if any.
    pub fn from_records<T: Clone + Send + 'static>(records: Records<T>) -> Self {
        Batch {
            data: Box::new(records.values),
            timestamps: records.timestamps,
        }
    }

    /// Wraps any batch data.
    pub fn from_data(data: Box<dyn BatchData>, timestamps: Option<Vec<i64>>) -> Self {
        Batch { data, timestamps }
    }

    /// Takes the typed records out, without their timestamps.
    pub fn into_vec<T: 'static>(self) -> Vec<T> {
        self.into_records().values
    }

    /// Takes the typed records and their timestamps out.
    ///
    /// # Panics
    /// If the batch holds another type: the job graph connects operators of matching types,
    /// so this is a bug in the layer that built the graph, never a data error.
    pub fn into_records<T: 'static>(self) -> Records<T> {
        match self.data.into_any().downcast::<Vec<T>>() {
            Ok(values) => Records {
                values: *values,
                timestamps: self.timestamps,
            },
            Err(_) => panic!(
                "weir internal error: batch is not a Vec<{}>",
                std::any::type_name::<T>()
            ),
        }
    }

    /// Borrows the batch data as a concrete type, if it is one.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.data.as_any().downcast_ref::<T>()
    }

    /// The records' timestamps, if they have any.
    pub fn timestamps(&self) -> Option<&[i64]> {
        self.timestamps.as_deref()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the batch has no records.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Splits off the records from `at` on.
    pub fn split_off(&mut self, at: usize) -> Batch {
        Batch {
            data: self.data.split_off(at),
            timestamps: self.timestamps.as_mut().map(|t| t.split_off(at)),
        }
    }
}

impl Clone for Batch {
    fn clone(&self) -> Self {
        Batch {
            data: self.data.clone_box(),
            timestamps: self.timestamps.clone(),
        }
    }
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Batch({} records)", self.len())
    }
}

/// Typed records with an optional event-time timestamp each (`timestamps`, when present, is
/// as long as `values`). Its methods keep the timestamps with their records.
#[derive(Debug, Clone, PartialEq)]
pub struct Records<T> {
    pub values: Vec<T>,
    pub timestamps: Option<Vec<i64>>,
}

impl<T> Records<T> {
    /// Records without timestamps.
    pub fn new(values: Vec<T>) -> Self {
        Records {
            values,
            timestamps: None,
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Each record with its timestamp (`None` for records without one, including those stored
    /// as `i64::MIN`, Flink's "no timestamp").
    pub fn into_iter_timestamped(self) -> impl Iterator<Item = (T, Option<i64>)> {
        let timestamps = self.timestamps.map(Vec::into_iter);
        let mut timestamps = timestamps.into_iter().flatten();
        self.values
            .into_iter()
            .map(move |v| (v, timestamps.next().filter(|t| *t != i64::MIN)))
    }

    /// Applies `f` to every value; timestamps stay.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Records<U> {
        Records {
            values: self.values.into_iter().map(f).collect(),
            timestamps: self.timestamps,
        }
    }

    /// Applies a fallible `f` to every value; timestamps stay.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Records<U>, E> {
        Ok(Records {
            values: self.values.into_iter().map(f).collect::<Result<_, E>>()?,
            timestamps: self.timestamps,
        })
    }

    /// Keeps the records for which `keep` is true, with their timestamps.
    pub fn filter(mut self, mut keep: impl FnMut(&T) -> bool) -> Records<T> {
        match self.timestamps.take() {
            None => {
                self.values.retain(|v| keep(v));
                self
            }
            Some(ts) => {
                let mut out = Records::with_capacity(self.values.len(), true);
                for (v, t) in self.values.into_iter().zip(ts) {
                    if keep(&v) {
                        out.push(v, Some(t));
                    }
                }
                out
            }
        }
    }

    /// Replaces every record by the records `f` returns, each with the original's timestamp.
    pub fn flat_map<U, I: IntoIterator<Item = U>>(self, mut f: impl FnMut(T) -> I) -> Records<U> {
        let timed = self.timestamps.is_some();
        let mut out = Records::with_capacity(self.values.len(), timed);
        for (v, t) in self.into_iter_timestamped() {
            for u in f(v) {
                out.push(u, t);
            }
        }
        out
    }

    /// Empty records with room for `capacity`, with a timestamp column if `timed`.
    pub fn with_capacity(capacity: usize, timed: bool) -> Self {
        Records {
            values: Vec::with_capacity(capacity),
            timestamps: timed.then(|| Vec::with_capacity(capacity)),
        }
    }

    /// Appends a record; its timestamp is kept if these records have timestamps (a missing
    /// one counts as `i64::MIN`, Flink's "no timestamp").
    pub fn push(&mut self, value: T, timestamp: Option<i64>) {
        self.values.push(value);
        if let Some(ts) = &mut self.timestamps {
            ts.push(timestamp.unwrap_or(i64::MIN));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_timestamps_through_filter_and_flat_map() {
        let r = Records {
            values: vec![1, 2, 3],
            timestamps: Some(vec![10, 20, 30]),
        };
        let r = r.filter(|v| *v != 2).flat_map(|v| vec![v; v as usize]);
        assert_eq!(r.values, vec![1, 3, 3, 3]);
        assert_eq!(r.timestamps, Some(vec![10, 30, 30, 30]));
        let mut b = Batch::from_records(r);
        let tail = b.split_off(3);
        assert_eq!(tail.timestamps(), Some(&[30][..]));
    }

    #[test]
    fn a_missing_timestamp_stays_missing() {
        let mut r = Records::with_capacity(2, true);
        r.push("with", Some(5));
        r.push("without", None);
        let back: Vec<_> = r.into_iter_timestamped().collect();
        assert_eq!(back, vec![("with", Some(5)), ("without", None)]);
    }

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
