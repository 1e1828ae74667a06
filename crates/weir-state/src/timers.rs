//! Timers per (key, namespace), in event time and in processing time (Flink's
//! `InternalTimerService`). A timer is registered at most once per timestamp; timers fire in
//! timestamp order.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;

use serde::{Deserialize, Serialize};
use weir_core::keygroup::{key_group_for_key, KeyGroupRange, StableBuildHasher};
use weir_core::Result;

use crate::backend::Namespace;
use crate::data::{decode, encode, StateKey};
use crate::snapshot::{RestoredState, StateSnapshot};

/// The keyed snapshot component that holds timers.
const TIMERS: &str = "timers";

/// Which clock a timer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeDomain {
    EventTime,
    ProcessingTime,
}

/// Timers of one clock, by timestamp.
struct TimerQueue<K> {
    by_time: BTreeMap<i64, HashSet<(K, Namespace), StableBuildHasher>>,
    len: usize,
}

impl<K: Hash + Eq + Clone> TimerQueue<K> {
    fn new() -> Self {
        TimerQueue {
            by_time: BTreeMap::new(),
            len: 0,
        }
    }

    fn register(&mut self, time: i64, key: K, ns: Namespace) {
        if self.by_time.entry(time).or_default().insert((key, ns)) {
            self.len += 1;
        }
    }

    fn delete(&mut self, time: i64, key: &K, ns: Namespace) {
        if let Some(set) = self.by_time.get_mut(&time) {
            if set.remove(&(key.clone(), ns)) {
                self.len -= 1;
            }
            if set.is_empty() {
                self.by_time.remove(&time);
            }
        }
    }

    fn next_time(&self) -> Option<i64> {
        self.by_time.keys().next().copied()
    }

    fn pop_until(&mut self, time: i64) -> Option<(i64, K, Namespace)> {
        let mut first = self.by_time.first_entry()?;
        if *first.key() > time {
            return None;
        }
        let at = *first.key();
        let timer = first.get().iter().next().cloned()?;
        first.get_mut().remove(&timer);
        if first.get().is_empty() {
            first.remove();
        }
        self.len -= 1;
        Some((at, timer.0, timer.1))
    }
}

/// The timers of one keyed operator subtask, and its current watermark.
pub struct TimerService<K> {
    event: TimerQueue<K>,
    processing: TimerQueue<K>,
    watermark: i64,
}

impl<K: Hash + Eq + Clone> Default for TimerService<K> {
    fn default() -> Self {
        TimerService {
            event: TimerQueue::new(),
            processing: TimerQueue::new(),
            watermark: i64::MIN,
        }
    }
}

impl<K: Hash + Eq + Clone> TimerService<K> {
    fn queue(&mut self, domain: TimeDomain) -> &mut TimerQueue<K> {
        match domain {
            TimeDomain::EventTime => &mut self.event,
            TimeDomain::ProcessingTime => &mut self.processing,
        }
    }

    /// Registers a timer (again registering the same one does nothing).
    pub fn register(&mut self, domain: TimeDomain, time: i64, key: K, ns: Namespace) {
        self.queue(domain).register(time, key, ns);
    }

    /// Deletes a timer, if registered.
    pub fn delete(&mut self, domain: TimeDomain, time: i64, key: &K, ns: Namespace) {
        self.queue(domain).delete(time, key, ns);
    }

    /// The current event time.
    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// Advances event time; then take the due timers with [`TimerService::pop_event_timer`].
    pub fn advance_watermark(&mut self, watermark: i64) {
        self.watermark = self.watermark.max(watermark);
    }

    /// The earliest event-time timer at or before the watermark, removed.
    pub fn pop_event_timer(&mut self) -> Option<(i64, K, Namespace)> {
        let watermark = self.watermark;
        self.event.pop_until(watermark)
    }

    /// The earliest processing-time timer at or before `now_ms`, removed.
    pub fn pop_processing_timer(&mut self, now_ms: i64) -> Option<(i64, K, Namespace)> {
        self.processing.pop_until(now_ms)
    }

    /// When the next processing-time timer is due.
    pub fn next_processing_time(&self) -> Option<i64> {
        self.processing.next_time()
    }

    /// Number of registered timers of both clocks.
    pub fn len(&self) -> usize {
        self.event.len + self.processing.len
    }

    /// Whether no timer is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One timer as saved in a snapshot.
type SavedTimer<K> = (TimeDomain, i64, K, Namespace);

impl<K: StateKey> TimerService<K> {
    /// Adds the timers of both clocks to a checkpoint, by the key group of their keys (the
    /// watermark is not saved: it comes back from the sources).
    pub fn snapshot(&self, max_parallelism: usize, snapshot: &mut StateSnapshot) {
        let mut by_group: BTreeMap<u32, Vec<SavedTimer<K>>> = BTreeMap::new();
        for (domain, queue) in [
            (TimeDomain::EventTime, &self.event),
            (TimeDomain::ProcessingTime, &self.processing),
        ] {
            for (time, timers) in &queue.by_time {
                for (key, ns) in timers {
                    let kg = key_group_for_key(key, max_parallelism) as u32;
                    by_group
                        .entry(kg)
                        .or_default()
                        .push((domain, *time, key.clone(), *ns));
                }
            }
        }
        snapshot.add_keyed(
            TIMERS,
            Box::new(move || {
                by_group
                    .iter()
                    .map(|(kg, timers)| Ok((*kg, encode(timers)?)))
                    .collect()
            }),
        );
    }

    /// Registers the restored timers of the key groups in `range`.
    pub fn restore(&mut self, restored: &RestoredState, range: KeyGroupRange) -> Result<()> {
        let Some(groups) = restored.keyed(TIMERS) else {
            return Ok(());
        };
        for (kg, bytes) in groups {
            if range.contains(*kg as usize) {
                let timers: Vec<SavedTimer<K>> = decode(bytes, TIMERS)?;
                for (domain, time, key, ns) in timers {
                    self.register(domain, time, key, ns);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_fire_once_in_order_and_can_be_deleted() {
        let mut t = TimerService::<&str>::default();
        for (time, key) in [(30, "a"), (10, "b"), (20, "a"), (10, "b"), (25, "c")] {
            t.register(TimeDomain::EventTime, time, key, Namespace::Void);
        }
        t.delete(TimeDomain::EventTime, 25, &"c", Namespace::Void);
        assert_eq!(t.len(), 3);
        t.advance_watermark(20);
        let fired: Vec<_> = std::iter::from_fn(|| t.pop_event_timer())
            .map(|(ts, k, _)| (ts, k))
            .collect();
        assert_eq!(fired, vec![(10, "b"), (20, "a")]);
        t.advance_watermark(100);
        assert_eq!(t.pop_event_timer().map(|x| x.0), Some(30));
        assert!(t.pop_event_timer().is_none());
    }
}
