//! Values with units in Flink's syntax: [`Duration`] (`"100 ms"`, `"1 min"`) and
//! [`MemorySize`] (`"64 mb"`, `"1g"`).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ConfigValue;

/// A unit: its accepted spellings (the first is used for rendering) and its size in the
/// base unit (nanoseconds or bytes). Ordered from largest to smallest.
type Unit = (&'static [&'static str], u128);

const TIME_UNITS: &[Unit] = &[
    (&["d", "day", "days"], 86_400_000_000_000),
    (&["h", "hour", "hours"], 3_600_000_000_000),
    (&["min", "m", "minute", "minutes"], 60_000_000_000),
    (&["s", "sec", "secs", "second", "seconds"], 1_000_000_000),
    (
        &["ms", "milli", "millis", "millisecond", "milliseconds"],
        1_000_000,
    ),
    (
        &["us", "µs", "micro", "micros", "microsecond", "microseconds"],
        1_000,
    ),
    (&["ns", "nano", "nanos", "nanosecond", "nanoseconds"], 1),
];

const MEMORY_UNITS: &[Unit] = &[
    (&["tb", "t", "tebibytes"], 1 << 40),
    (&["gb", "g", "gibibytes"], 1 << 30),
    (&["mb", "m", "mebibytes"], 1 << 20),
    (&["kb", "k", "kibibytes"], 1 << 10),
    (&["bytes", "b"], 1),
];

/// Parses `<digits> [unit]` into an amount of the base unit; a bare number is in `bare`.
fn parse_with_unit(text: &str, units: &[Unit], bare: u128) -> Option<u128> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let number: u128 = text[..digits_end].parse().ok()?;
    let unit = text[digits_end..].trim_start().to_lowercase();
    let factor = if unit.is_empty() {
        bare
    } else {
        units
            .iter()
            .find(|(names, _)| names.contains(&unit.as_str()))?
            .1
    };
    number.checked_mul(factor)
}

/// Renders an amount of the base unit with the largest unit that divides it exactly.
fn render_with_unit(amount: u128, units: &[Unit], zero: &str) -> String {
    units
        .iter()
        .find(|(_, factor)| amount != 0 && amount.is_multiple_of(*factor))
        .map_or_else(
            || zero.to_owned(),
            |(names, factor)| format!("{} {}", amount / factor, names[0]),
        )
}

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Flink's duration syntax: `"100 ms"`, `"10s"`, `"1 min"`, `"2 h"`, `"3 d"`; a bare
/// number is milliseconds. Units: ns, us/µs, ms, s/sec, min/m, h, d and their long names.
impl ConfigValue for Duration {
    fn parse(text: &str) -> Result<Self, String> {
        parse_with_unit(text, TIME_UNITS, 1_000_000)
            .and_then(|nanos| {
                let secs = u64::try_from(nanos / NANOS_PER_SEC).ok()?;
                // The remainder is below 10^9 and fits.
                Some(Duration::new(secs, (nanos % NANOS_PER_SEC) as u32))
            })
            .ok_or_else(|| {
                "expected a duration such as '100 ms', '10 s', '5 min', '2 h' or '1 d' \
                 (a bare number is milliseconds)"
                    .to_owned()
            })
    }

    fn render(&self) -> String {
        render_with_unit(self.as_nanos(), TIME_UNITS, "0 ms")
    }

    fn type_name() -> &'static str {
        "Duration"
    }
}

/// An amount of memory in bytes, written in Flink's syntax: `"64 mb"`, `"1g"`, `"512kb"`,
/// `"100 bytes"`; a bare number is bytes and every unit is a power of 1024.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct MemorySize(pub u64);

impl ConfigValue for MemorySize {
    fn parse(text: &str) -> Result<Self, String> {
        parse_with_unit(text, MEMORY_UNITS, 1)
            .and_then(|bytes| u64::try_from(bytes).ok())
            .map(MemorySize)
            .ok_or_else(|| {
                "expected a memory size such as '512 kb', '64 mb', '1 gb' or '100 bytes' \
                 (a bare number is bytes)"
                    .to_owned()
            })
    }

    fn render(&self) -> String {
        render_with_unit(self.0.into(), MEMORY_UNITS, "0 bytes")
    }

    fn type_name() -> &'static str {
        "MemorySize"
    }
}

impl fmt::Display for MemorySize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_flink_syntax() {
        let ms = Duration::from_millis;
        for (text, expected) in [
            ("100 ms", ms(100)),
            ("100ms", ms(100)),
            ("250", ms(250)),
            ("1 s", ms(1_000)),
            ("10s", ms(10_000)),
            ("2 seconds", ms(2_000)),
            ("1 min", ms(60_000)),
            ("3 m", ms(180_000)),
            ("2 Minutes", ms(120_000)),
            ("2 h", ms(7_200_000)),
            ("3 d", ms(259_200_000)),
            ("5 µs", Duration::from_micros(5)),
            ("7us", Duration::from_micros(7)),
            ("9 ns", Duration::from_nanos(9)),
        ] {
            assert_eq!(Duration::parse(text), Ok(expected), "{text}");
        }
        for bad in [
            "",
            "ms",
            "1.5 s",
            "-1 s",
            "10 fortnights",
            "1 s 2",
            "99999999999999999999999 d",
        ] {
            let err = Duration::parse(bad).expect_err(bad);
            assert!(err.starts_with("expected a duration"), "{bad}: {err}");
        }
    }

    #[test]
    fn durations_render_with_the_largest_exact_unit() {
        for (duration, text) in [
            (Duration::ZERO, "0 ms"),
            (Duration::from_millis(200), "200 ms"),
            (Duration::from_secs(60), "1 min"),
            (Duration::from_secs(90), "90 s"),
            (Duration::from_micros(1_500), "1500 us"),
        ] {
            assert_eq!(duration.render(), text);
            assert_eq!(Duration::parse(text), Ok(duration));
        }
    }

    #[test]
    fn memory_sizes_in_flink_syntax() {
        for (text, bytes) in [
            ("100", 100),
            ("100 bytes", 100),
            ("512kb", 512 << 10),
            ("1k", 1 << 10),
            ("64 mb", 64 << 20),
            ("64 MB", 64 << 20),
            ("1g", 1 << 30),
            ("2 gibibytes", 2 << 30),
            ("1 tb", 1 << 40),
        ] {
            assert_eq!(MemorySize::parse(text), Ok(MemorySize(bytes)), "{text}");
        }
        for bad in ["", "mb", "1.5 gb", "12 furlongs", "99999999 tb"] {
            let err = MemorySize::parse(bad).expect_err(bad);
            assert!(err.starts_with("expected a memory size"), "{bad}: {err}");
        }
        assert_eq!(MemorySize(64 << 20).to_string(), "64 mb");
        assert_eq!(MemorySize(1000).to_string(), "1000 bytes");
        assert_eq!(MemorySize(0).to_string(), "0 bytes");
    }
}
