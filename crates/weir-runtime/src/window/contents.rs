//! How a window keeps its elements between firings, and how it evaluates them: one
//! accumulator per window ([`Accumulated`]), or every element with its timestamp for an
//! evictor ([`Evicting`], Flink's `EvictingWindowOperator`).

use std::marker::PhantomData;
use std::sync::Arc;

use weir_core::Result;
use weir_state::{AggregateFunction, AggregatingState, ListState, Namespace};

use crate::keyed::KeyType;
use crate::operator::OperatorContext;

use super::evictors::{Evictor, EvictorContext};
use super::functions::{Incremental, KeyedStateStore, ProcessWindowFunction, WindowContext};
use super::{TimestampedValue, Window};

/// The contents of the windows of a [`TriggeredWindows`](super::TriggeredWindows) operator,
/// each kept in keyed state under a namespace (the window's, or for merged windows the
/// namespace their state was merged into).
pub trait WindowContents<K, T, W: Window>: Send + 'static {
    /// The type of the results.
    type Out: weir_state::StateValue;
    /// Called once per subtask before the first element.
    fn open(&mut self, ctx: &OperatorContext) -> Result<()>;
    /// Adds an element to the contents in `store`'s namespace.
    fn add(
        &self,
        store: &mut KeyedStateStore<'_, K>,
        value: T,
        timestamp: Option<i64>,
    ) -> Result<()>;
    /// Moves the contents of `sources` into `store`'s namespace (windows merged).
    fn merge(&self, store: &mut KeyedStateStore<'_, K>, sources: &[Namespace]) -> Result<()>;
    /// Drops the contents in `store`'s namespace.
    fn clear(&self, store: &mut KeyedStateStore<'_, K>) -> Result<()>;
    /// Evaluates the contents kept in `namespace` for the window `ctx.window()`, if any.
    fn emit(
        &mut self,
        namespace: Namespace,
        ctx: &mut WindowContext<'_, K, W, Self::Out>,
    ) -> Result<()>;
    /// The window `ctx.window()` is dropped: lets the window function clear its state.
    fn clear_window(&mut self, ctx: &mut WindowContext<'_, K, W, Self::Out>) -> Result<()>;
}

/// Accumulators of an [`Incremental`] in keyed state, one per (key, namespace).
struct Accumulators<T, I: Incremental<T>> {
    state: AggregatingState<T, I::Acc, I::Acc>,
    function: Arc<I>,
}

impl<T, I: Incremental<T>> Clone for Accumulators<T, I> {
    fn clone(&self) -> Self {
        Accumulators {
            state: self.state.clone(),
            function: Arc::clone(&self.function),
        }
    }
}

/// An [`Incremental`] as the [`AggregateFunction`] of an [`AggregatingState`] whose result
/// is the accumulator itself.
struct AsAggregate<I>(Arc<I>);

impl<T: 'static, I: Incremental<T>> AggregateFunction<T, I::Acc, I::Acc> for AsAggregate<I> {
    fn create_accumulator(&self) -> I::Acc {
        self.0.create()
    }
    fn add(&self, value: T, accumulator: &mut I::Acc) {
        self.0.add(value, accumulator);
    }
    fn get_result(&self, accumulator: &I::Acc) -> I::Acc {
        accumulator.clone()
    }
    fn merge(&self, a: I::Acc, b: I::Acc) -> I::Acc {
        self.0.merge(a, b)
    }
}

impl<T: 'static, I: Incremental<T>> Accumulators<T, I> {
    /// Accumulators of `function` in the state named `name`.
    fn new(name: &str, function: I) -> Self {
        let function = Arc::new(function);
        Accumulators {
            state: AggregatingState::new(name, AsAggregate(Arc::clone(&function))),
            function,
        }
    }

    fn function(&self) -> &I {
        &self.function
    }

    fn add<K: KeyType>(&self, store: &mut KeyedStateStore<'_, K>, value: T) -> Result<()> {
        self.state.add(store, value)
    }

    fn get<K: KeyType>(&self, store: &mut KeyedStateStore<'_, K>) -> Result<Option<I::Acc>> {
        self.state.get(store)
    }

    fn clear<K: KeyType>(&self, store: &mut KeyedStateStore<'_, K>) -> Result<()> {
        self.state.clear(store)
    }

    fn merge<K: KeyType>(
        &self,
        store: &mut KeyedStateStore<'_, K>,
        sources: &[Namespace],
    ) -> Result<()> {
        sources
            .iter()
            .try_for_each(|source| self.state.merge_namespace(store, *source))
    }
}

/// Hands the accumulated `acc` to the window function.
pub(crate) fn evaluate<K, T, W, I, P, O>(
    incremental: &I,
    function: &mut P,
    acc: I::Acc,
    ctx: &mut WindowContext<'_, K, W, O>,
) -> Result<()>
where
    K: KeyType,
    W: Window,
    I: Incremental<T>,
    P: ProcessWindowFunction<K, I::Out, O, W>,
{
    let key = ctx.key().clone();
    function.process(&key, incremental.finish(acc), ctx)
}

/// One accumulator per window, updated as elements arrive (reduce, aggregate, or all
/// elements for a process function).
pub struct Accumulated<T, I: Incremental<T>, P, O> {
    accumulators: Accumulators<T, I>,
    function: P,
    _o: PhantomData<fn() -> O>,
}

impl<T, I: Incremental<T>, P: Clone, O> Clone for Accumulated<T, I, P, O> {
    fn clone(&self) -> Self {
        Accumulated {
            accumulators: self.accumulators.clone(),
            function: self.function.clone(),
            _o: PhantomData,
        }
    }
}

impl<T: 'static, I: Incremental<T>, P, O> Accumulated<T, I, P, O> {
    /// Windows folded by `incremental` and evaluated by `function`.
    pub fn new(incremental: I, function: P) -> Self {
        Accumulated {
            accumulators: Accumulators::new("window-contents", incremental),
            function,
            _o: PhantomData,
        }
    }
}

impl<K, T, W, I, P, O> WindowContents<K, T, W> for Accumulated<T, I, P, O>
where
    K: KeyType,
    T: weir_state::StateValue,
    W: Window,
    I: Incremental<T>,
    P: ProcessWindowFunction<K, I::Out, O, W>,
    O: weir_state::StateValue,
{
    type Out = O;

    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.function.open(ctx)
    }

    fn add(
        &self,
        store: &mut KeyedStateStore<'_, K>,
        value: T,
        _timestamp: Option<i64>,
    ) -> Result<()> {
        self.accumulators.add(store, value)
    }

    fn merge(&self, store: &mut KeyedStateStore<'_, K>, sources: &[Namespace]) -> Result<()> {
        self.accumulators.merge(store, sources)
    }

    fn clear(&self, store: &mut KeyedStateStore<'_, K>) -> Result<()> {
        self.accumulators.clear(store)
    }

    fn emit(&mut self, namespace: Namespace, ctx: &mut WindowContext<'_, K, W, O>) -> Result<()> {
        match self.accumulators.get(&mut ctx.store(namespace))? {
            Some(acc) => evaluate(self.accumulators.function(), &mut self.function, acc, ctx),
            None => Ok(()),
        }
    }

    fn clear_window(&mut self, ctx: &mut WindowContext<'_, K, W, O>) -> Result<()> {
        self.function.clear(ctx)
    }
}

/// Every element with its timestamp, so that an evictor can remove some before and after
/// the window is evaluated; the rest are folded by `incremental` for the window function.
pub struct Evicting<T, W, I, P, O> {
    elements: ListState<TimestampedValue<T>>,
    evictor: Arc<dyn Evictor<T, W>>,
    incremental: Arc<I>,
    function: P,
    _o: PhantomData<fn() -> O>,
}

impl<T, W, I, P: Clone, O> Clone for Evicting<T, W, I, P, O> {
    fn clone(&self) -> Self {
        Evicting {
            elements: self.elements.clone(),
            evictor: Arc::clone(&self.evictor),
            incremental: Arc::clone(&self.incremental),
            function: self.function.clone(),
            _o: PhantomData,
        }
    }
}

impl<T, W, I, P, O> Evicting<T, W, I, P, O> {
    /// Windows that keep all elements for `evictor`, folded by `incremental` and evaluated
    /// by `function` when they fire.
    pub fn new(evictor: Arc<dyn Evictor<T, W>>, incremental: I, function: P) -> Self {
        Evicting {
            elements: ListState::new("window-contents"),
            evictor,
            incremental: Arc::new(incremental),
            function,
            _o: PhantomData,
        }
    }
}

impl<K, T, W, I, P, O> WindowContents<K, T, W> for Evicting<T, W, I, P, O>
where
    K: KeyType,
    T: weir_state::StateValue,
    W: Window,
    I: Incremental<T>,
    P: ProcessWindowFunction<K, I::Out, O, W>,
    O: weir_state::StateValue,
{
    type Out = O;

    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.function.open(ctx)
    }

    fn add(
        &self,
        store: &mut KeyedStateStore<'_, K>,
        value: T,
        timestamp: Option<i64>,
    ) -> Result<()> {
        self.elements
            .add(store, TimestampedValue { value, timestamp })
    }

    fn merge(&self, store: &mut KeyedStateStore<'_, K>, sources: &[Namespace]) -> Result<()> {
        let mut all = self.elements.get(store)?;
        for source in sources {
            let mut from = store.at(*source);
            all.extend(self.elements.get(&mut from)?);
            self.elements.clear(&mut from)?;
        }
        if all.is_empty() {
            return Ok(());
        }
        self.elements.update(store, all)
    }

    fn clear(&self, store: &mut KeyedStateStore<'_, K>) -> Result<()> {
        self.elements.clear(store)
    }

    fn emit(&mut self, namespace: Namespace, ctx: &mut WindowContext<'_, K, W, O>) -> Result<()> {
        let mut elements = self.elements.get(&mut ctx.store(namespace))?;
        if elements.is_empty() {
            return Ok(());
        }
        let window = ctx.window();
        let evictor_ctx = EvictorContext {
            current_watermark: ctx.current_watermark(),
            current_processing_time: ctx.current_processing_time(),
        };
        self.evictor
            .evict_before(&mut elements, window, &evictor_ctx);
        let mut acc = self.incremental.create();
        for e in &elements {
            self.incremental.add(e.value.clone(), &mut acc);
        }
        evaluate(&*self.incremental, &mut self.function, acc, ctx)?;
        self.evictor
            .evict_after(&mut elements, window, &evictor_ctx);
        let mut store = ctx.store(namespace);
        if elements.is_empty() {
            self.elements.clear(&mut store)
        } else {
            self.elements.update(&mut store, elements)
        }
    }

    fn clear_window(&mut self, ctx: &mut WindowContext<'_, K, W, O>) -> Result<()> {
        self.function.clear(ctx)
    }
}
