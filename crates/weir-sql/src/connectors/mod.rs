//! Table connectors, configured by a table's `WITH` options as in Flink: `datagen`,
//! `filesystem` (with a [`crate::formats::Format`]), `nexmark`, `print` and `blackhole`, and
//! with the cargo feature `kafka`, `kafka` and `upsert-kafka`.
//!
//! [`Connector::from_options`] checks the options (an unknown connector or option lists the
//! valid ones) and accepts the legacy `'connector.type'` keys of older Flink DDL.

pub mod datagen;
pub mod filesystem;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod nexmark;
pub mod print;

use std::collections::BTreeMap;

use arrow::datatypes::SchemaRef;

use crate::error::{Result, SqlError};
use crate::formats::{check_format_keys, Format};

/// A configured connector.
#[derive(Debug, Clone)]
pub enum Connector {
    /// Generated rows.
    Datagen(datagen::DatagenOptions),
    /// Files of a directory or one file.
    Filesystem(filesystem::FilesystemOptions),
    /// Nexmark events, generated in-process.
    Nexmark(nexmark::NexmarkTable),
    /// Rows printed to standard output.
    Print(print::PrintOptions),
    /// Rows discarded.
    Blackhole,
    /// A Kafka topic (`kafka` or `upsert-kafka`).
    #[cfg(feature = "kafka")]
    Kafka(kafka::KafkaTableOptions),
    /// A DataStream of the same job, converted by the Table API (never from DDL).
    DataStream(DataStreamInput),
}

/// The DataStream a table reads: the operator that turns its rows into batches.
#[derive(Debug, Clone, Copy)]
pub struct DataStreamInput {
    /// The id of the conversion operator in the `StreamExecutionEnvironment`.
    pub node: usize,
    /// Its parallelism.
    pub parallelism: usize,
    /// Whether the table's watermarks are the stream's own (`SOURCE_WATERMARK()`).
    pub source_watermark: bool,
}

/// The connectors, each with its option keys (`fields.#.` stands for any field name).
const CONNECTORS: &[(&str, &[&str])] = &[
    ("datagen", datagen::OPTIONS),
    ("filesystem", filesystem::OPTIONS),
    ("nexmark", nexmark::OPTIONS),
    ("print", print::OPTIONS),
    ("blackhole", &[]),
    #[cfg(feature = "kafka")]
    ("kafka", kafka::KAFKA_OPTIONS),
    #[cfg(feature = "kafka")]
    ("upsert-kafka", kafka::UPSERT_KAFKA_OPTIONS),
];

impl Connector {
    /// The connector described by `options` (after [`normalize_options`]).
    pub fn from_options(options: &BTreeMap<String, String>, schema: &SchemaRef) -> Result<Self> {
        Self::for_table(options, schema, &[])
    }

    /// The connector of a table with `options`, physical columns `schema` and `primary_key`.
    #[cfg_attr(not(feature = "kafka"), allow(unused_variables))]
    pub fn for_table(
        options: &BTreeMap<String, String>,
        schema: &SchemaRef,
        primary_key: &[String],
    ) -> Result<Self> {
        let name = options.get("connector").ok_or_else(|| {
            SqlError::connector(format!(
                "the table has no 'connector' option; available connectors: {}",
                connector_names()
            ))
        })?;
        let (_, keys) = CONNECTORS.iter().find(|(n, _)| n == name).ok_or_else(|| {
            SqlError::connector(format!(
                "unknown connector '{name}'; available connectors: {}",
                connector_names()
            ))
        })?;
        let format = options.get("format").map(String::as_str);
        for key in options.keys().filter(|k| *k != "connector") {
            let generic = generic_key(key);
            if !keys.contains(&generic.as_str())
                && !check_format_keys(key, format)
                && !is_key_or_value_format_key(key, options)
            {
                let mut valid: Vec<&str> = keys.to_vec();
                if let Some(format) = format {
                    valid.extend(check_keys_of(format));
                }
                return Err(SqlError::connector(format!(
                    "unsupported option '{key}' for connector '{name}'; supported options: {}",
                    valid.join(", ")
                )));
            }
        }
        Ok(match name.as_str() {
            "datagen" => {
                Connector::Datagen(datagen::DatagenOptions::from_options(options, schema)?)
            }
            "filesystem" => Connector::Filesystem(filesystem::FilesystemOptions {
                path: options
                    .get("path")
                    .cloned()
                    .ok_or_else(|| SqlError::connector("the filesystem connector needs 'path'"))?,
                format: Format::from_options(options)?,
            }),
            "nexmark" => Connector::Nexmark(nexmark::NexmarkTable::from_options(options, schema)?),
            "print" => Connector::Print(print::PrintOptions::from_options(options)),
            #[cfg(feature = "kafka")]
            "kafka" | "upsert-kafka" => Connector::Kafka(kafka::KafkaTableOptions::from_options(
                name == "upsert-kafka",
                options,
                schema,
                primary_key,
            )?),
            _ => Connector::Blackhole,
        })
    }

    /// Whether rows can be read from the table.
    pub fn is_source(&self) -> bool {
        match self {
            Connector::Datagen(_)
            | Connector::Filesystem(_)
            | Connector::Nexmark(_)
            | Connector::DataStream(_) => true,
            #[cfg(feature = "kafka")]
            Connector::Kafka(_) => true,
            _ => false,
        }
    }

    /// Whether the table, read as a source, ends (what batch mode needs): a datagen with
    /// `number-of-rows` or a sequence field, files, a nexmark table with `events.num`, a Kafka table with a
    /// `scan.bounded.mode` other than `unbounded`.
    pub fn is_bounded(&self) -> bool {
        match self {
            Connector::Datagen(d) => d.total_rows().is_some(),
            Connector::Filesystem(_) => true,
            Connector::Nexmark(n) => n.options.config.events.is_some_and(|e| e > 0),
            #[cfg(feature = "kafka")]
            Connector::Kafka(k) => k
                .options
                .get("scan.bounded.mode")
                .is_some_and(|m| m != "unbounded"),
            Connector::Print(_) | Connector::Blackhole => false,
            // The stream decides: the job ends when it does.
            Connector::DataStream(_) => true,
        }
    }

    /// Whether the source generates `table`'s watermarks itself (per Kafka partition), so
    /// that the plan needs no WatermarkAssigner after it.
    #[cfg_attr(not(feature = "kafka"), allow(unused_variables))]
    pub fn generates_watermarks(&self, table: &crate::catalog::Table) -> bool {
        match self {
            #[cfg(feature = "kafka")]
            Connector::Kafka(_) => kafka::watermarks::PartitionWatermark::of(table).is_some(),
            Connector::DataStream(input) => input.source_watermark,
            _ => false,
        }
    }

    /// The physical columns that key the table's rows when it is read as an upsert
    /// changelog (`upsert-kafka`), which needs normalizing before other operators.
    pub fn upsert_key(&self) -> Option<&[usize]> {
        match self {
            #[cfg(feature = "kafka")]
            Connector::Kafka(k) if k.upsert => Some(&k.key_columns),
            _ => None,
        }
    }

    /// Whether the table can be written with updates and deletions.
    pub fn accepts_updates(&self) -> bool {
        match self {
            Connector::Print(_) | Connector::Blackhole => true,
            #[cfg(feature = "kafka")]
            Connector::Kafka(k) => k.upsert,
            _ => false,
        }
    }

    /// The connector's name.
    pub fn name(&self) -> &'static str {
        match self {
            Connector::Datagen(_) => "datagen",
            Connector::Filesystem(_) => "filesystem",
            Connector::Nexmark(_) => "nexmark",
            Connector::Print(_) => "print",
            Connector::Blackhole => "blackhole",
            #[cfg(feature = "kafka")]
            Connector::Kafka(k) => k.name(),
            Connector::DataStream(_) => "datastream",
        }
    }
}

fn connector_names() -> String {
    CONNECTORS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_keys_of(format: &str) -> Vec<&'static str> {
    crate::formats::FORMATS
        .iter()
        .filter(|(n, _)| *n == format)
        .flat_map(|(_, keys)| keys.iter().copied())
        .collect()
}

/// `fields.amount.min` → `fields.#.min`, `properties.group.id` → `properties.#`.
fn generic_key(key: &str) -> String {
    if key.starts_with("properties.") {
        return "properties.#".to_string();
    }
    match key
        .strip_prefix("fields.")
        .and_then(|rest| rest.rsplit_once('.'))
    {
        Some((_, option)) => format!("fields.#.{option}"),
        None => key.to_string(),
    }
}

/// Whether `key` is an option of the key or value format (`key.json.*` with
/// `'key.format' = 'json'`, `value.csv.*` with `'value.format' = 'csv'`).
fn is_key_or_value_format_key(key: &str, options: &BTreeMap<String, String>) -> bool {
    ["key.", "value."].iter().any(|prefix| {
        key.strip_prefix(prefix).is_some_and(|rest| {
            let format = options.get(&format!("{prefix}format")).map(String::as_str);
            check_format_keys(rest, format)
        })
    })
}

/// Maps the legacy keys of older Flink DDL (`'connector.type'`, `'connector.path'`,
/// `'format.type'`, `'format.*'`) to today's.
pub fn normalize_options(options: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let format = options
        .get("format.type")
        .or_else(|| options.get("format"))
        .cloned();
    options
        .iter()
        .map(|(k, v)| {
            let key = if k == "connector.type" {
                "connector".to_string()
            } else if k == "format.type" {
                "format".to_string()
            } else if let Some(rest) = k.strip_prefix("connector.") {
                rest.to_string()
            } else if let (Some(rest), Some(f)) = (k.strip_prefix("format."), &format) {
                format!("{f}.{rest}")
            } else {
                k.clone()
            };
            (key, v.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn options(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]))
    }

    #[test]
    fn unknown_connector_lists_the_valid_ones() {
        let err =
            Connector::from_options(&options(&[("connector", "kafka2")]), &schema()).unwrap_err();
        assert!(
            err.to_string()
                .contains("datagen, filesystem, nexmark, print, blackhole"),
            "{err}"
        );
    }

    #[test]
    fn unknown_option_lists_the_valid_ones() {
        let err = Connector::from_options(
            &options(&[("connector", "datagen"), ("rows-per-sec", "1")]),
            &schema(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("rows-per-second"), "{err}");
    }

    #[test]
    fn legacy_keys_are_aliases() {
        let o = normalize_options(&options(&[
            ("connector.type", "filesystem"),
            ("connector.path", "/tmp/x"),
            ("format.type", "csv"),
            ("format.ignore-parse-errors", "true"),
        ]));
        assert_eq!(o["connector"], "filesystem");
        assert_eq!(o["path"], "/tmp/x");
        assert_eq!(o["csv.ignore-parse-errors"], "true");
        assert!(Connector::from_options(&o, &schema()).is_ok());
    }
}
