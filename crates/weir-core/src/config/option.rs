//! [`ConfigOption`]: a typed key with its default and documentation, and
//! [`OptionDescriptor`], its untyped form used by the catalogue and by validation.

use std::marker::PhantomData;

use super::ConfigValue;

/// A restriction on an option's value beyond its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// Any value of the option's type.
    Any,
    /// An integer of at least 1.
    Positive,
    /// One of the listed names, compared case-insensitively.
    OneOf(&'static [&'static str]),
}

impl Constraint {
    /// Checks `text` and returns the text to parse: the canonical spelling for
    /// [`Constraint::OneOf`], `text` itself otherwise. The error says what was expected.
    pub fn apply<'a>(&self, text: &'a str) -> Result<&'a str, String> {
        match self {
            Self::Any => Ok(text),
            Self::Positive => match text.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(text),
                _ => Err("expected a positive integer".to_owned()),
            },
            Self::OneOf(names) => names
                .iter()
                .copied()
                .find(|name| name.eq_ignore_ascii_case(text.trim()))
                .ok_or_else(|| format!("expected one of {}", names.join(", "))),
        }
    }
}

/// The untyped description of a [`ConfigOption`]: enough to document it and to check a
/// textual value without knowing its Rust type. Made by [`ConfigOption::descriptor`].
#[derive(Clone, Copy, Debug)]
pub struct OptionDescriptor {
    /// The key, e.g. `parallelism.default`.
    pub key: &'static str,
    /// The textual default, `None` for options without one.
    pub default: Option<&'static str>,
    /// A short description for documentation.
    pub description: &'static str,
    /// Deprecated or legacy keys read when the key itself is not set, in order.
    pub fallback_keys: &'static [&'static str],
    /// The restriction on values beyond the type.
    pub constraint: Constraint,
    type_name: fn() -> &'static str,
    valid_values: fn() -> &'static [&'static str],
    parses: fn(&str) -> Result<(), String>,
}

impl OptionDescriptor {
    /// The value type's name in Flink's documentation style, e.g. `Duration`.
    pub fn type_name(&self) -> &'static str {
        (self.type_name)()
    }

    /// The accepted names if the value is an enumeration, empty otherwise.
    pub fn valid_values(&self) -> &'static [&'static str] {
        match self.constraint {
            Constraint::OneOf(names) => names,
            _ => (self.valid_values)(),
        }
    }

    /// Checks a textual value against the option's constraint and type.
    pub fn validate(&self, text: &str) -> Result<(), String> {
        (self.parses)(self.constraint.apply(text)?)
    }
}

/// A typed configuration option: key, textual default, description and deprecated keys.
/// Options are `const` items; read them with [`Configuration::get`](super::Configuration::get).
///
/// ```
/// use weir_core::config::ConfigOption;
/// pub const PARALLELISM: ConfigOption<usize> =
///     ConfigOption::new("parallelism.default", "1", "Default parallelism for jobs.");
/// assert_eq!(PARALLELISM.default, Some("1"));
/// ```
#[derive(Debug)]
pub struct ConfigOption<T> {
    /// The key, e.g. `parallelism.default`.
    pub key: &'static str,
    /// The textual default, `None` for options without one.
    pub default: Option<&'static str>,
    /// A short description for documentation.
    pub description: &'static str,
    /// Deprecated or legacy keys read when the key itself is not set, in order.
    pub fallback_keys: &'static [&'static str],
    /// The restriction on values beyond the type.
    pub constraint: Constraint,
    _type: PhantomData<fn() -> T>,
}

// Manual impls: a derive would needlessly require `T: Clone`.
impl<T> Clone for ConfigOption<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ConfigOption<T> {}

impl<T: ConfigValue> ConfigOption<T> {
    /// An option with a textual default, parsed like any configured value.
    pub const fn new(key: &'static str, default: &'static str, description: &'static str) -> Self {
        Self::build(key, Some(default), description)
    }

    /// An option without a default: reading it unset is an error, or `None` with
    /// [`Configuration::get_optional`](super::Configuration::get_optional).
    pub const fn without_default(key: &'static str, description: &'static str) -> Self {
        Self::build(key, None, description)
    }

    const fn build(
        key: &'static str,
        default: Option<&'static str>,
        description: &'static str,
    ) -> Self {
        Self {
            key,
            default,
            description,
            fallback_keys: &[],
            constraint: Constraint::Any,
            _type: PhantomData,
        }
    }

    /// Adds deprecated or legacy keys, read in order when the key itself is not set.
    #[must_use]
    pub const fn with_fallback_keys(mut self, keys: &'static [&'static str]) -> Self {
        self.fallback_keys = keys;
        self
    }

    /// Requires an integer of at least 1.
    #[must_use]
    pub const fn positive(mut self) -> Self {
        self.constraint = Constraint::Positive;
        self
    }

    /// Restricts the value to the listed names (case-insensitive); reads return the
    /// listed spelling.
    #[must_use]
    pub const fn one_of(mut self, names: &'static [&'static str]) -> Self {
        self.constraint = Constraint::OneOf(names);
        self
    }

    /// The untyped description, for documentation and generic validation.
    pub const fn descriptor(&self) -> OptionDescriptor {
        OptionDescriptor {
            key: self.key,
            default: self.default,
            description: self.description,
            fallback_keys: self.fallback_keys,
            constraint: self.constraint,
            type_name: T::type_name,
            valid_values: T::valid_values,
            parses: parses::<T>,
        }
    }

    /// Parses a textual value for this option, applying its constraint.
    pub fn parse(&self, text: &str) -> Result<T, String> {
        T::parse(self.constraint.apply(text)?)
    }
}

fn parses<T: ConfigValue>(text: &str) -> Result<(), String> {
    T::parse(text).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOTS: ConfigOption<usize> = ConfigOption::new("slots", "1", "Slots.").positive();
    const BACKEND: ConfigOption<String> =
        ConfigOption::new("backend", "hashmap", "Backend.").one_of(&["hashmap", "rocksdb"]);

    #[test]
    fn constraints_check_and_canonicalise() {
        assert_eq!(SLOTS.parse(" 3 "), Ok(3));
        assert_eq!(SLOTS.parse("0"), Err("expected a positive integer".into()));
        assert_eq!(
            SLOTS.parse("abc"),
            Err("expected a positive integer".into())
        );
        assert_eq!(BACKEND.parse("RocksDB"), Ok("rocksdb".to_owned()));
        assert_eq!(
            BACKEND.descriptor().validate("heap"),
            Err("expected one of hashmap, rocksdb".into())
        );
        assert_eq!(BACKEND.descriptor().valid_values(), ["hashmap", "rocksdb"]);
        assert_eq!(SLOTS.descriptor().type_name(), "Integer");
    }
}
