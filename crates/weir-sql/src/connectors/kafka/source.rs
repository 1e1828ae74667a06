//! Reading a `kafka` or `upsert-kafka` table: the Kafka source's reader, whose records are decoded one by one into
//! the texts of the row's columns (a record that is not one of the format fails the job naming
//! its topic, partition and offset, or is skipped with `<format>.ignore-parse-errors`), and a
//! [`SourceReader`] around it that casts each poll's texts into a [`ChangeBatch`]: inserts
//! for `kafka`; for `upsert-kafka`, `+U` for a record and `-D` for a tombstone (the planner
//! normalizes this upsert changelog, see [`crate::exec::normalize`]).

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use serde::{Deserialize, Serialize};
use weir_connector_kafka::{deserializer_fn, ConsumedRecord, KafkaSource, TopicPartition};
use weir_core::element::Batch;
use weir_core::Result;
use weir_runtime::job::SourceFactory;
use weir_runtime::{OperatorContext, SourceEventTime, SourcePoll, SourceReader};
use weir_state::StateSnapshot;

use super::watermarks::PartitionWatermark;
use super::KafkaTableOptions;
use crate::changelog::{ChangeBatch, RowKind};
use crate::formats::Format;

/// A record decoded into the text of each physical column (`None` for null).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DecodedRecord {
    /// Topic, partition and offset, for errors.
    location: String,
    /// An `upsert-kafka` tombstone: the key's row is deleted (only the key's columns are set).
    delete: bool,
    fields: Vec<Option<String>>,
}

/// How records become column texts.
struct RecordDecoder {
    table: KafkaTableOptions,
    value_schema: SchemaRef,
    key_schema: SchemaRef,
}

impl RecordDecoder {
    /// The record's row; `None` for a `kafka` record without value (skipped, as Flink's
    /// formats skip them). With `value.fields-include` `ALL`, the value's columns win over the
    /// key's.
    fn decode(
        &self,
        record: &ConsumedRecord<'_>,
    ) -> std::result::Result<Option<DecodedRecord>, String> {
        let table = &self.table;
        if record.value.is_none() && !table.upsert {
            return Ok(None);
        }
        let mut fields = vec![None; table.schema.fields().len()];
        match (&table.key_format, record.key) {
            (Some(format), Some(key)) => {
                let texts = format
                    .fields(utf8(key, "key")?, &self.key_schema)
                    .map_err(|e| format!("the key: {e}"))?;
                for (column, text) in table.key_columns.iter().zip(texts) {
                    fields[*column] = text;
                }
            }
            (_, None) if table.upsert => return Err("an upsert-kafka record has no key".into()),
            _ => {}
        }
        if let Some(value) = record.value {
            let texts = table
                .value_format
                .fields(utf8(value, "value")?, &self.value_schema)?;
            for (column, text) in table.value_columns.iter().zip(texts) {
                fields[*column] = text;
            }
        }
        let location = format!(
            "Kafka {}, offset {}",
            TopicPartition::new(record.topic, record.partition),
            record.offset
        );
        Ok(Some(DecodedRecord {
            location,
            delete: record.value.is_none(),
            fields,
        }))
    }
}

fn utf8<'a>(bytes: &'a [u8], part: &str) -> std::result::Result<&'a str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("the {part} is not UTF-8: {e}"))
}

/// The factory of the source readers of `table`, which generate `watermark` per partition
/// if given.
pub fn source_factory(
    table: &KafkaTableOptions,
    watermark: Option<PartitionWatermark>,
) -> Result<SourceFactory> {
    let decoder = RecordDecoder {
        value_schema: table.value_schema(),
        key_schema: table.key_schema(),
        table: table.clone(),
    };
    // The format's name prefixes its options: `json.ignore-parse-errors` for 'format',
    // `value.json.ignore-parse-errors` for 'value.format'.
    let format_name = format!("{}{}", table.value_prefix, table.value_format.name());
    let mut builder = KafkaSource::<Option<DecodedRecord>>::builder();
    for (key, value) in &table.options {
        builder = builder.option(key, value.clone());
    }
    let startup = if table.upsert {
        // The table is the whole topic.
        "earliest-offset"
    } else {
        // Flink SQL's default (the DataStream source's is `earliest-offset`).
        table
            .options
            .get("scan.startup.mode")
            .map_or("group-offsets", String::as_str)
    };
    builder = builder.option("scan.startup.mode", startup);
    if let Some(watermark) = watermark {
        builder =
            builder.watermark_strategy(watermark.strategy(|record: &Option<DecodedRecord>| {
                record.as_ref().map(|r| r.fields.as_slice())
            }));
    }
    let source = builder
        .deserializer(deserializer_fn(&format_name, move |record| {
            decoder.decode(record)
        }))
        .build()?;
    let readers = source.reader_factory();
    let (format, schema, upsert) = (
        table.value_format.clone(),
        table.schema.clone(),
        table.upsert,
    );
    Ok(Arc::new(move |ctx: &OperatorContext| {
        Ok(Box::new(KafkaTableReader {
            records: readers(ctx)?,
            format: format.clone(),
            schema: schema.clone(),
            upsert,
        }) as Box<dyn SourceReader>)
    }))
}

/// The reader of a Kafka table's source subtask: the Kafka source's reader, whose polls'
/// decoded records are cast into rows of the table.
struct KafkaTableReader {
    records: Box<dyn SourceReader>,
    format: Format,
    schema: SchemaRef,
    upsert: bool,
}

impl KafkaTableReader {
    fn rows(&self, batch: Batch) -> Result<Batch> {
        let records: Vec<DecodedRecord> = batch
            .into_records::<Option<DecodedRecord>>()
            .into_iter_timestamped()
            .filter_map(|(record, _)| record)
            .collect();
        let mut columns = vec![Vec::with_capacity(records.len()); self.schema.fields().len()];
        for record in &records {
            for (column, field) in columns.iter_mut().zip(&record.fields) {
                column.push(field.clone());
            }
        }
        let locations: Vec<&str> = records.iter().map(|r| r.location.as_str()).collect();
        let rows = self
            .format
            .typed_batch(&columns, &locations, &self.schema)?;
        let kinds = self.upsert.then(|| {
            (records.iter())
                .map(|r| match r.delete {
                    true => RowKind::Delete,
                    false => RowKind::UpdateAfter,
                })
                .collect()
        });
        Ok(ChangeBatch { rows, kinds }.into_batch())
    }
}

impl SourceReader for KafkaTableReader {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.records.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.records.snapshot_state(snapshot)
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> Result<()> {
        self.records.notify_checkpoint_complete(checkpoint_id)
    }

    fn poll_next(&mut self, max_records: usize) -> Result<SourcePoll> {
        Ok(match self.records.poll_next(max_records)? {
            SourcePoll::Ready(batch) => SourcePoll::Ready(self.rows(batch)?),
            SourcePoll::Pending(batch, wait) => SourcePoll::Pending(self.rows(batch)?, wait),
            SourcePoll::Finished(batch) => SourcePoll::Finished(self.rows(batch)?),
        })
    }

    fn take_event_time(&mut self, out: &mut Vec<SourceEventTime>) {
        self.records.take_event_time(out);
    }
}
