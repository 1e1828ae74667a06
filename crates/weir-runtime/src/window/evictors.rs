//! Evictors: remove elements from a window before or after its function runs (Flink's
//! `Evictor`). A window with an evictor keeps all its elements.

use std::marker::PhantomData;
use std::time::Duration;

use super::assigners::millis;
use super::{TimestampedValue, Window};

/// The time when an evictor runs.
#[derive(Debug, Clone, Copy)]
pub struct EvictorContext {
    /// The current event time.
    pub current_watermark: i64,
    /// The current processing time, in ms since the epoch.
    pub current_processing_time: i64,
}

/// Removes elements of a window that fires, before and after the window function runs.
/// `elements` are in arrival order.
pub trait Evictor<T, W: Window>: Send + Sync + 'static {
    /// Runs before the window function.
    fn evict_before(
        &self,
        _elements: &mut Vec<TimestampedValue<T>>,
        _window: W,
        _ctx: &EvictorContext,
    ) {
    }
    /// Runs after the window function.
    fn evict_after(
        &self,
        _elements: &mut Vec<TimestampedValue<T>>,
        _window: W,
        _ctx: &EvictorContext,
    ) {
    }
    /// A short description for the operator's name.
    fn describe(&self) -> String {
        std::any::type_name::<Self>().to_string()
    }
}

/// Keeps the last `max_count` elements.
#[derive(Debug, Clone, Copy)]
pub struct CountEvictor {
    max_count: usize,
    after: bool,
}

impl CountEvictor {
    /// Keeps the last `max_count` elements, evicting before the window function.
    pub fn of(max_count: usize) -> Self {
        CountEvictor {
            max_count,
            after: false,
        }
    }

    /// Keeps the last `max_count` elements, evicting after the window function.
    pub fn of_after(max_count: usize) -> Self {
        CountEvictor {
            max_count,
            after: true,
        }
    }

    fn evict<T>(&self, elements: &mut Vec<TimestampedValue<T>>) {
        let excess = elements.len().saturating_sub(self.max_count);
        elements.drain(..excess);
    }
}

impl<T: 'static, W: Window> Evictor<T, W> for CountEvictor {
    fn evict_before(&self, elements: &mut Vec<TimestampedValue<T>>, _: W, _: &EvictorContext) {
        if !self.after {
            self.evict(elements);
        }
    }
    fn evict_after(&self, elements: &mut Vec<TimestampedValue<T>>, _: W, _: &EvictorContext) {
        if self.after {
            self.evict(elements);
        }
    }
    fn describe(&self) -> String {
        format!("CountEvictor({})", self.max_count)
    }
}

/// Keeps the elements less than `size` older than the newest element; does nothing to
/// elements without timestamps.
#[derive(Debug, Clone, Copy)]
pub struct TimeEvictor {
    size_ms: i64,
    after: bool,
}

impl TimeEvictor {
    /// Keeps the elements of the last `size`, evicting before the window function.
    pub fn of(size: Duration) -> Self {
        TimeEvictor {
            size_ms: millis(size),
            after: false,
        }
    }

    /// Keeps the elements of the last `size`, evicting after the window function.
    pub fn of_after(size: Duration) -> Self {
        TimeEvictor {
            size_ms: millis(size),
            after: true,
        }
    }

    fn evict<T>(&self, elements: &mut Vec<TimestampedValue<T>>) {
        if elements.first().is_none_or(|e| e.timestamp.is_none()) {
            return;
        }
        let Some(newest) = elements.iter().filter_map(|e| e.timestamp).max() else {
            return;
        };
        let cutoff = newest.saturating_sub(self.size_ms);
        elements.retain(|e| e.timestamp.is_none_or(|t| t > cutoff));
    }
}

impl<T: 'static, W: Window> Evictor<T, W> for TimeEvictor {
    fn evict_before(&self, elements: &mut Vec<TimestampedValue<T>>, _: W, _: &EvictorContext) {
        if !self.after {
            self.evict(elements);
        }
    }
    fn evict_after(&self, elements: &mut Vec<TimestampedValue<T>>, _: W, _: &EvictorContext) {
        if self.after {
            self.evict(elements);
        }
    }
    fn describe(&self) -> String {
        format!("TimeEvictor({})", self.size_ms)
    }
}

/// Evicts the elements whose delta to the last element is at least `threshold`.
pub struct DeltaEvictor<T, F> {
    threshold: f64,
    delta: F,
    after: bool,
    _t: PhantomData<fn(&T)>,
}

impl<T, F: Fn(&T, &T) -> f64> DeltaEvictor<T, F> {
    /// Evicts, before the window function, the elements `e` with
    /// `delta(e, last) >= threshold`.
    pub fn of(threshold: f64, delta: F) -> Self {
        DeltaEvictor {
            threshold,
            delta,
            after: false,
            _t: PhantomData,
        }
    }

    /// As [`DeltaEvictor::of`], evicting after the window function.
    pub fn of_after(threshold: f64, delta: F) -> Self {
        DeltaEvictor {
            after: true,
            ..Self::of(threshold, delta)
        }
    }
}

impl<T: Clone, F: Fn(&T, &T) -> f64> DeltaEvictor<T, F> {
    fn evict(&self, elements: &mut Vec<TimestampedValue<T>>) {
        let Some(last) = elements.last().map(|e| e.value.clone()) else {
            return;
        };
        elements.retain(|e| (self.delta)(&e.value, &last) < self.threshold);
    }
}

impl<T, W, F> Evictor<T, W> for DeltaEvictor<T, F>
where
    T: Clone + 'static,
    W: Window,
    F: Fn(&T, &T) -> f64 + Send + Sync + 'static,
{
    fn evict_before(&self, elements: &mut Vec<TimestampedValue<T>>, _: W, _: &EvictorContext) {
        if !self.after {
            self.evict(elements);
        }
    }
    fn evict_after(&self, elements: &mut Vec<TimestampedValue<T>>, _: W, _: &EvictorContext) {
        if self.after {
            self.evict(elements);
        }
    }
    fn describe(&self) -> String {
        format!("DeltaEvictor({})", self.threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::GlobalWindow;

    fn values(v: &[(i64, i64)]) -> Vec<TimestampedValue<i64>> {
        v.iter()
            .map(|&(value, t)| TimestampedValue {
                value,
                timestamp: Some(t),
            })
            .collect()
    }

    fn run(e: &dyn Evictor<i64, GlobalWindow>, input: &[(i64, i64)]) -> Vec<i64> {
        let ctx = EvictorContext {
            current_watermark: 0,
            current_processing_time: 0,
        };
        let mut v = values(input);
        e.evict_before(&mut v, GlobalWindow, &ctx);
        v.into_iter().map(|e| e.value).collect()
    }

    #[test]
    fn evictors_keep_what_flink_keeps() {
        let input = [(1, 100), (5, 300), (2, 250), (9, 400)];
        assert_eq!(run(&CountEvictor::of(2), &input), vec![2, 9]);
        assert_eq!(run(&CountEvictor::of_after(2), &input), vec![1, 5, 2, 9]);
        // Newest is 400: keep timestamps > 400 - 150.
        assert_eq!(
            run(&TimeEvictor::of(Duration::from_millis(150)), &input),
            vec![5, 9]
        );
        // Last is 9: evict values at least 5 away from it.
        let delta = DeltaEvictor::of(5.0, |a: &i64, b: &i64| (a - b).abs() as f64);
        assert_eq!(run(&delta, &input), vec![5, 9]);
    }
}
