//! The in-flight windows of one key for a merging assigner (Flink's `MergingWindowSet`).
//!
//! Each window maps to the namespace its state lives in (its "state window"). When windows
//! merge, the merged window keeps the state window of one of them, so that only the state of
//! the others moves; the state window of a window never changes while the window lives.

use weir_core::{Result, WeirError};
use weir_state::ValueState;

use crate::keyed::KeyType;

use super::functions::KeyedStateStore;
use super::Window;

/// A merge that [`MergingWindowSet::add_window`] performed.
pub(crate) struct Merge<'a, W> {
    /// The window that replaces the merged ones.
    pub result: W,
    /// The windows merged into `result` (without the new window, which had no state yet).
    pub merged: &'a [W],
    /// Where the state of `result` lives.
    pub state_window: W,
    /// The state windows whose state must move into `state_window`.
    pub merged_state_windows: &'a [W],
}

/// Window → state window, for the current key.
pub(crate) struct MergingWindowSet<W> {
    mapping: Vec<(W, W)>,
}

impl<W: Window> MergingWindowSet<W> {
    /// The set of the current key, as stored in `handle`.
    pub(crate) fn load<K: KeyType>(
        handle: &ValueState<Vec<(W, W)>>,
        store: &mut KeyedStateStore<'_, K>,
    ) -> Result<Self> {
        Ok(MergingWindowSet {
            mapping: handle.value(store)?.unwrap_or_default(),
        })
    }

    /// Stores the set of the current key.
    pub(crate) fn persist<K: KeyType>(
        self,
        handle: &ValueState<Vec<(W, W)>>,
        store: &mut KeyedStateStore<'_, K>,
    ) -> Result<()> {
        if self.mapping.is_empty() {
            handle.clear(store)
        } else {
            handle.update(store, self.mapping)
        }
    }

    /// Where the state of `window` lives, if the window is in flight.
    pub(crate) fn state_window(&self, window: W) -> Option<W> {
        self.mapping
            .iter()
            .find(|(w, _)| *w == window)
            .map(|(_, s)| *s)
    }

    /// Forgets `window` (its state was dropped).
    pub(crate) fn retire(&mut self, window: W) {
        self.remove(window);
    }

    fn remove(&mut self, window: W) -> Option<W> {
        let pos = self.mapping.iter().position(|(w, _)| *w == window)?;
        Some(self.mapping.swap_remove(pos).1)
    }

    fn insert(&mut self, window: W, state_window: W) {
        self.remove(window);
        self.mapping.push((window, state_window));
    }

    /// Adds `new` and merges what now overlaps, as `merge_windows` groups them; `on_merge`
    /// moves trigger state, timers and contents for each merge. Returns the window that
    /// `new` ended up in.
    pub(crate) fn add_window(
        &mut self,
        new: W,
        merge_windows: impl Fn(&[W]) -> Vec<(W, Vec<W>)>,
        mut on_merge: impl FnMut(Merge<'_, W>) -> Result<()>,
    ) -> Result<W> {
        let mut windows: Vec<W> = self.mapping.iter().map(|(w, _)| *w).collect();
        windows.push(new);
        let merges = merge_windows(&windows);
        let mut result_window = new;
        let mut merged_new = false;
        for (result, mut merged) in merges {
            if let Some(pos) = merged.iter().position(|w| *w == new) {
                merged.remove(pos);
                merged_new = true;
                result_window = result;
            }
            let first = merged.first().copied();
            let state_window = first.and_then(|w| self.state_window(w)).ok_or_else(|| {
                WeirError::Other(format!(
                    "weir internal error: merged window {first:?} is not in flight"
                ))
            })?;
            let mut merged_state_windows: Vec<W> =
                merged.iter().filter_map(|w| self.remove(*w)).collect();
            self.insert(result, state_window);
            merged_state_windows.retain(|w| *w != state_window);
            // A window merged only with itself (the new one lies inside it) has nothing to move.
            if !(merged.len() == 1 && merged[0] == result) {
                on_merge(Merge {
                    result,
                    merged: &merged,
                    state_window,
                    merged_state_windows: &merged_state_windows,
                })?;
            }
        }
        if !merged_new && self.state_window(result_window).is_none() {
            self.insert(result_window, result_window);
        }
        Ok(result_window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::TimeWindow;

    fn add(set: &mut MergingWindowSet<TimeWindow>, w: TimeWindow) -> (TimeWindow, Vec<String>) {
        let mut merges = Vec::new();
        let result = set
            .add_window(w, TimeWindow::merge_windows, |m| {
                merges.push(format!(
                    "{:?} from {:?}, state {:?} <- {:?}",
                    m.result, m.merged, m.state_window, m.merged_state_windows
                ));
                Ok(())
            })
            .unwrap();
        (result, merges)
    }

    #[test]
    fn bridging_window_merges_and_keeps_one_state_window() {
        let w = TimeWindow::new;
        let mut set = MergingWindowSet {
            mapping: Vec::new(),
        };
        assert_eq!(add(&mut set, w(0, 5)), (w(0, 5), vec![]));
        assert_eq!(add(&mut set, w(10, 15)), (w(10, 15), vec![]));
        // Inside an existing window: nothing moves.
        assert_eq!(add(&mut set, w(1, 4)), (w(0, 5), vec![]));
        let (result, merges) = add(&mut set, w(4, 11));
        assert_eq!(result, w(0, 15));
        assert_eq!(
            merges,
            vec![format!(
                "{:?} from {:?}, state {:?} <- {:?}",
                w(0, 15),
                [w(0, 5), w(10, 15)],
                w(0, 5),
                [w(10, 15)]
            )]
        );
        assert_eq!(set.state_window(w(0, 15)), Some(w(0, 5)));
        assert_eq!(set.state_window(w(0, 5)), None);
    }
}
