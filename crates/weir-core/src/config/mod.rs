//! Typed configuration in Flink's style.
//!
//! Every setting is a [`ConfigOption`]: a `const` with Flink's key, a textual default, a
//! description and any deprecated keys, gathered in one catalogue ([`options`]) that also
//! documents them ([`options::describe_options`]). A [`Configuration`] holds values as text
//! and parses them only when a typed option is read with [`Configuration::get`], so defaults
//! and types live in the option and nowhere else.
//!
//! Values come from, in increasing precedence: the option's default < `config.yaml` (flat or
//! nested keys, see [`Configuration::load_yaml_file`] and [`load_default`]) < `-D key=value`
//! properties ([`Configuration::apply_dynamic_property`]) < the program
//! ([`Configuration::set`]). Each value remembers its [`ValueSource`], so that
//! [`Configuration::validate`] and every [`ConfigError`] can say where a bad value came from.
//!
//! ```
//! use std::time::Duration;
//! use weir_core::config::{options, Configuration, RuntimeMode};
//!
//! let mut config = Configuration::parse_yaml_str(
//!     "execution:\n  runtime-mode: batch\n  checkpointing.interval: 10 s\n",
//!     "config.yaml",
//! )?;
//! config.apply_dynamic_property("parallelism.default=8")?;
//! assert!(config.validate()?.is_empty());
//! assert_eq!(config.get(&options::EXECUTION_RUNTIME_MODE)?, RuntimeMode::Batch);
//! assert_eq!(config.get(&options::CHECKPOINTING_INTERVAL)?, Duration::from_secs(10));
//! assert_eq!(config.get(&options::PARALLELISM_DEFAULT)?, 8);
//! # Ok::<(), weir_core::config::ConfigError>(())
//! ```

mod configuration;
mod error;
mod loader;
mod modes;
mod option;
pub mod options;
mod units;
mod validate;
mod value;

pub use configuration::{Configuration, ValueSource};
pub use error::ConfigError;
pub use loader::{load_default, CONFIG_FILE_NAME, CONF_DIR_ENV};
pub use modes::{CheckpointRetention, CheckpointingMode, RuntimeMode};
pub use option::{ConfigOption, Constraint, OptionDescriptor};
pub use units::MemorySize;
pub use value::ConfigValue;
