//! Group windows of the Table API, as in Flink's Java Table API:
//! `Tumble::over(lit(10).minutes()).on(col("ts")).alias("w")`, `Slide::over(size).every(slide)`
//! and `Session::with_gap(gap)`. A windowed aggregation is planned as the legacy group
//! window `GROUP BY TUMBLE(ts, size)`, whose bounds `w.start`/`w.end` are `TUMBLE_START`/
//! `TUMBLE_END`.

use super::expression::{quote, Expression, WindowBound};

/// A group window with its time attribute and alias, for [`super::Table::window`].
#[derive(Debug, Clone)]
pub struct GroupWindow {
    function: &'static str,
    /// The interval arguments after the time attribute (size; slide then size; gap).
    intervals: Vec<Expression>,
    time: String,
    pub(crate) alias: String,
}

impl GroupWindow {
    /// The window's arguments: `ts, INTERVAL ...`.
    fn arguments(&self) -> String {
        let mut args = quote(&self.time);
        for i in &self.intervals {
            args.push_str(", ");
            args.push_str(&i.to_sql());
        }
        args
    }

    /// The window as a group key: `TUMBLE(ts, INTERVAL '5' SECOND)`.
    pub(crate) fn group_key(&self) -> String {
        format!("{}({})", self.function, self.arguments())
    }

    /// A bound of the window: `TUMBLE_START(ts, INTERVAL '5' SECOND)`.
    pub(crate) fn bound(&self, bound: WindowBound) -> String {
        let suffix = match bound {
            WindowBound::Start => "START",
            WindowBound::End => "END",
            WindowBound::Rowtime => "ROWTIME",
        };
        format!("{}_{suffix}({})", self.function, self.arguments())
    }
}

/// A window whose time attribute is still to be named with `on`.
#[derive(Debug, Clone)]
pub struct WindowWithoutTime {
    function: &'static str,
    intervals: Vec<Expression>,
}

/// A window with its time attribute, to be named with `alias`.
#[derive(Debug, Clone)]
pub struct WindowWithTime {
    function: &'static str,
    intervals: Vec<Expression>,
    time: String,
}

impl WindowWithoutTime {
    /// The event-time (or processing-time) attribute the window groups by.
    pub fn on(self, time: Expression) -> WindowWithTime {
        WindowWithTime {
            function: self.function,
            intervals: self.intervals,
            time: time.to_sql().trim_matches('`').to_string(),
        }
    }
}

impl WindowWithTime {
    /// Names the window (Flink's `.as("w")`), for `group_by` and `col("w").start()`.
    pub fn alias(self, name: &str) -> GroupWindow {
        GroupWindow {
            function: self.function,
            intervals: self.intervals,
            time: self.time,
            alias: name.to_string(),
        }
    }
}

/// Tumbling windows: fixed size, no overlap.
pub struct Tumble;

impl Tumble {
    /// Windows of `size` (an interval: `lit(10).minutes()`).
    pub fn over(size: Expression) -> WindowWithoutTime {
        WindowWithoutTime {
            function: "TUMBLE",
            intervals: vec![size],
        }
    }
}

/// Sliding (hopping) windows: fixed size, a new one every `slide`.
pub struct Slide;

/// A sliding window whose slide is still to be given with `every`.
pub struct SlideWithSize {
    size: Expression,
}

impl Slide {
    /// Windows of `size`.
    pub fn over(size: Expression) -> SlideWithSize {
        SlideWithSize { size }
    }
}

impl SlideWithSize {
    /// A new window every `slide`.
    pub fn every(self, slide: Expression) -> WindowWithoutTime {
        WindowWithoutTime {
            function: "HOP",
            intervals: vec![slide, self.size],
        }
    }
}

/// Session windows: closed by a gap of inactivity.
pub struct Session;

impl Session {
    /// Sessions that end after `gap` without rows.
    pub fn with_gap(gap: Expression) -> WindowWithoutTime {
        WindowWithoutTime {
            function: "SESSION",
            intervals: vec![gap],
        }
    }
}
