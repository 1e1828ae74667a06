//! The catalogue of known options: Flink's keys and defaults (plus a few Weir-specific
//! ones), in one place. Each constant's doc names its key; [`describe_options`] renders
//! the descriptions as documentation.

use std::time::Duration;

use super::{
    CheckpointRetention, CheckpointingMode, ConfigOption, Constraint, OptionDescriptor, RuntimeMode,
};

/// Declares the catalogue's constants and lists every one of them in [`known_options`].
macro_rules! catalogue {
    ($($(#[$meta:meta])* pub const $name:ident: $ty:ty = $option:expr;)+) => {
        $($(#[$meta])* pub const $name: $ty = $option;)+

        static KNOWN_OPTIONS: &[OptionDescriptor] = &[$($name.descriptor()),+];
    };
}

catalogue! {
    // Pipeline and execution.

    /// `parallelism.default`
    pub const PARALLELISM_DEFAULT: ConfigOption<usize> =
        ConfigOption::new("parallelism.default", "1", "Default parallelism for jobs.").positive();
    /// `pipeline.max-parallelism`
    pub const PIPELINE_MAX_PARALLELISM: ConfigOption<i32> = ConfigOption::new(
        "pipeline.max-parallelism",
        "-1",
        "Maximum parallelism, i.e. the number of key groups; -1 derives it from the parallelism.",
    );
    /// `pipeline.operator-chaining.enabled`
    pub const PIPELINE_OPERATOR_CHAINING: ConfigOption<bool> = ConfigOption::new(
        "pipeline.operator-chaining.enabled",
        "true",
        "Whether forward connected operators of equal parallelism are chained into one task.",
    )
    .with_fallback_keys(&["pipeline.operator-chaining"]);
    /// `pipeline.auto-watermark-interval`
    pub const PIPELINE_AUTO_WATERMARK_INTERVAL: ConfigOption<Duration> = ConfigOption::new(
        "pipeline.auto-watermark-interval",
        "200 ms",
        "Interval at which periodic watermarks are emitted; 0 disables them.",
    );
    /// `pipeline.name`
    pub const PIPELINE_NAME: ConfigOption<String> =
        ConfigOption::without_default("pipeline.name", "Name of the job.");
    /// `execution.runtime-mode`
    pub const EXECUTION_RUNTIME_MODE: ConfigOption<RuntimeMode> = ConfigOption::new(
        "execution.runtime-mode",
        "STREAMING",
        "Execution mode of jobs; AUTOMATIC runs BATCH if every source is bounded.",
    );
    /// `execution.buffer-timeout.interval`
    pub const EXECUTION_BUFFER_TIMEOUT: ConfigOption<Duration> = ConfigOption::new(
        "execution.buffer-timeout.interval",
        "100 ms",
        "Maximum time a partly filled output batch waits before it is sent.",
    )
    .with_fallback_keys(&["execution.buffer-timeout"]);
    /// `execution.batch-size` (Weir)
    pub const EXECUTION_BATCH_SIZE: ConfigOption<usize> = ConfigOption::new(
        "execution.batch-size",
        "4096",
        "Maximum number of rows in a data batch (Weir).",
    )
    .positive();

    // Cluster and network.

    /// `taskmanager.numberOfTaskSlots`
    pub const TASK_MANAGER_NUMBER_OF_TASK_SLOTS: ConfigOption<usize> = ConfigOption::new(
        "taskmanager.numberOfTaskSlots",
        "1",
        "Number of slots a TaskManager offers.",
    )
    .positive();
    /// `taskmanager.network.memory.buffers-per-channel`
    pub const BUFFERS_PER_CHANNEL: ConfigOption<usize> = ConfigOption::new(
        "taskmanager.network.memory.buffers-per-channel",
        "2",
        "Number of exclusive network buffers per channel.",
    );
    /// `taskmanager.network.memory.floating-buffers-per-gate`
    pub const FLOATING_BUFFERS_PER_GATE: ConfigOption<usize> = ConfigOption::new(
        "taskmanager.network.memory.floating-buffers-per-gate",
        "8",
        "Number of network buffers shared by the channels of an input gate.",
    );
    /// `local.number-taskmanager`
    pub const LOCAL_NUMBER_TASK_MANAGER: ConfigOption<usize> = ConfigOption::new(
        "local.number-taskmanager",
        "1",
        "Number of TaskManagers of a local mini-cluster.",
    )
    .positive();
    /// `rest.port`
    pub const REST_PORT: ConfigOption<u16> =
        ConfigOption::new("rest.port", "8081", "Port of the REST endpoint and web UI.");
    /// `rest.address`
    pub const REST_ADDRESS: ConfigOption<String> = ConfigOption::new(
        "rest.address",
        "localhost",
        "Address clients use to reach the REST endpoint.",
    );
    /// `jobmanager.rpc.address`
    pub const JOB_MANAGER_RPC_ADDRESS: ConfigOption<String> =
        ConfigOption::new("jobmanager.rpc.address", "localhost", "Address of the JobManager.");
    /// `jobmanager.rpc.port`
    pub const JOB_MANAGER_RPC_PORT: ConfigOption<u16> =
        ConfigOption::new("jobmanager.rpc.port", "6123", "RPC port of the JobManager.");

    // Metrics.

    /// `metrics.latency.interval`
    pub const METRICS_LATENCY_INTERVAL: ConfigOption<Duration> = ConfigOption::new(
        "metrics.latency.interval",
        "0 ms",
        "Interval at which sources emit latency markers; 0 disables latency tracking.",
    );
    /// `metrics.reporter.log.interval` (Weir)
    pub const METRICS_REPORTER_LOG_INTERVAL: ConfigOption<Duration> = ConfigOption::without_default(
        "metrics.reporter.log.interval",
        "Interval at which metrics are written to the log (Weir); unset disables the log reporter.",
    );

    // Checkpoints and state.

    /// `execution.checkpointing.interval`
    pub const CHECKPOINTING_INTERVAL: ConfigOption<Duration> = ConfigOption::without_default(
        "execution.checkpointing.interval",
        "Interval between checkpoints; unset disables checkpointing.",
    );
    /// `execution.checkpointing.mode`
    pub const CHECKPOINTING_MODE: ConfigOption<CheckpointingMode> = ConfigOption::new(
        "execution.checkpointing.mode",
        "EXACTLY_ONCE",
        "Consistency guarantee of checkpoints.",
    );
    /// `execution.checkpointing.timeout`
    pub const CHECKPOINTING_TIMEOUT: ConfigOption<Duration> = ConfigOption::new(
        "execution.checkpointing.timeout",
        "10 min",
        "Time after which an unfinished checkpoint is aborted.",
    );
    /// `execution.checkpointing.min-pause`
    pub const CHECKPOINTING_MIN_PAUSE: ConfigOption<Duration> = ConfigOption::new(
        "execution.checkpointing.min-pause",
        "0 ms",
        "Minimum pause between the end of a checkpoint and the start of the next.",
    );
    /// `execution.checkpointing.max-concurrent-checkpoints`
    pub const CHECKPOINTING_MAX_CONCURRENT: ConfigOption<usize> = ConfigOption::new(
        "execution.checkpointing.max-concurrent-checkpoints",
        "1",
        "Maximum number of checkpoints in progress at the same time.",
    )
    .positive();
    /// `execution.checkpointing.tolerable-failed-checkpoints`
    pub const CHECKPOINTING_TOLERABLE_FAILURES: ConfigOption<usize> = ConfigOption::new(
        "execution.checkpointing.tolerable-failed-checkpoints",
        "0",
        "Number of consecutive failed checkpoints tolerated before the job fails.",
    );
    /// `execution.checkpointing.dir`
    pub const CHECKPOINTING_DIR: ConfigOption<String> = ConfigOption::without_default(
        "execution.checkpointing.dir",
        "Directory or URI where checkpoints are stored.",
    )
    .with_fallback_keys(&["state.checkpoints.dir"]);
    /// `execution.checkpointing.num-retained`
    pub const CHECKPOINTING_NUM_RETAINED: ConfigOption<usize> = ConfigOption::new(
        "execution.checkpointing.num-retained",
        "1",
        "Number of completed checkpoints to retain.",
    )
    .positive()
    .with_fallback_keys(&["state.checkpoints.num-retained"]);
    /// `execution.checkpointing.externalized-checkpoint-retention`
    pub const CHECKPOINTING_EXTERNALIZED_RETENTION: ConfigOption<CheckpointRetention> =
        ConfigOption::new(
            "execution.checkpointing.externalized-checkpoint-retention",
            "NO_EXTERNALIZED_CHECKPOINTS",
            "Whether checkpoints are kept when the job is cancelled.",
        );
    /// `execution.checkpointing.savepoint-dir`
    pub const CHECKPOINTING_SAVEPOINT_DIR: ConfigOption<String> = ConfigOption::without_default(
        "execution.checkpointing.savepoint-dir",
        "Default directory or URI for savepoints.",
    )
    .with_fallback_keys(&["state.savepoints.dir"]);
    /// `execution.savepoint.path`
    pub const SAVEPOINT_PATH: ConfigOption<String> = ConfigOption::without_default(
        "execution.savepoint.path",
        "Checkpoint or savepoint to start the job from (what `weir run -s` sets).",
    );
    /// `execution.savepoint.ignore-unclaimed-state`
    pub const SAVEPOINT_IGNORE_UNCLAIMED_STATE: ConfigOption<bool> = ConfigOption::new(
        "execution.savepoint.ignore-unclaimed-state",
        "false",
        "Whether to start from a savepoint that holds state of operators the job no longer has (what `weir run -n` sets).",
    );
    /// `state.backend.type`
    pub const STATE_BACKEND_TYPE: ConfigOption<String> = ConfigOption::new(
        "state.backend.type",
        "hashmap",
        "State backend: hashmap keeps state on the heap, rocksdb on local disk.",
    )
    .one_of(&["hashmap", "rocksdb"])
    .with_fallback_keys(&["state.backend"]);
    /// `state.backend.rocksdb.localdir`
    pub const STATE_BACKEND_ROCKSDB_LOCALDIR: ConfigOption<String> = ConfigOption::without_default(
        "state.backend.rocksdb.localdir",
        "Local directory where the rocksdb backend keeps its working files, one folder per \
         operator subtask, deleted when the subtask ends; unset means the system's temporary \
         directory.",
    );
    /// `execution.checkpointing.incremental`
    pub const CHECKPOINTING_INCREMENTAL: ConfigOption<bool> = ConfigOption::new(
        "execution.checkpointing.incremental",
        "false",
        "Whether checkpoints of the rocksdb backend are incremental: each holds the backend's \
         files, and only files that no earlier checkpoint holds are written (savepoints are \
         always complete and portable).",
    )
    .with_fallback_keys(&["state.backend.incremental"]);

    // Restart strategies.

    /// `restart-strategy.type`
    pub const RESTART_STRATEGY_TYPE: ConfigOption<String> = ConfigOption::without_default(
        "restart-strategy.type",
        "Restart strategy after a failure; unset means none without checkpointing and \
         exponential-delay with checkpointing.",
    )
    .one_of(&[
        "none",
        "off",
        "disable",
        "fixed-delay",
        "fixeddelay",
        "failure-rate",
        "failurerate",
        "exponential-delay",
        "exponentialdelay",
    ])
    .with_fallback_keys(&["restart-strategy"]);
    /// `restart-strategy.fixed-delay.attempts`
    pub const FIXED_DELAY_ATTEMPTS: ConfigOption<u32> = ConfigOption::new(
        "restart-strategy.fixed-delay.attempts",
        "1",
        "Restart attempts of the fixed-delay strategy before the job fails.",
    );
    /// `restart-strategy.fixed-delay.delay`
    pub const FIXED_DELAY_DELAY: ConfigOption<Duration> = ConfigOption::new(
        "restart-strategy.fixed-delay.delay",
        "1 s",
        "Delay between restart attempts of the fixed-delay strategy.",
    );
    /// `restart-strategy.failure-rate.max-failures-per-interval`
    pub const FAILURE_RATE_MAX_FAILURES: ConfigOption<u32> = ConfigOption::new(
        "restart-strategy.failure-rate.max-failures-per-interval",
        "1",
        "Restarts within one interval of the failure-rate strategy before the job fails.",
    );
    /// `restart-strategy.failure-rate.failure-rate-interval`
    pub const FAILURE_RATE_INTERVAL: ConfigOption<Duration> = ConfigOption::new(
        "restart-strategy.failure-rate.failure-rate-interval",
        "1 min",
        "Time window in which the failure-rate strategy counts failures.",
    );
    /// `restart-strategy.failure-rate.delay`
    pub const FAILURE_RATE_DELAY: ConfigOption<Duration> = ConfigOption::new(
        "restart-strategy.failure-rate.delay",
        "1 s",
        "Delay between restart attempts of the failure-rate strategy.",
    );
    /// `restart-strategy.exponential-delay.initial-backoff`
    pub const EXPONENTIAL_DELAY_INITIAL_BACKOFF: ConfigOption<Duration> = ConfigOption::new(
        "restart-strategy.exponential-delay.initial-backoff",
        "1 s",
        "First delay of the exponential-delay strategy.",
    );
    /// `restart-strategy.exponential-delay.max-backoff`
    pub const EXPONENTIAL_DELAY_MAX_BACKOFF: ConfigOption<Duration> = ConfigOption::new(
        "restart-strategy.exponential-delay.max-backoff",
        "1 min",
        "Upper bound of the exponential-delay strategy's delay.",
    );
    /// `restart-strategy.exponential-delay.backoff-multiplier`
    pub const EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER: ConfigOption<f64> = ConfigOption::new(
        "restart-strategy.exponential-delay.backoff-multiplier",
        "1.5",
        "Factor the exponential-delay strategy's delay grows by after each failure.",
    );
    /// `restart-strategy.exponential-delay.reset-backoff-threshold`
    pub const EXPONENTIAL_DELAY_RESET_THRESHOLD: ConfigOption<Duration> = ConfigOption::new(
        "restart-strategy.exponential-delay.reset-backoff-threshold",
        "1 h",
        "Time without failure after which the delay returns to the initial backoff.",
    );
    /// `restart-strategy.exponential-delay.jitter-factor`
    pub const EXPONENTIAL_DELAY_JITTER_FACTOR: ConfigOption<f64> = ConfigOption::new(
        "restart-strategy.exponential-delay.jitter-factor",
        "0.1",
        "Relative random jitter added to each delay of the exponential-delay strategy.",
    );

    // Table API and SQL.

    /// `table.exec.mini-batch.enabled`
    pub const MINI_BATCH_ENABLED: ConfigOption<bool> = ConfigOption::new(
        "table.exec.mini-batch.enabled",
        "false",
        "Whether non-windowed SQL aggregations buffer their input into mini-batches, touching \
         state and emitting once per key per mini-batch; needs a positive allow-latency and size.",
    );
    /// `table.exec.mini-batch.allow-latency`
    pub const MINI_BATCH_ALLOW_LATENCY: ConfigOption<Duration> = ConfigOption::new(
        "table.exec.mini-batch.allow-latency",
        "0 ms",
        "Maximum time (processing time) input is buffered for a mini-batch; must be greater \
         than zero when mini-batch is enabled.",
    );
    /// `table.exec.mini-batch.size`
    pub const MINI_BATCH_SIZE: ConfigOption<i64> = ConfigOption::new(
        "table.exec.mini-batch.size",
        "-1",
        "Maximum number of input rows buffered for a mini-batch; must be greater than zero \
         when mini-batch is enabled.",
    );
    /// `table.optimizer.agg-phase-strategy`
    pub const AGG_PHASE_STRATEGY: ConfigOption<String> = ConfigOption::new(
        "table.optimizer.agg-phase-strategy",
        "AUTO",
        "Whether non-windowed aggregations run in one phase or two (a local pre-aggregation \
         before the shuffle by key, then a global one); two phases need mini-batch, and AUTO \
         takes them whenever mini-batch is enabled.",
    )
    .one_of(&["AUTO", "ONE_PHASE", "TWO_PHASE"]);
    /// `table.exec.state.ttl`
    pub const TABLE_STATE_TTL: ConfigOption<Duration> = ConfigOption::new(
        "table.exec.state.ttl",
        "0 ms",
        "Minimum time idle state of SQL operators is kept; 0 keeps it forever.",
    );
    /// `table.exec.resource.default-parallelism`
    pub const TABLE_DEFAULT_PARALLELISM: ConfigOption<i32> = ConfigOption::new(
        "table.exec.resource.default-parallelism",
        "-1",
        "Parallelism of SQL operators; -1 uses parallelism.default.",
    );
}

/// Every option of the catalogue, in declaration order.
pub fn known_options() -> &'static [OptionDescriptor] {
    KNOWN_OPTIONS
}

/// Renders the catalogue as a Markdown table: key, default, type and description.
pub fn describe_options() -> String {
    let code_list = |items: &[&str]| {
        items
            .iter()
            .map(|item| format!("`{item}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut table =
        String::from("| Key | Default | Type | Description |\n| --- | --- | --- | --- |\n");
    for option in known_options() {
        let default = option
            .default
            .map_or_else(|| "(none)".to_owned(), |default| format!("`{default}`"));
        let mut description = option.description.to_owned();
        if !option.valid_values().is_empty() {
            description.push_str(&format!(" Values: {}.", code_list(option.valid_values())));
        }
        if option.constraint == Constraint::Positive {
            description.push_str(" At least 1.");
        }
        if !option.fallback_keys.is_empty() {
            description.push_str(&format!(
                " Deprecated keys: {}.",
                code_list(option.fallback_keys)
            ));
        }
        table.push_str(&format!(
            "| `{}` | {default} | {} | {description} |\n",
            option.key,
            option.type_name()
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn defaults_are_valid_and_keys_unique() {
        let mut keys = HashSet::new();
        for option in known_options() {
            if let Some(default) = option.default {
                assert_eq!(
                    option.validate(default),
                    Ok(()),
                    "default of {}",
                    option.key
                );
            }
            for key in std::iter::once(option.key).chain(option.fallback_keys.iter().copied()) {
                assert!(keys.insert(key), "duplicate key {key}");
            }
        }
    }

    #[test]
    fn describe_renders_one_row_per_option() {
        let table = describe_options();
        assert_eq!(table.lines().count(), known_options().len() + 2);
        assert!(table.contains(
            "| `parallelism.default` | `1` | Integer | Default parallelism for jobs. At least 1. |"
        ));
        assert!(table.contains("| `execution.checkpointing.interval` | (none) | Duration |"));
        assert!(table.contains("Values: `STREAMING`, `BATCH`, `AUTOMATIC`."));
        assert!(table.contains("Deprecated keys: `state.checkpoints.dir`."));
    }
}
