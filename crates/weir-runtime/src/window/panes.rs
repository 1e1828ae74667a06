//! Sliding event-time windows aggregated per pane.
//!
//! An element is in `size / slide` sliding windows; keeping one accumulator per window
//! would cost that many updates per element. Instead time is cut into panes of
//! `gcd(size, slide)`: each element updates the one accumulator of its pane, and a window
//! that fires merges the accumulators of the panes it covers. A pane is dropped when the last
//! window covering it is cleaned up. A key's panes are kept together, in time order, in one
//! state entry, so that a firing window reads them with one lookup.
//!
//! Timers: an element registers a timer for the first window containing it that has not
//! fired yet; a window that fires registers the next window's timer if they share a
//! non-empty pane, so every window with elements fires, in order. The results are those of
//! [`TriggeredWindows`](super::TriggeredWindows) with the event-time trigger, except that a
//! window's elements are combined pane by pane (in time order) rather than in arrival order,
//! which only matters for reduce functions that are not commutative.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;

use weir_core::{Result, WeirError};
use weir_state::{Namespace, TimeDomain, ValueState};

use crate::keyed::KeyType;
use crate::operator::OperatorContext;

use super::assigners::{Clock, EventTimeClock, PaneLayout};
use super::contents::evaluate;
use super::functions::{Incremental, ProcessWindowFunction, WindowContext};
use super::operator::{Lateness, Scope, WindowLogic};
use super::{TimeWindow, Window};

/// Sliding event-time windows with the default trigger and an incremental function, kept as
/// one accumulator per pane; see the module documentation.
pub struct SlidingPanes<T, W, I: Incremental<T>, P, O> {
    layout: PaneLayout,
    pane: i64,
    incremental: Arc<I>,
    /// Per key: the accumulators of its panes by start, in time order.
    panes: ValueState<VecDeque<(i64, I::Acc)>>,
    function: P,
    lateness: Lateness<T>,
    _t: PhantomData<fn() -> (W, O)>,
}

impl<T, W, I: Incremental<T>, P: Clone, O> Clone for SlidingPanes<T, W, I, P, O> {
    fn clone(&self) -> Self {
        SlidingPanes {
            layout: self.layout,
            pane: self.pane,
            incremental: Arc::clone(&self.incremental),
            panes: self.panes.clone(),
            function: self.function.clone(),
            lateness: self.lateness.clone(),
            _t: PhantomData,
        }
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl<T, W, I, P, O> SlidingPanes<T, W, I, P, O>
where
    T: weir_state::StateValue,
    W: Window,
    I: Incremental<T>,
    O: weir_state::StateValue,
{
    /// Sliding windows of `layout`, folded by `incremental` and evaluated by `function`.
    pub fn new(layout: PaneLayout, incremental: I, function: P, lateness: Lateness<T>) -> Self {
        SlidingPanes {
            layout,
            pane: gcd(layout.size.max(1), layout.slide.max(1)),
            incremental: Arc::new(incremental),
            panes: ValueState::new("window-panes"),
            function,
            lateness,
            _t: PhantomData,
        }
    }

    fn window(&self, start: i64) -> TimeWindow {
        TimeWindow::new(start, start + self.layout.size)
    }

    /// The first window start at or after `time`.
    fn align_up(&self, time: i64) -> i64 {
        let PaneLayout { slide, offset, .. } = self.layout;
        let up = time as i128 + (offset as i128 - time as i128).rem_euclid(slide as i128);
        up.min(i64::MAX as i128) as i64
    }

    fn context<'a, K: KeyType>(
        &self,
        start: i64,
        scope: &'a mut Scope<'_, K, O>,
    ) -> Result<WindowContext<'a, K, W, O>> {
        let window = W::from_namespace(self.window(start).namespace()).ok_or_else(|| {
            WeirError::Other("weir internal error: pane windows need time windows".to_string())
        })?;
        Ok(WindowContext::new(scope.reborrow(), window))
    }

    /// Adds an element to the pane starting at `pane`.
    fn add<K: KeyType>(&self, pane: i64, value: T, scope: &mut Scope<'_, K, O>) -> Result<()> {
        let incremental = &*self.incremental;
        let new_pane = |value| {
            let mut acc = incremental.create();
            incremental.add(value, &mut acc);
            (pane, acc)
        };
        let mut store = scope.store(Namespace::Void);
        // Without panes yet, the element comes back to start them.
        let first = self.panes.with_value_mut(&mut store, |panes| {
            let Some(panes) = panes else {
                return Some(value);
            };
            match panes.iter().rposition(|(start, _)| *start <= pane) {
                Some(i) if panes[i].0 == pane => incremental.add(value, &mut panes[i].1),
                before => panes.insert(before.map_or(0, |i| i + 1), new_pane(value)),
            }
            None
        })?;
        match first {
            Some(value) => self
                .panes
                .update(&mut store, VecDeque::from([new_pane(value)])),
            None => Ok(()),
        }
    }

    /// Evaluates the window starting at `start` from its panes; returns whether the next
    /// window shares one of its non-empty panes.
    fn fire<K: KeyType>(&mut self, start: i64, scope: &mut Scope<'_, K, O>) -> Result<bool>
    where
        P: ProcessWindowFunction<K, I::Out, O, W>,
    {
        let PaneLayout { size, slide, .. } = self.layout;
        let incremental = &*self.incremental;
        let mut store = scope.store(Namespace::Void);
        let (merged, shares_next) = self.panes.with_value_mut(&mut store, |panes| {
            let mut merged: Option<I::Acc> = None;
            let mut shares_next = false;
            // Panes are sorted by start: find the window's first one, take those it covers.
            let panes = panes.into_iter().flat_map(|panes| {
                let first = panes.partition_point(|(pane, _)| *pane < start);
                panes
                    .range(first..)
                    .take_while(|(pane, _)| *pane < start + size)
            });
            for (pane, acc) in panes {
                shares_next |= *pane >= start + slide;
                merged = Some(match merged {
                    Some(m) => incremental.merge(m, acc.clone()),
                    None => acc.clone(),
                });
            }
            (merged, shares_next)
        })?;
        if let Some(acc) = merged {
            let mut ctx = self.context(start, scope)?;
            evaluate(incremental, &mut self.function, acc, &mut ctx)?;
        }
        Ok(shares_next)
    }

    /// Drops the panes that start before `end`.
    fn drop_panes<K: KeyType>(&self, end: i64, scope: &mut Scope<'_, K, O>) -> Result<()> {
        let mut store = scope.store(Namespace::Void);
        let none_left = self.panes.with_value_mut(&mut store, |panes| {
            let Some(panes) = panes else {
                return false;
            };
            while panes.front().is_some_and(|(start, _)| *start < end) {
                panes.pop_front();
            }
            panes.is_empty()
        })?;
        if none_left {
            self.panes.clear(&mut store)?;
        }
        Ok(())
    }

    /// Registers the event-time timer at `time` for the window starting at `start`.
    fn timer<K: KeyType>(&self, start: i64, time: i64, scope: &mut Scope<'_, K, O>) {
        scope.register_timer(TimeDomain::EventTime, time, self.window(start).namespace());
    }
}

impl<K, T, W, I, P, O> WindowLogic<K, T> for SlidingPanes<T, W, I, P, O>
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
        let PaneLayout {
            size,
            slide,
            offset,
        } = self.layout;
        if size <= 0 || slide <= 0 || !(0..slide).contains(&offset) {
            return Err(WeirError::InvalidJob(format!(
                "sliding windows need size > 0, slide > 0 and 0 <= offset < slide, not {:?}",
                self.layout
            )));
        }
        self.lateness.open(ctx);
        self.function.open(ctx)
    }

    fn on_element(
        &mut self,
        value: T,
        timestamp: Option<i64>,
        scope: &mut Scope<'_, K, O>,
    ) -> Result<()> {
        let time = EventTimeClock::time(timestamp, scope.now)?;
        let PaneLayout {
            size,
            slide,
            offset,
        } = self.layout;
        let watermark = scope.watermark();
        // Starts of the windows containing `time`: first..=last, every `slide`.
        let last = TimeWindow::start_with_offset(time, offset, slide);
        let first = self.align_up(time.saturating_sub(size).saturating_add(1));
        // Windows from `live` on are not yet cleaned up; from `unfired` on, not yet fired.
        let not_fired_after = watermark.saturating_sub(size).saturating_add(2);
        let live =
            self.align_up(first.max(not_fired_after.saturating_sub(self.lateness.allowed_ms())));
        let unfired = self.align_up(first.max(not_fired_after));
        if live > last {
            if self.lateness.is_element_late(timestamp, watermark) {
                self.lateness.late_element(value, timestamp, scope.side);
            }
            return Ok(());
        }
        let pane = TimeWindow::start_with_offset(time, offset, self.pane);
        self.add(pane, value, scope)?;
        if unfired <= last {
            self.timer(unfired, unfired + size - 1, scope);
        }
        // Windows that fired but are within the allowed lateness fire again at once.
        let mut start = live;
        while start < unfired && start <= last {
            self.fire(start, scope)?;
            let cleanup = self.lateness.cleanup_time(start + size - 1);
            self.timer(start, cleanup, scope);
            start += slide;
        }
        Ok(())
    }

    fn on_timer(
        &mut self,
        _domain: TimeDomain,
        time: i64,
        namespace: Namespace,
        scope: &mut Scope<'_, K, O>,
    ) -> Result<()> {
        let Some(window) = TimeWindow::from_namespace(namespace) else {
            return Ok(());
        };
        let PaneLayout { size, slide, .. } = self.layout;
        let max_timestamp = window.max_timestamp();
        let cleanup = self.lateness.cleanup_time(max_timestamp);
        if time == max_timestamp {
            if self.fire(window.start, scope)? {
                let next = window.start + slide;
                self.timer(next, next + size - 1, scope);
            }
            if cleanup != time {
                self.timer(window.start, cleanup, scope);
            }
        }
        if time == cleanup {
            // Panes before the next window's start have no window left.
            self.drop_panes(window.start + slide.min(size), scope)?;
            let mut ctx = self.context(window.start, scope)?;
            self.function.clear(&mut ctx)?;
        }
        Ok(())
    }
}
