//! Window functions: the [`ProcessWindowFunction`] that computes a window's results with its
//! [`WindowContext`], and the [`Incremental`] folds (reduce, aggregate, collect) that keep a
//! window's elements as they arrive.

use std::marker::PhantomData;

use weir_core::Result;
use weir_state::{AggregateFunction, KeyedStateBackend, Namespace, StateAccess};

use crate::keyed::KeyType;
use crate::operator::OperatorContext;
use crate::side_output::OutputTag;

use super::operator::Scope;
use super::Window;

/// The current key's keyed state in one namespace (Flink's `KeyedStateStore`): pass it to
/// state handles, as in `count.value(&mut ctx.window_state())`.
pub struct KeyedStateStore<'a, K> {
    pub(crate) backend: &'a mut KeyedStateBackend<K>,
    pub(crate) namespace: Namespace,
}

impl<K> KeyedStateStore<'_, K> {
    /// The same key's state in another namespace.
    pub(crate) fn at(&mut self, namespace: Namespace) -> KeyedStateStore<'_, K> {
        KeyedStateStore {
            backend: &mut *self.backend,
            namespace,
        }
    }
}

impl<K> StateAccess<K> for KeyedStateStore<'_, K> {
    fn backend(&mut self) -> &mut KeyedStateBackend<K> {
        self.backend
    }
    fn namespace(&self) -> Namespace {
        self.namespace
    }
}

/// Computes the results of a window from its elements (Flink's `ProcessWindowFunction`).
/// After `reduce_with` or `aggregate_with`, `elements` is the one pre-aggregated value.
///
/// Closures `FnMut(&K, Vec<IN>, &mut WindowContext<'_, K, W, OUT>) -> Result<()>` are
/// process window functions too.
pub trait ProcessWindowFunction<K, IN, OUT, W: Window>: Clone + Send + Sync + 'static {
    /// Called once per subtask before the first window.
    fn open(&mut self, _ctx: &OperatorContext) -> Result<()> {
        Ok(())
    }
    /// Evaluates the window `ctx.window()` of `key`; emits with `ctx.collect`.
    fn process(
        &mut self,
        key: &K,
        elements: Vec<IN>,
        ctx: &mut WindowContext<'_, K, W, OUT>,
    ) -> Result<()>;
    /// The window's state is being dropped: clear what was kept in `ctx.window_state()`.
    fn clear(&mut self, _ctx: &mut WindowContext<'_, K, W, OUT>) -> Result<()> {
        Ok(())
    }
}

impl<K, IN, OUT, W, F> ProcessWindowFunction<K, IN, OUT, W> for F
where
    W: Window,
    F: FnMut(&K, Vec<IN>, &mut WindowContext<'_, K, W, OUT>) -> Result<()>
        + Clone
        + Send
        + Sync
        + 'static,
{
    fn process(
        &mut self,
        key: &K,
        elements: Vec<IN>,
        ctx: &mut WindowContext<'_, K, W, OUT>,
    ) -> Result<()> {
        self(key, elements, ctx)
    }
}

/// Emits the elements it gets: the window function of a plain `reduce` or `aggregate`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassThrough;

impl<K: KeyType, X: 'static, W: Window> ProcessWindowFunction<K, X, X, W> for PassThrough {
    fn process(
        &mut self,
        _key: &K,
        elements: Vec<X>,
        ctx: &mut WindowContext<'_, K, W, X>,
    ) -> Result<()> {
        for e in elements {
            ctx.collect(e);
        }
        Ok(())
    }
}

/// What a window function sees of the window being evaluated (Flink's
/// `ProcessWindowFunction.Context`).
pub struct WindowContext<'a, K, W, O> {
    scope: Scope<'a, K, O>,
    window: W,
}

impl<'a, K: KeyType, W: Window, O> WindowContext<'a, K, W, O> {
    pub(crate) fn new(scope: Scope<'a, K, O>, window: W) -> Self {
        WindowContext { scope, window }
    }

    /// The window being evaluated.
    pub fn window(&self) -> W {
        self.window
    }

    /// The key of the window.
    pub fn key(&self) -> &K {
        self.scope.key()
    }

    /// The current event time.
    pub fn current_watermark(&self) -> i64 {
        self.scope.watermark()
    }

    /// The processing time of this evaluation, in ms since the epoch.
    pub fn current_processing_time(&self) -> i64 {
        self.scope.now
    }

    /// Emits a result, with the timestamp `window.max_timestamp()`.
    pub fn collect(&mut self, value: O) {
        self.scope
            .out
            .push(value, Some(self.window.max_timestamp()));
    }

    /// Emits a record on the side output `tag`, with the timestamp `window.max_timestamp()`.
    pub fn output<X: Clone + Send + 'static>(&mut self, tag: &OutputTag<X>, value: X) {
        self.scope
            .side
            .push(tag, value, Some(self.window.max_timestamp()));
    }

    /// Keyed state of this key and window (cleared by [`ProcessWindowFunction::clear`]).
    pub fn window_state(&mut self) -> KeyedStateStore<'_, K> {
        self.scope.store(self.window.namespace())
    }

    /// Keyed state of this key, shared by all its windows.
    pub fn global_state(&mut self) -> KeyedStateStore<'_, K> {
        self.scope.store(Namespace::Void)
    }

    /// The subtask this function runs in.
    pub fn runtime_context(&self) -> &OperatorContext {
        self.scope.runtime
    }

    /// The key's state in another namespace (the window contents' own).
    pub(crate) fn store(&mut self, namespace: Namespace) -> KeyedStateStore<'_, K> {
        self.scope.store(namespace)
    }
}

/// How a window folds its elements as they arrive: into an accumulator, which merges with
/// the accumulators of other windows or panes and finally gives the elements that the window
/// function gets. Implemented by [`Reduce`], [`Aggregate`] and [`CollectAll`].
pub trait Incremental<T>: Send + Sync + 'static {
    /// The accumulator.
    type Acc: weir_state::StateValue;
    /// What the window function gets.
    type Out;
    /// An empty accumulator.
    fn create(&self) -> Self::Acc;
    /// Adds an element.
    fn add(&self, value: T, acc: &mut Self::Acc);
    /// Merges two accumulators (of merged windows, or of the panes of a window).
    fn merge(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc;
    /// The elements handed to the window function.
    fn finish(&self, acc: Self::Acc) -> Vec<Self::Out>;
}

/// Folds elements with a reduce function (Flink's `ReduceFunction`).
#[derive(Clone)]
pub struct Reduce<F>(pub F);

impl<T, F> Incremental<T> for Reduce<F>
where
    T: weir_state::StateValue,
    F: Fn(T, T) -> T + Send + Sync + 'static,
{
    type Acc = Option<T>;
    type Out = T;
    fn create(&self) -> Option<T> {
        None
    }
    fn add(&self, value: T, acc: &mut Option<T>) {
        *acc = Some(match acc.take() {
            Some(current) => (self.0)(current, value),
            None => value,
        });
    }
    fn merge(&self, a: Option<T>, b: Option<T>) -> Option<T> {
        match (a, b) {
            (Some(a), Some(b)) => Some((self.0)(a, b)),
            (a, b) => a.or(b),
        }
    }
    fn finish(&self, acc: Option<T>) -> Vec<T> {
        acc.into_iter().collect()
    }
}

/// Folds elements with an [`AggregateFunction`].
pub struct Aggregate<A, ACC, OUT> {
    function: A,
    _t: PhantomData<fn() -> (ACC, OUT)>,
}

impl<A, ACC, OUT> Aggregate<A, ACC, OUT> {
    /// Folds with `function`.
    pub fn new(function: A) -> Self {
        Aggregate {
            function,
            _t: PhantomData,
        }
    }
}

impl<T, A, ACC, OUT> Incremental<T> for Aggregate<A, ACC, OUT>
where
    A: AggregateFunction<T, ACC, OUT>,
    ACC: weir_state::StateValue,
    OUT: 'static,
{
    type Acc = ACC;
    type Out = OUT;
    fn create(&self) -> ACC {
        self.function.create_accumulator()
    }
    fn add(&self, value: T, acc: &mut ACC) {
        self.function.add(value, acc);
    }
    fn merge(&self, a: ACC, b: ACC) -> ACC {
        self.function.merge(a, b)
    }
    fn finish(&self, acc: ACC) -> Vec<OUT> {
        vec![self.function.get_result(&acc)]
    }
}

/// Keeps every element, in arrival order: the window function gets them all.
#[derive(Debug, Clone, Copy, Default)]
pub struct CollectAll;

impl<T: weir_state::StateValue> Incremental<T> for CollectAll {
    type Acc = Vec<T>;
    type Out = T;
    fn create(&self) -> Vec<T> {
        Vec::new()
    }
    fn add(&self, value: T, acc: &mut Vec<T>) {
        acc.push(value);
    }
    fn merge(&self, mut a: Vec<T>, b: Vec<T>) -> Vec<T> {
        a.extend(b);
        a
    }
    fn finish(&self, acc: Vec<T>) -> Vec<T> {
        acc
    }
}
