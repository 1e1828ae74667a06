//! Single values of a row, as aggregation state keeps them (serializable, totally ordered),
//! read from and written to Arrow arrays.

use std::cmp::Ordering;

use arrow::array::{Array, ArrayRef, TimestampMillisecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit};
use datafusion_common::ScalarValue;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// A value of a column.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// BOOLEAN.
    Bool(bool),
    /// Integers, timestamps (ms) and dates (days).
    Int(i64),
    /// FLOAT and DOUBLE.
    Float(f64),
    /// DECIMAL, unscaled.
    Decimal(i128),
    /// STRING.
    Str(String),
    /// The arguments of a call with several (user-defined aggregate functions).
    Row(Vec<Value>),
}

impl Value {
    /// Row `row` of `array`.
    pub fn read(array: &dyn Array, row: usize) -> Value {
        if array.is_null(row) {
            return Value::Null;
        }
        match ScalarValue::try_from_array(array, row) {
            Ok(scalar) => Value::from_scalar(scalar),
            Err(_) => Value::Null,
        }
    }

    /// The value of `scalar`.
    pub fn from_scalar(scalar: ScalarValue) -> Value {
        match scalar {
            s if s.is_null() => Value::Null,
            ScalarValue::Boolean(Some(b)) => Value::Bool(b),
            ScalarValue::Int8(Some(v)) => Value::Int(v.into()),
            ScalarValue::Int16(Some(v)) => Value::Int(v.into()),
            ScalarValue::Int32(Some(v)) => Value::Int(v.into()),
            ScalarValue::Int64(Some(v)) => Value::Int(v),
            ScalarValue::UInt8(Some(v)) => Value::Int(v.into()),
            ScalarValue::UInt16(Some(v)) => Value::Int(v.into()),
            ScalarValue::UInt32(Some(v)) => Value::Int(v.into()),
            ScalarValue::UInt64(Some(v)) => Value::Int(v as i64),
            ScalarValue::Float32(Some(v)) => Value::Float(v.into()),
            ScalarValue::Float64(Some(v)) => Value::Float(v),
            ScalarValue::Decimal128(Some(v), _, _) => Value::Decimal(v),
            ScalarValue::TimestampMillisecond(Some(v), _) => Value::Int(v),
            ScalarValue::Date32(Some(v)) => Value::Int(v.into()),
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => Value::Str(s),
            other => Value::Str(other.to_string()),
        }
    }

    /// The value as a float, for averages.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(v) => Some(*v as f64),
            Value::Float(v) => Some(*v),
            Value::Decimal(v) => Some(*v as f64),
            _ => None,
        }
    }

    /// `self + other` (numbers of the same kind), or `self - other` when `negate`.
    pub fn add(&self, other: &Value, negate: bool) -> Value {
        let sign = if negate { -1 } else { 1 };
        match (self, other) {
            (Value::Null, v) => v.scaled(sign),
            (Value::Int(a), Value::Int(b)) => Value::Int(a.wrapping_add(sign * b)),
            (Value::Decimal(a), Value::Decimal(b)) => Value::Decimal(a + i128::from(sign) * b),
            (a, b) => {
                Value::Float(a.as_f64().unwrap_or(0.0) + sign as f64 * b.as_f64().unwrap_or(0.0))
            }
        }
    }

    fn scaled(&self, sign: i64) -> Value {
        match self {
            Value::Int(v) => Value::Int(v * sign),
            Value::Decimal(v) => Value::Decimal(v * i128::from(sign)),
            Value::Float(v) => Value::Float(v * sign as f64),
            other => other.clone(),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) => 2,
            Value::Float(_) => 3,
            Value::Decimal(_) => 4,
            Value::Str(_) => 5,
            Value::Row(_) => 6,
        }
    }

    /// The value as a scalar of `data_type` (numbers as 64-bit ones, converted later).
    pub fn scalar(&self, data_type: &DataType) -> ScalarValue {
        match (self, data_type) {
            (Value::Null, t) => ScalarValue::try_from(t).unwrap_or(ScalarValue::Null),
            (Value::Bool(b), _) => ScalarValue::Boolean(Some(*b)),
            (Value::Int(v), DataType::Timestamp(unit, tz)) => {
                timestamp_scalar(*v, unit, tz.clone())
            }
            (Value::Int(v), DataType::Date32) => ScalarValue::Date32(Some(*v as i32)),
            (Value::Int(v), _) => ScalarValue::Int64(Some(*v)),
            (Value::Float(v), _) => ScalarValue::Float64(Some(*v)),
            (Value::Decimal(v), DataType::Decimal128(p, s)) => {
                ScalarValue::Decimal128(Some(*v), *p, *s)
            }
            (Value::Decimal(v), _) => ScalarValue::Float64(Some(*v as f64)),
            (Value::Str(s), _) => ScalarValue::Utf8(Some(s.clone())),
            (Value::Row(_), _) => ScalarValue::Null, // arguments only, never a column value
        }
    }
}

/// A timestamp of `ms` milliseconds in the unit of the target type.
fn timestamp_scalar(ms: i64, unit: &TimeUnit, tz: Option<std::sync::Arc<str>>) -> ScalarValue {
    match unit {
        TimeUnit::Second => ScalarValue::TimestampSecond(Some(ms / 1000), tz),
        TimeUnit::Millisecond => ScalarValue::TimestampMillisecond(Some(ms), tz),
        TimeUnit::Microsecond => ScalarValue::TimestampMicrosecond(Some(ms * 1000), tz),
        TimeUnit::Nanosecond => ScalarValue::TimestampNanosecond(Some(ms * 1_000_000), tz),
    }
}

/// A column of `data_type` holding `values`.
pub fn to_array(values: &[Value], data_type: &DataType) -> Result<ArrayRef> {
    if values.is_empty() {
        return Ok(arrow::array::new_empty_array(data_type));
    }
    let scalars = values.iter().map(|v| v.scalar(data_type));
    let array = ScalarValue::iter_to_array(scalars)?;
    Ok(if array.data_type() == data_type {
        array
    } else {
        cast(&array, data_type)?
    })
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::Float(a), Value::Float(b)) => a.total_cmp(b),
            (Value::Decimal(a), Value::Decimal(b)) => a.cmp(b),
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            (Value::Row(a), Value::Row(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

/// The values of `array` (a timestamp column) as milliseconds since the epoch.
pub fn timestamps_ms(array: &ArrayRef) -> weir_core::Result<TimestampMillisecondArray> {
    let values = cast(array, &DataType::Timestamp(TimeUnit::Millisecond, None))
        .map_err(|e| weir_core::WeirError::Other(e.to_string()))?;
    Ok(values
        .as_any()
        .downcast_ref::<TimestampMillisecondArray>()
        .expect("cast to timestamps")
        .clone())
}
