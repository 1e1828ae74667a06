//! Connector options in Flink's syntax: a map of keys such as `topic`,
//! `properties.bootstrap.servers` or `scan.startup.mode` to text values, read with errors
//! that name the key, the value and what was expected.

use std::collections::BTreeMap;
use std::str::FromStr;

use rdkafka::ClientConfig;
use weir_core::config::ConfigValue;
use weir_core::{Result, WeirError};

/// The prefix of options handed to the Kafka client unchanged (`properties.group.id` is the
/// client's `group.id`).
pub const PROPERTIES_PREFIX: &str = "properties.";

/// Client properties of Flink's (Java) Kafka client that the connector applies itself and
/// librdkafka does not know (it refuses unknown properties).
const CONNECTOR_PROPERTIES: &[&str] = &["default.api.timeout.ms"];

/// The options of one source or sink.
#[derive(Debug, Clone, Default)]
pub struct ConnectorOptions {
    values: BTreeMap<String, String>,
}

impl ConnectorOptions {
    /// Sets `key` to `value`, replacing an earlier value.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_string(), value.into());
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// The value of `key`, or an error saying that it is required.
    pub fn required(&self, key: &str) -> Result<&str> {
        self.get(key)
            .ok_or_else(|| WeirError::Config(format!("the Kafka option '{key}' is required")))
    }

    /// The value of `key` parsed as a [`ConfigValue`] (numbers, booleans, durations such
    /// as `'10 s'`), or `None` when unset.
    pub fn parsed<T: ConfigValue>(&self, key: &str) -> Result<Option<T>> {
        self.get(key)
            .map(|text| T::parse(text).map_err(|e| invalid(key, text, &e)))
            .transpose()
    }

    /// The value of `key` as one of the names `choices` accepts, or `default` when unset.
    pub fn choice<T: FromStr<Err = String>>(&self, key: &str, default: T) -> Result<T> {
        match self.get(key) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|e: String| invalid(key, text, &e)),
        }
    }

    /// The client configuration: every `properties.*` option without its prefix, except
    /// those the connector applies itself (`properties.default.api.timeout.ms`).
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        for (key, value) in &self.values {
            match key.strip_prefix(PROPERTIES_PREFIX) {
                Some(property) if !CONNECTOR_PROPERTIES.contains(&property) => {
                    config.set(property, value);
                }
                _ => {}
            }
        }
        config
    }

    /// The client property `name` (`properties.name`), if set.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.get(&format!("{PROPERTIES_PREFIX}{name}"))
    }
}

/// The error for an option whose value cannot be used.
pub fn invalid(key: &str, value: &str, expected: &str) -> WeirError {
    WeirError::Config(format!(
        "invalid value '{value}' for the Kafka option '{key}': {expected}"
    ))
}

/// Parses a name among `names` (as written in Flink's options) into the value it stands for.
pub fn parse_name<T: Copy>(text: &str, names: &[(&str, T)]) -> std::result::Result<T, String> {
    names
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text.trim()))
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let all: Vec<&str> = names.iter().map(|(name, _)| *name).collect();
            format!("expected one of {}", all.join(", "))
        })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn errors_name_the_key_the_value_and_the_expectation() {
        let mut options = ConnectorOptions::default();
        options.set("scan.topic-partition-discovery.interval", "soon");
        let err = options
            .parsed::<Duration>("scan.topic-partition-discovery.interval")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'soon'"), "{err}");
        assert!(
            err.contains("'scan.topic-partition-discovery.interval'"),
            "{err}"
        );
        assert!(err.contains("'10 s'"), "{err}");
        let err = options.required("topic").unwrap_err().to_string();
        assert!(err.contains("'topic' is required"), "{err}");
    }

    #[test]
    fn properties_go_to_the_client_without_their_prefix() {
        let mut options = ConnectorOptions::default();
        options.set("properties.bootstrap.servers", "127.0.0.1:9092");
        options.set("topic", "t");
        options.set("properties.default.api.timeout.ms", "2000");
        let config = options.client_config();
        assert_eq!(config.get("bootstrap.servers"), Some("127.0.0.1:9092"));
        assert_eq!(config.get("topic"), None);
        assert_eq!(config.get("default.api.timeout.ms"), None);
    }
}
