//! [`Row`]: a table's row as a DataStream record, a list of [`Datum`]s, and its conversion
//! from and to Arrow columns.

use std::fmt;

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;
use serde::{Deserialize, Serialize};
use weir_datastream::format::RecordFormat;

use crate::changelog::RowKind;
use crate::display::java_double;
use crate::error::{Result, SqlError};

/// One value of a [`Row`], typed as Flink's SQL types are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Datum {
    /// SQL NULL.
    Null,
    /// BOOLEAN.
    Bool(bool),
    /// INT (and TINYINT, SMALLINT).
    Int(i32),
    /// BIGINT.
    BigInt(i64),
    /// FLOAT and DOUBLE.
    Double(f64),
    /// STRING / VARCHAR.
    String(String),
    /// TIMESTAMP(3) or TIMESTAMP_LTZ(3): milliseconds since the epoch.
    Timestamp(i64),
    /// DECIMAL(p, s): the unscaled value and the scale.
    Decimal(i128, i8),
}

impl Datum {
    /// Row `row` of `array`; types without their own variant become their text.
    pub fn read(array: &dyn Array, row: usize) -> Result<Datum> {
        if array.is_null(row) {
            return Ok(Datum::Null);
        }
        Ok(match ScalarValue::try_from_array(array, row)? {
            ScalarValue::Boolean(Some(b)) => Datum::Bool(b),
            ScalarValue::Int8(Some(v)) => Datum::Int(v.into()),
            ScalarValue::Int16(Some(v)) => Datum::Int(v.into()),
            ScalarValue::Int32(Some(v)) => Datum::Int(v),
            ScalarValue::Int64(Some(v)) => Datum::BigInt(v),
            ScalarValue::Float32(Some(v)) => Datum::Double(v.into()),
            ScalarValue::Float64(Some(v)) => Datum::Double(v),
            ScalarValue::Decimal128(Some(v), _, s) => Datum::Decimal(v, s),
            ScalarValue::TimestampMillisecond(Some(v), _) => Datum::Timestamp(v),
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => Datum::String(s),
            other => Datum::String(other.to_string()),
        })
    }

    /// The datum as a scalar of its own type.
    fn to_scalar(&self) -> ScalarValue {
        match self {
            Datum::Null => ScalarValue::Null,
            Datum::Bool(b) => ScalarValue::Boolean(Some(*b)),
            Datum::Int(v) => ScalarValue::Int32(Some(*v)),
            Datum::BigInt(v) => ScalarValue::Int64(Some(*v)),
            Datum::Double(v) => ScalarValue::Float64(Some(*v)),
            Datum::String(s) => ScalarValue::Utf8(Some(s.clone())),
            Datum::Timestamp(ms) => ScalarValue::TimestampMillisecond(Some(*ms), None),
            Datum::Decimal(v, s) => ScalarValue::Decimal128(Some(*v), 38, *s),
        }
    }
}

impl fmt::Display for Datum {
    /// As Flink's `Row.toString` writes the value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Datum::Null => f.write_str("null"),
            Datum::Bool(b) => write!(f, "{b}"),
            Datum::Int(v) => write!(f, "{v}"),
            Datum::BigInt(v) => write!(f, "{v}"),
            Datum::Double(v) => f.write_str(&java_double(*v)),
            Datum::String(s) => f.write_str(s),
            Datum::Timestamp(ms) => f.write_str(&local_date_time(*ms)),
            Datum::Decimal(v, s) => {
                f.write_str(&ScalarValue::Decimal128(Some(*v), 38, *s).to_string())
            }
        }
    }
}

/// Milliseconds since the epoch as Java's `LocalDateTime.toString` writes them, as Flink's
/// rows print: `2024-01-01T10:00`, `2024-01-01T10:00:05`, `2024-01-01T10:00:05.250`.
fn local_date_time(ms: i64) -> String {
    let Some(t) = chrono::DateTime::from_timestamp_millis(ms) else {
        return ms.to_string();
    };
    let format = if ms.rem_euclid(1000) != 0 {
        "%Y-%m-%dT%H:%M:%S%.3f"
    } else if ms.rem_euclid(60_000) != 0 {
        "%Y-%m-%dT%H:%M:%S"
    } else {
        "%Y-%m-%dT%H:%M"
    };
    t.format(format).to_string()
}

impl From<i32> for Datum {
    fn from(v: i32) -> Self {
        Datum::Int(v)
    }
}
impl From<i64> for Datum {
    fn from(v: i64) -> Self {
        Datum::BigInt(v)
    }
}
impl From<f64> for Datum {
    fn from(v: f64) -> Self {
        Datum::Double(v)
    }
}
impl From<bool> for Datum {
    fn from(v: bool) -> Self {
        Datum::Bool(v)
    }
}
impl From<&str> for Datum {
    fn from(v: &str) -> Self {
        Datum::String(v.to_string())
    }
}
impl From<String> for Datum {
    fn from(v: String) -> Self {
        Datum::String(v)
    }
}

/// A row of a table on the DataStream side (Flink's `Row`): its values by position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row(pub Vec<Datum>);

impl Row {
    /// A row of the given values: `Row::of(["alice".into(), 3.into()])`.
    pub fn of(values: impl IntoIterator<Item = Datum>) -> Row {
        Row(values.into_iter().collect())
    }

    /// The value at `pos` (NULL past the end).
    pub fn get(&self, pos: usize) -> &Datum {
        self.0.get(pos).unwrap_or(&Datum::Null)
    }
}

impl fmt::Display for Row {
    /// `[alice, 3]`, as Flink's `Row.toString` without the kind.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{v}")?;
        }
        f.write_str("]")
    }
}

impl RecordFormat for Row {
    fn format_record(&self, out: &mut String) {
        out.push_str(&self.to_string());
    }
}

impl RecordFormat for RowKind {
    fn format_record(&self, out: &mut String) {
        out.push_str(self.short_string());
    }
}

/// The rows of `batch`.
pub fn rows_of(batch: &RecordBatch) -> Result<Vec<Row>> {
    (0..batch.num_rows())
        .map(|r| {
            batch
                .columns()
                .iter()
                .map(|c| Datum::read(c.as_ref(), r))
                .collect::<Result<Vec<_>>>()
                .map(Row)
        })
        .collect()
}

/// A record batch of `schema` from `rows`, each value cast to its column's type; a row of the
/// wrong width or a value that does not fit its column is an error naming both.
pub fn batch_of(rows: &[Row], schema: &SchemaRef) -> Result<RecordBatch> {
    let width = schema.fields().len();
    if let Some(row) = rows.iter().find(|r| r.0.len() != width) {
        return Err(SqlError::plan(format!(
            "the row {row} has {} fields, the table's schema {width}",
            row.0.len()
        )));
    }
    let columns = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(c, field)| {
            let scalars = rows
                .iter()
                .map(|row| {
                    let datum = row.get(c);
                    datum.to_scalar().cast_to(field.data_type()).map_err(|_| {
                        SqlError::plan(format!(
                            "the value {datum} of row {row} does not fit column '{}' of type {}",
                            field.name(),
                            crate::types::flink_type_name(field.data_type())
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if scalars.is_empty() {
                return Ok(arrow::array::new_empty_array(field.data_type()));
            }
            Ok(ScalarValue::iter_to_array(scalars)?)
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
