//! Flink's SQL types and the Arrow types that hold them.

use arrow::datatypes::{DataType, TimeUnit};
use datafusion_common::ScalarValue;

use crate::error::{Result, SqlError};

/// A constant day-time interval in milliseconds (intervals of months have no fixed length).
pub fn interval_ms(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::IntervalDayTime(Some(v)) => {
            Some(i64::from(v.days) * 86_400_000 + i64::from(v.milliseconds))
        }
        ScalarValue::IntervalMonthDayNano(Some(v)) if v.months == 0 => {
            Some(i64::from(v.days) * 86_400_000 + v.nanoseconds / 1_000_000)
        }
        _ => None,
    }
}

/// The Arrow type for a Flink type name as written in DDL (`STRING`, `INT`, `TIMESTAMP(3)`,
/// `DECIMAL(10, 2)`, ...).
pub fn arrow_type(flink: &str) -> Result<DataType> {
    let upper = flink.trim().to_ascii_uppercase();
    let base = upper.split(['(', ' ']).next().unwrap_or_default();
    Ok(match base {
        "STRING" | "VARCHAR" | "CHAR" | "TEXT" => DataType::Utf8,
        "BOOLEAN" | "BOOL" => DataType::Boolean,
        "TINYINT" => DataType::Int8,
        "SMALLINT" => DataType::Int16,
        "INT" | "INTEGER" => DataType::Int32,
        "BIGINT" => DataType::Int64,
        "FLOAT" | "REAL" => DataType::Float32,
        "DOUBLE" => DataType::Float64,
        "DECIMAL" | "NUMERIC" | "DEC" => {
            let args: Vec<u8> = upper
                .split_once('(')
                .map(|(_, a)| {
                    a.trim_end_matches(')')
                        .split(',')
                        .filter_map(|x| x.trim().parse().ok())
                        .collect()
                })
                .unwrap_or_default();
            let precision = args.first().copied().unwrap_or(10);
            let scale = args.get(1).copied().unwrap_or(0) as i8;
            DataType::Decimal128(precision, scale)
        }
        "DATE" => DataType::Date32,
        "TIMESTAMP" | "TIMESTAMP_LTZ" => DataType::Timestamp(TimeUnit::Millisecond, None),
        "BYTES" | "VARBINARY" | "BINARY" => DataType::Binary,
        _ => {
            return Err(SqlError::plan(format!(
                "unsupported type {flink}; supported: STRING, VARCHAR, BOOLEAN, TINYINT, SMALLINT, \
                 INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p, s), DATE, TIMESTAMP(3), TIMESTAMP_LTZ(3), BYTES"
            )))
        }
    })
}

/// Flink's name of the type that an Arrow type holds, as `DESCRIBE` shows it.
pub fn flink_type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INT".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal128(p, s) => format!("DECIMAL({p}, {s})"),
        DataType::Date32 => "DATE".into(),
        DataType::Timestamp(_, None) => "TIMESTAMP(3)".into(),
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP_LTZ(3)".into(),
        DataType::Binary => "BYTES".into(),
        DataType::Null => "NULL".into(),
        DataType::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| format!("`{}` {}", f.name(), flink_type_name(f.data_type())))
                .collect();
            format!("ROW<{}>", fields.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_flink_types() {
        assert_eq!(arrow_type("string").unwrap(), DataType::Utf8);
        assert_eq!(
            arrow_type("DECIMAL(10, 2)").unwrap(),
            DataType::Decimal128(10, 2)
        );
        assert_eq!(
            flink_type_name(&arrow_type("TIMESTAMP(3)").unwrap()),
            "TIMESTAMP(3)"
        );
        assert!(arrow_type("GEOMETRY").is_err());
    }
}
