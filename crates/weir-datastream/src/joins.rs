//! Joins and co-groups of two streams, in event time (Flink's `connect(..).keyBy(..)`,
//! `intervalJoin`, `join` and `coGroup`).
//!
//! - [`KeyedStream::connect_keyed`] + [`ConnectedKeyedStreams::process`]: a
//!   [`KeyedCoProcessFunction`] over two streams keyed alike, with shared keyed state and
//!   timers. The joins below are such functions.
//! - [`KeyedStream::interval_join`]: pairs `(a, b)` of equal keys with
//!   `a.ts + lower <= b.ts <= a.ts + upper`, given to a [`ProcessJoinFunction`].
//! - [`DataStream::join`] and [`DataStream::co_group`]: per key and [`JoinWindow`] (tumbling or
//!   sliding event-time windows), every pair of elements (inner join), or both sides' elements
//!   at once (co-group).
//!
//! ```
//! use weir_datastream::prelude::*;
//! use std::time::Duration;
//!
//! let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
//! let timed = |s: DataStream<(String, i64)>| {
//!     s.assign_timestamps_and_watermarks(
//!         WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|e: &(String, i64), _| Ok(e.1)),
//!     )
//! };
//! let clicks = timed(env.from_collection(vec![("a".to_string(), 1_000), ("b".to_string(), 2_000)]));
//! let views = timed(env.from_collection(vec![("a".to_string(), 1_500), ("a".to_string(), 9_000)]));
//! let pairs = clicks
//!     .join(&views)
//!     .where_key(|c: &(String, i64)| c.0.clone())
//!     .equal_to(|v: &(String, i64)| v.0.clone())
//!     .window(JoinWindow::tumbling(Duration::from_secs(5)))
//!     .apply(|c, v| (c.0, c.1, v.1))
//!     .execute_and_collect()
//!     .unwrap();
//! assert_eq!(pairs, vec![("a".to_string(), 1_000, 1_500)]);
//! ```

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use weir_core::Result;
use weir_runtime::job::OperatorFactory;
use weir_runtime::keyed_co::interval_join::IntervalJoin as IntervalJoinFunction;
use weir_runtime::keyed_co::window_join::WindowCoGroup;
use weir_runtime::keyed_co::KeyedCoProcessOperator;
use weir_runtime::StreamOperator;

pub use weir_runtime::keyed_co::interval_join::{ProcessJoinContext, ProcessJoinFunction};
pub use weir_runtime::keyed_co::KeyedCoProcessFunction;

use crate::stream::{DataStream, KeyedStream};
use crate::{Key, Record};

impl<T, K, F> KeyedStream<T, K, F>
where
    T: Record,
    K: Key,
    F: Fn(&T) -> K + Clone + Send + Sync + 'static,
{
    /// Connects this keyed stream with another keyed by the same key type, for a
    /// [`KeyedCoProcessFunction`]: records of both with equal keys share state and timers.
    pub fn connect_keyed<B, FB>(
        &self,
        other: &KeyedStream<B, K, FB>,
    ) -> ConnectedKeyedStreams<T, B, K, F, FB>
    where
        B: Record,
        FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
    {
        ConnectedKeyedStreams {
            first: self.clone(),
            second: other.clone(),
        }
    }

    /// Starts an interval join of this stream (left) with `other` (right); set the interval
    /// with [`IntervalJoin::between`]. Both streams need event-time timestamps.
    pub fn interval_join<B, FB>(
        &self,
        other: &KeyedStream<B, K, FB>,
    ) -> IntervalJoin<T, B, K, F, FB>
    where
        B: Record,
        FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
    {
        IntervalJoin {
            streams: self.connect_keyed(other),
        }
    }
}

/// Two streams keyed by the same key type, feeding one keyed two-input operator.
pub struct ConnectedKeyedStreams<A, B, K, FA, FB> {
    first: KeyedStream<A, K, FA>,
    second: KeyedStream<B, K, FB>,
}

impl<A, B, K, FA: Clone, FB: Clone> Clone for ConnectedKeyedStreams<A, B, K, FA, FB> {
    fn clone(&self) -> Self {
        ConnectedKeyedStreams {
            first: self.first.clone(),
            second: self.second.clone(),
        }
    }
}

impl<A, B, K, FA, FB> ConnectedKeyedStreams<A, B, K, FA, FB>
where
    A: Record,
    B: Record,
    K: Key,
    FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
    FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
{
    /// Runs a [`KeyedCoProcessFunction`] over both streams.
    pub fn process<O: Record>(
        &self,
        function: impl KeyedCoProcessFunction<K, A, B, O>,
    ) -> DataStream<O> {
        self.process_named("KeyedCoProcess", Ok(function))
    }

    /// Adds the operator `name` running `function`; an invalid function (an error) fails the
    /// job when it starts, naming the operator.
    fn process_named<O: Record, P: KeyedCoProcessFunction<K, A, B, O>>(
        &self,
        name: &str,
        function: Result<P>,
    ) -> DataStream<O> {
        let (key_a, key_b) = (self.first.key_of.clone(), self.second.key_of.clone());
        let factory: OperatorFactory = Arc::new(move |_ctx| {
            Ok(Box::new(KeyedCoProcessOperator::new(
                key_a.clone(),
                key_b.clone(),
                function.clone()?,
            )) as Box<dyn StreamOperator>)
        });
        self.first
            .stream
            .add_operator(name, Some(&self.second.stream.refs), factory)
    }
}

/// An interval join waiting for its interval (Flink's `IntervalJoin`).
pub struct IntervalJoin<A, B, K, FA, FB> {
    streams: ConnectedKeyedStreams<A, B, K, FA, FB>,
}

impl<A, B, K, FA, FB> IntervalJoin<A, B, K, FA, FB>
where
    A: Record,
    B: Record,
    K: Key,
    FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
    FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
{
    /// Joins left `a` with right `b` when `a.ts + lower_ms <= b.ts <= a.ts + upper_ms`; the
    /// bounds are milliseconds, may be negative, and are inclusive unless made exclusive.
    /// `lower_ms` must not be above `upper_ms`.
    pub fn between(&self, lower_ms: i64, upper_ms: i64) -> IntervalJoined<A, B, K, FA, FB> {
        IntervalJoined {
            streams: self.streams.clone(),
            lower: (lower_ms, true),
            upper: (upper_ms, true),
        }
    }
}

/// An interval join with its interval (Flink's `IntervalJoined`).
pub struct IntervalJoined<A, B, K, FA, FB> {
    streams: ConnectedKeyedStreams<A, B, K, FA, FB>,
    /// Bound in milliseconds and whether it is inclusive.
    lower: (i64, bool),
    upper: (i64, bool),
}

impl<A, B, K, FA, FB> IntervalJoined<A, B, K, FA, FB>
where
    A: Record,
    B: Record,
    K: Key,
    FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
    FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
{
    /// Excludes `b.ts == a.ts + lower`.
    pub fn lower_bound_exclusive(mut self) -> Self {
        self.lower.1 = false;
        self
    }

    /// Excludes `b.ts == a.ts + upper`.
    pub fn upper_bound_exclusive(mut self) -> Self {
        self.upper.1 = false;
        self
    }

    /// Calls `function` for every joined pair; what it emits has the later of the pair's two
    /// timestamps.
    pub fn process<O: Record>(&self, function: impl ProcessJoinFunction<A, B, O>) -> DataStream<O> {
        let join = IntervalJoinFunction::new(
            self.lower.0,
            self.upper.0,
            self.lower.1,
            self.upper.1,
            function,
        );
        self.streams.process_named("Interval Join", join)
    }
}

/// Tumbling or sliding event-time windows of a window join or co-group, aligned to the epoch
/// (Flink's `TumblingEventTimeWindows` and `SlidingEventTimeWindows` without offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinWindow {
    size: Duration,
    slide: Duration,
}

impl JoinWindow {
    /// Windows of `size` that do not overlap.
    pub fn tumbling(size: Duration) -> Self {
        JoinWindow { size, slide: size }
    }

    /// Windows of `size` starting every `slide`.
    pub fn sliding(size: Duration, slide: Duration) -> Self {
        JoinWindow { size, slide }
    }

    fn millis(d: Duration) -> i64 {
        i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
    }
}

/// Marks [`JoinedStreams`] that make an inner join (from [`DataStream::join`]).
pub struct InnerJoin;
/// Marks [`JoinedStreams`] that make a co-group (from [`DataStream::co_group`]).
pub struct CoGroup;

/// Two streams to be joined (`M` = [`InnerJoin`]) or co-grouped (`M` = [`CoGroup`]) per key
/// and window: `.where_key(..).equal_to(..).window(..).apply(..)` (Flink's `JoinedStreams`
/// and `CoGroupedStreams`).
pub struct JoinedStreams<A, B, M> {
    first: DataStream<A>,
    second: DataStream<B>,
    _m: PhantomData<M>,
}

/// Two streams to be co-grouped per key and window.
pub type CoGroupedStreams<A, B> = JoinedStreams<A, B, CoGroup>;

impl<T: Record> DataStream<T> {
    /// Starts a window join with `other`: per key and window, every pair of an element of
    /// this stream and one of `other`.
    pub fn join<B: Record>(&self, other: &DataStream<B>) -> JoinedStreams<T, B, InnerJoin> {
        JoinedStreams {
            first: self.clone(),
            second: other.clone(),
            _m: PhantomData,
        }
    }

    /// Starts a window co-group with `other`: per key and window, the elements of both.
    pub fn co_group<B: Record>(&self, other: &DataStream<B>) -> CoGroupedStreams<T, B> {
        JoinedStreams {
            first: self.clone(),
            second: other.clone(),
            _m: PhantomData,
        }
    }
}

impl<A: Record, B: Record, M> JoinedStreams<A, B, M> {
    /// The key of the first stream's elements.
    pub fn where_key<K, FA>(&self, key_of: FA) -> JoinWhere<A, B, K, FA, M>
    where
        K: Key,
        FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
    {
        JoinWhere {
            first: self.first.key_by(key_of),
            second: self.second.clone(),
            _m: PhantomData,
        }
    }
}

/// A window join or co-group with the first stream's key.
pub struct JoinWhere<A, B, K, FA, M> {
    first: KeyedStream<A, K, FA>,
    second: DataStream<B>,
    _m: PhantomData<M>,
}

impl<A, B, K, FA, M> JoinWhere<A, B, K, FA, M>
where
    A: Record,
    B: Record,
    K: Key,
    FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
{
    /// The key of the second stream's elements, which must equal the first's to join.
    pub fn equal_to<FB>(&self, key_of: FB) -> JoinEqualTo<A, B, K, FA, FB, M>
    where
        FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
    {
        JoinEqualTo {
            streams: self.first.connect_keyed(&self.second.key_by(key_of)),
            _m: PhantomData,
        }
    }
}

/// A window join or co-group with both keys, waiting for its windows.
pub struct JoinEqualTo<A, B, K, FA, FB, M> {
    streams: ConnectedKeyedStreams<A, B, K, FA, FB>,
    _m: PhantomData<M>,
}

impl<A, B, K, FA, FB, M> JoinEqualTo<A, B, K, FA, FB, M>
where
    A: Record,
    B: Record,
    K: Key,
    FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
    FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
{
    /// The windows to join or co-group in.
    pub fn window(&self, window: JoinWindow) -> WindowedJoin<A, B, K, FA, FB, M> {
        WindowedJoin {
            streams: self.streams.clone(),
            window,
            _m: PhantomData,
        }
    }
}

/// A window join or co-group ready for its function.
pub struct WindowedJoin<A, B, K, FA, FB, M> {
    streams: ConnectedKeyedStreams<A, B, K, FA, FB>,
    window: JoinWindow,
    _m: PhantomData<M>,
}

impl<A, B, K, FA, FB, M> WindowedJoin<A, B, K, FA, FB, M>
where
    A: Record,
    B: Record,
    K: Key,
    FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
    FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
{
    /// Adds the co-group operator `name`: per key and window, `f` gets both sides' elements.
    fn co_group_with<O: Record>(
        &self,
        name: &str,
        f: impl FnMut(&[A], &[B], &mut Vec<O>) -> Result<()> + Clone + Send + Sync + 'static,
    ) -> DataStream<O> {
        let size = JoinWindow::millis(self.window.size);
        let slide = JoinWindow::millis(self.window.slide);
        self.streams
            .process_named(name, WindowCoGroup::new(size, slide, f))
    }
}

impl<A, B, K, FA, FB> WindowedJoin<A, B, K, FA, FB, InnerJoin>
where
    A: Record,
    B: Record,
    K: Key,
    FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
    FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
{
    /// Emits `join(a, b)` for every pair of a first-stream element `a` and a second-stream
    /// element `b` with equal keys in the same window (Flink's `JoinFunction`), with the
    /// timestamp `window end - 1`.
    pub fn apply<O: Record>(
        &self,
        mut join: impl FnMut(A, B) -> O + Clone + Send + Sync + 'static,
    ) -> DataStream<O> {
        self.co_group_with("Window Join", move |left, right, out| {
            for a in left {
                out.extend(right.iter().map(|b| join(a.clone(), b.clone())));
            }
            Ok(())
        })
    }
}

impl<A, B, K, FA, FB> WindowedJoin<A, B, K, FA, FB, CoGroup>
where
    A: Record,
    B: Record,
    K: Key,
    FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
    FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
{
    /// Calls `co_group(first_elements, second_elements, out)` once per key and window that
    /// has elements on either side (Flink's `CoGroupFunction`); what it pushes to `out` gets
    /// the timestamp `window end - 1`.
    pub fn apply<O: Record>(
        &self,
        mut co_group: impl FnMut(&[A], &[B], &mut Vec<O>) + Clone + Send + Sync + 'static,
    ) -> DataStream<O> {
        self.co_group_with("Window CoGroup", move |left, right, out| {
            co_group(left, right, out);
            Ok(())
        })
    }
}
