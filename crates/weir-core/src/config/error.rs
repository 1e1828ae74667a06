//! [`ConfigError`]: everything that can go wrong while loading or reading configuration.

use std::fmt;
use std::path::PathBuf;

use super::ValueSource;

/// An error from loading, parsing or reading configuration. Every variant names what the
/// user has to fix: the key, the file or the offending text.
#[derive(Debug)]
pub enum ConfigError {
    /// An option without a default was read but is set nowhere.
    Missing {
        /// The option's key.
        key: String,
    },
    /// A value does not parse as its option's type or breaks its option's constraint.
    InvalidValue {
        /// The key the value was found under (possibly a deprecated fallback key).
        key: String,
        /// The offending text.
        value: String,
        /// Where the value came from.
        origin: ValueSource,
        /// What a valid value looks like.
        expected: String,
    },
    /// A `-D` property that is not of the form `key=value`.
    InvalidDynamicProperty {
        /// The text as given after `-D`.
        property: String,
    },
    /// A configuration file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// A configuration file is not valid YAML or not a mapping of keys to values.
    Yaml {
        /// The file (or other source name) being parsed.
        path: PathBuf,
        /// What is wrong, with line and column where known.
        message: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { key } => {
                write!(f, "configuration key '{key}' is required but not set")
            }
            Self::InvalidValue {
                key,
                value,
                origin,
                expected,
            } => write!(
                f,
                "invalid value '{value}' for configuration key '{key}' (from {origin}): {expected}"
            ),
            Self::InvalidDynamicProperty { property } => {
                write!(
                    f,
                    "invalid dynamic property '{property}': expected key=value"
                )
            }
            Self::Io { path, error } => write!(
                f,
                "cannot read configuration file '{}': {error}",
                path.display()
            ),
            Self::Yaml { path, message } => write!(
                f,
                "invalid configuration file '{}': {message}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
