//! [`Configuration`]: the key-value store that typed options are read from, remembering
//! where each value came from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, ConfigOption, ConfigValue};

/// Where a configuration value came from, for error messages and diagnostics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueSource {
    /// The option's default in the catalogue.
    Default,
    /// A configuration file.
    File {
        /// The file's path (or the name given to [`Configuration::parse_yaml_str`]).
        path: PathBuf,
    },
    /// A `-D key=value` dynamic property.
    Dynamic,
    /// Set by the program through [`Configuration::set`] or [`Configuration::set_string`].
    Programmatic,
}

impl fmt::Display for ValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File { path } => write!(f, "{}", path.display()),
            Self::Dynamic => f.write_str("-D"),
            Self::Programmatic => f.write_str("program"),
        }
    }
}

const DEFAULT_SOURCE: &ValueSource = &ValueSource::Default;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Entry {
    value: String,
    source: ValueSource,
}

/// Configuration values by key, each with its [`ValueSource`]. Values are kept as text and
/// parsed when read through a typed [`ConfigOption`], so an option's default and type live
/// in one place.
///
/// ```
/// use weir_core::config::{options, Configuration};
///
/// let mut config = Configuration::new();
/// config.apply_dynamic_property("parallelism.default=4")?;
/// assert_eq!(config.get(&options::PARALLELISM_DEFAULT)?, 4);
/// assert_eq!(config.get(&options::REST_PORT)?, 8081);
/// # Ok::<(), weir_core::config::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Configuration {
    entries: BTreeMap<String, Entry>,
}

impl Configuration {
    /// An empty configuration: every option reads as its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads an option: its key, then its fallback keys, then its default. Errors if the
    /// value does not parse, or if the option has no default and is not set.
    pub fn get<T: ConfigValue>(&self, option: &ConfigOption<T>) -> Result<T, ConfigError> {
        self.get_optional(option)?
            .ok_or_else(|| ConfigError::Missing {
                key: option.key.to_owned(),
            })
    }

    /// Like [`Configuration::get`], but an unset option without default is `None`.
    pub fn get_optional<T: ConfigValue>(
        &self,
        option: &ConfigOption<T>,
    ) -> Result<Option<T>, ConfigError> {
        let Some((key, value, source)) = self.lookup(option) else {
            return Ok(None);
        };
        option
            .parse(value)
            .map(Some)
            .map_err(|expected| ConfigError::InvalidValue {
                key: key.to_owned(),
                value: value.to_owned(),
                origin: source.clone(),
                expected,
            })
    }

    /// The key, text and source an option reads from, if any.
    fn lookup<T>(&self, option: &ConfigOption<T>) -> Option<(&str, &str, &ValueSource)> {
        std::iter::once(option.key)
            .chain(option.fallback_keys.iter().copied())
            .find_map(|key| {
                let (key, entry) = self.entries.get_key_value(key)?;
                Some((key.as_str(), entry.value.as_str(), &entry.source))
            })
            .or_else(|| Some((option.key, option.default?, DEFAULT_SOURCE)))
    }

    /// Sets an option's value from the program.
    pub fn set<T: ConfigValue>(&mut self, option: &ConfigOption<T>, value: T) {
        self.insert(option.key, value.render(), ValueSource::Programmatic);
    }

    /// Sets a key's textual value from the program.
    pub fn set_string(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.insert(key, value, ValueSource::Programmatic);
    }

    /// Sets a key's textual value, recording its source.
    pub(super) fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
        source: ValueSource,
    ) {
        let value = value.into();
        self.entries.insert(key.into(), Entry { value, source });
    }

    /// The text set for `key`, ignoring fallback keys and defaults.
    pub fn get_string(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(|entry| entry.value.as_str())
    }

    /// Where the value set for `key` came from.
    pub fn source(&self, key: &str) -> Option<&ValueSource> {
        self.entries.get(key).map(|entry| &entry.source)
    }

    /// Whether `key` itself is set.
    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Unsets `key`, returning its text.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.entries.remove(key).map(|entry| entry.value)
    }

    /// The set keys and their text, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|(key, entry)| (key.as_str(), entry.value.as_str()))
    }

    /// The set keys with their text and source, in key order.
    pub(super) fn entries(&self) -> impl Iterator<Item = (&str, &str, &ValueSource)> {
        self.entries
            .iter()
            .map(|(key, entry)| (key.as_str(), entry.value.as_str(), &entry.source))
    }

    /// Copies every entry of `other` into `self`; `other` wins on conflicts.
    pub fn merge(&mut self, other: &Configuration) {
        self.entries.extend(
            other
                .entries
                .iter()
                .map(|(key, entry)| (key.clone(), entry.clone())),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::options::{
        CHECKPOINTING_DIR, CHECKPOINTING_INTERVAL, PARALLELISM_DEFAULT, STATE_BACKEND_TYPE,
    };

    #[test]
    fn reads_key_then_fallback_then_default() {
        let mut config = Configuration::new();
        assert_eq!(
            config.get(&STATE_BACKEND_TYPE).ok(),
            Some("hashmap".to_owned())
        );
        assert!(matches!(
            config.get(&CHECKPOINTING_DIR),
            Err(ConfigError::Missing { .. })
        ));
        assert_eq!(config.get_optional(&CHECKPOINTING_DIR).ok(), Some(None));

        config.insert("state.checkpoints.dir", "/old", ValueSource::Dynamic);
        assert_eq!(config.get(&CHECKPOINTING_DIR).ok(), Some("/old".to_owned()));
        config.set_string("execution.checkpointing.dir", "/new");
        assert_eq!(config.get(&CHECKPOINTING_DIR).ok(), Some("/new".to_owned()));
    }

    #[test]
    fn set_renders_typed_values() {
        let mut config = Configuration::new();
        config.set(&CHECKPOINTING_INTERVAL, Duration::from_secs(30));
        assert_eq!(
            config.get_string("execution.checkpointing.interval"),
            Some("30 s")
        );
        assert_eq!(
            config.get(&CHECKPOINTING_INTERVAL).ok(),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            config.source("execution.checkpointing.interval"),
            Some(&ValueSource::Programmatic)
        );
    }

    #[test]
    fn bad_values_name_key_value_and_source() {
        let mut config = Configuration::new();
        config.insert("parallelism.default", "abc", ValueSource::Dynamic);
        let err = config.get(&PARALLELISM_DEFAULT).expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "invalid value 'abc' for configuration key 'parallelism.default' (from -D): \
             expected a positive integer"
        );
    }

    #[test]
    fn merge_lets_the_other_side_win() {
        let mut base = Configuration::new();
        base.set_string("a", "1");
        base.set_string("b", "1");
        let mut other = Configuration::new();
        other.insert("b", "2", ValueSource::Dynamic);
        base.merge(&other);
        assert_eq!(base.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
        assert_eq!(base.source("b"), Some(&ValueSource::Dynamic));
        assert_eq!(base.remove("a").as_deref(), Some("1"));
        assert!(!base.contains("a"));
    }
}
