//! The `json` format: one JSON object per line, fields by column name.

use std::collections::BTreeMap;

use arrow::array::Array;
use arrow::datatypes::{DataType, Fields, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;
use serde_json::{Map, Value};

use super::csv::flag;
use crate::display::{format_scalar, BoolStyle};
use crate::error::Result;

/// The option keys of the json format.
pub const OPTIONS: &[&str] = &[
    "json.fail-on-missing-field",
    "json.ignore-parse-errors",
    "json.timestamp-format.standard",
];

/// Options of the json format.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonOptions {
    /// `json.fail-on-missing-field`: a missing field fails instead of reading NULL.
    pub fail_on_missing_field: bool,
    /// `json.ignore-parse-errors`: skip lines that do not parse.
    pub ignore_parse_errors: bool,
}

impl JsonOptions {
    /// Reads the `json.*` options.
    pub fn from_options(options: &BTreeMap<String, String>) -> Result<Self> {
        let fail_on_missing_field = flag(options, "json.fail-on-missing-field")?;
        let ignore_parse_errors = flag(options, "json.ignore-parse-errors")?;
        if fail_on_missing_field && ignore_parse_errors {
            return Err(crate::error::SqlError::connector(
                "'json.fail-on-missing-field' and 'json.ignore-parse-errors' cannot both be true",
            ));
        }
        Ok(JsonOptions {
            fail_on_missing_field,
            ignore_parse_errors,
        })
    }
}

/// Decodes all `lines` at once with arrow's JSON decoder (straight into columns, nested
/// rows included), or `None` when a line does not decode that way or the options ask for
/// line-by-line checks: the caller then decodes line by line, which names the bad line or
/// skips it. Strings are read into number and timestamp columns, and numbers into string
/// columns, as the line-by-line decoding does.
pub fn decode_all(
    lines: &[(String, String)],
    schema: &SchemaRef,
    options: &JsonOptions,
) -> Option<RecordBatch> {
    if options.fail_on_missing_field || options.ignore_parse_errors {
        return None;
    }
    let mut decoder = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(lines.len().max(1))
        .with_coerce_primitive(true)
        .build_decoder()
        .ok()?;
    for (_, line) in lines {
        let consumed = decoder.decode(line.as_bytes()).ok()?;
        if consumed != line.len() {
            return None;
        }
        decoder.decode(b"\n").ok()?;
    }
    let batch = decoder.flush().ok()??;
    (batch.num_rows() == lines.len()).then_some(batch)
}

/// The text of each column of `schema` in the JSON object on `line`.
pub fn fields(
    line: &str,
    schema: &SchemaRef,
    options: &JsonOptions,
) -> Result<Vec<Option<String>>, String> {
    let object: Map<String, Value> =
        serde_json::from_str(line).map_err(|e| format!("invalid JSON object: {e}"))?;
    schema
        .fields()
        .iter()
        .map(|field| match object.get(field.name()) {
            None if options.fail_on_missing_field => {
                Err(format!("field '{}' is missing", field.name()))
            }
            value => Ok(value_text(value)),
        })
        .collect()
}

/// The text of each of `fields` in the nested JSON object `text` (a missing field is NULL).
pub fn row_fields(text: &str, fields: &Fields) -> Result<Vec<Option<String>>, String> {
    let object: Map<String, Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
    Ok(fields
        .iter()
        .map(|field| value_text(object.get(field.name())))
        .collect())
}

/// The text of a JSON value (`None` for null or missing).
fn value_text(value: Option<&Value>) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

/// The rows of `batch` as JSON objects, one per line.
pub fn encode(batch: &RecordBatch) -> Vec<String> {
    let schema = batch.schema();
    (0..batch.num_rows())
        .map(|row| {
            let mut object = Map::new();
            for (column, field) in batch.columns().iter().zip(schema.fields()) {
                object.insert(field.name().clone(), json_value(column.as_ref(), row));
            }
            Value::Object(object).to_string()
        })
        .collect()
}

fn json_value(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    let Ok(scalar) = ScalarValue::try_from_array(array, row) else {
        return Value::Null;
    };
    match array.data_type() {
        DataType::Boolean => Value::Bool(scalar == ScalarValue::Boolean(Some(true))),
        t if t.is_integer() || t.is_floating() => {
            serde_json::from_str(&scalar.to_string()).unwrap_or(Value::Null)
        }
        _ => Value::String(format_scalar(&scalar, BoolStyle::Lower)),
    }
}
