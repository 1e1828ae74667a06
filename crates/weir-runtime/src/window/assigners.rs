//! Window assigners: which windows an element belongs to (Flink's `WindowAssigner`).
//!
//! Tumbling, sliding and session windows exist in event time and in processing time; one
//! generic type each, with the [`Clock`] as parameter, and Flink's names as aliases
//! ([`TumblingEventTimeWindows`] is `TumblingWindows<EventTimeClock>`). Sizes are checked
//! when the job is built ([`WindowAssigner::validate`]).
//!
//! Windows are aligned to the epoch plus an offset: an element with timestamp `t` is in the
//! tumbling window starting at `t - (t - offset) mod size`. An offset is equivalent to the
//! same offset modulo the size, so a negative offset such as -8 hours for days in UTC+8 is
//! written as +16 hours.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use weir_core::{Result, WeirError};

use crate::keyed::KeyType;

use super::triggers::{EventTimeTrigger, NeverTrigger, ProcessingTimeTrigger, Trigger};
use super::{GlobalWindow, TimeWindow, Window};

/// A duration in whole milliseconds (saturating).
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Assigns elements to windows (Flink's `WindowAssigner`).
pub trait WindowAssigner<T>: Send + Sync + 'static {
    /// The type of windows.
    type W: Window;
    /// Appends the windows of `element` (which has `timestamp`, and arrived at
    /// `processing_time`) to `windows`.
    fn assign_windows(
        &self,
        element: &T,
        timestamp: Option<i64>,
        processing_time: i64,
        windows: &mut Vec<Self::W>,
    ) -> Result<()>;
    /// The trigger used unless another is set.
    fn default_trigger<K: KeyType>(&self) -> Arc<dyn Trigger<K, T, Self::W>>
    where
        Self: Sized;
    /// Whether windows follow event time (and so allowed lateness applies).
    fn is_event_time(&self) -> bool;
    /// Whether overlapping windows merge (session windows).
    fn is_merging(&self) -> bool {
        false
    }
    /// For merging assigners: groups of overlapping `windows`, each with the window that
    /// replaces the group.
    fn merge_windows(&self, _windows: &[Self::W]) -> Vec<(Self::W, Vec<Self::W>)> {
        Vec::new()
    }
    /// Checks the parameters; the message says what is wrong.
    fn validate(&self) -> std::result::Result<(), String> {
        Ok(())
    }
    /// For sliding event-time windows: their layout, so that they can be aggregated per
    /// pane.
    fn pane_layout(&self) -> Option<PaneLayout> {
        None
    }
    /// A short description for the operator's name, as Flink prints it.
    fn describe(&self) -> String;
}

/// Sliding windows of `size` every `slide`, aligned to `offset` (all in milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaneLayout {
    /// The window size.
    pub size: i64,
    /// The distance between window starts.
    pub slide: i64,
    /// Where window starts are, after multiples of the slide since the epoch.
    pub offset: i64,
}

/// The time that windows follow: [`EventTimeClock`] or [`ProcessingTimeClock`].
pub trait Clock: Send + Sync + 'static {
    /// "EventTime" or "ProcessingTime", as in Flink's class names.
    const NAME: &'static str;
    /// Whether this is event time.
    const IS_EVENT_TIME: bool;
    /// The time of an element with `timestamp` arriving at `processing_time`.
    fn time(timestamp: Option<i64>, processing_time: i64) -> Result<i64>;
    /// The trigger that fires windows at their end in this time.
    fn trigger<K: KeyType, T, W: Window>() -> Arc<dyn Trigger<K, T, W>>;
}

/// Event time: the elements' timestamps.
#[derive(Debug, Clone, Copy)]
pub struct EventTimeClock;

impl Clock for EventTimeClock {
    const NAME: &'static str = "EventTime";
    const IS_EVENT_TIME: bool = true;
    fn time(timestamp: Option<i64>, _: i64) -> Result<i64> {
        timestamp.ok_or_else(|| {
            WeirError::Other(
                "record has no timestamp: did you forget assign_timestamps_and_watermarks? \
                 (event-time windows need a timestamp on every record)"
                    .to_string(),
            )
        })
    }
    fn trigger<K: KeyType, T, W: Window>() -> Arc<dyn Trigger<K, T, W>> {
        Arc::new(EventTimeTrigger)
    }
}

/// Processing time: the wall clock when elements arrive.
#[derive(Debug, Clone, Copy)]
pub struct ProcessingTimeClock;

impl Clock for ProcessingTimeClock {
    const NAME: &'static str = "ProcessingTime";
    const IS_EVENT_TIME: bool = false;
    fn time(_: Option<i64>, processing_time: i64) -> Result<i64> {
        Ok(processing_time)
    }
    fn trigger<K: KeyType, T, W: Window>() -> Arc<dyn Trigger<K, T, W>> {
        Arc::new(ProcessingTimeTrigger)
    }
}

/// Windows of a fixed size that do not overlap.
pub struct TumblingWindows<C> {
    size: i64,
    offset: i64,
    _c: PhantomData<fn() -> C>,
}

/// Tumbling windows in event time (Flink's `TumblingEventTimeWindows`).
pub type TumblingEventTimeWindows = TumblingWindows<EventTimeClock>;
/// Tumbling windows in processing time (Flink's `TumblingProcessingTimeWindows`).
pub type TumblingProcessingTimeWindows = TumblingWindows<ProcessingTimeClock>;

impl<C> Clone for TumblingWindows<C> {
    fn clone(&self) -> Self {
        TumblingWindows {
            _c: PhantomData,
            ..*self
        }
    }
}

impl<C: Clock> fmt::Debug for TumblingWindows<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tumbling{}Windows({})", C::NAME, self.size)
    }
}

impl<C: Clock> TumblingWindows<C> {
    /// Windows of `size`, aligned to the epoch.
    pub fn of(size: Duration) -> Self {
        Self::of_with_offset(size, Duration::ZERO)
    }

    /// Windows of `size`, starting `offset` after multiples of `size` since the epoch.
    pub fn of_with_offset(size: Duration, offset: Duration) -> Self {
        TumblingWindows {
            size: millis(size),
            offset: millis(offset),
            _c: PhantomData,
        }
    }
}

impl<T, C: Clock> WindowAssigner<T> for TumblingWindows<C> {
    type W = TimeWindow;
    fn assign_windows(
        &self,
        _: &T,
        timestamp: Option<i64>,
        processing_time: i64,
        windows: &mut Vec<TimeWindow>,
    ) -> Result<()> {
        let time = C::time(timestamp, processing_time)?;
        let start = TimeWindow::start_with_offset(time, self.offset, self.size);
        windows.push(TimeWindow::new(start, start.saturating_add(self.size)));
        Ok(())
    }
    fn default_trigger<K: KeyType>(&self) -> Arc<dyn Trigger<K, T, TimeWindow>> {
        C::trigger()
    }
    fn is_event_time(&self) -> bool {
        C::IS_EVENT_TIME
    }
    fn validate(&self) -> std::result::Result<(), String> {
        let name = format!("Tumbling{}Windows", C::NAME);
        if self.size <= 0 {
            return Err(format!(
                "{name}: the window size must be at least 1 ms, not {} ms",
                self.size
            ));
        }
        if self.offset >= self.size {
            return Err(format!(
                "{name} parameters must satisfy abs(offset) < size: offset {} ms, size {} ms",
                self.offset, self.size
            ));
        }
        Ok(())
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// Windows of a fixed size that start every `slide`, so that they overlap when the slide is
/// smaller than the size (and leave gaps when it is larger).
pub struct SlidingWindows<C> {
    size: i64,
    slide: i64,
    offset: i64,
    _c: PhantomData<fn() -> C>,
}

/// Sliding windows in event time (Flink's `SlidingEventTimeWindows`).
pub type SlidingEventTimeWindows = SlidingWindows<EventTimeClock>;
/// Sliding windows in processing time (Flink's `SlidingProcessingTimeWindows`).
pub type SlidingProcessingTimeWindows = SlidingWindows<ProcessingTimeClock>;

impl<C> Clone for SlidingWindows<C> {
    fn clone(&self) -> Self {
        SlidingWindows {
            _c: PhantomData,
            ..*self
        }
    }
}

impl<C: Clock> fmt::Debug for SlidingWindows<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sliding{}Windows({}, {})",
            C::NAME,
            self.size,
            self.slide
        )
    }
}

impl<C: Clock> SlidingWindows<C> {
    /// Windows of `size` starting every `slide`, aligned to the epoch.
    pub fn of(size: Duration, slide: Duration) -> Self {
        Self::of_with_offset(size, slide, Duration::ZERO)
    }

    /// Windows of `size` starting every `slide`, `offset` after multiples of `slide`.
    pub fn of_with_offset(size: Duration, slide: Duration, offset: Duration) -> Self {
        SlidingWindows {
            size: millis(size),
            slide: millis(slide),
            offset: millis(offset),
            _c: PhantomData,
        }
    }
}

impl<T, C: Clock> WindowAssigner<T> for SlidingWindows<C> {
    type W = TimeWindow;
    fn assign_windows(
        &self,
        _: &T,
        timestamp: Option<i64>,
        processing_time: i64,
        windows: &mut Vec<TimeWindow>,
    ) -> Result<()> {
        let time = C::time(timestamp, processing_time)?;
        let mut start = TimeWindow::start_with_offset(time, self.offset, self.slide);
        while start > time.saturating_sub(self.size) {
            windows.push(TimeWindow::new(start, start.saturating_add(self.size)));
            start -= self.slide;
        }
        Ok(())
    }
    fn default_trigger<K: KeyType>(&self) -> Arc<dyn Trigger<K, T, TimeWindow>> {
        C::trigger()
    }
    fn is_event_time(&self) -> bool {
        C::IS_EVENT_TIME
    }
    fn validate(&self) -> std::result::Result<(), String> {
        let name = format!("Sliding{}Windows", C::NAME);
        if self.size <= 0 || self.slide <= 0 {
            return Err(format!(
                "{name}: the window size and slide must be at least 1 ms, not {} ms and {} ms",
                self.size, self.slide
            ));
        }
        if self.offset >= self.slide {
            return Err(format!(
                "{name} parameters must satisfy abs(offset) < slide and size > 0: offset {} ms, slide {} ms",
                self.offset, self.slide
            ));
        }
        Ok(())
    }
    fn pane_layout(&self) -> Option<PaneLayout> {
        C::IS_EVENT_TIME.then_some(PaneLayout {
            size: self.size,
            slide: self.slide,
            offset: self.offset,
        })
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// How long a session stays open without elements.
enum Gap<T> {
    Fixed(i64),
    Dynamic(Arc<dyn Fn(&T) -> Duration + Send + Sync>),
}

/// Session windows: an element opens the window `[t, t + gap)`, and windows that overlap
/// or touch merge, so that a session ends after a gap without elements.
pub struct SessionWindows<T, C> {
    gap: Gap<T>,
    _c: PhantomData<fn() -> C>,
}

/// Session windows in event time (Flink's `EventTimeSessionWindows`).
pub type EventTimeSessionWindows<T> = SessionWindows<T, EventTimeClock>;
/// Session windows in processing time (Flink's `ProcessingTimeSessionWindows`).
pub type ProcessingTimeSessionWindows<T> = SessionWindows<T, ProcessingTimeClock>;

impl<T, C> Clone for SessionWindows<T, C> {
    fn clone(&self) -> Self {
        let gap = match &self.gap {
            Gap::Fixed(g) => Gap::Fixed(*g),
            Gap::Dynamic(f) => Gap::Dynamic(Arc::clone(f)),
        };
        SessionWindows {
            gap,
            _c: PhantomData,
        }
    }
}

impl<T, C: Clock> fmt::Debug for SessionWindows<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.gap {
            Gap::Fixed(g) => write!(f, "{}SessionWindows({g})", C::NAME),
            Gap::Dynamic(_) => write!(f, "Dynamic{}SessionWindows", C::NAME),
        }
    }
}

impl<T, C: Clock> SessionWindows<T, C> {
    /// Sessions that end after `gap` without elements.
    pub fn with_gap(gap: Duration) -> Self {
        SessionWindows {
            gap: Gap::Fixed(millis(gap)),
            _c: PhantomData,
        }
    }

    /// Sessions whose gap each element decides: an element opens `[t, t + gap(element))`.
    pub fn with_dynamic_gap(gap: impl Fn(&T) -> Duration + Send + Sync + 'static) -> Self {
        SessionWindows {
            gap: Gap::Dynamic(Arc::new(gap)),
            _c: PhantomData,
        }
    }
}

impl<T: 'static, C: Clock> WindowAssigner<T> for SessionWindows<T, C> {
    type W = TimeWindow;
    fn assign_windows(
        &self,
        element: &T,
        timestamp: Option<i64>,
        processing_time: i64,
        windows: &mut Vec<TimeWindow>,
    ) -> Result<()> {
        let time = C::time(timestamp, processing_time)?;
        let gap = match &self.gap {
            Gap::Fixed(g) => *g,
            Gap::Dynamic(f) => match millis(f(element)) {
                g if g > 0 => g,
                g => {
                    return Err(WeirError::Other(format!(
                    "the dynamic session gap must be at least 1 ms, but it is {g} ms for a record"
                )))
                }
            },
        };
        windows.push(TimeWindow::new(time, time.saturating_add(gap)));
        Ok(())
    }
    fn default_trigger<K: KeyType>(&self) -> Arc<dyn Trigger<K, T, TimeWindow>> {
        C::trigger()
    }
    fn is_event_time(&self) -> bool {
        C::IS_EVENT_TIME
    }
    fn is_merging(&self) -> bool {
        true
    }
    fn merge_windows(&self, windows: &[TimeWindow]) -> Vec<(TimeWindow, Vec<TimeWindow>)> {
        TimeWindow::merge_windows(windows)
    }
    fn validate(&self) -> std::result::Result<(), String> {
        match self.gap {
            Gap::Fixed(g) if g <= 0 => Err(format!(
                "{}SessionWindows parameters must satisfy 0 < gap: the session gap must be at least 1 ms, not {g} ms",
                C::NAME
            )),
            _ => Ok(()),
        }
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// Puts every element of a key into the one [`GlobalWindow`]; it never fires unless a
/// trigger is set (count windows use a count trigger).
#[derive(Debug, Clone, Copy, Default)]
pub struct GlobalWindows;

impl GlobalWindows {
    /// The global window assigner.
    pub fn create() -> Self {
        GlobalWindows
    }
}

impl<T> WindowAssigner<T> for GlobalWindows {
    type W = GlobalWindow;
    fn assign_windows(
        &self,
        _: &T,
        _: Option<i64>,
        _: i64,
        windows: &mut Vec<GlobalWindow>,
    ) -> Result<()> {
        windows.push(GlobalWindow);
        Ok(())
    }
    fn default_trigger<K: KeyType>(&self) -> Arc<dyn Trigger<K, T, GlobalWindow>> {
        Arc::new(NeverTrigger)
    }
    fn is_event_time(&self) -> bool {
        false
    }
    fn describe(&self) -> String {
        "GlobalWindows".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assign<A: WindowAssigner<()>>(a: &A, t: i64) -> Vec<A::W> {
        let mut w = Vec::new();
        a.assign_windows(&(), Some(t), 0, &mut w).unwrap();
        w
    }

    #[test]
    fn assigners_place_elements_as_flink() {
        let ms = Duration::from_millis;
        let tumbling = TumblingEventTimeWindows::of_with_offset(ms(10), ms(3));
        assert_eq!(assign(&tumbling, 12), vec![TimeWindow::new(3, 13)]);
        let sliding = SlidingEventTimeWindows::of(ms(10), ms(4));
        assert_eq!(
            assign(&sliding, 9),
            vec![
                TimeWindow::new(8, 18),
                TimeWindow::new(4, 14),
                TimeWindow::new(0, 10)
            ]
        );
        // A slide larger than the size leaves gaps.
        let gaps = SlidingEventTimeWindows::of(ms(2), ms(5));
        assert_eq!(assign(&gaps, 3), vec![]);
        assert_eq!(assign(&gaps, 6), vec![TimeWindow::new(5, 7)]);
        let session = EventTimeSessionWindows::<()>::with_gap(ms(5));
        assert_eq!(assign(&session, 7), vec![TimeWindow::new(7, 12)]);
        let mut none = Vec::new();
        let err = tumbling
            .assign_windows(&(), None, 0, &mut none)
            .unwrap_err();
        assert!(err.to_string().contains("assign_timestamps_and_watermarks"));
    }

    #[test]
    fn invalid_parameters_are_explained() {
        let ms = Duration::from_millis;
        let check = |r: std::result::Result<(), String>, what: &str| {
            assert!(r.as_ref().is_err_and(|e| e.contains(what)), "{r:?}");
        };
        check(
            WindowAssigner::<()>::validate(&TumblingEventTimeWindows::of(ms(0))),
            "at least 1 ms",
        );
        check(
            WindowAssigner::<()>::validate(&TumblingEventTimeWindows::of_with_offset(ms(5), ms(5))),
            "abs(offset) < size",
        );
        check(
            WindowAssigner::<()>::validate(&SlidingProcessingTimeWindows::of(ms(5), ms(0))),
            "slide must be at least 1 ms",
        );
        check(
            EventTimeSessionWindows::<()>::with_gap(ms(0)).validate(),
            "0 < gap",
        );
        assert!(WindowAssigner::<()>::validate(&SlidingEventTimeWindows::of(ms(2), ms(5))).is_ok());
    }
}
