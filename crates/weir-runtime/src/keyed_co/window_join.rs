//! Window join and co-group of two keyed streams on tumbling and sliding event-time windows
//! (Flink's `CoGroupedStreams` and `JoinedStreams`), as a [`KeyedCoProcessFunction`].
//!
//! Every element is added to the keyed [`ListState`] of its side under the namespace of each
//! window it belongs to, and an event-time timer is registered at the window's last
//! millisecond (`end - 1`). When the watermark reaches it, the co-group function gets both
//! sides' elements of that key and window (one side may be empty) and the window's state is
//! dropped; what it emits has the timestamp `end - 1`. An element whose windows have all
//! fired already is late and dropped, as Flink's window operator does without allowed
//! lateness. A join is a co-group that calls the join function for every pair.

use std::marker::PhantomData;

use weir_core::{Result, WeirError};
use weir_state::{ListState, Namespace};

use super::KeyedCoProcessFunction;
use crate::keyed::{KeyType, KeyedContext};

/// Co-groups the elements of both sides per key and sliding (or tumbling, when the slide is
/// the size) event-time window; see the module documentation.
pub struct WindowCoGroup<A, B, O, F> {
    size: i64,
    slide: i64,
    left: ListState<A>,
    right: ListState<B>,
    function: F,
    _t: PhantomData<fn() -> O>,
}

impl<A, B, O, F: Clone> Clone for WindowCoGroup<A, B, O, F> {
    fn clone(&self) -> Self {
        WindowCoGroup {
            size: self.size,
            slide: self.slide,
            left: self.left.clone(),
            right: self.right.clone(),
            function: self.function.clone(),
            _t: PhantomData,
        }
    }
}

impl<A, B, O, F> WindowCoGroup<A, B, O, F>
where
    A: Clone + Send + 'static,
    B: Clone + Send + 'static,
    F: FnMut(&[A], &[B], &mut Vec<O>) -> Result<()>,
{
    /// Windows of `size` milliseconds starting every `slide` milliseconds (aligned to the
    /// epoch); `function` gets the left and right elements of a key's window and pushes its
    /// results. An error unless both are positive.
    pub fn new(size: i64, slide: i64, function: F) -> Result<Self> {
        if size <= 0 || slide <= 0 {
            return Err(WeirError::InvalidJob(format!(
                "window join: window size ({size} ms) and slide ({slide} ms) must be positive"
            )));
        }
        Ok(WindowCoGroup {
            size,
            slide,
            left: ListState::new("left-window-contents"),
            right: ListState::new("right-window-contents"),
            function,
            _t: PhantomData,
        })
    }

    /// The windows `[start, end)` that contain `timestamp`, latest first (Flink's
    /// `SlidingEventTimeWindows` with offset 0).
    fn windows(&self, timestamp: i64) -> impl Iterator<Item = (i64, i64)> {
        let last_start = timestamp - timestamp.rem_euclid(self.slide);
        let (size, slide) = (self.size, self.slide);
        std::iter::successors(Some(last_start), move |start| start.checked_sub(slide))
            .take_while(move |start| *start > timestamp.saturating_sub(size))
            .map(move |start| (start, start.saturating_add(size)))
    }

    /// Adds `value` to `buffer` in every window of its timestamp that has not fired yet.
    fn assign<K: KeyType, X: Clone + Send + 'static>(
        &self,
        ctx: &mut KeyedContext<'_, K, O>,
        buffer: &ListState<X>,
        value: X,
    ) -> Result<()> {
        let timestamp = match ctx.timestamp() {
            Some(ts) if ts != i64::MIN => ts,
            _ => {
                return Err(WeirError::Other(
                    "window join: an element has no timestamp; event-time windows need \
                     timestamps (assign_timestamps_and_watermarks before the join)"
                        .into(),
                ))
            }
        };
        for (start, end) in self.windows(timestamp) {
            if end - 1 <= ctx.current_watermark() {
                continue;
            }
            ctx.set_namespace(Namespace::Window { start, end });
            buffer.add(ctx, value.clone())?;
            ctx.register_event_time_timer(end - 1);
        }
        Ok(())
    }
}

impl<K, A, B, O, F> KeyedCoProcessFunction<K, A, B, O> for WindowCoGroup<A, B, O, F>
where
    K: KeyType,
    A: Clone + Send + 'static,
    B: Clone + Send + 'static,
    O: Clone + Send + 'static,
    F: FnMut(&[A], &[B], &mut Vec<O>) -> Result<()> + Clone + Send + Sync + 'static,
{
    fn process_element1(&mut self, value: A, ctx: &mut KeyedContext<'_, K, O>) -> Result<()> {
        self.assign(ctx, &self.left, value)
    }

    fn process_element2(&mut self, value: B, ctx: &mut KeyedContext<'_, K, O>) -> Result<()> {
        self.assign(ctx, &self.right, value)
    }

    /// The window of the timer (the context's namespace) is complete: co-group and drop it.
    fn on_timer(&mut self, _timestamp: i64, ctx: &mut KeyedContext<'_, K, O>) -> Result<()> {
        let left = self.left.get(ctx)?;
        let right = self.right.get(ctx)?;
        self.left.clear(ctx)?;
        self.right.clear(ctx)?;
        let mut produced = Vec::new();
        (self.function)(&left, &right, &mut produced)?;
        produced.into_iter().for_each(|o| ctx.collect(o));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_flinks_sliding_windows() {
        let no_op = |_: &[i32], _: &[i32], _: &mut Vec<i32>| Ok(());
        let sliding = WindowCoGroup::new(10, 4, no_op).unwrap();
        let w: Vec<_> = sliding.windows(13).collect();
        assert_eq!(w, vec![(12, 22), (8, 18), (4, 14)]);
        let w: Vec<_> = sliding.windows(-1).collect();
        assert_eq!(w, vec![(-4, 6), (-8, 2)]);
        let tumbling = WindowCoGroup::new(5, 5, no_op).unwrap();
        assert_eq!(tumbling.windows(5).collect::<Vec<_>>(), vec![(5, 10)]);
        assert_eq!(tumbling.windows(4).collect::<Vec<_>>(), vec![(0, 5)]);
        assert!(WindowCoGroup::new(0, 5, no_op).is_err());
    }
}
