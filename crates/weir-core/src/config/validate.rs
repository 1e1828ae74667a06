//! Checking a [`Configuration`] against the option catalogue: bad values are errors,
//! unknown and deprecated keys are warnings.

use super::options::known_options;
use super::{ConfigError, Configuration, OptionDescriptor};

impl Configuration {
    /// Checks every set key against the catalogue of [`known_options`]. Returns an error for
    /// the first known key whose value is invalid, otherwise warnings for unknown keys (with
    /// a suggestion when a known key is close) and for deprecated keys.
    pub fn validate(&self) -> Result<Vec<String>, ConfigError> {
        let mut warnings = Vec::new();
        for (key, value, source) in self.entries() {
            let Some(option) = find_option(key) else {
                let hint = suggest(key)
                    .map(|known| format!("; did you mean '{known}'?"))
                    .unwrap_or_default();
                warnings.push(format!(
                    "unknown configuration key '{key}' (from {source}){hint}"
                ));
                continue;
            };
            option
                .validate(value)
                .map_err(|expected| ConfigError::InvalidValue {
                    key: key.to_owned(),
                    value: value.to_owned(),
                    origin: source.clone(),
                    expected,
                })?;
            if key != option.key {
                warnings.push(format!(
                    "configuration key '{key}' (from {source}) is deprecated; use '{}'",
                    option.key
                ));
            }
        }
        Ok(warnings)
    }
}

/// The known option whose key or fallback key is `key`.
fn find_option(key: &str) -> Option<&'static OptionDescriptor> {
    known_options()
        .iter()
        .find(|option| option.key == key || option.fallback_keys.contains(&key))
}

/// The known key closest to an unknown one: within an edit distance of 2 (ignoring case),
/// or one key being a dot-separated suffix of the other.
fn suggest(unknown: &str) -> Option<&'static str> {
    let unknown = unknown.to_lowercase();
    let is_suffix = |long: &str, short: &str| {
        long.strip_suffix(short)
            .is_some_and(|rest| rest.ends_with('.'))
    };
    known_options()
        .iter()
        .map(|option| option.key)
        .filter_map(|key| {
            let lower = key.to_lowercase();
            let distance = edit_distance(&unknown, &lower);
            // Suffix matches rank after close spellings.
            let score = if distance <= 2 {
                distance
            } else if is_suffix(&lower, &unknown) || is_suffix(&unknown, &lower) {
                3
            } else {
                return None;
            };
            Some((score, key))
        })
        .min_by_key(|&(score, _)| score)
        .map(|(_, key)| key)
}

/// Levenshtein distance between two strings, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ValueSource;

    fn from_file(entries: &[(&str, &str)]) -> Configuration {
        let mut config = Configuration::new();
        for (key, value) in entries {
            let path = "/x/config.yaml".into();
            config.insert(*key, *value, ValueSource::File { path });
        }
        config
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("paralelism", "parallelism"), 1);
    }

    #[test]
    fn unknown_keys_warn_with_suggestions() {
        let config = from_file(&[
            ("paralelism.default", "2"),
            ("taskmanager.numberoftaskslots", "2"),
            ("checkpointing.interval", "1 s"),
            ("completely.unrelated", "x"),
        ]);
        assert_eq!(
            config.validate().expect("no invalid values"),
            [
                "unknown configuration key 'checkpointing.interval' (from /x/config.yaml); \
                 did you mean 'execution.checkpointing.interval'?",
                "unknown configuration key 'completely.unrelated' (from /x/config.yaml)",
                "unknown configuration key 'paralelism.default' (from /x/config.yaml); \
                 did you mean 'parallelism.default'?",
                "unknown configuration key 'taskmanager.numberoftaskslots' (from /x/config.yaml); \
                 did you mean 'taskmanager.numberOfTaskSlots'?",
            ]
        );
    }

    #[test]
    fn deprecated_keys_warn() {
        let config = from_file(&[("state.checkpoints.dir", "/ckpt")]);
        assert_eq!(
            config.validate().expect("valid"),
            [
                "configuration key 'state.checkpoints.dir' (from /x/config.yaml) is deprecated; \
              use 'execution.checkpointing.dir'"
            ]
        );
    }

    #[test]
    fn first_invalid_value_is_an_error() {
        let mut config = from_file(&[("state.backend.type", "RocksDB"), ("rest.port", "80")]);
        assert_eq!(config.validate().expect("valid").len(), 0);

        config.insert("parallelism.default", "abc", ValueSource::Dynamic);
        config.insert("state.backend.type", "heap", ValueSource::Dynamic);
        let err = config.validate().expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "invalid value 'abc' for configuration key 'parallelism.default' (from -D): \
             expected a positive integer"
        );
        config.remove("parallelism.default");
        let err = config.validate().expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "invalid value 'heap' for configuration key 'state.backend.type' (from -D): \
             expected one of hashmap, rocksdb"
        );
    }
}
