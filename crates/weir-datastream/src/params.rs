//! Job arguments in the style of Flink's `ParameterTool`: `--key value` pairs and `--flag`s.

use std::collections::HashMap;
use std::str::FromStr;

use weir_core::{Result, WeirError};

/// Parsed `--key value` arguments.
#[derive(Debug, Clone, Default)]
pub struct ParameterTool {
    values: HashMap<String, Option<String>>,
}

impl ParameterTool {
    /// Parses the process arguments (without the program name).
    pub fn from_env_args() -> Result<Self> {
        Self::from_args(std::env::args().skip(1))
    }

    /// Parses `--key value` and `--flag` (a flag is a key followed by another key or nothing).
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self> {
        let mut values = HashMap::new();
        let mut args = args.into_iter().peekable();
        while let Some(arg) = args.next() {
            let key = arg
                .strip_prefix("--")
                .or_else(|| arg.strip_prefix('-'))
                .filter(|k| !k.is_empty())
                .ok_or_else(|| {
                    WeirError::Config(format!(
                        "unexpected argument '{arg}': arguments are --key value pairs"
                    ))
                })?;
            let value = match args.peek() {
                Some(next) if !next.starts_with('-') || next.parse::<f64>().is_ok() => args.next(),
                _ => None,
            };
            values.insert(key.to_string(), value);
        }
        Ok(ParameterTool { values })
    }

    /// Whether `--key` was given (with or without a value).
    pub fn has(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// The value of `--key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(|v| v.as_deref())
    }

    /// The value of `--key` parsed as `T`; an error names the argument and the value.
    pub fn get_parsed<T: FromStr>(&self, key: &str) -> Result<Option<T>> {
        self.get(key)
            .map(|v| {
                v.parse::<T>().map_err(|_| {
                    WeirError::Config(format!(
                        "invalid value '{v}' for argument --{key}: expected {}",
                        std::any::type_name::<T>()
                    ))
                })
            })
            .transpose()
    }

    /// The value of `--key` parsed as `T`, or `default`.
    pub fn get_or<T: FromStr>(&self, key: &str, default: T) -> Result<T> {
        Ok(self.get_parsed(key)?.unwrap_or(default))
    }

    /// The value of `--key`; an error if it is missing.
    pub fn get_required(&self, key: &str) -> Result<&str> {
        self.get(key)
            .ok_or_else(|| WeirError::Config(format!("missing required argument --{key}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs_flags_and_negative_numbers() {
        let p = ParameterTool::from_args(
            ["--input", "a.txt", "--final", "--offset", "-3"].map(String::from),
        )
        .unwrap();
        assert_eq!(p.get("input"), Some("a.txt"));
        assert!(p.has("final") && p.get("final").is_none());
        assert_eq!(p.get_parsed::<i32>("offset").unwrap(), Some(-3));
        assert!(p
            .get_parsed::<u16>("input")
            .unwrap_err()
            .to_string()
            .contains("--input"));
        assert!(ParameterTool::from_args(["oops".to_string()]).is_err());
    }
}
