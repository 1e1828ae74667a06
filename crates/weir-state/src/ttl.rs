//! Time-to-live of keyed state entries (Flink's `StateTtlConfig`), in processing time.
//!
//! Value, reducing and aggregating state expire per entry (key and namespace); list and map
//! state, as in Flink, per list element and per map entry: each keeps its own last-access
//! time, so adding an element does not keep older ones alive.

use std::time::Duration;

/// When an entry's time to live starts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlUpdateType {
    /// On every write (the default).
    OnCreateAndWrite,
    /// On every read and write.
    OnReadAndWrite,
}

/// Whether an expired entry that is still stored may be returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateVisibility {
    /// Expired entries are never returned (the default).
    NeverReturnExpired,
    /// Expired entries are returned until they are cleaned up.
    ReturnExpiredIfNotCleanedUp,
}

/// How long state entries live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateTtlConfig {
    pub ttl: Duration,
    pub update_type: TtlUpdateType,
    pub visibility: StateVisibility,
}

impl StateTtlConfig {
    /// Entries expire `ttl` after their last write.
    pub fn new(ttl: Duration) -> Self {
        StateTtlConfig {
            ttl,
            update_type: TtlUpdateType::OnCreateAndWrite,
            visibility: StateVisibility::NeverReturnExpired,
        }
    }

    /// Sets when the time to live restarts.
    pub fn update_type(mut self, update_type: TtlUpdateType) -> Self {
        self.update_type = update_type;
        self
    }

    /// Sets whether expired entries may be returned.
    pub fn state_visibility(mut self, visibility: StateVisibility) -> Self {
        self.visibility = visibility;
        self
    }

    pub(crate) fn is_expired(&self, last_access_ms: i64, now_ms: i64) -> bool {
        now_ms - last_access_ms >= self.ttl.as_millis() as i64
    }

    /// Whether a read at `now` of an element last accessed at `*touched_ms` sees it (and so
    /// keeps it: an element not seen is expired and is dropped); refreshes `*touched_ms` if
    /// reads restart the time to live.
    pub(crate) fn read(&self, touched_ms: &mut i64, now_ms: i64) -> bool {
        if self.is_expired(*touched_ms, now_ms) {
            return self.visibility == StateVisibility::ReturnExpiredIfNotCleanedUp;
        }
        if self.update_type == TtlUpdateType::OnReadAndWrite {
            *touched_ms = now_ms;
        }
        true
    }
}

/// The wall clock in milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
