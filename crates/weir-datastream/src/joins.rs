//! Joins and co-groups of two streams, in event time (Flink's `connect(..).keyBy(..)`,
//! `intervalJoin`, `join` and `coGroup`).
//!
//! - [`KeyedStream::connect_keyed`] + [`ConnectedKeyedStreams::process`]: a
//!   [`KeyedCoProcessFunction`] over two streams keyed alike, with shared keyed state and
//!   timers. The joins below are such functions.
//! - [`KeyedStream::interval_join`]: pairs `(a, b)` of equal keys with
//!   `a.ts + lower <= b.ts <= a.ts + upper`, given to a [`ProcessJoinFunction`].
//! - [`DataStream::join`] and [`DataStream::co_group`]: per key and window of any
//!   [`WindowAssigner`] (tumbling, sliding or session windows, in event or processing time),
//!   every pair of elements (inner join), or both sides' elements at once (co-group). As in
//!   Flink, both inputs become one stream of [`Either`] keyed by their key selectors and go
//!   through the shared window operator, so session windows merge across both inputs, and
//!   a trigger, an evictor and an allowed lateness may be set.
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
//!     .window(TumblingEventTimeWindows::of(Duration::from_secs(5)))
//!     .apply(|c, v| (c.0, c.1, v.1))
//!     .execute_and_collect()
//!     .unwrap();
//! assert_eq!(pairs, vec![("a".to_string(), 1_000, 1_500)]);
//! ```

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use weir_core::Result;
use weir_runtime::job::OperatorFactory;
use weir_runtime::keyed_co::interval_join::IntervalJoin as IntervalJoinFunction;
use weir_runtime::keyed_co::KeyedCoProcessOperator;
use weir_runtime::window::CollectAll;
use weir_runtime::StreamOperator;

pub use weir_runtime::keyed_co::interval_join::{ProcessJoinContext, ProcessJoinFunction};
pub use weir_runtime::keyed_co::KeyedCoProcessFunction;

use crate::stream::{DataStream, KeyedStream};
use crate::windowed::{Evictor, Trigger, Window, WindowAssigner, WindowContext, WindowedStream};
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

/// An element of either input of a window join or co-group: both inputs become one stream
/// of these, windowed by the shared window operator (Flink's `TaggedUnion`). Dynamic session
/// gaps, triggers and evictors of a window join see these.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Either<A, B> {
    /// An element of the first input.
    Left(A),
    /// An element of the second input.
    Right(B),
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
            first: self.first.clone(),
            second: self.second.clone(),
            key_a: key_of,
            _m: PhantomData,
        }
    }
}

/// A window join or co-group with the first stream's key.
pub struct JoinWhere<A, B, K, FA, M> {
    first: DataStream<A>,
    second: DataStream<B>,
    key_a: FA,
    _m: PhantomData<fn() -> (K, M)>,
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
            first: self.first.clone(),
            second: self.second.clone(),
            key_a: self.key_a.clone(),
            key_b: key_of,
            _m: PhantomData,
        }
    }
}

/// A window join or co-group with both keys, waiting for its windows.
pub struct JoinEqualTo<A, B, K, FA, FB, M> {
    first: DataStream<A>,
    second: DataStream<B>,
    key_a: FA,
    key_b: FB,
    _m: PhantomData<fn() -> (K, M)>,
}

impl<A, B, K, FA, FB, M> JoinEqualTo<A, B, K, FA, FB, M>
where
    A: Record,
    B: Record,
    K: Key,
    FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
    FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
{
    /// The windows to join or co-group in: any [`WindowAssigner`] (tumbling, sliding or
    /// session windows, in event or processing time) over the elements of both inputs
    /// ([`Either`]); session windows merge across both inputs. Invalid parameters fail the
    /// job before it runs.
    pub fn window<WA: WindowAssigner<Either<A, B>>>(
        &self,
        assigner: WA,
    ) -> WindowedJoin<A, B, K, FA, FB, M, WA::W> {
        if let Err(e) = assigner.validate() {
            self.first.env().record_error(e);
        }
        WindowedJoin {
            first: self.first.clone(),
            second: self.second.clone(),
            key_a: self.key_a.clone(),
            key_b: self.key_b.clone(),
            trigger: assigner.default_trigger::<K>(),
            assigner: Arc::new(assigner),
            default_trigger: true,
            evictor: None,
            allowed_lateness: Duration::ZERO,
            _m: PhantomData,
        }
    }
}

/// A window join or co-group ready for its function (Flink's `JoinedStreams.WithWindow`),
/// optionally with another trigger, an evictor or an allowed lateness.
pub struct WindowedJoin<A, B, K, FA, FB, M, W> {
    first: DataStream<A>,
    second: DataStream<B>,
    key_a: FA,
    key_b: FB,
    assigner: Arc<dyn WindowAssigner<Either<A, B>, W = W>>,
    trigger: Arc<dyn Trigger<K, Either<A, B>, W>>,
    default_trigger: bool,
    evictor: Option<Arc<dyn Evictor<Either<A, B>, W>>>,
    allowed_lateness: Duration,
    _m: PhantomData<M>,
}

impl<A, B, K, FA, FB, M, W> WindowedJoin<A, B, K, FA, FB, M, W>
where
    A: Record,
    B: Record,
    K: Key,
    FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
    FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
    W: Window,
{
    /// Replaces the assigner's default trigger.
    pub fn trigger(mut self, trigger: impl Trigger<K, Either<A, B>, W>) -> Self {
        self.trigger = Arc::new(trigger);
        self.default_trigger = false;
        self
    }

    /// Removes elements of both inputs before or after evaluation.
    pub fn evictor(mut self, evictor: impl Evictor<Either<A, B>, W>) -> Self {
        self.evictor = Some(Arc::new(evictor));
        self
    }

    /// Keeps event-time windows until the watermark passes their end + `lateness`; elements
    /// arriving in that time fire the window again.
    pub fn allowed_lateness(mut self, lateness: Duration) -> Self {
        self.allowed_lateness = lateness;
        self
    }

    /// Adds the window operator over both inputs tagged by side and keyed by their own key
    /// selectors: per key and window, `f` gets both sides' elements, in arrival order.
    fn co_group_with<O: Record>(
        &self,
        name: &str,
        mut f: impl FnMut(&[A], &[B], &mut Vec<O>) -> Result<()> + Clone + Send + Sync + 'static,
    ) -> DataStream<O> {
        let (key_a, key_b) = (self.key_a.clone(), self.key_b.clone());
        let union = self
            .first
            .map(Either::Left)
            .union(&[self.second.map(Either::Right)]);
        let keyed = union.key_by(move |e: &Either<A, B>| match e {
            Either::Left(a) => key_a(a),
            Either::Right(b) => key_b(b),
        });
        let windowed = WindowedStream::from_parts(
            &keyed,
            Arc::clone(&self.assigner),
            Arc::clone(&self.trigger),
            self.default_trigger,
            self.evictor.clone(),
            self.allowed_lateness,
        );
        let function = move |_key: &K,
                             elements: Vec<Either<A, B>>,
                             ctx: &mut WindowContext<'_, K, W, O>|
              -> Result<()> {
            let (mut left, mut right) = (Vec::new(), Vec::new());
            for e in elements {
                match e {
                    Either::Left(a) => left.push(a),
                    Either::Right(b) => right.push(b),
                }
            }
            let mut produced = Vec::new();
            f(&left, &right, &mut produced)?;
            produced.into_iter().for_each(|o| ctx.collect(o));
            Ok(())
        };
        windowed.build(name, CollectAll, function, false)
    }
}

impl<A, B, K, FA, FB, W> WindowedJoin<A, B, K, FA, FB, InnerJoin, W>
where
    A: Record,
    B: Record,
    K: Key,
    FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
    FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
    W: Window,
{
    /// Emits `join(a, b)` for every pair of a first-stream element `a` and a second-stream
    /// element `b` with equal keys in the same window (Flink's `JoinFunction`), with the
    /// timestamp `window.max_timestamp()`.
    pub fn apply<O: Record>(
        &self,
        mut join: impl FnMut(A, B) -> O + Clone + Send + Sync + 'static,
    ) -> DataStream<O> {
        self.co_group_with("Join", move |left, right, out| {
            for a in left {
                out.extend(right.iter().map(|b| join(a.clone(), b.clone())));
            }
            Ok(())
        })
    }
}

impl<A, B, K, FA, FB, W> WindowedJoin<A, B, K, FA, FB, CoGroup, W>
where
    A: Record,
    B: Record,
    K: Key,
    FA: Fn(&A) -> K + Clone + Send + Sync + 'static,
    FB: Fn(&B) -> K + Clone + Send + Sync + 'static,
    W: Window,
{
    /// Calls `co_group(first_elements, second_elements, out)` once per key and window that
    /// fires with elements on either side (Flink's `CoGroupFunction`); what it pushes to
    /// `out` gets the timestamp `window.max_timestamp()`.
    pub fn apply<O: Record>(
        &self,
        mut co_group: impl FnMut(&[A], &[B], &mut Vec<O>) + Clone + Send + Sync + 'static,
    ) -> DataStream<O> {
        self.co_group_with("CoGroup", move |left, right, out| {
            co_group(left, right, out);
            Ok(())
        })
    }
}
