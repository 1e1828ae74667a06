//! Values as Flink prints them: timestamps as `2024-01-01 10:00:00.000`, doubles as Java's
//! `Double.toString`, NULL as `<NULL>` in tables.

use std::fmt::Write;

use arrow::array::{Array, AsArray, PrimitiveArray};
use arrow::datatypes::{
    DataType, Int16Type, Int32Type, Int64Type, Int8Type, TimeUnit, TimestampMillisecondType,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
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

/// Appends the text of every row of `array` to the row's line in `lines` (as
/// [`format_value`] writes it) through `escape`, or `null` for NULL. Integers,
/// strings and millisecond timestamps are written straight from their columns; other types
/// value by value.
pub fn append_column(
    array: &dyn Array,
    bools: BoolStyle,
    null: &str,
    escape: &dyn Fn(&str, &mut String),
    lines: &mut [String],
) {
    macro_rules! each {
        ($array:expr, |$line:ident, $value:ident| $write:expr) => {
            for (row, $line) in lines.iter_mut().enumerate() {
                if $array.is_null(row) {
                    $line.push_str(null);
                } else {
                    let $value = $array.value(row);
                    $write;
                }
            }
        };
    }
    // Numbers and timestamps are escaped too: a delimiter may be '-', ':' or ' '.
    let mut text = String::new();
    macro_rules! integers {
        ($($t:ty),*) => {
            $(if let Some(a) = array.as_any().downcast_ref::<PrimitiveArray<$t>>() {
                each!(a, |line, v| {
                    text.clear();
                    let _ = write!(text, "{v}");
                    escape(&text, line)
                });
                return;
            })*
        };
    }
    integers!(
        Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type
    );
    match array.data_type() {
        DataType::Utf8 => each!(array.as_string::<i32>(), |line, v| escape(v, line)),
        DataType::LargeUtf8 => each!(array.as_string::<i64>(), |line, v| escape(v, line)),
        DataType::Utf8View => each!(array.as_string_view(), |line, v| escape(v, line)),
        DataType::Timestamp(TimeUnit::Millisecond, _) => each!(
            array.as_primitive::<TimestampMillisecondType>(),
            |line, v| {
                text.clear();
                write_timestamp_ms(v, &mut text);
                escape(&text, line)
            }
        ),
        _ => {
            for (row, line) in lines.iter_mut().enumerate() {
                match format_value(array, row, bools) {
                    Some(text) => escape(&text, line),
                    None => line.push_str(null),
                }
            }
        }
    }
}

/// Writes `yyyy-MM-dd HH:mm:ss.SSS` of milliseconds since the epoch (UTC), as
/// [`timestamp_ms`] does, without going through a format string.
fn write_timestamp_ms(ms: i64, out: &mut String) {
    // Four-digit years only; chrono spells the others (with a sign, more digits).
    const YEAR_0: i64 = -62_167_219_200_000;
    const YEAR_10000: i64 = 253_402_300_800_000;
    if (YEAR_0..YEAR_10000).contains(&ms) {
        weir_core::timestamp::write_timestamp(out, ms);
    } else {
        out.push_str(&timestamp_ms(ms));
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
    fn columns_are_written_as_value_by_value() {
        use std::sync::Arc;

        use arrow::array::{
            ArrayRef, Float64Array, Int64Array, StringArray, TimestampMillisecondArray,
        };
        // Milliseconds around the epoch, leap days, centuries and the ends of four-digit years.
        let mut millis: Vec<i64> = vec![
            0,
            -1,
            1,
            951_782_400_000,
            -2_203_891_200_001,
            253_402_300_799_999,
            -62_167_219_200_000,
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..5000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            millis.push((state % 400_000_000_000_000) as i64 - 200_000_000_000_000);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from(millis.clone())),
            Arc::new(Int64Array::from_iter(
                millis.iter().map(|m| (m % 7 != 0).then_some(*m)),
            )),
            Arc::new(StringArray::from_iter(
                millis.iter().map(|m| (m % 5 != 0).then(|| format!("s{m}"))),
            )),
            Arc::new(Float64Array::from_iter_values(
                millis.iter().map(|m| *m as f64 / 8.0),
            )),
        ];
        for column in &columns {
            let mut lines = vec![String::new(); millis.len()];
            let escape = |text: &str, line: &mut String| line.push_str(text);
            append_column(column.as_ref(), BoolStyle::Lower, "N", &escape, &mut lines);
            for (row, line) in lines.iter().enumerate() {
                let expected = format_value(column.as_ref(), row, BoolStyle::Lower)
                    .unwrap_or_else(|| "N".into());
                assert_eq!(line, &expected, "row {row} of {}", column.data_type());
            }
        }
    }

    #[test]
    fn timestamps_with_millis() {
        assert_eq!(timestamp_ms(1_704_103_201_000), "2024-01-01 10:00:01.000");
    }
}
