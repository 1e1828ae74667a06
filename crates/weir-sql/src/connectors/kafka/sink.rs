//! Writing a Kafka table: a [`StreamOperator`] that encodes each row's key and value with the
//! table's formats and hands the records to the Kafka sink's writer (which delivers them with
//! the table's `sink.delivery-guarantee`).

use std::sync::Arc;

use weir_connector_kafka::{BytesSerializer, KafkaSink, ProducedRecord};
use weir_core::element::{Batch, Watermark, WatermarkStatus};
use weir_core::{Result, WeirError};
use weir_runtime::job::OperatorFactory;
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::StateSnapshot;

use super::KafkaTableOptions;
use crate::changelog::{ChangeBatch, RowKind};

/// The factory of the sink operators of `table`.
pub fn sink_factory(table: &KafkaTableOptions) -> Result<OperatorFactory> {
    let topic = table.options.get("topic").map(String::as_str).unwrap_or("");
    if topic.is_empty() || topic.contains(';') || table.options.contains_key("topic-pattern") {
        return Err(WeirError::Config(format!(
            "a '{}' sink writes to one topic: set 'topic' to a single name",
            table.name()
        )));
    }
    let mut builder = KafkaSink::<ProducedRecord>::builder();
    for (key, value) in &table.options {
        builder = builder.option(key, value.clone());
    }
    let writers = builder
        .serializer(BytesSerializer)
        .build()?
        .operator_factory();
    let table = Arc::new(table.clone());
    Ok(Arc::new(move |ctx: &OperatorContext| {
        Ok(Box::new(KafkaTableWriter {
            records: writers(ctx)?,
            table: Arc::clone(&table),
        }) as Box<dyn StreamOperator>)
    }))
}

/// The records of the rows of `change`: `kafka` writes every row's value; `upsert-kafka`
/// writes `+I`/`+U` rows under their key, `-D` rows as tombstones and drops `-U` rows.
fn records(table: &KafkaTableOptions, change: &ChangeBatch) -> Result<Vec<ProducedRecord>> {
    let project = |columns: &[usize]| {
        change
            .rows
            .project(columns)
            .map_err(|e| WeirError::Other(e.to_string()))
    };
    let values = table.value_format.encode(&project(&table.value_columns)?);
    let keys = match &table.key_format {
        Some(format) => Some(format.encode(&project(&table.key_columns)?)),
        None => None,
    };
    let mut out = Vec::with_capacity(values.len());
    for (row, value) in values.into_iter().enumerate() {
        let value = match change.kind(row) {
            RowKind::Insert | RowKind::UpdateAfter => Some(value.into_bytes()),
            RowKind::Delete if table.upsert => None,
            RowKind::UpdateBefore if table.upsert => continue,
            kind => {
                return Err(WeirError::Other(format!(
                    "the 'kafka' sink cannot write a {} row: it accepts inserts only",
                    kind.short_string()
                )))
            }
        };
        out.push(ProducedRecord {
            key: keys.as_ref().map(|k| k[row].clone().into_bytes()),
            value,
        });
    }
    Ok(out)
}

/// A Kafka table's sink subtask: the Kafka sink's writer, fed with encoded rows.
struct KafkaTableWriter {
    records: Box<dyn StreamOperator>,
    table: Arc<KafkaTableOptions>,
}

impl StreamOperator for KafkaTableWriter {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.records.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.records.snapshot_state(snapshot)
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> Result<()> {
        self.records.notify_checkpoint_complete(checkpoint_id)
    }

    fn process_batch(&mut self, input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        if change.rows.num_rows() == 0 {
            return Ok(());
        }
        let records = records(&self.table, &change)?;
        self.records
            .process_batch(input, Batch::from_vec(records), out)
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        self.records.process_watermark(watermark, out)
    }

    fn process_watermark_status(
        &mut self,
        status: WatermarkStatus,
        out: &mut dyn Output,
    ) -> Result<()> {
        self.records.process_watermark_status(status, out)
    }

    fn end_input(&mut self, input: usize, out: &mut dyn Output) -> Result<()> {
        self.records.end_input(input, out)
    }

    fn finish(&mut self, out: &mut dyn Output) -> Result<()> {
        self.records.finish(out)
    }
}
