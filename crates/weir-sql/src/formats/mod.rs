//! Row formats of the filesystem connector: `csv` and `json`, one record per line.
//!
//! Decoding turns each line into the text of each physical column ([`csv`], [`json`]), then
//! casts the texts column by column into the table's types; a line that does not fit fails the
//! job with its file and line number; with the format's `*.ignore-parse-errors` option, a
//! field that does not parse reads NULL and a line that does not parse at all is skipped.
//! A `ROW` column's text is split into its fields' texts by the format (a nested JSON
//! object; in csv, one field of values separated by `csv.array-element-delimiter`), which
//! are decoded in turn.

pub mod csv;
pub mod json;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringArray, StructArray};
use arrow::buffer::NullBuffer;
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{DataType, Fields, SchemaRef};
use arrow::record_batch::RecordBatch;
use weir_core::WeirError;

use crate::error::{Result, SqlError};

/// A line format with its options.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    /// `'format' = 'csv'`.
    Csv(csv::CsvOptions),
    /// `'format' = 'json'`.
    Json(json::JsonOptions),
}

/// The formats and their option keys, for error messages.
pub const FORMATS: &[(&str, &[&str])] = &[("csv", csv::OPTIONS), ("json", json::OPTIONS)];

impl Format {
    /// The format named by `'format'`, configured from its `<format>.*` options.
    pub fn from_options(options: &BTreeMap<String, String>) -> Result<Format> {
        let name = options.get("format").ok_or_else(|| {
            SqlError::connector("the filesystem connector needs 'format' ('csv' or 'json')")
        })?;
        match name.as_str() {
            "csv" => Ok(Format::Csv(csv::CsvOptions::from_options(options)?)),
            "json" => Ok(Format::Json(json::JsonOptions::from_options(options)?)),
            other => Err(SqlError::connector(format!(
                "unknown format '{other}'; available formats: {}",
                FORMATS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The format's name, the prefix of its options.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Csv(_) => "csv",
            Format::Json(_) => "json",
        }
    }

    /// Whether bad lines and fields are tolerated instead of failing the job.
    pub fn ignore_parse_errors(&self) -> bool {
        match self {
            Format::Csv(o) => o.ignore_parse_errors,
            Format::Json(o) => o.ignore_parse_errors,
        }
    }

    /// The text of each of `schema`'s columns in `line` (`None` for null), or why the line
    /// is not a record of the format.
    pub fn fields(&self, line: &str, schema: &SchemaRef) -> Result<Vec<Option<String>>, String> {
        match self {
            Format::Csv(o) => csv::fields(line, schema, o),
            Format::Json(o) => json::fields(line, schema, o),
        }
    }

    /// The texts of the fields of a nested row of `fields` (a `ROW` column's text).
    fn row_fields(&self, text: &str, fields: &Fields) -> Result<Vec<Option<String>>, String> {
        match self {
            Format::Csv(o) => csv::row_fields(text, fields, o),
            Format::Json(_) => json::row_fields(text, fields),
        }
    }

    /// Decodes `lines` (each with its location, `file:line`) into a batch of `schema`.
    pub fn decode(
        &self,
        lines: &[(String, String)],
        schema: &SchemaRef,
    ) -> weir_core::Result<RecordBatch> {
        if let Format::Json(options) = self {
            if let Some(batch) = json::decode_all(lines, schema, options) {
                return Ok(batch);
            }
        }
        let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); schema.fields().len()];
        let mut locations = Vec::new();
        for (location, line) in lines {
            match self.fields(line, schema) {
                Ok(fields) => {
                    for (column, field) in columns.iter_mut().zip(fields) {
                        column.push(field);
                    }
                    locations.push(location.as_str());
                }
                Err(_) if self.ignore_parse_errors() => {}
                Err(message) => {
                    return Err(WeirError::BadInput {
                        location: location.clone(),
                        message,
                    })
                }
            }
        }
        self.typed_batch(&columns, &locations, schema)
    }

    /// The batch of `schema` whose column `c` holds the texts `columns[c]` cast to the
    /// column's type; `locations[row]` names where each row comes from.
    pub fn typed_batch(
        &self,
        columns: &[Vec<Option<String>>],
        locations: &[&str],
        schema: &SchemaRef,
    ) -> weir_core::Result<RecordBatch> {
        let mut arrays = Vec::with_capacity(columns.len());
        let mut first_bad: Option<BadValue> = None;
        for (texts, field) in columns.iter().zip(schema.fields()) {
            match self.column(texts, field.name(), field.data_type()) {
                Ok(array) => arrays.push(array),
                Err(bad) if first_bad.as_ref().is_some_and(|b| b.row <= bad.row) => {}
                Err(bad) => first_bad = Some(bad),
            }
        }
        if let Some(bad) = first_bad {
            return Err(WeirError::BadInput {
                location: locations[bad.row].to_string(),
                message: bad.message,
            });
        }
        let options = arrow::record_batch::RecordBatchOptions::new()
            .with_row_count(Some(columns.first().map_or(locations.len(), Vec::len)));
        RecordBatch::try_new_with_options(schema.clone(), arrays, &options)
            .map_err(|e| WeirError::Other(e.to_string()))
    }

    /// The column of `data_type` that `texts` hold (the column `name`, for errors). A text
    /// that does not parse fails (the first such row is reported), or reads NULL when errors
    /// are ignored (as Flink's formats do).
    fn column(
        &self,
        texts: &[Option<String>],
        name: &str,
        data_type: &DataType,
    ) -> Result<ArrayRef, BadValue> {
        let typed = match data_type {
            DataType::Struct(fields) => self.row_column(texts, name, fields)?,
            _ => typed_column(
                &(Arc::new(StringArray::from(texts.to_vec())) as ArrayRef),
                data_type,
            ),
        };
        if !self.ignore_parse_errors() {
            if let Some(row) = (0..texts.len()).find(|r| texts[*r].is_some() && typed.is_null(*r)) {
                return Err(BadValue {
                    row,
                    message: format!(
                        "field '{name}': cannot parse '{}' as {}",
                        texts[row].as_deref().unwrap_or_default(),
                        crate::types::flink_type_name(data_type)
                    ),
                });
            }
        }
        Ok(typed)
    }

    /// A `ROW` column: each text split into its fields' texts, decoded field by field.
    fn row_column(
        &self,
        texts: &[Option<String>],
        name: &str,
        fields: &Fields,
    ) -> Result<ArrayRef, BadValue> {
        let mut children: Vec<Vec<Option<String>>> =
            vec![Vec::with_capacity(texts.len()); fields.len()];
        let mut valid = Vec::with_capacity(texts.len());
        for (row, text) in texts.iter().enumerate() {
            let parts = match text {
                None => None,
                Some(text) => match self.row_fields(text, fields) {
                    Ok(parts) => Some(parts),
                    Err(_) if self.ignore_parse_errors() => None,
                    Err(message) => {
                        return Err(BadValue {
                            row,
                            message: format!("field '{name}': {message}"),
                        })
                    }
                },
            };
            valid.push(parts.is_some());
            match parts {
                Some(parts) => children.iter_mut().zip(parts).for_each(|(c, p)| c.push(p)),
                None => children.iter_mut().for_each(|c| c.push(None)),
            }
        }
        let arrays = children
            .iter()
            .zip(fields)
            .map(|(texts, field)| {
                self.column(
                    texts,
                    &format!("{name}.{}", field.name()),
                    field.data_type(),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(StructArray::new(
            fields.clone(),
            arrays,
            Some(NullBuffer::from(valid)),
        )))
    }

    /// Encodes the rows of `batch` as lines.
    pub fn encode(&self, batch: &RecordBatch) -> Vec<String> {
        match self {
            Format::Csv(o) => csv::encode(batch, o),
            Format::Json(_) => json::encode(batch),
        }
    }
}

/// Casts texts to `data_type`; texts that do not parse become null (the caller reports them).
fn typed_column(strings: &ArrayRef, data_type: &DataType) -> ArrayRef {
    let options = CastOptions {
        safe: true,
        ..Default::default()
    };
    let trimmed: ArrayRef = match data_type {
        DataType::Utf8 => return strings.clone(),
        _ => Arc::new(
            strings
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("strings")
                .iter()
                .map(|s| s.map(str::trim))
                .collect::<StringArray>(),
        ),
    };
    cast_with_options(&trimmed, data_type, &options)
        .unwrap_or_else(|_| arrow::array::new_null_array(data_type, strings.len()))
}

/// A value that does not parse: its row in the batch and what is wrong.
#[derive(Debug)]
struct BadValue {
    row: usize,
    message: String,
}

/// Whether `key` is an option of the format named `format`.
pub fn check_format_keys(key: &str, format: Option<&str>) -> bool {
    FORMATS
        .iter()
        .filter(|(name, _)| Some(*name) == format)
        .any(|(_, keys)| keys.contains(&key))
}
