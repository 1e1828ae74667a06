//! Loading configuration from Flink-style `config.yaml` files and `-D key=value`
//! properties.

use std::path::{Path, PathBuf};

use serde_yaml::Value;

use super::{ConfigError, Configuration, ValueSource};

/// The environment variable naming the directory that holds `config.yaml`.
pub const CONF_DIR_ENV: &str = "WEIR_CONF_DIR";

/// The configuration file's name inside the configuration directory.
pub const CONFIG_FILE_NAME: &str = "config.yaml";

/// Loads the configuration a Weir process starts from: `$WEIR_CONF_DIR/config.yaml` if
/// `WEIR_CONF_DIR` is set (an error if that file is missing), else `./conf/config.yaml` if
/// it exists, else an empty configuration.
pub fn load_default() -> Result<Configuration, ConfigError> {
    let conf_dir = std::env::var_os(CONF_DIR_ENV).map(PathBuf::from);
    load_from(conf_dir.as_deref(), Path::new("conf"))
}

fn load_from(conf_dir: Option<&Path>, fallback_dir: &Path) -> Result<Configuration, ConfigError> {
    if let Some(dir) = conf_dir {
        return Configuration::load_yaml_file(dir.join(CONFIG_FILE_NAME));
    }
    let path = fallback_dir.join(CONFIG_FILE_NAME);
    if path.is_file() {
        Configuration::load_yaml_file(path)
    } else {
        Ok(Configuration::new())
    }
}

impl Configuration {
    /// Reads a YAML configuration file; see [`Configuration::parse_yaml_str`].
    pub fn load_yaml_file(path: impl AsRef<Path>) -> Result<Configuration, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Io {
            path: path.to_owned(),
            error,
        })?;
        Self::parse_yaml_str(&text, path)
    }

    /// Parses YAML configuration as Flink 2's `config.yaml`: flat keys
    /// (`parallelism.default: 4`) and nested maps (`parallelism: {default: 4}`) in any mix,
    /// nested keys joined with `.`; scalars become their text and lists are joined with `;`.
    /// An empty document is an empty configuration. Values are recorded as coming from
    /// `source_name`.
    pub fn parse_yaml_str(
        text: &str,
        source_name: impl AsRef<Path>,
    ) -> Result<Configuration, ConfigError> {
        let source_name = source_name.as_ref();
        let yaml_error = |message: String| ConfigError::Yaml {
            path: source_name.to_owned(),
            message,
        };
        let document: Value = serde_yaml::from_str(text).map_err(|e| yaml_error(e.to_string()))?;
        let mut flat = Vec::new();
        match document {
            Value::Null => {}
            Value::Mapping(_) => flatten("", &document, &mut flat).map_err(yaml_error)?,
            _ => {
                return Err(yaml_error(
                    "expected a mapping of configuration keys to values".to_owned(),
                ))
            }
        }
        let mut config = Configuration::new();
        let source = ValueSource::File {
            path: source_name.to_owned(),
        };
        for (key, value) in flat {
            if config.contains(&key) {
                tracing::warn!(%key, %source, "configuration key set twice; the later one wins");
            }
            config.insert(key, value, source.clone());
        }
        Ok(config)
    }

    /// Applies a `-D` dynamic property of the form `key=value`; both sides are trimmed.
    pub fn apply_dynamic_property(&mut self, property: &str) -> Result<(), ConfigError> {
        let invalid = || ConfigError::InvalidDynamicProperty {
            property: property.to_owned(),
        };
        let (key, value) = property.split_once('=').ok_or_else(invalid)?;
        let key = key.trim();
        if key.is_empty() {
            return Err(invalid());
        }
        self.insert(key, value.trim(), ValueSource::Dynamic);
        Ok(())
    }
}

/// Flattens `value` found under `key` into `(key, text)` pairs.
fn flatten(key: &str, value: &Value, out: &mut Vec<(String, String)>) -> Result<(), String> {
    match value {
        Value::Mapping(map) => {
            for (child, value) in map {
                let child = scalar_text(child).ok_or_else(|| {
                    format!("unsupported key under '{key}': keys must be scalars")
                })?;
                let child = if key.is_empty() {
                    child
                } else {
                    format!("{key}.{child}")
                };
                flatten(&child, value, out)?;
            }
        }
        Value::Sequence(items) => {
            let items = items
                .iter()
                .map(|item| {
                    scalar_text(item).ok_or_else(|| {
                        format!("unsupported value for key '{key}': list items must be scalars")
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.push((key.to_owned(), items.join(";")));
        }
        Value::Tagged(tagged) => flatten(key, &tagged.value, out)?,
        scalar => out.extend(scalar_text(scalar).map(|text| (key.to_owned(), text))),
    }
    Ok(())
}

/// The text of a scalar (`null` is empty), `None` for mappings and sequences.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some(String::new()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Tagged(tagged) => scalar_text(&tagged.value),
        Value::Sequence(_) | Value::Mapping(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_and_nested_keys_are_flattened() {
        let yaml = "\
parallelism.default: 4
execution:
  checkpointing:
    interval: 10 s
    mode: AT_LEAST_ONCE
  runtime-mode: batch
pipeline.jars: [a.jar, b.jar]
table.exec.mini-batch:
  enabled: true
restart-strategy.exponential-delay.jitter-factor: 0.25
pipeline.name:
";
        let config = Configuration::parse_yaml_str(yaml, "/x/config.yaml").expect("valid yaml");
        let entries: Vec<_> = config.iter().collect();
        assert_eq!(
            entries,
            [
                ("execution.checkpointing.interval", "10 s"),
                ("execution.checkpointing.mode", "AT_LEAST_ONCE"),
                ("execution.runtime-mode", "batch"),
                ("parallelism.default", "4"),
                ("pipeline.jars", "a.jar;b.jar"),
                ("pipeline.name", ""),
                ("restart-strategy.exponential-delay.jitter-factor", "0.25"),
                ("table.exec.mini-batch.enabled", "true"),
            ]
        );
        assert_eq!(
            config.source("parallelism.default"),
            Some(&ValueSource::File {
                path: "/x/config.yaml".into()
            })
        );
    }

    #[test]
    fn empty_documents_are_empty_configurations() {
        for yaml in ["", "# only a comment\n", "---\n"] {
            let config = Configuration::parse_yaml_str(yaml, "empty.yaml").expect("empty yaml");
            assert_eq!(config.iter().count(), 0);
        }
    }

    #[test]
    fn malformed_yaml_names_file_and_position() {
        let err = Configuration::parse_yaml_str("a: 1\n  b: [2\n", "/x/config.yaml")
            .expect_err("bad yaml");
        let message = err.to_string();
        assert!(
            message.contains("/x/config.yaml") && message.contains("line 2"),
            "{message}"
        );

        let err =
            Configuration::parse_yaml_str("- a\n- b\n", "list.yaml").expect_err("not a mapping");
        assert!(err.to_string().contains("expected a mapping"), "{err}");
        let err =
            Configuration::parse_yaml_str("a: [{b: 1}]\n", "nested.yaml").expect_err("nested list");
        assert!(err.to_string().contains("key 'a'"), "{err}");
    }

    #[test]
    fn dynamic_properties() {
        let mut config = Configuration::new();
        config
            .apply_dynamic_property(" rest.port = 9091")
            .expect("valid property");
        config
            .apply_dynamic_property("pipeline.name=a=b")
            .expect("valid property");
        assert_eq!(config.get_string("rest.port"), Some("9091"));
        assert_eq!(config.get_string("pipeline.name"), Some("a=b"));
        assert_eq!(config.source("rest.port"), Some(&ValueSource::Dynamic));
        for bad in ["rest.port", "=1", ""] {
            let err = config.apply_dynamic_property(bad).expect_err(bad);
            assert!(
                matches!(err, ConfigError::InvalidDynamicProperty { .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn default_location() {
        let dir = std::env::temp_dir().join(format!("weir-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let missing = dir.join("missing");

        let err = load_from(Some(&missing), &dir).expect_err("conf dir without config.yaml");
        assert!(
            err.to_string()
                .contains(&missing.join(CONFIG_FILE_NAME).display().to_string()),
            "{err}"
        );
        assert_eq!(
            load_from(None, &missing).expect("no file").iter().count(),
            0
        );

        std::fs::write(dir.join(CONFIG_FILE_NAME), "rest:\n  port: 9000\n").expect("write config");
        for config in [load_from(Some(&dir), &missing), load_from(None, &dir)] {
            assert_eq!(
                config.expect("config").get_string("rest.port"),
                Some("9000")
            );
        }
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
