//! Windows in the DataStream API (Flink's `WindowedStream` and `AllWindowedStream`):
//! `key_by(..).window(assigner)`, `count_window(n)`, `window_all(assigner)`, then optionally
//! `trigger`, `evictor`, `allowed_lateness` and `side_output_late_data`, then a window
//! function: `reduce`, `aggregate`, `process`, `reduce_with`, `aggregate_with`, or `sum`,
//! `min`, `max`, `min_by`, `max_by` on a field.
//!
//! ```
//! use std::time::Duration;
//! use weir_datastream::prelude::*;
//!
//! let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
//! let sums = env
//!     .from_collection(vec![("a".to_string(), 1i64, 1000i64), ("a".to_string(), 2, 4000), ("a".to_string(), 5, 6000)])
//!     .assign_timestamps_and_watermarks(
//!         WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|r: &(String, i64, i64), _| Ok(r.2)),
//!     )
//!     .key_by(|r: &(String, i64, i64)| r.0.clone())
//!     .window(TumblingEventTimeWindows::of(Duration::from_secs(5)))
//!     .sum(1)
//!     .execute_and_collect()
//!     .unwrap();
//! assert_eq!(sums.iter().map(|r| r.1).collect::<Vec<_>>(), vec![3, 5]);
//! ```
//!
//! Reduce and aggregate keep one accumulator per window (sliding event-time windows: one
//! per pane); with an evictor, or with `process`, a window keeps all its elements.

use std::sync::Arc;
use std::time::Duration;

use weir_runtime::job::OperatorFactory;
use weir_runtime::side_output::OutputTag;
use weir_runtime::window::{
    Accumulated, Aggregate, CollectAll, Evicting, Incremental, Lateness, PassThrough, Reduce,
    SlidingPanes, TriggeredWindows, WindowLogic, WindowOperator,
};
use weir_runtime::StreamOperator;

pub use weir_runtime::window::{
    ContinuousEventTimeTrigger, CountEvictor, CountTrigger, DeltaEvictor, DeltaTrigger,
    EventTimeSessionWindows, EventTimeTrigger, Evictor, EvictorContext, GlobalWindow,
    GlobalWindows, KeyedStateStore, NeverTrigger, ProcessWindowFunction,
    ProcessingTimeSessionWindows, ProcessingTimeTrigger, PurgingTrigger, SlidingEventTimeWindows,
    SlidingProcessingTimeWindows, TimeEvictor, TimeWindow, TimestampedValue, Trigger,
    TriggerContext, TriggerResult, TumblingEventTimeWindows, TumblingProcessingTimeWindows, Window,
    WindowAssigner, WindowContext,
};

use crate::aggregation::{self, Aggregatable, Aggregation};
use crate::stream::{DataStream, KeyedStream};
use crate::{AggregateFunction, Key, Record};

/// A keyed stream cut into windows, waiting for its window function.
pub struct WindowedStream<T, K, F, W> {
    stream: DataStream<T>,
    key_of: F,
    assigner: Arc<dyn WindowAssigner<T, W = W>>,
    trigger: Arc<dyn Trigger<K, T, W>>,
    default_trigger: bool,
    evictor: Option<Arc<dyn Evictor<T, W>>>,
    allowed_lateness: Duration,
    late_data: Option<OutputTag<T>>,
    non_parallel: bool,
}

/// Windows over a whole stream (`window_all`): a windowed stream with the one key `()`,
/// evaluated by a single subtask, as in Flink.
pub type AllWindowedStream<T, W> = WindowedStream<T, (), fn(&T), W>;

impl<T, K, F> KeyedStream<T, K, F>
where
    T: Record,
    K: Key,
    F: Fn(&T) -> K + Clone + Send + Sync + 'static,
{
    /// Puts the elements of each key into the windows of `assigner`; invalid parameters
    /// (a zero size, an offset not below the size) fail the job before it runs.
    pub fn window<A: WindowAssigner<T>>(&self, assigner: A) -> WindowedStream<T, K, F, A::W> {
        if let Err(e) = assigner.validate() {
            self.stream.env().record_error(e);
        }
        WindowedStream {
            stream: self.stream.clone(),
            key_of: self.key_of.clone(),
            trigger: assigner.default_trigger::<K>(),
            assigner: Arc::new(assigner),
            default_trigger: true,
            evictor: None,
            allowed_lateness: Duration::ZERO,
            late_data: None,
            non_parallel: false,
        }
    }

    /// Tumbling count windows: fires and purges every `size` elements of a key
    /// (global windows with `PurgingTrigger::of(CountTrigger::of(size))`).
    pub fn count_window(&self, size: u64) -> WindowedStream<T, K, F, GlobalWindow> {
        self.check_count("count_window", size);
        self.window(GlobalWindows::create())
            .trigger(PurgingTrigger::of(CountTrigger::of(size)))
    }

    /// Sliding count windows: every `slide` elements of a key, evaluates its last `size`
    /// elements (global windows with `CountEvictor::of(size)` and `CountTrigger::of(slide)`).
    pub fn count_window_slide(
        &self,
        size: u64,
        slide: u64,
    ) -> WindowedStream<T, K, F, GlobalWindow> {
        self.check_count("count_window", size);
        self.check_count("count_window", slide);
        self.window(GlobalWindows::create())
            .evictor(CountEvictor::of(
                usize::try_from(size).unwrap_or(usize::MAX),
            ))
            .trigger(CountTrigger::of(slide))
    }

    fn check_count(&self, what: &str, n: u64) {
        if n == 0 {
            self.stream.env().record_error(format!(
                "{what}: the size and slide of count windows must be at least 1"
            ));
        }
    }
}

/// The key of every record of a non-keyed window.
fn no_key<T>(_: &T) {}

impl<T: Record> DataStream<T> {
    fn all_windows<W>(
        &self,
        window: impl FnOnce(&KeyedStream<T, (), fn(&T)>) -> AllWindowedStream<T, W>,
    ) -> AllWindowedStream<T, W> {
        let mut windowed = window(&self.key_by(no_key::<T> as fn(&T)));
        windowed.non_parallel = true;
        windowed
    }

    /// Puts all elements into the windows of `assigner`, evaluated by one subtask.
    pub fn window_all<A: WindowAssigner<T>>(&self, assigner: A) -> AllWindowedStream<T, A::W> {
        self.all_windows(|keyed| keyed.window(assigner))
    }

    /// Tumbling count windows over all elements, evaluated by one subtask.
    pub fn count_window_all(&self, size: u64) -> AllWindowedStream<T, GlobalWindow> {
        self.all_windows(|keyed| keyed.count_window(size))
    }

    /// Sliding count windows over all elements, evaluated by one subtask.
    pub fn count_window_all_slide(
        &self,
        size: u64,
        slide: u64,
    ) -> AllWindowedStream<T, GlobalWindow> {
        self.all_windows(|keyed| keyed.count_window_slide(size, slide))
    }
}

/// The operator factory for windows of `logic` over records keyed by `key_of`.
fn window_factory<K, T, F, L>(key_of: F, logic: L) -> OperatorFactory
where
    K: Key,
    T: Record,
    F: Fn(&T) -> K + Clone + Send + Sync + 'static,
    L: WindowLogic<K, T> + Clone + Sync + 'static,
{
    Arc::new(move |_ctx| {
        Ok(Box::new(WindowOperator::new(key_of.clone(), logic.clone())) as Box<dyn StreamOperator>)
    })
}

impl<T, K, F, W> WindowedStream<T, K, F, W>
where
    T: Record,
    K: Key,
    F: Fn(&T) -> K + Clone + Send + Sync + 'static,
    W: Window,
{
    /// Windows of `keyed` from parts already checked (the window join builds its own).
    pub(crate) fn from_parts(
        keyed: &KeyedStream<T, K, F>,
        assigner: Arc<dyn WindowAssigner<T, W = W>>,
        trigger: Arc<dyn Trigger<K, T, W>>,
        default_trigger: bool,
        evictor: Option<Arc<dyn Evictor<T, W>>>,
        allowed_lateness: Duration,
    ) -> Self {
        WindowedStream {
            stream: keyed.stream.clone(),
            key_of: keyed.key_of.clone(),
            assigner,
            trigger,
            default_trigger,
            evictor,
            allowed_lateness,
            late_data: None,
            non_parallel: false,
        }
    }

    /// Replaces the assigner's default trigger.
    pub fn trigger(mut self, trigger: impl Trigger<K, T, W>) -> Self {
        self.trigger = Arc::new(trigger);
        self.default_trigger = false;
        self
    }

    /// Removes elements before or after evaluation; windows then keep all their elements.
    pub fn evictor(mut self, evictor: impl Evictor<T, W>) -> Self {
        self.evictor = Some(Arc::new(evictor));
        self
    }

    /// Keeps event-time windows until the watermark passes their end + `lateness`; elements
    /// arriving in that time fire the window again with the updated result.
    pub fn allowed_lateness(mut self, lateness: Duration) -> Self {
        self.allowed_lateness = lateness;
        self
    }

    /// Sends elements that arrive after their windows were dropped to the side output `tag`
    /// (read it with `get_side_output` on the result), instead of dropping them.
    pub fn side_output_late_data(mut self, tag: &OutputTag<T>) -> Self {
        self.late_data = Some(tag.clone());
        self
    }

    /// Creates the window operator: elements are folded by `incremental` and the windows
    /// evaluated by `function`; `panes` allows the per-pane path for sliding windows.
    pub(crate) fn build<I, P, O>(
        &self,
        function_name: &str,
        incremental: I,
        function: P,
        panes: bool,
    ) -> DataStream<O>
    where
        I: Incremental<T>,
        P: ProcessWindowFunction<K, I::Out, O, W>,
        O: Record,
    {
        let evictor = self.evictor.as_ref().map(|e| format!(", {}", e.describe()));
        let name = format!(
            "Window({}, {}{}, {function_name})",
            self.assigner.describe(),
            self.trigger.describe(),
            evictor.unwrap_or_default()
        );
        if self.assigner.is_merging() && !self.trigger.can_merge() {
            self.stream.env().record_error(format!(
                "{name}: a merging window assigner cannot be used with a trigger that does not support merging"
            ));
        }
        let lateness_ms = i64::try_from(self.allowed_lateness.as_millis()).unwrap_or(i64::MAX);
        let lateness = Lateness::new(lateness_ms, self.late_data.clone());
        let (assigner, trigger, key_of) = (
            Arc::clone(&self.assigner),
            Arc::clone(&self.trigger),
            self.key_of.clone(),
        );
        let pane_layout = self
            .assigner
            .pane_layout()
            .filter(|_| panes && self.default_trigger && self.evictor.is_none());
        let factory = match (&self.evictor, pane_layout) {
            (Some(evictor), _) => window_factory(
                key_of,
                TriggeredWindows::new(
                    assigner,
                    trigger,
                    Evicting::new(Arc::clone(evictor), incremental, function),
                    lateness,
                ),
            ),
            (None, Some(layout)) => window_factory(
                key_of,
                SlidingPanes::new(layout, incremental, function, lateness),
            ),
            (None, None) => window_factory(
                key_of,
                TriggeredWindows::new(
                    assigner,
                    trigger,
                    Accumulated::new(incremental, function),
                    lateness,
                ),
            ),
        };
        let out = self.stream.add_operator(&name, None, factory);
        if self.non_parallel {
            let node = out.single_node("window_all");
            out.env().update(node, |t| t.parallelism_limit = Some(1));
        }
        out
    }

    /// Reduces each window's elements with `f`, incrementally.
    pub fn reduce(&self, f: impl Fn(T, T) -> T + Send + Sync + 'static) -> DataStream<T> {
        self.build("Reduce", Reduce(f), PassThrough, true)
    }

    /// Aggregates each window's elements with `function`, incrementally.
    pub fn aggregate<ACC, R>(&self, function: impl AggregateFunction<T, ACC, R>) -> DataStream<R>
    where
        ACC: Record,
        R: Record,
    {
        self.build("Aggregate", Aggregate::new(function), PassThrough, true)
    }

    /// Evaluates each window with all its elements.
    pub fn process<O: Record>(
        &self,
        function: impl ProcessWindowFunction<K, T, O, W>,
    ) -> DataStream<O> {
        self.build("Process", CollectAll, function, false)
    }

    /// Reduces incrementally, then hands the window's result to `function`.
    pub fn reduce_with<O: Record>(
        &self,
        reduce: impl Fn(T, T) -> T + Send + Sync + 'static,
        function: impl ProcessWindowFunction<K, T, O, W>,
    ) -> DataStream<O> {
        self.build("Reduce, Process", Reduce(reduce), function, true)
    }

    /// Aggregates incrementally, then hands the window's result to `function`.
    pub fn aggregate_with<ACC, R, O>(
        &self,
        aggregate: impl AggregateFunction<T, ACC, R>,
        function: impl ProcessWindowFunction<K, R, O, W>,
    ) -> DataStream<O>
    where
        ACC: Record,
        R: 'static,
        O: Record,
    {
        self.build(
            "Aggregate, Process",
            Aggregate::new(aggregate),
            function,
            true,
        )
    }

    fn aggregation(&self, aggregation: Aggregation, pos: usize, name: &str) -> DataStream<T>
    where
        T: Aggregatable,
    {
        if let Err(e) = aggregation::check::<T>(aggregation, pos) {
            self.stream.env().record_error(e);
        }
        let reduce = Reduce(move |a, b| aggregation::reduce(aggregation, pos, a, b));
        self.build(name, reduce, PassThrough, true)
    }

    /// Sum of field `pos` per window; the other fields are those of the window's first
    /// element.
    pub fn sum(&self, pos: usize) -> DataStream<T>
    where
        T: Aggregatable,
    {
        self.aggregation(Aggregation::Sum, pos, "Sum")
    }

    /// Minimum of field `pos` per window; the other fields are those of the first element.
    pub fn min(&self, pos: usize) -> DataStream<T>
    where
        T: Aggregatable,
    {
        self.aggregation(Aggregation::Min, pos, "Min")
    }

    /// Maximum of field `pos` per window; the other fields are those of the first element.
    pub fn max(&self, pos: usize) -> DataStream<T>
    where
        T: Aggregatable,
    {
        self.aggregation(Aggregation::Max, pos, "Max")
    }

    /// The element with the smallest field `pos` per window (the earlier one on ties).
    pub fn min_by(&self, pos: usize) -> DataStream<T>
    where
        T: Aggregatable,
    {
        self.aggregation(Aggregation::MinBy, pos, "MinBy")
    }

    /// The element with the largest field `pos` per window (the earlier one on ties).
    pub fn max_by(&self, pos: usize) -> DataStream<T>
    where
        T: Aggregatable,
    {
        self.aggregation(Aggregation::MaxBy, pos, "MaxBy")
    }
}
