//! Flink's `WindowOperator` semantics: an assigner, a trigger and window contents, with
//! merging windows, allowed lateness and cleanup timers.

use std::sync::Arc;

use weir_core::{Result, WeirError};
use weir_state::{Namespace, TimeDomain, ValueState};

use crate::keyed::KeyType;
use crate::operator::OperatorContext;

use super::assigners::WindowAssigner;
use super::contents::WindowContents;
use super::functions::WindowContext;
use super::merging::{Merge, MergingWindowSet};
use super::operator::{Lateness, Scope, WindowLogic};
use super::triggers::{Trigger, TriggerContext};
use super::Window;

/// Windows evaluated when their trigger fires (Flink's `WindowOperator`, or with an
/// [`Evicting`](super::Evicting) contents its `EvictingWindowOperator`).
///
/// For every element: the assigner gives its windows (merged with the key's in-flight
/// windows for session windows); windows whose cleanup time the watermark has passed are
/// skipped; the element is added to the others and the trigger decides whether each fires
/// or purges. A cleanup timer at the window's end + allowed lateness (event time) or end
/// (processing time) drops the window's state. An element that went into no window because
/// all its windows were late goes to the late-data side output, or is dropped.
pub struct TriggeredWindows<K, T, W, C> {
    assigner: Arc<dyn WindowAssigner<T, W = W>>,
    trigger: Arc<dyn Trigger<K, T, W>>,
    contents: C,
    lateness: Lateness<T>,
    merging_windows: ValueState<Vec<(W, W)>>,
    assigned: Vec<W>,
}

impl<K, T, W, C: Clone> Clone for TriggeredWindows<K, T, W, C> {
    fn clone(&self) -> Self {
        TriggeredWindows {
            assigner: Arc::clone(&self.assigner),
            trigger: Arc::clone(&self.trigger),
            contents: self.contents.clone(),
            lateness: self.lateness.clone(),
            merging_windows: self.merging_windows.clone(),
            assigned: Vec::new(),
        }
    }
}

impl<K, T, W, C> TriggeredWindows<K, T, W, C>
where
    K: KeyType,
    T: weir_state::StateValue,
    W: Window,
    C: WindowContents<K, T, W>,
{
    /// Windows of `assigner`, fired by `trigger`, kept and evaluated by `contents`.
    pub fn new(
        assigner: Arc<dyn WindowAssigner<T, W = W>>,
        trigger: Arc<dyn Trigger<K, T, W>>,
        contents: C,
        lateness: Lateness<T>,
    ) -> Self {
        TriggeredWindows {
            assigner,
            trigger,
            contents,
            lateness,
            merging_windows: ValueState::new("merging-window-set"),
            assigned: Vec::new(),
        }
    }

    /// The clock of the windows' cleanup timers.
    fn domain(&self) -> TimeDomain {
        if self.assigner.is_event_time() {
            TimeDomain::EventTime
        } else {
            TimeDomain::ProcessingTime
        }
    }

    /// When the state of `window` is dropped.
    fn cleanup_time(&self, window: W) -> i64 {
        if self.assigner.is_event_time() {
            self.lateness.cleanup_time(window.max_timestamp())
        } else {
            window.max_timestamp()
        }
    }

    /// Whether the watermark has passed the window's cleanup time.
    fn is_window_late(&self, window: W, watermark: i64) -> bool {
        self.assigner.is_event_time() && self.cleanup_time(window) <= watermark
    }

    fn cleanup_timer(&self, window: W, scope: &mut Scope<'_, K, C::Out>, register: bool) {
        let time = self.cleanup_time(window);
        if time == i64::MAX {
            return;
        }
        let mut ctx = TriggerContext::new(scope, window);
        match (self.domain(), register) {
            (TimeDomain::EventTime, true) => ctx.register_event_time_timer(time),
            (TimeDomain::EventTime, false) => ctx.delete_event_time_timer(time),
            (TimeDomain::ProcessingTime, true) => ctx.register_processing_time_timer(time),
            (TimeDomain::ProcessingTime, false) => ctx.delete_processing_time_timer(time),
        }
    }

    fn load_merging_set(
        &self,
        scope: &mut Scope<'_, K, C::Out>,
    ) -> Result<Option<MergingWindowSet<W>>> {
        if !self.assigner.is_merging() {
            return Ok(None);
        }
        MergingWindowSet::load(&self.merging_windows, &mut scope.store(Namespace::Void)).map(Some)
    }

    /// Windows merged: moves trigger state, cleanup timers and contents to the result.
    fn merge(&self, merge: Merge<'_, W>, scope: &mut Scope<'_, K, C::Out>) -> Result<()> {
        self.trigger.on_merge(
            merge.result,
            merge.merged,
            &mut TriggerContext::new(scope, merge.result),
        )?;
        for &window in merge.merged {
            self.trigger
                .clear(window, &mut TriggerContext::new(scope, window))?;
            self.cleanup_timer(window, scope, false);
        }
        let sources: Vec<Namespace> = merge
            .merged_state_windows
            .iter()
            .map(Window::namespace)
            .collect();
        self.contents
            .merge(&mut scope.store(merge.state_window.namespace()), &sources)
    }

    /// Adds an element to `window` (kept in `state_window`) and acts on the trigger.
    fn add(
        &mut self,
        value: T,
        timestamp: Option<i64>,
        window: W,
        state_window: W,
        scope: &mut Scope<'_, K, C::Out>,
    ) -> Result<()> {
        let result = self.trigger.on_element(
            &value,
            timestamp,
            window,
            &mut TriggerContext::new(scope, window),
        )?;
        self.contents
            .add(&mut scope.store(state_window.namespace()), value, timestamp)?;
        if result.is_fire() {
            self.emit(window, state_window, scope)?;
        }
        if result.is_purge() {
            self.contents
                .clear(&mut scope.store(state_window.namespace()))?;
        }
        self.cleanup_timer(window, scope, true);
        Ok(())
    }

    fn emit(&mut self, window: W, state_window: W, scope: &mut Scope<'_, K, C::Out>) -> Result<()> {
        self.contents.emit(
            state_window.namespace(),
            &mut WindowContext::new(scope.reborrow(), window),
        )
    }

    /// Drops everything of `window`: contents, trigger state, the function's window state.
    fn clear_all_state(
        &mut self,
        window: W,
        state_window: W,
        merging: Option<&mut MergingWindowSet<W>>,
        scope: &mut Scope<'_, K, C::Out>,
    ) -> Result<()> {
        self.contents
            .clear(&mut scope.store(state_window.namespace()))?;
        self.trigger
            .clear(window, &mut TriggerContext::new(scope, window))?;
        self.contents
            .clear_window(&mut WindowContext::new(scope.reborrow(), window))?;
        if let Some(set) = merging {
            set.retire(window);
        }
        Ok(())
    }
}

fn not_in_flight<W: Window>(window: W) -> WeirError {
    WeirError::Other(format!(
        "weir internal error: window {window:?} is not in the in-flight window set"
    ))
}

impl<K, T, W, C> WindowLogic<K, T> for TriggeredWindows<K, T, W, C>
where
    K: KeyType,
    T: weir_state::StateValue,
    W: Window,
    C: WindowContents<K, T, W>,
{
    type Out = C::Out;

    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.assigner.validate().map_err(WeirError::InvalidJob)?;
        if self.assigner.is_merging() && !self.trigger.can_merge() {
            return Err(WeirError::InvalidJob(format!(
                "the merging window assigner {} cannot be used with {}, which does not support merging",
                self.assigner.describe(),
                self.trigger.describe()
            )));
        }
        self.lateness.open(ctx);
        self.contents.open(ctx)
    }

    fn on_element(
        &mut self,
        value: T,
        timestamp: Option<i64>,
        scope: &mut Scope<'_, K, C::Out>,
    ) -> Result<()> {
        let mut windows = std::mem::take(&mut self.assigned);
        windows.clear();
        self.assigner
            .assign_windows(&value, timestamp, scope.now, &mut windows)?;
        let watermark = scope.watermark();
        let mut merging = self.load_merging_set(scope)?;
        let mut value = Some(value);
        let mut skipped = true;
        for (i, &window) in windows.iter().enumerate() {
            let (window, state_window) = match &mut merging {
                Some(set) => {
                    let assigner = &self.assigner;
                    let actual = set.add_window(
                        window,
                        |windows| assigner.merge_windows(windows),
                        |merge| self.merge(merge, scope),
                    )?;
                    if self.is_window_late(actual, watermark) {
                        set.retire(actual);
                        continue;
                    }
                    let state = set
                        .state_window(actual)
                        .ok_or_else(|| not_in_flight(actual))?;
                    (actual, state)
                }
                None if self.is_window_late(window, watermark) => continue,
                None => (window, window),
            };
            skipped = false;
            // The last window takes the element, the others a copy.
            let element = if i + 1 == windows.len() {
                value.take()
            } else {
                value.clone()
            };
            if let Some(element) = element {
                self.add(element, timestamp, window, state_window, scope)?;
            }
        }
        if let Some(set) = merging {
            set.persist(&self.merging_windows, &mut scope.store(Namespace::Void))?;
        }
        self.assigned = windows;
        let late = skipped
            && self.assigner.is_event_time()
            && self.lateness.is_element_late(timestamp, watermark);
        match value {
            Some(value) if late => self.lateness.late_element(value, timestamp, scope.side),
            _ => {}
        }
        Ok(())
    }

    fn on_timer(
        &mut self,
        domain: TimeDomain,
        time: i64,
        namespace: Namespace,
        scope: &mut Scope<'_, K, C::Out>,
    ) -> Result<()> {
        let window = W::from_namespace(namespace).ok_or_else(|| {
            WeirError::Other(format!(
                "weir internal error: a window timer has the namespace {namespace:?}"
            ))
        })?;
        let mut merging = self.load_merging_set(scope)?;
        let state_window = match &merging {
            Some(set) => match set.state_window(window) {
                Some(state_window) => state_window,
                // The window was merged away or dropped; its stale timer has nothing to do.
                None => return Ok(()),
            },
            None => window,
        };
        let mut ctx = TriggerContext::new(scope, window);
        let result = match domain {
            TimeDomain::EventTime => self.trigger.on_event_time(time, window, &mut ctx)?,
            TimeDomain::ProcessingTime => {
                self.trigger.on_processing_time(time, window, &mut ctx)?
            }
        };
        if result.is_fire() {
            self.emit(window, state_window, scope)?;
        }
        if result.is_purge() {
            self.contents
                .clear(&mut scope.store(state_window.namespace()))?;
        }
        if domain == self.domain() && time == self.cleanup_time(window) {
            self.clear_all_state(window, state_window, merging.as_mut(), scope)?;
        }
        if let Some(set) = merging {
            set.persist(&self.merging_windows, &mut scope.store(Namespace::Void))?;
        }
        Ok(())
    }
}
