//! [`ConfigValue`]: how a Rust type is parsed from and rendered to configuration text,
//! for scalars, lists and (through [`impl_config_enum!`](crate::impl_config_enum)) enums.

/// A type that configuration values can be parsed into.
pub trait ConfigValue: Sized {
    /// Parses configuration text; the error explains what was expected.
    fn parse(text: &str) -> Result<Self, String>;

    /// Renders the value as text that [`ConfigValue::parse`] reads back.
    fn render(&self) -> String;

    /// The type's name in Flink's documentation style, e.g. `Integer`.
    fn type_name() -> &'static str;

    /// The accepted names for enumerations, empty for other types.
    fn valid_values() -> &'static [&'static str] {
        &[]
    }
}

impl ConfigValue for bool {
    fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            t if t.eq_ignore_ascii_case("true") => Ok(true),
            t if t.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err("expected 'true' or 'false'".to_owned()),
        }
    }

    fn render(&self) -> String {
        self.to_string()
    }

    fn type_name() -> &'static str {
        "Boolean"
    }
}

/// Implements [`ConfigValue`] for number types through `FromStr` and `Display`.
macro_rules! impl_number {
    ($($ty:ty => $name:literal, $expected:literal;)*) => {$(
        impl ConfigValue for $ty {
            fn parse(text: &str) -> Result<Self, String> {
                text.trim().parse().map_err(|_| concat!("expected ", $expected).to_owned())
            }

            fn render(&self) -> String {
                self.to_string()
            }

            fn type_name() -> &'static str {
                $name
            }
        }
    )*};
}

impl_number! {
    u16 => "Integer", "an integer between 0 and 65535";
    u32 => "Integer", "a non-negative integer";
    usize => "Integer", "a non-negative integer";
    u64 => "Long", "a non-negative integer";
    i32 => "Integer", "an integer";
    i64 => "Long", "an integer";
    f64 => "Double", "a number";
}

impl ConfigValue for String {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }

    fn render(&self) -> String {
        self.clone()
    }

    fn type_name() -> &'static str {
        "String"
    }
}

/// A list in Flink's syntax: items separated by `;`, surrounding whitespace and empty
/// items dropped.
impl ConfigValue for Vec<String> {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(text
            .split(';')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect())
    }

    fn render(&self) -> String {
        self.join(";")
    }

    fn type_name() -> &'static str {
        "List<String>"
    }
}

/// Implements [`ConfigValue`] for a fieldless enum by case-insensitive name matching; a
/// bad value's error lists the valid names.
///
/// ```
/// use weir_core::config::ConfigValue;
///
/// #[derive(Debug, PartialEq)]
/// enum Color { Red, DarkBlue }
/// weir_core::impl_config_enum!(Color { Red => "RED", DarkBlue => "DARK_BLUE" });
///
/// assert_eq!(Color::parse("dark_blue"), Ok(Color::DarkBlue));
/// assert_eq!(Color::parse("green"), Err("expected one of RED, DARK_BLUE".to_owned()));
/// assert_eq!(Color::Red.render(), "RED");
/// ```
#[macro_export]
macro_rules! impl_config_enum {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $crate::config::ConfigValue for $ty {
            fn parse(text: &str) -> ::std::result::Result<Self, ::std::string::String> {
                let text = text.trim();
                $(if text.eq_ignore_ascii_case($name) {
                    return ::std::result::Result::Ok(Self::$variant);
                })+
                ::std::result::Result::Err(::std::format!(
                    "expected one of {}",
                    <Self as $crate::config::ConfigValue>::valid_values().join(", ")
                ))
            }

            fn render(&self) -> ::std::string::String {
                match self {
                    $(Self::$variant => $name,)+
                }
                .into()
            }

            fn type_name() -> &'static str {
                "Enum"
            }

            fn valid_values() -> &'static [&'static str] {
                &[$($name),+]
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_parse_and_explain() {
        assert_eq!(bool::parse(" TRUE"), Ok(true));
        assert_eq!(bool::parse("False"), Ok(false));
        assert_eq!(bool::parse("yes"), Err("expected 'true' or 'false'".into()));
        assert_eq!(usize::parse(" 42 "), Ok(42));
        assert_eq!(
            usize::parse("-1"),
            Err("expected a non-negative integer".into())
        );
        assert_eq!(i32::parse("-1"), Ok(-1));
        assert_eq!(
            u16::parse("70000"),
            Err("expected an integer between 0 and 65535".into())
        );
        assert_eq!(f64::parse("1.5"), Ok(1.5));
        assert_eq!(f64::parse("fast"), Err("expected a number".into()));
    }

    #[test]
    fn lists_split_on_semicolons() {
        let list = Vec::<String>::parse("a; b;;c ").expect("list");
        assert_eq!(list, ["a", "b", "c"]);
        assert_eq!(list.render(), "a;b;c");
        assert_eq!(Vec::<String>::parse(""), Ok(vec![]));
    }
}
