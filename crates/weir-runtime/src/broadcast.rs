//! The broadcast state pattern (Flink's `BroadcastProcessFunction` and
//! `KeyedBroadcastProcessFunction`): a two-input operator whose first input is a plain or
//! keyed stream and whose second input is broadcast to every subtask.
//!
//! Elements of the broadcast side may read and write the operator's broadcast state
//! ([`BroadcastState`](weir_state::BroadcastState) descriptors over a
//! [`BroadcastStateStore`]); elements of the other side may only read it, so that it stays the
//! same on every subtask. In the keyed variant the other side also has keyed state and timers.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use weir_core::element::{Batch, Records, Watermark};
use weir_core::Result;
use weir_state::{
    BroadcastAccess, BroadcastStateStore, KeyedStateBackend, Namespace, ReadOnlyBroadcastAccess,
    StateAccess, TimeDomain,
};

use crate::keyed::{KeyType, KeyedContext, KeyedCore};
use crate::operator::{now_ms, OperatorContext, Output, StreamOperator};
use crate::side_output::{OutputTag, SideOutputBuffers};

/// A function over a plain stream connected with a broadcast stream (Flink's
/// `BroadcastProcessFunction`).
pub trait BroadcastProcessFunction<I, B, O>: Clone + Send + Sync + 'static {
    /// Called once per subtask before the first element.
    fn open(&mut self, _ctx: &OperatorContext) -> Result<()> {
        Ok(())
    }
    /// Processes an element of the plain stream; broadcast state is read-only.
    fn process_element(&mut self, value: I, ctx: &mut ReadOnlyContext<'_, O>) -> Result<()>;
    /// Processes an element of the broadcast stream; broadcast state is writable.
    fn process_broadcast_element(
        &mut self,
        value: B,
        ctx: &mut BroadcastContext<'_, O>,
    ) -> Result<()>;
}

/// A function over a keyed stream connected with a broadcast stream (Flink's
/// `KeyedBroadcastProcessFunction`).
pub trait KeyedBroadcastProcessFunction<K, I, B, O>: Clone + Send + Sync + 'static {
    /// Called once per subtask before the first element.
    fn open(&mut self, _ctx: &OperatorContext) -> Result<()> {
        Ok(())
    }
    /// Processes an element of the keyed stream with its key current; keyed state and timers
    /// are available, broadcast state is read-only.
    fn process_element(
        &mut self,
        value: I,
        ctx: &mut KeyedReadOnlyContext<'_, '_, K, O>,
    ) -> Result<()>;
    /// Processes an element of the broadcast stream (no key is current); broadcast state is
    /// writable.
    fn process_broadcast_element(
        &mut self,
        value: B,
        ctx: &mut BroadcastContext<'_, O>,
    ) -> Result<()>;
    /// A timer fired; its key is current and broadcast state is read-only.
    fn on_timer(
        &mut self,
        _timestamp: i64,
        _ctx: &mut KeyedReadOnlyContext<'_, '_, K, O>,
    ) -> Result<()> {
        Ok(())
    }
}

/// Marks a context whose broadcast state is read-only.
pub struct ReadOnly;
/// Marks a context whose broadcast state is writable.
pub struct ReadWrite;

/// What a broadcast process function can see and do for an element without a key; `M` says
/// whether it may write broadcast state (see [`ReadOnlyContext`] and [`BroadcastContext`]).
pub struct BroadcastProcessContext<'a, O, M> {
    out: &'a mut Records<O>,
    side: &'a mut SideOutputBuffers,
    runtime: &'a OperatorContext,
    store: &'a mut BroadcastStateStore,
    watermark: i64,
    timestamp: Option<i64>,
    _m: PhantomData<M>,
}

/// The context of elements of the non-broadcast side: broadcast state is read-only.
pub type ReadOnlyContext<'a, O> = BroadcastProcessContext<'a, O, ReadOnly>;
/// The context of elements of the broadcast side: broadcast state is writable.
pub type BroadcastContext<'a, O> = BroadcastProcessContext<'a, O, ReadWrite>;

impl<O, M> BroadcastProcessContext<'_, O, M> {
    /// Emits a record with the current element's timestamp.
    pub fn collect(&mut self, value: O) {
        self.out.push(value, self.timestamp);
    }

    /// Emits a record on the side output `tag`, with the current element's timestamp.
    pub fn output<X: Clone + Send + 'static>(&mut self, tag: &OutputTag<X>, value: X) {
        self.side.push(tag, value, self.timestamp);
    }

    /// The timestamp of the current element, if it has one.
    pub fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }

    /// The current event time.
    pub fn current_watermark(&self) -> i64 {
        self.watermark
    }

    /// The wall clock in milliseconds.
    pub fn current_processing_time(&self) -> i64 {
        now_ms()
    }

    /// The subtask this function runs in.
    pub fn runtime_context(&self) -> &OperatorContext {
        self.runtime
    }
}

impl<O, M> ReadOnlyBroadcastAccess for BroadcastProcessContext<'_, O, M> {
    fn broadcast_store(&self) -> &BroadcastStateStore {
        self.store
    }
}

impl<O> BroadcastAccess for BroadcastContext<'_, O> {
    fn broadcast_store_mut(&mut self) -> &mut BroadcastStateStore {
        self.store
    }
}

/// The context of a keyed element or timer in a [`KeyedBroadcastProcessFunction`]: everything
/// a [`KeyedContext`] offers (through `Deref`), keyed state, and read-only broadcast state.
pub struct KeyedReadOnlyContext<'a, 'b, K, O> {
    keyed: &'a mut KeyedContext<'b, K, O>,
    store: &'a BroadcastStateStore,
}

impl<'b, K, O> Deref for KeyedReadOnlyContext<'_, 'b, K, O> {
    type Target = KeyedContext<'b, K, O>;
    fn deref(&self) -> &Self::Target {
        self.keyed
    }
}

impl<K, O> DerefMut for KeyedReadOnlyContext<'_, '_, K, O> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.keyed
    }
}

impl<K, O> StateAccess<K> for KeyedReadOnlyContext<'_, '_, K, O> {
    fn backend(&mut self) -> &mut KeyedStateBackend<K> {
        self.keyed.backend()
    }
    fn namespace(&self) -> Namespace {
        self.keyed.namespace()
    }
}

impl<K, O> ReadOnlyBroadcastAccess for KeyedReadOnlyContext<'_, '_, K, O> {
    fn broadcast_store(&self) -> &BroadcastStateStore {
        self.store
    }
}

/// Calls `f` for every record of `batch` with a context without key over `store`, then emits
/// what it produced.
fn process_unkeyed<I: 'static, O: weir_state::StateValue, M>(
    batch: Batch,
    runtime: &OperatorContext,
    side: &mut SideOutputBuffers,
    store: &mut BroadcastStateStore,
    watermark: i64,
    mut f: impl FnMut(I, &mut BroadcastProcessContext<'_, O, M>) -> Result<()>,
    out: &mut dyn Output,
) -> Result<()> {
    let records = batch.into_records::<I>();
    let mut produced = Records::with_capacity(records.len(), records.timestamps.is_some());
    let mut ctx = BroadcastProcessContext {
        out: &mut produced,
        side: &mut *side,
        runtime,
        store,
        watermark,
        timestamp: None,
        _m: PhantomData,
    };
    for (value, timestamp) in records.into_iter_timestamped() {
        ctx.timestamp = timestamp;
        f(value, &mut ctx)?;
    }
    out.collect(Batch::from_records(produced))?;
    side.flush(out)
}

/// Runs a [`BroadcastProcessFunction`]: input 0 is the plain stream, input 1 the broadcast one.
pub struct BroadcastProcessOperator<I, B, O, F> {
    function: F,
    store: BroadcastStateStore,
    runtime: Option<OperatorContext>,
    side: SideOutputBuffers,
    watermark: i64,
    _t: PhantomData<fn(I, B) -> O>,
}

impl<I, B, O, F> BroadcastProcessOperator<I, B, O, F>
where
    F: BroadcastProcessFunction<I, B, O>,
{
    /// The operator for `function`, with the broadcast state descriptors named in `states`.
    pub fn new(function: F, states: Vec<String>) -> Self {
        BroadcastProcessOperator {
            function,
            store: BroadcastStateStore::new(states),
            runtime: None,
            side: SideOutputBuffers::default(),
            watermark: i64::MIN,
            _t: PhantomData,
        }
    }
}

impl<I, B, O, F> StreamOperator for BroadcastProcessOperator<I, B, O, F>
where
    I: weir_state::StateValue,
    B: weir_state::StateValue,
    O: weir_state::StateValue,
    F: BroadcastProcessFunction<I, B, O>,
{
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.runtime = Some(ctx.clone());
        if let Some(restored) = ctx.restored_state() {
            self.store.restore(restored);
        }
        self.function.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut weir_state::StateSnapshot) -> Result<()> {
        self.store.snapshot(snapshot)
    }

    fn process_batch(&mut self, input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let runtime = self.runtime.as_ref().expect("open() runs before any input");
        let (function, side, store) = (&mut self.function, &mut self.side, &mut self.store);
        match input {
            0 => process_unkeyed(
                batch,
                runtime,
                side,
                store,
                self.watermark,
                |value, ctx| function.process_element(value, ctx),
                out,
            ),
            _ => process_unkeyed(
                batch,
                runtime,
                side,
                store,
                self.watermark,
                |value, ctx| function.process_broadcast_element(value, ctx),
                out,
            ),
        }
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        self.watermark = watermark.0;
        out.emit_watermark(watermark)
    }
}

/// Runs a [`KeyedBroadcastProcessFunction`]: input 0 is the keyed stream (keyed by `key_of`),
/// input 1 the broadcast one.
pub struct KeyedBroadcastProcessOperator<K, I, B, O, KF, F> {
    key_of: KF,
    function: F,
    store: BroadcastStateStore,
    core: KeyedCore<K>,
    _t: PhantomData<fn(I, B) -> O>,
}

impl<K, I, B, O, KF, F> KeyedBroadcastProcessOperator<K, I, B, O, KF, F>
where
    K: KeyType,
    KF: Fn(&I) -> K + Send,
    F: KeyedBroadcastProcessFunction<K, I, B, O>,
{
    /// The operator for `function` on records keyed by `key_of`, with the broadcast state
    /// descriptors named in `states`.
    pub fn new(key_of: KF, function: F, states: Vec<String>) -> Self {
        KeyedBroadcastProcessOperator {
            key_of,
            function,
            store: BroadcastStateStore::new(states),
            core: KeyedCore::default(),
            _t: PhantomData,
        }
    }
}

impl<K, I, B, O, KF, F> StreamOperator for KeyedBroadcastProcessOperator<K, I, B, O, KF, F>
where
    K: KeyType,
    I: weir_state::StateValue,
    B: weir_state::StateValue,
    O: weir_state::StateValue,
    KF: Fn(&I) -> K + Send,
    F: KeyedBroadcastProcessFunction<K, I, B, O>,
{
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.core.open(ctx)?;
        if let Some(restored) = ctx.restored_state() {
            self.store.restore(restored);
        }
        self.function.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut weir_state::StateSnapshot) -> Result<()> {
        self.core.snapshot(snapshot)?;
        self.store.snapshot(snapshot)
    }

    fn process_batch(&mut self, input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let function = &mut self.function;
        if input == 0 {
            let store = &self.store;
            return self.core.process(
                batch,
                &self.key_of,
                |value, keyed| {
                    function.process_element(value, &mut KeyedReadOnlyContext { keyed, store })
                },
                out,
            );
        }
        let core = &mut self.core;
        process_unkeyed(
            batch,
            core.runtime.as_ref().expect("open() runs before any input"),
            &mut core.side,
            &mut self.store,
            core.timers.watermark(),
            |value, ctx| function.process_broadcast_element(value, ctx),
            out,
        )
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        let (function, store) = (&mut self.function, &self.store);
        self.core.advance_watermark(
            watermark,
            |time, keyed| function.on_timer(time, &mut KeyedReadOnlyContext { keyed, store }),
            out,
        )
    }

    fn next_processing_time(&self) -> Option<i64> {
        self.core.timers.next_processing_time()
    }

    fn on_processing_time(&mut self, now_ms: i64, out: &mut dyn Output) -> Result<()> {
        let (function, store) = (&mut self.function, &self.store);
        self.core.fire_timers(
            TimeDomain::ProcessingTime,
            now_ms,
            |time, keyed| function.on_timer(time, &mut KeyedReadOnlyContext { keyed, store }),
            out,
        )
    }
}
