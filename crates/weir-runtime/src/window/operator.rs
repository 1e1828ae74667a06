//! The window operator: keys the elements, keeps the keyed state and timers, and hands each
//! element and each due timer, with its key current, to a [`WindowLogic`].

use std::marker::PhantomData;

use weir_core::element::{Batch, Records, Watermark};
use weir_core::metrics::{Counter, NUM_LATE_RECORDS_DROPPED};
use weir_core::Result;
use weir_state::{KeyedStateBackend, Namespace, TimeDomain, TimerService};

use crate::keyed::{open_keyed_state, snapshot_keyed_state, KeyType};
use crate::operator::{now_ms, OperatorContext, Output, StreamOperator};
use crate::side_output::{OutputTag, SideOutputBuffers};

use super::functions::KeyedStateStore;

/// What a window operator does with the elements and timers of the current key:
/// [`TriggeredWindows`](super::TriggeredWindows) or [`SlidingPanes`](super::SlidingPanes).
pub trait WindowLogic<K, T>: Send {
    /// The type of the results.
    type Out: weir_state::StateValue;
    /// Called once per subtask before the first element.
    fn open(&mut self, ctx: &OperatorContext) -> Result<()>;
    /// Processes one element of the current key (`timestamp` is `None` if it has none).
    fn on_element(
        &mut self,
        value: T,
        timestamp: Option<i64>,
        scope: &mut Scope<'_, K, Self::Out>,
    ) -> Result<()>;
    /// A timer of the current key registered for `namespace` is due.
    fn on_timer(
        &mut self,
        domain: TimeDomain,
        time: i64,
        namespace: Namespace,
        scope: &mut Scope<'_, K, Self::Out>,
    ) -> Result<()>;
}

/// The current key's state, its timers and the operator's outputs, while a [`WindowLogic`]
/// runs.
pub struct Scope<'a, K, O> {
    pub(crate) state: &'a mut KeyedStateBackend<K>,
    pub(crate) timers: &'a mut TimerService<K>,
    pub(crate) out: &'a mut Records<O>,
    pub(crate) side: &'a mut SideOutputBuffers,
    pub(crate) runtime: &'a OperatorContext,
    /// The processing time of this call.
    pub(crate) now: i64,
}

impl<K: KeyType, O> Scope<'_, K, O> {
    /// A shorter-lived scope over the same state and outputs.
    pub(crate) fn reborrow(&mut self) -> Scope<'_, K, O> {
        Scope {
            state: &mut *self.state,
            timers: &mut *self.timers,
            out: &mut *self.out,
            side: &mut *self.side,
            runtime: self.runtime,
            now: self.now,
        }
    }

    /// The current key.
    pub(crate) fn key(&self) -> &K {
        self.state
            .current_key()
            .expect("the window operator sets the key before calling its logic")
    }

    /// The current event time.
    pub(crate) fn watermark(&self) -> i64 {
        self.timers.watermark()
    }

    /// The current key's state in `namespace`.
    pub(crate) fn store(&mut self, namespace: Namespace) -> KeyedStateStore<'_, K> {
        KeyedStateStore {
            backend: &mut *self.state,
            namespace,
        }
    }

    /// Registers a timer of the current key for `namespace`.
    pub(crate) fn register_timer(&mut self, domain: TimeDomain, time: i64, namespace: Namespace) {
        let key = self.key().clone();
        self.timers.register(domain, time, key, namespace);
    }
}

/// How late elements may be (Flink's allowed lateness) and where later ones go.
pub struct Lateness<T> {
    allowed_ms: i64,
    late_data: Option<OutputTag<T>>,
    /// Late elements dropped (not sent to `late_data`): Flink's `numLateRecordsDropped`.
    dropped: Counter,
}

impl<T> Clone for Lateness<T> {
    fn clone(&self) -> Self {
        Lateness {
            allowed_ms: self.allowed_ms,
            late_data: self.late_data.clone(),
            dropped: Counter::default(),
        }
    }
}

impl<T: weir_state::StateValue> Lateness<T> {
    /// Windows keep their state until the watermark passes their end + `allowed_ms`; later
    /// elements go to the side output `late_data`, or are dropped.
    pub fn new(allowed_ms: i64, late_data: Option<OutputTag<T>>) -> Self {
        Lateness {
            allowed_ms,
            late_data,
            dropped: Counter::default(),
        }
    }

    /// Registers the `numLateRecordsDropped` counter of the operator (call from `open`).
    pub fn open(&mut self, ctx: &OperatorContext) {
        self.dropped = ctx.metrics().counter(NUM_LATE_RECORDS_DROPPED);
    }

    /// The allowed lateness in milliseconds.
    pub fn allowed_ms(&self) -> i64 {
        self.allowed_ms
    }

    /// When the state of an event-time window ending at `max_timestamp` is dropped.
    pub fn cleanup_time(&self, max_timestamp: i64) -> i64 {
        max_timestamp.saturating_add(self.allowed_ms)
    }

    /// Whether an element that went into no window is late (rather than in no window).
    pub fn is_element_late(&self, timestamp: Option<i64>, watermark: i64) -> bool {
        timestamp.is_some_and(|t| t.saturating_add(self.allowed_ms) <= watermark)
    }

    /// Sends a late element to the late-data side output if there is one, else drops it and
    /// counts it in `numLateRecordsDropped`.
    pub fn late_element(&self, value: T, timestamp: Option<i64>, side: &mut SideOutputBuffers) {
        match &self.late_data {
            Some(tag) => side.push(tag, value, timestamp),
            None => self.dropped.inc(),
        }
    }
}

/// Runs a [`WindowLogic`] over records keyed by `key_of`; see the module documentation.
pub struct WindowOperator<K, T, KF, L: WindowLogic<K, T>> {
    key_of: KF,
    logic: L,
    runtime: Option<OperatorContext>,
    state: Option<KeyedStateBackend<K>>,
    timers: TimerService<K>,
    side: SideOutputBuffers,
    _t: PhantomData<fn(T)>,
}

impl<K, T, KF, L> WindowOperator<K, T, KF, L>
where
    K: KeyType,
    T: weir_state::StateValue,
    KF: Fn(&T) -> K + Send,
    L: WindowLogic<K, T>,
{
    /// The operator running `logic` on records keyed by `key_of`.
    pub fn new(key_of: KF, logic: L) -> Self {
        WindowOperator {
            key_of,
            logic,
            runtime: None,
            state: None,
            timers: TimerService::default(),
            side: SideOutputBuffers::default(),
            _t: PhantomData,
        }
    }

    /// Number of (key, namespace) state entries: window contents, panes, trigger and
    /// function state, merging-window sets.
    pub fn state_entries(&self) -> Result<usize> {
        self.state
            .as_ref()
            .map_or(Ok(0), KeyedStateBackend::total_entries)
    }

    /// Number of registered timers.
    pub fn timers(&self) -> usize {
        self.timers.len()
    }

    /// Calls the logic for every due timer of `domain`, then emits what it produced.
    fn fire_timers(&mut self, domain: TimeDomain, now: i64, out: &mut dyn Output) -> Result<()> {
        let runtime = self.runtime.as_ref().expect("opened");
        let state = self.state.as_mut().expect("opened");
        let mut produced = Records::with_capacity(0, true);
        loop {
            let due = match domain {
                TimeDomain::EventTime => self.timers.pop_event_timer(),
                TimeDomain::ProcessingTime => self.timers.pop_processing_timer(now),
            };
            let Some((time, key, namespace)) = due else {
                break;
            };
            state.set_current_key(key)?;
            let mut scope = Scope {
                state,
                timers: &mut self.timers,
                out: &mut produced,
                side: &mut self.side,
                runtime,
                now,
            };
            self.logic.on_timer(domain, time, namespace, &mut scope)?;
        }
        out.collect(Batch::from_records(produced))?;
        self.side.flush(out)
    }
}

impl<K, T, KF, L> StreamOperator for WindowOperator<K, T, KF, L>
where
    K: KeyType,
    T: weir_state::StateValue,
    KF: Fn(&T) -> K + Send,
    L: WindowLogic<K, T>,
{
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.state = Some(open_keyed_state(ctx, &mut self.timers)?);
        self.runtime = Some(ctx.clone());
        self.logic.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut weir_state::StateSnapshot) -> Result<()> {
        snapshot_keyed_state(
            self.runtime.as_ref(),
            self.state.as_mut(),
            &self.timers,
            snapshot,
        )
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let runtime = self.runtime.as_ref().expect("opened");
        let state = self.state.as_mut().expect("opened");
        let now = now_ms();
        let mut produced = Records::with_capacity(0, true);
        for (value, timestamp) in batch.into_records::<T>().into_iter_timestamped() {
            state.set_current_key((self.key_of)(&value))?;
            let mut scope = Scope {
                state,
                timers: &mut self.timers,
                out: &mut produced,
                side: &mut self.side,
                runtime,
                now,
            };
            // `i64::MIN` is Flink's "no timestamp".
            let timestamp = timestamp.filter(|t| *t != i64::MIN);
            self.logic.on_element(value, timestamp, &mut scope)?;
        }
        out.collect(Batch::from_records(produced))?;
        self.side.flush(out)
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        self.timers.advance_watermark(watermark.0);
        self.fire_timers(TimeDomain::EventTime, now_ms(), out)?;
        out.emit_watermark(watermark)
    }

    fn next_processing_time(&self) -> Option<i64> {
        self.timers.next_processing_time()
    }

    fn on_processing_time(&mut self, now_ms: i64, out: &mut dyn Output) -> Result<()> {
        self.fire_timers(TimeDomain::ProcessingTime, now_ms, out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use weir_core::element::WatermarkStatus;
    use weir_state::ValueState;

    use super::*;
    use crate::window::{PaneLayout, PassThrough, Reduce, SlidingPanes, TimeWindow};

    /// Sums the counts a window operator emits.
    #[derive(Default)]
    struct Sum(i64);

    impl Output for Sum {
        fn collect(&mut self, batch: Batch) -> Result<()> {
            self.0 += batch
                .into_vec::<(u64, i64)>()
                .iter()
                .map(|r| r.1)
                .sum::<i64>();
            Ok(())
        }
        fn collect_side(&mut self, _: &str, _: Batch) -> Result<()> {
            Ok(())
        }
        fn emit_watermark(&mut self, _: Watermark) -> Result<()> {
            Ok(())
        }
        fn emit_watermark_status(&mut self, _: WatermarkStatus) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn panes_are_dropped_when_no_window_needs_them() {
        // Windows of 1 s every 200 ms, panes of 200 ms.
        let layout = PaneLayout {
            size: 1_000,
            slide: 200,
            offset: 0,
        };
        let reduce = Reduce(|a: (u64, i64), b: (u64, i64)| (a.0, a.1 + b.1));
        let logic = SlidingPanes::<_, TimeWindow, _, _, _>::new(
            layout,
            reduce,
            PassThrough,
            Lateness::new(0, None),
        );
        let mut op = WindowOperator::new(|e: &(u64, i64)| e.0, logic);
        op.open(&OperatorContext::detached("Window", "window"))
            .unwrap();
        let panes = ValueState::<VecDeque<(i64, Option<(u64, i64)>)>>::new("window-panes");
        let mut out = Sum::default();
        for step in 0..20i64 {
            let mut records = Records::with_capacity(0, true);
            for t in step * 100..(step + 1) * 100 {
                for key in 0..3u64 {
                    records.push((key, 1i64), Some(t));
                }
            }
            op.process_batch(0, Batch::from_records(records), &mut out)
                .unwrap();
            op.process_watermark(Watermark(step * 100 + 99), &mut out)
                .unwrap();
            let state = op.state.as_mut().unwrap();
            for key in 0..3u64 {
                state.set_current_key(key).unwrap();
                let mut store = KeyedStateStore {
                    backend: &mut *state,
                    namespace: Namespace::Void,
                };
                let kept = panes.value(&mut store).unwrap().unwrap_or_default();
                // The 5 panes of the window that fires next, at most.
                assert!(kept.len() <= 5, "{kept:?}");
                assert!(kept.iter().all(|(start, _)| *start > step * 100 - 1_000));
            }
        }
        op.process_watermark(Watermark::MAX, &mut out).unwrap();
        assert_eq!(op.state_entries().unwrap(), 0);
        // 2000 ms × 3 keys, each element in 5 windows.
        assert_eq!(out.0, 2_000 * 3 * 5);
    }
}
