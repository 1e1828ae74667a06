//! The `print` connector: each row as Flink prints it, `+I[alice, 3]`, optionally prefixed
//! by `print-identifier` and the subtask (`2> `) when the sink runs in parallel.

use std::collections::BTreeMap;

use crate::changelog::ChangeBatch;
use crate::display::{format_value, BoolStyle};

/// The option keys of the print connector.
pub const OPTIONS: &[&str] = &["print-identifier", "standard-error", "sink.parallelism"];

/// Options of the print connector.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintOptions {
    /// `print-identifier`: a prefix for every line.
    pub identifier: Option<String>,
    /// `standard-error`: print to stderr instead of stdout.
    pub standard_error: bool,
}

impl PrintOptions {
    /// Reads the print options.
    pub fn from_options(options: &BTreeMap<String, String>) -> Self {
        PrintOptions {
            identifier: options.get("print-identifier").cloned(),
            standard_error: options
                .get("standard-error")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        }
    }
}

/// The lines Flink's print sink writes for `batch` in subtask `subtask` of `parallelism`.
pub fn print_lines(
    batch: &ChangeBatch,
    options: &PrintOptions,
    subtask: usize,
    parallelism: usize,
) -> Vec<String> {
    let prefix = match (&options.identifier, parallelism > 1) {
        (Some(id), true) => format!("{id}:{}> ", subtask + 1),
        (Some(id), false) => format!("{id}> "),
        (None, true) => format!("{}> ", subtask + 1),
        (None, false) => String::new(),
    };
    (0..batch.rows.num_rows())
        .map(|row| {
            let values: Vec<String> = batch
                .rows
                .columns()
                .iter()
                .map(|c| {
                    format_value(c.as_ref(), row, BoolStyle::Lower).unwrap_or_else(|| "null".into())
                })
                .collect();
            format!(
                "{prefix}{}[{}]",
                batch.kind(row).short_string(),
                values.join(", ")
            )
        })
        .collect()
}
