//! The `csv` format: comma-separated fields, `"` quotes with `""` escapes; a nested row is
//! one field of values separated by `;` (`csv.array-element-delimiter`).

use std::collections::BTreeMap;

use arrow::datatypes::{DataType, Fields, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::display::{append_column, BoolStyle};
use crate::error::{Result, SqlError};

/// The option keys of the csv format.
pub const OPTIONS: &[&str] = &[
    "csv.ignore-parse-errors",
    "csv.field-delimiter",
    "csv.null-literal",
    "csv.allow-comments",
    "csv.array-element-delimiter",
];

/// Options of the csv format.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvOptions {
    /// `csv.ignore-parse-errors`: skip lines that do not parse.
    pub ignore_parse_errors: bool,
    /// `csv.field-delimiter` (default `,`).
    pub delimiter: char,
    /// `csv.null-literal`: the text that means NULL.
    pub null_literal: Option<String>,
    /// `csv.allow-comments`: skip lines starting with `#`.
    pub allow_comments: bool,
    /// `csv.array-element-delimiter` (default `;`): separates the values of a nested row
    /// within its field.
    pub element_delimiter: String,
}

impl CsvOptions {
    /// Reads the `csv.*` options.
    pub fn from_options(options: &BTreeMap<String, String>) -> Result<Self> {
        let delimiter = match options.get("csv.field-delimiter").map(String::as_str) {
            None => ',',
            Some("\\t") => '\t',
            Some(d) if d.chars().count() == 1 => d.chars().next().unwrap_or(','),
            Some(d) => {
                return Err(SqlError::connector(format!(
                    "'csv.field-delimiter' must be a single character, not '{d}'"
                )))
            }
        };
        Ok(CsvOptions {
            ignore_parse_errors: flag(options, "csv.ignore-parse-errors")?,
            delimiter,
            null_literal: options.get("csv.null-literal").cloned(),
            allow_comments: flag(options, "csv.allow-comments")?,
            element_delimiter: match options.get("csv.array-element-delimiter") {
                Some(d) if d.is_empty() => {
                    return Err(SqlError::connector(
                        "'csv.array-element-delimiter' must not be empty",
                    ))
                }
                Some(d) => d.clone(),
                None => ";".into(),
            },
        })
    }
}

/// A boolean option (default false).
pub(crate) fn flag(options: &BTreeMap<String, String>, key: &str) -> Result<bool> {
    match options.get(key).map(|v| v.to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(SqlError::connector(format!(
            "option '{key}' must be 'true' or 'false', not '{v}'"
        ))),
    }
}

/// The fields of one line, one per column of `schema`.
pub fn fields(
    line: &str,
    schema: &SchemaRef,
    options: &CsvOptions,
) -> Result<Vec<Option<String>>, String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    current.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                current.push(c);
            }
        } else if c == '"' && current.is_empty() {
            quoted = true;
            was_quoted = true;
        } else if c == options.delimiter {
            fields.push(field(std::mem::take(&mut current), was_quoted, options));
            was_quoted = false;
        } else {
            current.push(c);
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    fields.push(field(current, was_quoted, options));
    let expected = schema.fields().len();
    if fields.len() != expected {
        return Err(format!(
            "expected {expected} fields, found {}",
            fields.len()
        ));
    }
    for (f, column) in fields.iter_mut().zip(schema.fields()) {
        if column.data_type() != &DataType::Utf8 && f.as_deref() == Some("") {
            *f = None;
        }
    }
    Ok(fields)
}

/// The values of a nested row of `fields`, written in one field separated by the array
/// element delimiter (Flink's csv format). As in Flink, an empty value is an empty string,
/// which a field of another type cannot parse.
pub fn row_fields(
    text: &str,
    fields: &Fields,
    options: &CsvOptions,
) -> Result<Vec<Option<String>>, String> {
    let values: Vec<&str> = text.split(options.element_delimiter.as_str()).collect();
    if values.len() != fields.len() {
        return Err(format!(
            "expected {} values separated by '{}', found {}",
            fields.len(),
            options.element_delimiter,
            values.len()
        ));
    }
    Ok(values.into_iter().map(|v| Some(v.to_string())).collect())
}

fn field(text: String, was_quoted: bool, options: &CsvOptions) -> Option<String> {
    if !was_quoted && options.null_literal.as_deref() == Some(text.as_str()) {
        None
    } else {
        Some(text)
    }
}

/// The rows of `batch` as csv lines.
pub fn encode(batch: &RecordBatch, options: &CsvOptions) -> Vec<String> {
    let mut lines = vec![String::new(); batch.num_rows()];
    let null = options.null_literal.clone().unwrap_or_default();
    let escape = |text: &str, line: &mut String| {
        if text.contains([options.delimiter, '"', '\n']) {
            line.push('"');
            line.push_str(&text.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(text);
        }
    };
    for (i, column) in batch.columns().iter().enumerate() {
        if i > 0 {
            lines.iter_mut().for_each(|l| l.push(options.delimiter));
        }
        append_column(
            column.as_ref(),
            BoolStyle::Lower,
            &null,
            &escape,
            &mut lines,
        );
    }
    lines
}
