//! Mini-batches (Flink's `table.exec.mini-batch.*`): an aggregation buffers its input per key
//! and touches state and emits once per key per mini-batch. A mini-batch ends when it holds
//! `table.exec.mini-batch.size` rows, when `table.exec.mini-batch.allow-latency` has passed
//! since its first row (processing time), before a checkpoint barrier and at the end of the
//! input.

use weir_core::config::{options, Configuration};
use weir_runtime::operator::now_ms;

use crate::error::{Result, SqlError};

/// When a mini-batch ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MiniBatch {
    /// At most this many input rows.
    pub size: usize,
    /// At most this long after its first row (milliseconds).
    pub latency_ms: i64,
}

impl MiniBatch {
    /// The mini-batch `config` sets, or `None` when `table.exec.mini-batch.enabled` is false.
    /// As in Flink, an enabled mini-batch needs a positive size and latency.
    pub fn from_config(config: &Configuration) -> Result<Option<MiniBatch>> {
        let get_err = |e: weir_core::config::ConfigError| SqlError::Runtime(e.into());
        if !config.get(&options::MINI_BATCH_ENABLED).map_err(get_err)? {
            return Ok(None);
        }
        let latency = config
            .get(&options::MINI_BATCH_ALLOW_LATENCY)
            .map_err(get_err)?;
        let size = config.get(&options::MINI_BATCH_SIZE).map_err(get_err)?;
        if latency.is_zero() {
            return Err(SqlError::plan(format!(
                "'{}' must be greater than zero when '{}' is true",
                options::MINI_BATCH_ALLOW_LATENCY.key,
                options::MINI_BATCH_ENABLED.key
            )));
        }
        if size <= 0 {
            return Err(SqlError::plan(format!(
                "'{}' must be greater than zero when '{}' is true (it is {size})",
                options::MINI_BATCH_SIZE.key,
                options::MINI_BATCH_ENABLED.key
            )));
        }
        Ok(Some(MiniBatch {
            size: usize::try_from(size).unwrap_or(usize::MAX),
            latency_ms: i64::try_from(latency.as_millis())
                .unwrap_or(i64::MAX)
                .max(1),
        }))
    }
}

/// Counts the rows of the current mini-batch and keeps its deadline.
#[derive(Debug, Clone)]
pub struct MiniBatchTrigger {
    batch: MiniBatch,
    rows: usize,
    deadline: Option<i64>,
}

impl MiniBatchTrigger {
    /// A trigger of mini-batches of `batch`'s size and latency.
    pub fn new(batch: MiniBatch) -> Self {
        MiniBatchTrigger {
            batch,
            rows: 0,
            deadline: None,
        }
    }

    /// Counts one more buffered row; whether the mini-batch is full.
    pub fn add_row(&mut self) -> bool {
        if self.deadline.is_none() {
            self.deadline = Some(now_ms().saturating_add(self.batch.latency_ms));
        }
        self.rows += 1;
        self.rows >= self.batch.size
    }

    /// When the current mini-batch must end, if it holds rows.
    pub fn deadline(&self) -> Option<i64> {
        self.deadline
    }

    /// Starts a new, empty mini-batch.
    pub fn reset(&mut self) {
        self.rows = 0;
        self.deadline = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_by_default_and_validated_when_enabled() {
        let mut config = Configuration::new();
        assert_eq!(MiniBatch::from_config(&config).unwrap(), None);
        config.set_string("table.exec.mini-batch.enabled", "true");
        let err = MiniBatch::from_config(&config).unwrap_err().to_string();
        assert!(err.contains("table.exec.mini-batch.allow-latency"), "{err}");
        config.set_string("table.exec.mini-batch.allow-latency", "2 s");
        let err = MiniBatch::from_config(&config).unwrap_err().to_string();
        assert!(err.contains("table.exec.mini-batch.size"), "{err}");
        config.set_string("table.exec.mini-batch.size", "3");
        assert_eq!(
            MiniBatch::from_config(&config).unwrap(),
            Some(MiniBatch {
                size: 3,
                latency_ms: 2000
            })
        );
    }

    #[test]
    fn a_batch_ends_at_its_size_and_has_a_deadline() {
        let mut trigger = MiniBatchTrigger::new(MiniBatch {
            size: 2,
            latency_ms: 1000,
        });
        assert!(trigger.deadline().is_none());
        assert!(!trigger.add_row());
        let deadline = trigger.deadline().unwrap();
        assert!(deadline > now_ms() + 500);
        assert!(trigger.add_row());
        trigger.reset();
        assert!(trigger.deadline().is_none());
    }
}
