//! When part files roll (Flink's `DefaultRollingPolicy` and `OnCheckpointRollingPolicy`), how
//! they are named (`OutputFileConfig`), and which bucket a record goes to.

use std::sync::Arc;
use std::time::Duration;

/// When an in-progress part file is closed and a new one started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollingPolicy {
    /// A part older than this rolls (Flink's `rolloverInterval`, default 60 s).
    pub rollover_interval: Duration,
    /// A part not written for this long rolls (`inactivityInterval`, default 60 s).
    pub inactivity_interval: Duration,
    /// A part of at least this many bytes rolls (`maxPartSize`, default 128 MiB).
    pub max_part_size: u64,
    /// Every checkpoint closes every part (`OnCheckpointRollingPolicy`).
    pub roll_on_checkpoint: bool,
}

impl Default for RollingPolicy {
    fn default() -> Self {
        RollingPolicy {
            rollover_interval: Duration::from_secs(60),
            inactivity_interval: Duration::from_secs(60),
            max_part_size: 128 << 20,
            roll_on_checkpoint: false,
        }
    }
}

impl RollingPolicy {
    /// Flink's `OnCheckpointRollingPolicy`: parts roll at every checkpoint (and only then).
    pub fn on_checkpoint() -> Self {
        RollingPolicy {
            rollover_interval: Duration::MAX,
            inactivity_interval: Duration::MAX,
            max_part_size: u64::MAX,
            roll_on_checkpoint: true,
        }
    }

    /// Sets the rollover interval.
    pub fn with_rollover_interval(mut self, interval: Duration) -> Self {
        self.rollover_interval = interval;
        self
    }

    /// Sets the inactivity interval.
    pub fn with_inactivity_interval(mut self, interval: Duration) -> Self {
        self.inactivity_interval = interval;
        self
    }

    /// Sets the maximum part size in bytes.
    pub fn with_max_part_size(mut self, bytes: u64) -> Self {
        self.max_part_size = bytes;
        self
    }

    /// Whether a part of `size` bytes, opened at `created_ms` and last written at
    /// `written_ms`, rolls at `now_ms`.
    pub(crate) fn should_roll(
        &self,
        size: u64,
        created_ms: i64,
        written_ms: i64,
        now_ms: i64,
    ) -> bool {
        let older_than = |since: i64, limit: Duration| {
            u128::try_from(now_ms.saturating_sub(since)).unwrap_or(0) >= limit.as_millis()
        };
        size >= self.max_part_size
            || older_than(created_ms, self.rollover_interval)
            || older_than(written_ms, self.inactivity_interval)
    }
}

/// How part files are named: `<prefix>-<subtask>-<counter><suffix>` (Flink's
/// `OutputFileConfig`, default prefix `part`, no suffix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFileConfig {
    pub part_prefix: String,
    pub part_suffix: String,
}

impl Default for OutputFileConfig {
    fn default() -> Self {
        OutputFileConfig {
            part_prefix: "part".into(),
            part_suffix: String::new(),
        }
    }
}

/// Picks the bucket (a sub-directory of the base path, `""` for the base path itself) of a
/// record, given the processing time in milliseconds.
pub type BucketAssigner<T> = Arc<dyn Fn(&T, i64) -> String + Send + Sync>;

/// Flink's default `DateTimeBucketAssigner`: one bucket per hour of processing time,
/// `yyyy-MM-dd--HH` (in UTC; Flink uses the machine's time zone).
pub fn date_time_bucket<T>(_record: &T, now_ms: i64) -> String {
    let hours = now_ms.div_euclid(3_600_000);
    let (days, hour) = (hours.div_euclid(24), hours.rem_euclid(24));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}--{hour:02}")
}

/// The (year, month, day) of the day `days` after 1970-01-01 in the proleptic Gregorian
/// calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_time_buckets_are_hours_in_utc() {
        // 2026-11-23T07:55:12Z and 2000-02-29T23:59:59Z, 1969-12-31T23:00:00Z.
        assert_eq!(date_time_bucket(&(), 1_795_420_512_000), "2026-11-23--07");
        assert_eq!(date_time_bucket(&(), 951_868_799_000), "2000-02-29--23");
        assert_eq!(date_time_bucket(&(), -3_600_000), "1969-12-31--23");
    }

    #[test]
    fn parts_roll_on_size_age_or_inactivity() {
        let p = RollingPolicy::default()
            .with_max_part_size(100)
            .with_rollover_interval(Duration::from_secs(10))
            .with_inactivity_interval(Duration::from_secs(2));
        assert!(!p.should_roll(99, 0, 0, 1_999));
        assert!(p.should_roll(100, 0, 0, 0));
        assert!(p.should_roll(0, 0, 0, 2_000));
        assert!(p.should_roll(0, 0, 9_000, 10_000));
        assert!(!RollingPolicy::on_checkpoint().should_roll(u64::MAX - 1, 0, 0, i64::MAX));
    }
}
