//! Enumerations used by the option catalogue, with Flink's names.

use serde::{Deserialize, Serialize};

/// How a job is executed (`execution.runtime-mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuntimeMode {
    /// Unbounded, continuous processing with checkpoints.
    Streaming,
    /// Bounded processing, stage by stage.
    Batch,
    /// Batch if every source is bounded, streaming otherwise.
    Automatic,
}

crate::impl_config_enum!(RuntimeMode {
    Streaming => "STREAMING",
    Batch => "BATCH",
    Automatic => "AUTOMATIC",
});

/// The consistency guarantee of checkpoints (`execution.checkpointing.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckpointingMode {
    /// Barriers are aligned: every record affects state exactly once.
    ExactlyOnce,
    /// Barriers are not aligned: records may be replayed after a failure.
    AtLeastOnce,
}

crate::impl_config_enum!(CheckpointingMode {
    ExactlyOnce => "EXACTLY_ONCE",
    AtLeastOnce => "AT_LEAST_ONCE",
});

/// What happens to a job's checkpoints when it ends
/// (`execution.checkpointing.externalized-checkpoint-retention`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckpointRetention {
    /// Checkpoints are deleted whenever the job ends.
    NoExternalizedCheckpoints,
    /// Checkpoints are kept when the job fails and deleted when it is cancelled or finishes.
    DeleteOnCancellation,
    /// Checkpoints are kept however the job ends.
    RetainOnCancellation,
}

crate::impl_config_enum!(CheckpointRetention {
    NoExternalizedCheckpoints => "NO_EXTERNALIZED_CHECKPOINTS",
    DeleteOnCancellation => "DELETE_ON_CANCELLATION",
    RetainOnCancellation => "RETAIN_ON_CANCELLATION",
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigValue;

    #[test]
    fn enums_match_names_case_insensitively() {
        assert_eq!(
            CheckpointingMode::parse("EXACTLY_ONCE"),
            Ok(CheckpointingMode::ExactlyOnce)
        );
        assert_eq!(
            CheckpointingMode::parse("at_least_once"),
            Ok(CheckpointingMode::AtLeastOnce)
        );
        assert_eq!(RuntimeMode::parse(" Batch "), Ok(RuntimeMode::Batch));
        assert_eq!(
            RuntimeMode::parse("realtime"),
            Err("expected one of STREAMING, BATCH, AUTOMATIC".to_owned())
        );
        assert_eq!(CheckpointingMode::AtLeastOnce.render(), "AT_LEAST_ONCE");
        assert_eq!(RuntimeMode::type_name(), "Enum");
    }
}
