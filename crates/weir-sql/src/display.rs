//! Values as Flink prints them: timestamps as `2024-01-01 10:00:00.000`, doubles as Java's
//! `Double.toString`, NULL as `<NULL>` in tables.

use arrow::array::Array;
use chrono::DateTime;
use datafusion_common::ScalarValue;

/// How booleans are spelled: `TRUE` in the SQL client's tables, `true` in the print sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoolStyle {
    /// `TRUE` / `FALSE`.
    Upper,
    /// `true` / `false`.
    Lower,
}

/// The text of row `row` of `array`, or `None` for NULL.
pub fn format_value(array: &dyn Array, row: usize, bools: BoolStyle) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    let value = ScalarValue::try_from_array(array, row).ok()?;
    Some(format_scalar(&value, bools))
}

/// The text of a non-null scalar.
pub fn format_scalar(value: &ScalarValue, bools: BoolStyle) -> String {
    match value {
        ScalarValue::Boolean(Some(b)) => match (bools, b) {
            (BoolStyle::Upper, true) => "TRUE".into(),
            (BoolStyle::Upper, false) => "FALSE".into(),
            (BoolStyle::Lower, b) => b.to_string(),
        },
        ScalarValue::Float64(Some(f)) => java_double(*f),
        ScalarValue::Float32(Some(f)) => java_double(*f as f64),
        ScalarValue::TimestampMillisecond(Some(ms), _) => timestamp_ms(*ms),
        ScalarValue::TimestampMicrosecond(Some(us), _) => timestamp_ms(us.div_euclid(1000)),
        ScalarValue::TimestampNanosecond(Some(ns), _) => timestamp_ms(ns.div_euclid(1_000_000)),
        ScalarValue::TimestampSecond(Some(s), _) => timestamp_ms(s * 1000),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => s.clone(),
        other => other.to_string(),
    }
}

/// `yyyy-MM-dd HH:mm:ss.SSS` of milliseconds since the epoch (UTC).
pub fn timestamp_ms(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// A double as Java's `Double.toString` writes it: `1.0`, `0.5`, `1.0E7`, `1.5E-4`.
pub fn java_double(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let abs = f.abs();
    if abs == 0.0 || (1e-3..1e7).contains(&abs) {
        let s = f.to_string();
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{f:E}");
    match s.split_once('E') {
        Some((mantissa, exp)) if !mantissa.contains('.') => format!("{mantissa}.0E{exp}"),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_like_java() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(2.5), "2.5");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(0.0001), "1.0E-4");
    }

    #[test]
    fn timestamps_with_millis() {
        assert_eq!(timestamp_ms(1_704_103_201_000), "2024-01-01 10:00:01.000");
    }
}
