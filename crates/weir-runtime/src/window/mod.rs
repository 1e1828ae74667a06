//! Windows over keyed streams (Flink's windowing): a window assigner puts every element into
//! windows, a trigger decides when a window is evaluated, an optional evictor removes
//! elements before or after evaluation, and a window function computes the result.
//!
//! - [`WindowAssigner`]: tumbling, sliding and session windows in event or processing time
//!   ([`TumblingEventTimeWindows`], [`SlidingEventTimeWindows`], [`EventTimeSessionWindows`],
//!   ...), and [`GlobalWindows`] for count windows.
//! - [`Trigger`]: [`EventTimeTrigger`], [`ProcessingTimeTrigger`], [`CountTrigger`],
//!   [`PurgingTrigger`], [`ContinuousEventTimeTrigger`], [`DeltaTrigger`], or your own.
//! - [`Evictor`]: [`CountEvictor`], [`TimeEvictor`], [`DeltaEvictor`].
//! - [`ProcessWindowFunction`]: gets all elements (or the pre-aggregated result) of a window
//!   with a [`WindowContext`]; [`Incremental`] folds elements as they arrive ([`Reduce`],
//!   [`Aggregate`]), so that a window keeps one accumulator instead of its elements.
//! - [`WindowOperator`]: the operator, driving either [`TriggeredWindows`] (Flink's
//!   `WindowOperator`, with merging windows and evictors) or [`SlidingPanes`] (sliding
//!   event-time windows aggregated per pane, so that overlapping windows share their state).
//!
//! Results carry the timestamp `window.max_timestamp()`. Event-time windows fire when the
//! watermark passes their end; with an allowed lateness, later elements re-fire the window
//! until the watermark passes end + lateness, when its state is dropped. Elements later than
//! that go to the late-data side output, if one is set, or are dropped. As in Flink,
//! processing-time windows still open when a bounded input ends do not fire.

use std::fmt::Debug;
use std::hash::Hash;

use serde::{Deserialize, Serialize};
use weir_state::Namespace;

mod assigners;
mod contents;
mod evictors;
mod functions;
mod merging;
mod operator;
mod panes;
mod triggered;
mod triggers;

pub use assigners::{
    Clock, EventTimeClock, EventTimeSessionWindows, GlobalWindows, PaneLayout, ProcessingTimeClock,
    ProcessingTimeSessionWindows, SessionWindows, SlidingEventTimeWindows,
    SlidingProcessingTimeWindows, SlidingWindows, TumblingEventTimeWindows,
    TumblingProcessingTimeWindows, TumblingWindows, WindowAssigner,
};
pub use contents::{Accumulated, Evicting, WindowContents};
pub use evictors::{CountEvictor, DeltaEvictor, Evictor, EvictorContext, TimeEvictor};
pub use functions::{
    Aggregate, CollectAll, Incremental, KeyedStateStore, PassThrough, ProcessWindowFunction,
    Reduce, WindowContext,
};
pub use operator::{Lateness, Scope, WindowLogic, WindowOperator};
pub use panes::SlidingPanes;
pub use triggered::TriggeredWindows;
pub use triggers::{
    ContinuousEventTimeTrigger, CountTrigger, DeltaTrigger, EventTimeTrigger, NeverTrigger,
    ProcessingTimeTrigger, PurgingTrigger, Trigger, TriggerContext, TriggerResult,
};

/// A window: a group of elements of one key, with the state namespace that keeps its state.
pub trait Window:
    Copy + Eq + Hash + Debug + Send + Sync + Serialize + serde::de::DeserializeOwned + 'static
{
    /// The largest timestamp that belongs to the window; results carry it.
    fn max_timestamp(&self) -> i64;
    /// The namespace of the window's state and timers.
    fn namespace(&self) -> Namespace;
    /// The window a namespace stands for (timers keep namespaces, not windows).
    fn from_namespace(namespace: Namespace) -> Option<Self>;
}

/// The time interval `[start, end)` (Flink's `TimeWindow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimeWindow {
    /// The first millisecond in the window.
    pub start: i64,
    /// The first millisecond after the window.
    pub end: i64,
}

impl TimeWindow {
    /// The window `[start, end)`.
    pub fn new(start: i64, end: i64) -> Self {
        TimeWindow { start, end }
    }

    /// The start of the window of `size` that contains `timestamp`, for windows aligned to
    /// `offset` (Flink's `TimeWindow.getWindowStartWithOffset`).
    pub fn start_with_offset(timestamp: i64, offset: i64, size: i64) -> i64 {
        timestamp - (timestamp - offset).rem_euclid(size)
    }

    /// Whether the two windows overlap or touch (touching session windows merge, as in Flink).
    pub fn intersects(&self, other: &TimeWindow) -> bool {
        self.start <= other.end && self.end >= other.start
    }

    /// The smallest window that covers both.
    pub fn cover(&self, other: &TimeWindow) -> TimeWindow {
        TimeWindow::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Groups overlapping windows: each group with more than one window becomes the window
    /// that covers them (Flink's `TimeWindow.mergeWindows`).
    pub fn merge_windows(windows: &[TimeWindow]) -> Vec<(TimeWindow, Vec<TimeWindow>)> {
        let mut sorted = windows.to_vec();
        sorted.sort();
        sorted.dedup();
        let mut groups: Vec<(TimeWindow, Vec<TimeWindow>)> = Vec::new();
        for window in sorted {
            match groups.last_mut() {
                Some((cover, members)) if cover.intersects(&window) => {
                    *cover = cover.cover(&window);
                    members.push(window);
                }
                _ => groups.push((window, vec![window])),
            }
        }
        groups.retain(|(_, members)| members.len() > 1);
        groups
    }
}

impl Window for TimeWindow {
    fn max_timestamp(&self) -> i64 {
        self.end - 1
    }
    fn namespace(&self) -> Namespace {
        Namespace::Window {
            start: self.start,
            end: self.end,
        }
    }
    fn from_namespace(namespace: Namespace) -> Option<Self> {
        match namespace {
            Namespace::Window { start, end } => Some(TimeWindow { start, end }),
            _ => None,
        }
    }
}

/// The one window that holds every element of a key (Flink's `GlobalWindow`); used with
/// count triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GlobalWindow;

impl Window for GlobalWindow {
    fn max_timestamp(&self) -> i64 {
        i64::MAX
    }
    fn namespace(&self) -> Namespace {
        Namespace::Global
    }
    fn from_namespace(namespace: Namespace) -> Option<Self> {
        (namespace == Namespace::Global).then_some(GlobalWindow)
    }
}

/// An element with its timestamp, as evictors see it (Flink's `TimestampedValue`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimestampedValue<T> {
    /// The element.
    pub value: T,
    /// Its event-time timestamp, if it has one.
    pub timestamp: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_start_follows_flink() {
        assert_eq!(TimeWindow::start_with_offset(7, 0, 5), 5);
        assert_eq!(TimeWindow::start_with_offset(5, 0, 5), 5);
        assert_eq!(TimeWindow::start_with_offset(4, 0, 5), 0);
        assert_eq!(TimeWindow::start_with_offset(7, 1, 5), 6);
        assert_eq!(TimeWindow::start_with_offset(-1, 0, 5), -5);
    }

    #[test]
    fn overlapping_and_touching_windows_merge() {
        let w = |s, e| TimeWindow::new(s, e);
        let merged = TimeWindow::merge_windows(&[w(10, 20), w(0, 5), w(5, 8), w(30, 40)]);
        assert_eq!(merged, vec![(w(0, 8), vec![w(0, 5), w(5, 8)])]);
        let bridged = TimeWindow::merge_windows(&[w(0, 5), w(8, 12), w(4, 9)]);
        assert_eq!(bridged, vec![(w(0, 12), vec![w(0, 5), w(4, 9), w(8, 12)])]);
    }
}
