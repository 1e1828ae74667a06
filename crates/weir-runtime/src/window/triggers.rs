//! Triggers: decide when a window is evaluated and when its contents are dropped (Flink's
//! `Trigger`). A trigger is called for every element added to a window and for every timer
//! it registered; its per-window state lives in keyed state under the window's namespace,
//! which the [`TriggerContext`] gives access to.

use std::marker::PhantomData;
use std::time::Duration;

use weir_core::{Result, WeirError};
use weir_state::{
    AggregateFunction, AggregatingState, KeyedStateBackend, Namespace, StateAccess, TimeDomain,
    TimerService, ValueState,
};

use crate::keyed::KeyType;

use super::assigners::millis;
use super::operator::Scope;
use super::Window;

/// What a trigger decides (Flink's `TriggerResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerResult {
    /// Nothing happens.
    Continue,
    /// The window is evaluated; its contents stay.
    Fire,
    /// The window's contents are dropped without evaluation.
    Purge,
    /// The window is evaluated, then its contents are dropped.
    FireAndPurge,
}

impl TriggerResult {
    /// Whether the window is evaluated.
    pub fn is_fire(self) -> bool {
        matches!(self, TriggerResult::Fire | TriggerResult::FireAndPurge)
    }

    /// Whether the window's contents are dropped.
    pub fn is_purge(self) -> bool {
        matches!(self, TriggerResult::Purge | TriggerResult::FireAndPurge)
    }
}

/// What a trigger can see and do for one window of the current key: time, timers, and
/// state in the window's namespace (pass the context to state handles).
pub struct TriggerContext<'a, K> {
    state: &'a mut KeyedStateBackend<K>,
    timers: &'a mut TimerService<K>,
    namespace: Namespace,
    now: i64,
}

impl<'a, K: KeyType> TriggerContext<'a, K> {
    pub(crate) fn new<O, W: Window>(scope: &'a mut Scope<'_, K, O>, window: W) -> Self {
        TriggerContext {
            state: &mut *scope.state,
            timers: &mut *scope.timers,
            namespace: window.namespace(),
            now: scope.now,
        }
    }

    /// The current event time.
    pub fn current_watermark(&self) -> i64 {
        self.timers.watermark()
    }

    /// The current processing time, in ms since the epoch.
    pub fn current_processing_time(&self) -> i64 {
        self.now
    }

    fn timer(&mut self, domain: TimeDomain, time: i64, register: bool) {
        let Some(key) = self.state.current_key().cloned() else {
            return;
        };
        if register {
            self.timers.register(domain, time, key, self.namespace);
        } else {
            self.timers.delete(domain, time, &key, self.namespace);
        }
    }

    /// Calls `on_event_time` for this window when the watermark reaches `time`.
    pub fn register_event_time_timer(&mut self, time: i64) {
        self.timer(TimeDomain::EventTime, time, true);
    }

    /// Calls `on_processing_time` for this window when the wall clock reaches `time`.
    pub fn register_processing_time_timer(&mut self, time: i64) {
        self.timer(TimeDomain::ProcessingTime, time, true);
    }

    /// Deletes an event-time timer of this window.
    pub fn delete_event_time_timer(&mut self, time: i64) {
        self.timer(TimeDomain::EventTime, time, false);
    }

    /// Deletes a processing-time timer of this window.
    pub fn delete_processing_time_timer(&mut self, time: i64) {
        self.timer(TimeDomain::ProcessingTime, time, false);
    }
}

impl<K> StateAccess<K> for TriggerContext<'_, K> {
    fn backend(&mut self) -> &mut KeyedStateBackend<K> {
        self.state
    }
    fn namespace(&self) -> Namespace {
        self.namespace
    }
}

/// Decides when a window fires (Flink's `Trigger`). `K` is the key type: implement a
/// trigger for every key type with `impl<K: KeyType> Trigger<K, MyRecord, TimeWindow>` (in
/// the DataStream API, `K: Key`). Only `on_element` is required; timers do nothing unless
/// handled.
pub trait Trigger<K, T, W: Window>: Send + Sync + 'static {
    /// An element was added to `window`.
    fn on_element(
        &self,
        element: &T,
        timestamp: Option<i64>,
        window: W,
        ctx: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult>;
    /// An event-time timer of `window` is due.
    fn on_event_time(
        &self,
        _time: i64,
        _window: W,
        _ctx: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        Ok(TriggerResult::Continue)
    }
    /// A processing-time timer of `window` is due.
    fn on_processing_time(
        &self,
        _time: i64,
        _window: W,
        _ctx: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        Ok(TriggerResult::Continue)
    }
    /// Whether the trigger supports merging windows (session windows need it).
    fn can_merge(&self) -> bool {
        false
    }
    /// The windows `merged` were merged into `window`: move their trigger state into
    /// `ctx` (the merged state of `merged` is cleared afterwards by [`Trigger::clear`]).
    fn on_merge(&self, _window: W, _merged: &[W], _ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        Err(WeirError::Other(format!(
            "{} does not support merging windows",
            self.describe()
        )))
    }
    /// The window is dropped: delete its timers and state.
    fn clear(&self, _window: W, _ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        Ok(())
    }
    /// A short description for the operator's name.
    fn describe(&self) -> String {
        std::any::type_name::<Self>().to_string()
    }
}

/// Fires when the watermark passes the end of the window, and at once for elements of a
/// window the watermark has passed (late elements within the allowed lateness); the default
/// trigger of event-time windows.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventTimeTrigger;

impl<K: KeyType, T, W: Window> Trigger<K, T, W> for EventTimeTrigger {
    fn on_element(
        &self,
        _: &T,
        _: Option<i64>,
        window: W,
        ctx: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        if window.max_timestamp() <= ctx.current_watermark() {
            return Ok(TriggerResult::Fire);
        }
        ctx.register_event_time_timer(window.max_timestamp());
        Ok(TriggerResult::Continue)
    }
    fn on_event_time(
        &self,
        time: i64,
        window: W,
        _: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        Ok(if time == window.max_timestamp() {
            TriggerResult::Fire
        } else {
            TriggerResult::Continue
        })
    }
    fn can_merge(&self) -> bool {
        true
    }
    fn on_merge(&self, window: W, _: &[W], ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        if window.max_timestamp() > ctx.current_watermark() {
            ctx.register_event_time_timer(window.max_timestamp());
        }
        Ok(())
    }
    fn clear(&self, window: W, ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        ctx.delete_event_time_timer(window.max_timestamp());
        Ok(())
    }
    fn describe(&self) -> String {
        "EventTimeTrigger".to_string()
    }
}

/// Fires when the wall clock passes the end of the window; the default trigger of
/// processing-time windows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessingTimeTrigger;

impl<K: KeyType, T, W: Window> Trigger<K, T, W> for ProcessingTimeTrigger {
    fn on_element(
        &self,
        _: &T,
        _: Option<i64>,
        window: W,
        ctx: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        ctx.register_processing_time_timer(window.max_timestamp());
        Ok(TriggerResult::Continue)
    }
    fn on_processing_time(
        &self,
        _: i64,
        _: W,
        _: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        Ok(TriggerResult::Fire)
    }
    fn can_merge(&self) -> bool {
        true
    }
    fn on_merge(&self, window: W, _: &[W], ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        if window.max_timestamp() > ctx.current_processing_time() {
            ctx.register_processing_time_timer(window.max_timestamp());
        }
        Ok(())
    }
    fn clear(&self, window: W, ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        ctx.delete_processing_time_timer(window.max_timestamp());
        Ok(())
    }
    fn describe(&self) -> String {
        "ProcessingTimeTrigger".to_string()
    }
}

/// Never fires; the default trigger of [`GlobalWindows`](super::GlobalWindows).
#[derive(Debug, Clone, Copy, Default)]
pub struct NeverTrigger;

impl<K: KeyType, T, W: Window> Trigger<K, T, W> for NeverTrigger {
    fn on_element(
        &self,
        _: &T,
        _: Option<i64>,
        _: W,
        _: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        Ok(TriggerResult::Continue)
    }
    fn can_merge(&self) -> bool {
        true
    }
    fn on_merge(&self, _: W, _: &[W], _: &mut TriggerContext<'_, K>) -> Result<()> {
        Ok(())
    }
    fn describe(&self) -> String {
        "NeverTrigger".to_string()
    }
}

/// Combines the `i64` trigger state of merged windows.
struct Fold {
    init: i64,
    combine: fn(i64, i64) -> i64,
}

impl AggregateFunction<i64, i64, i64> for Fold {
    fn create_accumulator(&self) -> i64 {
        self.init
    }
    fn add(&self, value: i64, accumulator: &mut i64) {
        *accumulator = (self.combine)(*accumulator, value);
    }
    fn get_result(&self, accumulator: &i64) -> i64 {
        *accumulator
    }
    fn merge(&self, a: i64, b: i64) -> i64 {
        (self.combine)(a, b)
    }
}

/// Moves the state of `merged` windows into the context's window.
fn merge_state<K: KeyType, W: Window>(
    state: &AggregatingState<i64, i64, i64>,
    merged: &[W],
    ctx: &mut TriggerContext<'_, K>,
) -> Result<()> {
    merged
        .iter()
        .try_for_each(|w| state.merge_namespace(ctx, w.namespace()))
}

/// Fires once a window has `max_count` elements, then counts again from zero.
#[derive(Clone)]
pub struct CountTrigger {
    max_count: i64,
    count: AggregatingState<i64, i64, i64>,
}

impl CountTrigger {
    /// Fires every `max_count` elements.
    pub fn of(max_count: u64) -> Self {
        CountTrigger {
            max_count: i64::try_from(max_count).unwrap_or(i64::MAX),
            count: AggregatingState::new(
                "count",
                Fold {
                    init: 0,
                    combine: i64::saturating_add,
                },
            ),
        }
    }
}

impl<K: KeyType, T, W: Window> Trigger<K, T, W> for CountTrigger {
    fn on_element(
        &self,
        _: &T,
        _: Option<i64>,
        _: W,
        ctx: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        self.count.add(ctx, 1)?;
        if self.count.get(ctx)?.unwrap_or(0) >= self.max_count {
            self.count.clear(ctx)?;
            return Ok(TriggerResult::Fire);
        }
        Ok(TriggerResult::Continue)
    }
    fn can_merge(&self) -> bool {
        true
    }
    fn on_merge(&self, _: W, merged: &[W], ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        merge_state(&self.count, merged, ctx)
    }
    fn clear(&self, _: W, ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        self.count.clear(ctx)
    }
    fn describe(&self) -> String {
        format!("CountTrigger({})", self.max_count)
    }
}

/// Turns every firing of the nested trigger into fire-and-purge.
#[derive(Clone)]
pub struct PurgingTrigger<Tr> {
    nested: Tr,
}

impl<Tr> PurgingTrigger<Tr> {
    /// Purges whenever `nested` fires.
    pub fn of(nested: Tr) -> Self {
        PurgingTrigger { nested }
    }
}

fn purging(result: TriggerResult) -> TriggerResult {
    if result.is_fire() {
        TriggerResult::FireAndPurge
    } else {
        result
    }
}

impl<K, T, W: Window, Tr: Trigger<K, T, W>> Trigger<K, T, W> for PurgingTrigger<Tr> {
    fn on_element(
        &self,
        element: &T,
        timestamp: Option<i64>,
        window: W,
        ctx: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        Ok(purging(
            self.nested.on_element(element, timestamp, window, ctx)?,
        ))
    }
    fn on_event_time(
        &self,
        time: i64,
        window: W,
        ctx: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        Ok(purging(self.nested.on_event_time(time, window, ctx)?))
    }
    fn on_processing_time(
        &self,
        time: i64,
        window: W,
        ctx: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        Ok(purging(self.nested.on_processing_time(time, window, ctx)?))
    }
    fn can_merge(&self) -> bool {
        self.nested.can_merge()
    }
    fn on_merge(&self, window: W, merged: &[W], ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        self.nested.on_merge(window, merged, ctx)
    }
    fn clear(&self, window: W, ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        self.nested.clear(window, ctx)
    }
    fn describe(&self) -> String {
        format!("PurgingTrigger({})", self.nested.describe())
    }
}

/// Fires every `interval` of event time while a window is open (at multiples of the
/// interval), and when the watermark passes its end.
#[derive(Clone)]
pub struct ContinuousEventTimeTrigger {
    interval_ms: i64,
    fire_time: AggregatingState<i64, i64, i64>,
}

impl ContinuousEventTimeTrigger {
    /// Fires every `interval` of event time (an interval under 1 ms counts as 1 ms).
    pub fn of(interval: Duration) -> Self {
        ContinuousEventTimeTrigger {
            interval_ms: millis(interval).max(1),
            fire_time: AggregatingState::new(
                "fire-time",
                Fold {
                    init: i64::MAX,
                    combine: i64::min,
                },
            ),
        }
    }

    fn register_next<K: KeyType, W: Window>(
        &self,
        time: i64,
        window: W,
        ctx: &mut TriggerContext<'_, K>,
    ) -> Result<()> {
        let next = time
            .saturating_add(self.interval_ms)
            .min(window.max_timestamp());
        self.fire_time.add(ctx, next)?;
        ctx.register_event_time_timer(next);
        Ok(())
    }
}

impl<K: KeyType, T, W: Window> Trigger<K, T, W> for ContinuousEventTimeTrigger {
    fn on_element(
        &self,
        _: &T,
        timestamp: Option<i64>,
        window: W,
        ctx: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        if window.max_timestamp() <= ctx.current_watermark() {
            return Ok(TriggerResult::Fire);
        }
        ctx.register_event_time_timer(window.max_timestamp());
        if let (Some(t), None) = (timestamp, self.fire_time.get(ctx)?) {
            self.register_next(t - t.rem_euclid(self.interval_ms), window, ctx)?;
        }
        Ok(TriggerResult::Continue)
    }
    fn on_event_time(
        &self,
        time: i64,
        window: W,
        ctx: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        if time == window.max_timestamp() {
            return Ok(TriggerResult::Fire);
        }
        if self.fire_time.get(ctx)? == Some(time) {
            self.fire_time.clear(ctx)?;
            self.register_next(time, window, ctx)?;
            return Ok(TriggerResult::Fire);
        }
        Ok(TriggerResult::Continue)
    }
    fn can_merge(&self) -> bool {
        true
    }
    fn on_merge(&self, _: W, merged: &[W], ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        merge_state(&self.fire_time, merged, ctx)?;
        if let Some(next) = self.fire_time.get(ctx)? {
            ctx.register_event_time_timer(next);
        }
        Ok(())
    }
    fn clear(&self, _: W, ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        if let Some(time) = self.fire_time.get(ctx)? {
            ctx.delete_event_time_timer(time);
            self.fire_time.clear(ctx)?;
        }
        Ok(())
    }
    fn describe(&self) -> String {
        format!("ContinuousEventTimeTrigger({})", self.interval_ms)
    }
}

/// Fires when the delta between the element that last fired (or the window's first element)
/// and a new element exceeds `threshold`.
pub struct DeltaTrigger<T, F> {
    threshold: f64,
    delta: F,
    last: ValueState<T>,
    _t: PhantomData<fn(&T)>,
}

impl<T, F: Fn(&T, &T) -> f64> DeltaTrigger<T, F> {
    /// Fires when `delta(last, element) > threshold`.
    pub fn of(threshold: f64, delta: F) -> Self {
        DeltaTrigger {
            threshold,
            delta,
            last: ValueState::new("last-element"),
            _t: PhantomData,
        }
    }
}

impl<K, T, W, F> Trigger<K, T, W> for DeltaTrigger<T, F>
where
    K: KeyType,
    T: weir_state::StateValue,
    W: Window,
    F: Fn(&T, &T) -> f64 + Send + Sync + 'static,
{
    fn on_element(
        &self,
        element: &T,
        _: Option<i64>,
        _: W,
        ctx: &mut TriggerContext<'_, K>,
    ) -> Result<TriggerResult> {
        let result = match self.last.value(ctx)? {
            Some(last) if (self.delta)(&last, element) > self.threshold => TriggerResult::Fire,
            Some(_) => return Ok(TriggerResult::Continue),
            None => TriggerResult::Continue,
        };
        self.last.update(ctx, element.clone())?;
        Ok(result)
    }
    fn clear(&self, _: W, ctx: &mut TriggerContext<'_, K>) -> Result<()> {
        self.last.clear(ctx)
    }
    fn describe(&self) -> String {
        format!("DeltaTrigger({})", self.threshold)
    }
}
