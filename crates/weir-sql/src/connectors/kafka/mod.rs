//! The `kafka` and `upsert-kafka` connectors (cargo feature `kafka`), with Flink's option
//! keys, on Weir's Kafka connector (`weir-connector-kafka`): its source (partitions as splits,
//! startup modes, offsets in checkpoints) and sink (delivery guarantees, transactions,
//! partitioners) carry the records, and the table's formats (`csv`, `json`) turn them into
//! rows and back.
//!
//! - `kafka`: a value format (`format` or `value.format`), optionally a key format
//!   (`key.format`) for the columns named by `key.fields`; `value.fields-include` says
//!   whether the value holds every column (`ALL`, the default) or all but the key's
//!   (`EXCEPT_KEY`). The sink accepts inserts only.
//! - `upsert-kafka`: the key is the `PRIMARY KEY`, in `key.format`; as a sink, `+I` and `+U`
//!   rows are written under their key, `-D` rows as tombstones (the key with no value) and
//!   `-U` rows are dropped; as a source, the topic is read from its start, a record is the
//!   current row of its key and a tombstone deletes the key's row (the planner adds Flink's
//!   ChangelogNormalize after the source, [`crate::exec::normalize`]).
//!
//! [`source`] adapts the Kafka source to SQL rows, [`sink`] the Kafka sink.

pub mod sink;
pub mod source;
pub mod watermarks;

use std::collections::BTreeMap;

use arrow::datatypes::{Schema, SchemaRef};

use crate::error::{Result, SqlError};
use crate::formats::Format;

/// The option keys of the `kafka` connector (besides the formats'; `properties.#` stands for
/// any Kafka client property).
pub const KAFKA_OPTIONS: &[&str] = &[
    "topic",
    "topic-pattern",
    "properties.#",
    "format",
    "key.format",
    "key.fields",
    "value.format",
    "value.fields-include",
    "scan.startup.mode",
    "scan.startup.timestamp-millis",
    "scan.startup.specific-offsets",
    "scan.bounded.mode",
    "scan.topic-partition-discovery.interval",
    "sink.delivery-guarantee",
    "sink.transactional-id-prefix",
    "sink.transaction-marker-topic",
    "sink.partitioner",
];

/// The option keys of the `upsert-kafka` connector (besides the formats').
pub const UPSERT_KAFKA_OPTIONS: &[&str] = &[
    "topic",
    "properties.#",
    "key.format",
    "value.format",
    "value.fields-include",
    "scan.bounded.mode",
    "sink.delivery-guarantee",
    "sink.transactional-id-prefix",
    "sink.transaction-marker-topic",
];

/// A configured `kafka` or `upsert-kafka` table.
#[derive(Debug, Clone)]
pub struct KafkaTableOptions {
    /// `upsert-kafka` rather than `kafka`.
    pub upsert: bool,
    /// Every option of the table, handed to the Kafka source or sink (which read `topic`,
    /// `properties.*`, `scan.*` and `sink.*`).
    pub options: BTreeMap<String, String>,
    /// The format of record values.
    pub value_format: Format,
    /// The prefix of the value format's options (`value.` with `value.format`, else none).
    pub value_prefix: &'static str,
    /// The format of record keys, if the table has a key.
    pub key_format: Option<Format>,
    /// The physical columns in the key, in key order.
    pub key_columns: Vec<usize>,
    /// The physical columns in the value, in value order.
    pub value_columns: Vec<usize>,
    /// The table's physical columns.
    pub schema: SchemaRef,
}

impl KafkaTableOptions {
    /// The options of a `kafka` (`upsert` false) or `upsert-kafka` table of `schema` with
    /// `primary_key`.
    pub fn from_options(
        upsert: bool,
        options: &BTreeMap<String, String>,
        schema: &SchemaRef,
        primary_key: &[String],
    ) -> Result<Self> {
        let connector = if upsert { "upsert-kafka" } else { "kafka" };
        if !options.contains_key("topic") && !options.contains_key("topic-pattern") {
            return Err(SqlError::connector(format!(
                "the '{connector}' connector needs 'topic' (one topic or a ';'-separated list) \
                 or 'topic-pattern'"
            )));
        }
        if !options.contains_key("properties.bootstrap.servers") {
            return Err(SqlError::connector(format!(
                "the '{connector}' connector needs 'properties.bootstrap.servers'"
            )));
        }
        let (value_format, value_prefix) = value_format(connector, options)?;
        let key_format = prefixed_format(options, "key.")?;
        let key_names: Vec<String> = if upsert {
            if primary_key.is_empty() {
                return Err(SqlError::connector(
                    "'upsert-kafka' tables require a PRIMARY KEY (... ) NOT ENFORCED constraint",
                ));
            }
            if key_format.is_none() {
                return Err(SqlError::connector(
                    "the 'upsert-kafka' connector needs 'key.format'",
                ));
            }
            primary_key.to_vec()
        } else {
            let names: Vec<String> = options
                .get("key.fields")
                .map(|f| {
                    f.split(';')
                        .map(|n| n.trim().to_string())
                        .filter(|n| !n.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            match (key_format.is_some(), names.is_empty()) {
                (true, true) => {
                    return Err(SqlError::connector(
                        "'key.format' needs the key's columns in 'key.fields' ('a;b')",
                    ))
                }
                (false, false) => {
                    return Err(SqlError::connector("'key.fields' needs 'key.format'"))
                }
                _ => names,
            }
        };
        let key_columns = key_names
            .iter()
            .map(|name| {
                schema.index_of(name).map_err(|_| {
                    SqlError::connector(format!(
                        "key column '{name}' is not a physical column of the table"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let value_columns = match options
            .get("value.fields-include")
            .map(|v| v.to_ascii_uppercase())
            .as_deref()
        {
            None | Some("ALL") => (0..schema.fields().len()).collect(),
            Some("EXCEPT_KEY") => (0..schema.fields().len())
                .filter(|c| !key_columns.contains(c))
                .collect(),
            Some(other) => {
                return Err(SqlError::connector(format!(
                    "invalid value '{other}' for 'value.fields-include': expected ALL or EXCEPT_KEY"
                )))
            }
        };
        Ok(KafkaTableOptions {
            upsert,
            options: options.clone(),
            value_format,
            value_prefix,
            key_format,
            key_columns,
            value_columns,
            schema: schema.clone(),
        })
    }

    /// The connector's name.
    pub fn name(&self) -> &'static str {
        if self.upsert {
            "upsert-kafka"
        } else {
            "kafka"
        }
    }

    /// The schema of the value's columns.
    fn value_schema(&self) -> SchemaRef {
        project(&self.schema, &self.value_columns)
    }

    /// The schema of the key's columns.
    fn key_schema(&self) -> SchemaRef {
        project(&self.schema, &self.key_columns)
    }
}

fn project(schema: &SchemaRef, columns: &[usize]) -> SchemaRef {
    std::sync::Arc::new(schema.project(columns).unwrap_or_else(|_| Schema::empty()))
}

/// The value format: `format`, or `value.format` (whose options are `value.<format>.*`).
fn value_format(
    connector: &str,
    options: &BTreeMap<String, String>,
) -> Result<(Format, &'static str)> {
    match (
        options.contains_key("format"),
        options.contains_key("value.format"),
    ) {
        (true, true) => Err(SqlError::connector(
            "'format' and 'value.format' exclude each other",
        )),
        (true, false) => Ok((Format::from_options(options)?, "")),
        (false, true) => Ok((
            prefixed_format(options, "value.")?.expect("value.format is set"),
            "value.",
        )),
        (false, false) => Err(SqlError::connector(format!(
            "the '{connector}' connector needs 'value.format' (or 'format'): 'csv' or 'json'"
        ))),
    }
}

/// The format named by `<prefix>format`, configured from the `<prefix><format>.*` options.
fn prefixed_format(options: &BTreeMap<String, String>, prefix: &str) -> Result<Option<Format>> {
    if !options.contains_key(&format!("{prefix}format")) {
        return Ok(None);
    }
    let unprefixed: BTreeMap<String, String> = options
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone())))
        .collect();
    Format::from_options(&unprefixed).map(Some)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{DataType, Field};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]))
    }

    fn options(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut o: BTreeMap<String, String> = [
            ("topic", "t"),
            ("properties.bootstrap.servers", "127.0.0.1:9092"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        o.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        o
    }

    #[test]
    fn key_and_value_columns_follow_the_options() {
        let t = KafkaTableOptions::from_options(
            false,
            &options(&[
                ("key.format", "json"),
                ("key.fields", "name"),
                ("value.format", "csv"),
                ("value.csv.field-delimiter", "|"),
                ("value.fields-include", "EXCEPT_KEY"),
            ]),
            &schema(),
            &[],
        )
        .unwrap();
        assert_eq!(t.key_columns, [1]);
        assert_eq!(t.value_columns, [0, 2]);
        assert_eq!(t.value_prefix, "value.");
        assert!(matches!(&t.value_format, Format::Csv(c) if c.delimiter == '|'));
    }

    #[test]
    fn upsert_kafka_needs_a_primary_key_and_a_key_format() {
        let o = options(&[("key.format", "json"), ("value.format", "json")]);
        let err = KafkaTableOptions::from_options(true, &o, &schema(), &[]).unwrap_err();
        assert!(err.to_string().contains("PRIMARY KEY"), "{err}");
        let o = options(&[("value.format", "json")]);
        let err = KafkaTableOptions::from_options(true, &o, &schema(), &["id".into()]).unwrap_err();
        assert!(err.to_string().contains("'key.format'"), "{err}");
        let o = options(&[("key.format", "json"), ("value.format", "json")]);
        let t = KafkaTableOptions::from_options(true, &o, &schema(), &["id".into()]).unwrap();
        assert_eq!((t.key_columns, t.value_columns), (vec![0], vec![0, 1, 2]));
    }

    #[test]
    fn missing_topic_and_format_are_named() {
        let mut o = options(&[]);
        let err = KafkaTableOptions::from_options(false, &o, &schema(), &[]).unwrap_err();
        assert!(err.to_string().contains("'value.format'"), "{err}");
        o.remove("topic");
        let err = KafkaTableOptions::from_options(false, &o, &schema(), &[]).unwrap_err();
        assert!(err.to_string().contains("'topic'"), "{err}");
    }
}
