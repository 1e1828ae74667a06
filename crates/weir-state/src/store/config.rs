//! [`StateBackendConfig`]: which backend keeps keyed state, from Flink's configuration keys.

use std::path::PathBuf;

use weir_core::config::{options, Configuration};
use weir_core::{Result, WeirError};

/// Which backend keeps the keyed state of a job's operators (`state.backend.type`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StateBackendConfig {
    /// On the heap (`hashmap`, the default): fastest, bounded by memory.
    #[default]
    HashMap,
    /// In RocksDB on local disk (`rocksdb`): state larger than memory. Each operator subtask
    /// keeps its files in a folder of its own under `local_dir` (the system's temporary
    /// directory when `None`), deleted when the subtask ends. Needs the cargo feature
    /// `rocksdb` of `weir-state`. With `incremental`, checkpoints write only the files
    /// that earlier checkpoints do not hold (`execution.checkpointing.incremental`).
    RocksDb {
        local_dir: Option<PathBuf>,
        incremental: bool,
    },
}

impl StateBackendConfig {
    /// The backend `config` chooses with `state.backend.type`,
    /// `state.backend.rocksdb.localdir` and `execution.checkpointing.incremental`; an error if it chooses `rocksdb` and this build has no
    /// RocksDB backend.
    pub fn from_configuration(config: &Configuration) -> Result<Self> {
        let kind = config.get(&options::STATE_BACKEND_TYPE)?;
        if !kind.eq_ignore_ascii_case("rocksdb") {
            return Ok(StateBackendConfig::HashMap);
        }
        if !cfg!(feature = "rocksdb") {
            return Err(WeirError::Config(format!(
                "'{}' is 'rocksdb', but this build of Weir has no RocksDB backend: build it with \
                 the cargo feature 'rocksdb' (cargo build --features weir-state/rocksdb), or use \
                 'hashmap'",
                options::STATE_BACKEND_TYPE.key
            )));
        }
        let local_dir = config
            .get_optional(&options::STATE_BACKEND_ROCKSDB_LOCALDIR)?
            .map(PathBuf::from);
        let incremental = config.get(&options::CHECKPOINTING_INCREMENTAL)?;
        Ok(StateBackendConfig::RocksDb {
            local_dir,
            incremental,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(pairs: &[(&str, &str)]) -> Result<StateBackendConfig> {
        let mut config = Configuration::new();
        for (k, v) in pairs {
            config.set_string(*k, *v);
        }
        StateBackendConfig::from_configuration(&config)
    }

    #[test]
    fn the_heap_is_the_default() {
        assert_eq!(chosen(&[]).unwrap(), StateBackendConfig::HashMap);
        assert_eq!(
            chosen(&[("state.backend.type", "hashmap")]).unwrap(),
            StateBackendConfig::HashMap
        );
    }

    #[cfg(feature = "rocksdb")]
    #[test]
    fn rocksdb_takes_its_local_directory() {
        assert_eq!(
            chosen(&[
                ("state.backend.type", "rocksdb"),
                ("state.backend.rocksdb.localdir", "/data/rocks")
            ])
            .unwrap(),
            StateBackendConfig::RocksDb {
                local_dir: Some(PathBuf::from("/data/rocks")),
                incremental: false,
            }
        );
        assert_eq!(
            chosen(&[
                ("state.backend.type", "rocksdb"),
                ("execution.checkpointing.incremental", "true")
            ])
            .unwrap(),
            StateBackendConfig::RocksDb {
                local_dir: None,
                incremental: true,
            }
        );
    }

    #[cfg(not(feature = "rocksdb"))]
    #[test]
    fn rocksdb_without_the_feature_is_a_clear_error() {
        let err = chosen(&[("state.backend.type", "rocksdb")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("cargo feature 'rocksdb'"), "{err}");
    }
}
