//! Keyed process functions: per-key state and timers (Flink's `KeyedProcessFunction` and
//! `KeyedProcessOperator`).
//!
//! For every record the operator extracts the key, makes it the backend's current key and
//! calls the function; when the watermark passes an event-time timer, or the wall clock a
//! processing-time timer, it calls `on_timer` with the timer's key current. That machinery
//! (`KeyedCore`) is shared with the keyed operators of two inputs ([`crate::keyed_co`]) and of
//! broadcast connections ([`crate::broadcast`]).

use std::marker::PhantomData;

use weir_core::element::{Batch, Records, Watermark};
use weir_core::Result;
use weir_state::{
    KeyedStateBackend, Namespace, StateAccess, StateBackendConfig, StateSnapshot, TimeDomain,
    TimerService,
};

use crate::operator::{now_ms, OperatorContext, Output, StreamOperator};
use crate::side_output::{OutputTag, SideOutputBuffers};

/// What a key needs: hashable, comparable, cloneable, sendable.
pub trait KeyType: weir_state::StateKey {}
impl<K: weir_state::StateKey> KeyType for K {}

/// A function over a keyed stream with keyed state and timers.
pub trait KeyedProcessFunction<K, I, O>: Clone + Send + Sync + 'static {
    /// Called once per subtask before the first element.
    fn open(&mut self, _ctx: &OperatorContext) -> Result<()> {
        Ok(())
    }
    /// Processes one element; the element's key is current.
    fn process_element(&mut self, value: I, ctx: &mut KeyedContext<'_, K, O>) -> Result<()>;
    /// A timer fired; its key is current and `ctx.time_domain()` says which clock.
    fn on_timer(&mut self, _timestamp: i64, _ctx: &mut KeyedContext<'_, K, O>) -> Result<()> {
        Ok(())
    }
}

/// What a keyed process function can see and do.
///
/// State handles and timers act on the current key and the current namespace: plain keyed
/// functions always use [`Namespace::Void`]; operators that keep state per window (such as
/// the window join) switch it with [`KeyedContext::set_namespace`], and a timer fires with
/// the namespace it was registered in.
pub struct KeyedContext<'a, K, O> {
    key: K,
    namespace: Namespace,
    timestamp: Option<i64>,
    time_domain: Option<TimeDomain>,
    state: &'a mut KeyedStateBackend<K>,
    timers: &'a mut TimerService<K>,
    pub(crate) out: &'a mut Records<O>,
    pub(crate) side: &'a mut SideOutputBuffers,
    pub(crate) runtime: &'a OperatorContext,
}

impl<K: KeyType, O> KeyedContext<'_, K, O> {
    /// Emits a record, with the current element's (or event-time timer's) timestamp.
    pub fn collect(&mut self, value: O) {
        self.out.push(value, self.timestamp);
    }

    /// Emits a record on the side output `tag`.
    pub fn output<X: Clone + Send + 'static>(&mut self, tag: &OutputTag<X>, value: X) {
        self.side.push(tag, value, self.timestamp);
    }

    /// The current key.
    pub fn current_key(&self) -> &K {
        &self.key
    }

    /// The timestamp of the current element (or of the firing event-time timer).
    pub fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }

    /// In `on_timer`: which clock the timer followed.
    pub fn time_domain(&self) -> Option<TimeDomain> {
        self.time_domain
    }

    /// The namespace that state accesses and timer registrations use.
    pub fn namespace(&self) -> Namespace {
        self.namespace
    }

    /// Switches the namespace of state accesses and timer registrations (for state kept per
    /// window) for the rest of the current `process_element` or `on_timer` call.
    pub fn set_namespace(&mut self, namespace: Namespace) {
        self.namespace = namespace;
    }

    /// The current event time.
    pub fn current_watermark(&self) -> i64 {
        self.timers.watermark()
    }

    /// The wall clock in milliseconds.
    pub fn current_processing_time(&self) -> i64 {
        now_ms()
    }

    /// Calls `on_timer` for the current key when the watermark reaches `time`.
    pub fn register_event_time_timer(&mut self, time: i64) {
        self.timers.register(
            TimeDomain::EventTime,
            time,
            self.key.clone(),
            self.namespace,
        );
    }

    /// Calls `on_timer` for the current key when the wall clock reaches `time`.
    pub fn register_processing_time_timer(&mut self, time: i64) {
        self.timers.register(
            TimeDomain::ProcessingTime,
            time,
            self.key.clone(),
            self.namespace,
        );
    }

    /// Deletes an event-time timer of the current key.
    pub fn delete_event_time_timer(&mut self, time: i64) {
        self.timers
            .delete(TimeDomain::EventTime, time, &self.key, self.namespace);
    }

    /// Deletes a processing-time timer of the current key.
    pub fn delete_processing_time_timer(&mut self, time: i64) {
        self.timers
            .delete(TimeDomain::ProcessingTime, time, &self.key, self.namespace);
    }

    /// The subtask this function runs in.
    pub fn runtime_context(&self) -> &OperatorContext {
        self.runtime
    }
}

impl<K, O> StateAccess<K> for KeyedContext<'_, K, O> {
    fn backend(&mut self) -> &mut KeyedStateBackend<K> {
        self.state
    }
    fn namespace(&self) -> Namespace {
        self.namespace
    }
}

/// What every keyed operator keeps: the keyed state backend, the timers, the side output
/// buffers and its subtask. It calls a function per record with the record's key current,
/// and per due timer with the timer's key and namespace current; the keyed operators (one or
/// two inputs, broadcast) are this core plus the calls into their function.
pub(crate) struct KeyedCore<K> {
    pub(crate) runtime: Option<OperatorContext>,
    state: Option<KeyedStateBackend<K>>,
    pub(crate) timers: TimerService<K>,
    pub(crate) side: SideOutputBuffers,
}

impl<K: KeyType> Default for KeyedCore<K> {
    fn default() -> Self {
        KeyedCore {
            runtime: None,
            state: None,
            timers: TimerService::default(),
            side: SideOutputBuffers::default(),
        }
    }
}

/// The keyed state backend (`state.backend.type`) for the key groups of the subtask of `ctx`,
/// with the state and the timers (into `timers`) the subtask restores, if any.
pub fn open_keyed_state<K: KeyType>(
    ctx: &OperatorContext,
    timers: &mut TimerService<K>,
) -> Result<KeyedStateBackend<K>> {
    let backend = StateBackendConfig::from_configuration(&ctx.config)?;
    let mut state = KeyedStateBackend::open(&backend, ctx.key_group_range(), ctx.max_parallelism)?;
    if let Some(restored) = ctx.restored_state() {
        state.restore(restored)?;
        timers.restore(restored, ctx.key_group_range())?;
    }
    Ok(state)
}

/// Adds keyed state and timers to a checkpoint.
pub(crate) fn snapshot_keyed_state<K: KeyType>(
    ctx: Option<&OperatorContext>,
    state: Option<&mut KeyedStateBackend<K>>,
    timers: &TimerService<K>,
    snapshot: &mut StateSnapshot,
) -> Result<()> {
    if let (Some(ctx), Some(state)) = (ctx, state) {
        state.snapshot(snapshot)?;
        timers.snapshot(ctx.max_parallelism, snapshot);
    }
    Ok(())
}

impl<K: KeyType> KeyedCore<K> {
    /// Creates the state backend for the subtask's key groups, with the state and timers it
    /// restores.
    pub(crate) fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.state = Some(open_keyed_state(ctx, &mut self.timers)?);
        self.runtime = Some(ctx.clone());
        Ok(())
    }

    /// Adds the keyed state and timers to a checkpoint.
    pub(crate) fn snapshot(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        snapshot_keyed_state(
            self.runtime.as_ref(),
            self.state.as_mut(),
            &self.timers,
            snapshot,
        )
    }

    /// The keyed state, once opened.
    #[cfg(test)]
    pub(crate) fn state(&self) -> &KeyedStateBackend<K> {
        self.state.as_ref().expect("open() runs before any input")
    }

    /// Calls `f` for every record of `batch` with its key (by `key_of`) current, then emits
    /// what it produced.
    pub(crate) fn process<I: 'static, O: weir_state::StateValue>(
        &mut self,
        batch: Batch,
        key_of: impl Fn(&I) -> K,
        mut f: impl FnMut(I, &mut KeyedContext<'_, K, O>) -> Result<()>,
        out: &mut dyn Output,
    ) -> Result<()> {
        let runtime = self.runtime.as_ref().expect("open() runs before any input");
        let state = self.state.as_mut().expect("open() runs before any input");
        let records = batch.into_records::<I>();
        let mut produced = Records::with_capacity(records.len(), records.timestamps.is_some());
        for (value, timestamp) in records.into_iter_timestamped() {
            let key = key_of(&value);
            state.set_current_key(key.clone())?;
            let mut ctx = KeyedContext {
                key,
                namespace: Namespace::Void,
                timestamp,
                time_domain: None,
                state,
                timers: &mut self.timers,
                out: &mut produced,
                side: &mut self.side,
                runtime,
            };
            f(value, &mut ctx)?;
        }
        out.collect(Batch::from_records(produced))?;
        self.side.flush(out)
    }

    /// Advances event time to `watermark`, calls `f` for every event-time timer that became
    /// due, and forwards the watermark.
    pub(crate) fn advance_watermark<O: weir_state::StateValue>(
        &mut self,
        watermark: Watermark,
        f: impl FnMut(i64, &mut KeyedContext<'_, K, O>) -> Result<()>,
        out: &mut dyn Output,
    ) -> Result<()> {
        self.timers.advance_watermark(watermark.0);
        self.fire_timers(TimeDomain::EventTime, 0, f, out)?;
        out.emit_watermark(watermark)
    }

    /// Calls `f` for every due timer of `domain` (processing time: due at `now`), emitting
    /// what it produces.
    pub(crate) fn fire_timers<O: weir_state::StateValue>(
        &mut self,
        domain: TimeDomain,
        now: i64,
        mut f: impl FnMut(i64, &mut KeyedContext<'_, K, O>) -> Result<()>,
        out: &mut dyn Output,
    ) -> Result<()> {
        let runtime = self.runtime.as_ref().expect("open() runs before any input");
        let state = self.state.as_mut().expect("open() runs before any input");
        let mut produced = Records::with_capacity(0, true);
        loop {
            let due = match domain {
                TimeDomain::EventTime => self.timers.pop_event_timer(),
                TimeDomain::ProcessingTime => self.timers.pop_processing_timer(now),
            };
            let Some((time, key, namespace)) = due else {
                break;
            };
            state.set_current_key(key.clone())?;
            let mut ctx = KeyedContext {
                key,
                namespace,
                timestamp: (domain == TimeDomain::EventTime).then_some(time),
                time_domain: Some(domain),
                state,
                timers: &mut self.timers,
                out: &mut produced,
                side: &mut self.side,
                runtime,
            };
            f(time, &mut ctx)?;
        }
        out.collect(Batch::from_records(produced))?;
        self.side.flush(out)
    }
}

/// Runs a [`KeyedProcessFunction`]; `key_of` extracts the key of each record.
pub struct KeyedProcessOperator<K, I, O, KF, F> {
    key_of: KF,
    function: F,
    core: KeyedCore<K>,
    _t: PhantomData<fn(I) -> O>,
}

impl<K, I, O, KF, F> KeyedProcessOperator<K, I, O, KF, F>
where
    K: KeyType,
    I: weir_state::StateValue,
    O: weir_state::StateValue,
    KF: Fn(&I) -> K + Send,
    F: KeyedProcessFunction<K, I, O>,
{
    /// The operator for `function` on records keyed by `key_of`.
    pub fn new(key_of: KF, function: F) -> Self {
        KeyedProcessOperator {
            key_of,
            function,
            core: KeyedCore::default(),
            _t: PhantomData,
        }
    }
}

impl<K, I, O, KF, F> StreamOperator for KeyedProcessOperator<K, I, O, KF, F>
where
    K: KeyType,
    I: weir_state::StateValue,
    O: weir_state::StateValue,
    KF: Fn(&I) -> K + Send,
    F: KeyedProcessFunction<K, I, O>,
{
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.core.open(ctx)?;
        self.function.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut weir_state::StateSnapshot) -> Result<()> {
        self.core.snapshot(snapshot)
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let function = &mut self.function;
        self.core.process(
            batch,
            &self.key_of,
            |value, ctx| function.process_element(value, ctx),
            out,
        )
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        let function = &mut self.function;
        self.core
            .advance_watermark(watermark, |time, ctx| function.on_timer(time, ctx), out)
    }

    fn next_processing_time(&self) -> Option<i64> {
        self.core.timers.next_processing_time()
    }

    fn on_processing_time(&mut self, now_ms: i64, out: &mut dyn Output) -> Result<()> {
        let function = &mut self.function;
        self.core.fire_timers(
            TimeDomain::ProcessingTime,
            now_ms,
            |time, ctx| function.on_timer(time, ctx),
            out,
        )
    }
}
