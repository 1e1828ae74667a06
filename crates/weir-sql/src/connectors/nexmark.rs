//! The `nexmark` connector: Flink's Nexmark table source (`'connector' = 'nexmark'`), the
//! events of Weir's Nexmark generator ([`weir_nexmark`]) made in-process, straight into
//! Arrow columns.
//!
//! The table has Flink's Nexmark columns, matched by name: `event_type INT` and the rows
//! `person`, `auction` and `bid` of which only the event's own is set (a table may declare
//! a subset of them or of their fields, or other numeric types). The options are those of
//! Flink's connector (`events.num`, `first-event.rate`, `bid.proportion`, ...; see
//! [`weir_nexmark::options`]).
//!
//! Source subtask `i` of `p` generates the event numbers `i, i + p, i + 2p, ...` (a
//! *split*), so that all subtasks advance through event time together. A checkpoint holds
//! each split's next position; restored with another parallelism, the splits are shared
//! out among the new subtasks, each generating its splits in turn.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{
    ArrayRef, Int32Array, Int64Builder, RecordBatch, StringBuilder, StructArray,
    TimestampMillisecondBuilder,
};
use arrow::buffer::NullBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Fields, SchemaRef, TimeUnit};
use weir_core::{Result as WeirResult, WeirError};
use weir_nexmark::options::{NexmarkOptions, OPTION_KEYS};
use weir_nexmark::{Auction, Bid, Event, NexmarkGenerator, Person};
use weir_runtime::OperatorContext;
use weir_state::{ListMode, StateSnapshot};

use crate::error::{Result, SqlError};

const KEY_COUNT: usize = OPTION_KEYS.len();
const KEYS: [&str; KEY_COUNT] = {
    let mut keys = [""; KEY_COUNT];
    let mut i = 0;
    while i < KEY_COUNT {
        keys[i] = OPTION_KEYS[i].0;
        i += 1;
    }
    keys
};

/// The option keys of the nexmark connector (those of [`weir_nexmark::options`]).
pub const OPTIONS: &[&str] = &KEYS;

/// The kind of a generated field.
#[derive(Clone, Copy)]
enum Kind {
    Int,
    Text,
    Time,
}

const PERSON: &[(&str, Kind)] = &[
    ("id", Kind::Int),
    ("name", Kind::Text),
    ("emailAddress", Kind::Text),
    ("creditCard", Kind::Text),
    ("city", Kind::Text),
    ("state", Kind::Text),
    ("dateTime", Kind::Time),
    ("extra", Kind::Text),
];

const AUCTION: &[(&str, Kind)] = &[
    ("id", Kind::Int),
    ("itemName", Kind::Text),
    ("description", Kind::Text),
    ("initialBid", Kind::Int),
    ("reserve", Kind::Int),
    ("dateTime", Kind::Time),
    ("expires", Kind::Time),
    ("seller", Kind::Int),
    ("category", Kind::Int),
    ("extra", Kind::Text),
];

const BID: &[(&str, Kind)] = &[
    ("auction", Kind::Int),
    ("bidder", Kind::Int),
    ("price", Kind::Int),
    ("channel", Kind::Text),
    ("url", Kind::Text),
    ("dateTime", Kind::Time),
    ("extra", Kind::Text),
];

/// The row columns, with the event type each holds.
const ROWS: [(&str, &[(&str, Kind)]); 3] = [("person", PERSON), ("auction", AUCTION), ("bid", BID)];

fn arrow_kind(kind: Kind) -> DataType {
    match kind {
        Kind::Int => DataType::Int64,
        Kind::Text => DataType::Utf8,
        Kind::Time => DataType::Timestamp(TimeUnit::Millisecond, None),
    }
}

/// A configured nexmark table.
#[derive(Debug, Clone)]
pub struct NexmarkTable {
    /// The generator's configuration and rate.
    pub options: NexmarkOptions,
}

impl NexmarkTable {
    /// Reads the options (all but `connector`) and checks that every physical column of
    /// `schema` is one the source produces.
    pub fn from_options(
        options: &std::collections::BTreeMap<String, String>,
        schema: &SchemaRef,
    ) -> Result<Self> {
        let options = NexmarkOptions::parse(options.iter().filter(|(k, _)| *k != "connector"))
            .map_err(SqlError::connector)?;
        for field in schema.fields() {
            check_column(field)?;
        }
        Ok(NexmarkTable { options })
    }
}

/// Fails unless `field` is a column of Flink's Nexmark table (or a subset of its fields).
fn check_column(field: &Field) -> Result<()> {
    let name = field.name();
    if name == "event_type" {
        return check_cast(name, &DataType::Int32, field.data_type());
    }
    let Some((_, kinds)) = ROWS.iter().find(|(row, _)| row == name) else {
        return Err(SqlError::connector(format!(
            "the nexmark connector has no column '{name}'; its columns are event_type, person, \
             auction and bid"
        )));
    };
    let DataType::Struct(fields) = field.data_type() else {
        return Err(SqlError::connector(format!(
            "nexmark column '{name}' must be a ROW<...>"
        )));
    };
    for f in fields {
        let Some((_, kind)) = kinds.iter().find(|(n, _)| n == f.name()) else {
            let known: Vec<&str> = kinds.iter().map(|(n, _)| *n).collect();
            return Err(SqlError::connector(format!(
                "nexmark row '{name}' has no field '{}'; its fields are {}",
                f.name(),
                known.join(", ")
            )));
        };
        check_cast(
            &format!("{name}.{}", f.name()),
            &arrow_kind(*kind),
            f.data_type(),
        )?;
    }
    Ok(())
}

fn check_cast(name: &str, from: &DataType, to: &DataType) -> Result<()> {
    if arrow::compute::can_cast_types(from, to) {
        Ok(())
    } else {
        Err(SqlError::connector(format!(
            "nexmark column '{name}' is {}, which cannot be read as {}",
            crate::types::flink_type_name(from),
            crate::types::flink_type_name(to)
        )))
    }
}

/// The builders of one row column's fields.
struct RowBuilder {
    ints: Vec<Int64Builder>,
    texts: Vec<StringBuilder>,
    times: Vec<TimestampMillisecondBuilder>,
    kinds: &'static [(&'static str, Kind)],
    /// For each field, its position among the fields of its kind.
    slots: Vec<usize>,
    valid: Vec<bool>,
    /// The next field of the row being appended.
    field: usize,
}

impl RowBuilder {
    fn new(kinds: &'static [(&'static str, Kind)], rows: usize) -> Self {
        let count = |k: fn(&Kind) -> bool| kinds.iter().filter(|(_, kind)| k(kind)).count();
        RowBuilder {
            ints: (0..count(|k| matches!(k, Kind::Int)))
                .map(|_| Int64Builder::with_capacity(rows))
                .collect(),
            texts: (0..count(|k| matches!(k, Kind::Text)))
                .map(|_| StringBuilder::with_capacity(rows, rows * 16))
                .collect(),
            times: (0..count(|k| matches!(k, Kind::Time)))
                .map(|_| TimestampMillisecondBuilder::with_capacity(rows))
                .collect(),
            kinds,
            slots: kinds
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| {
                    kinds[..i]
                        .iter()
                        .filter(|(_, k)| *k as usize == *kind as usize)
                        .count()
                })
                .collect(),
            valid: Vec::with_capacity(rows),
            field: 0,
        }
    }

    /// The position of field `self.field` among the fields of its kind.
    fn slot(&mut self) -> usize {
        let slot = self.slots[self.field];
        self.field += 1;
        slot
    }

    fn int(&mut self, value: u64) {
        let slot = self.slot();
        self.ints[slot].append_value(value as i64);
    }

    fn text(&mut self, value: &str) {
        let slot = self.slot();
        self.texts[slot].append_value(value);
    }

    fn time(&mut self, ms: i64) {
        let slot = self.slot();
        self.times[slot].append_value(ms);
    }

    fn end_row(&mut self) {
        self.valid.push(true);
        self.field = 0;
    }

    fn null_row(&mut self) {
        self.ints.iter_mut().for_each(|b| b.append_null());
        self.texts.iter_mut().for_each(|b| b.append_null());
        self.times.iter_mut().for_each(|b| b.append_null());
        self.valid.push(false);
    }

    /// The row column with the fields of `wanted` (by name, cast to their types).
    fn finish(
        mut self,
        wanted: &Fields,
    ) -> std::result::Result<ArrayRef, arrow::error::ArrowError> {
        let mut columns: Vec<(&str, ArrayRef)> = Vec::with_capacity(self.kinds.len());
        for ((name, kind), slot) in self.kinds.iter().zip(&self.slots) {
            let array: ArrayRef = match kind {
                Kind::Int => Arc::new(self.ints[*slot].finish()),
                Kind::Text => Arc::new(self.texts[*slot].finish()),
                Kind::Time => Arc::new(self.times[*slot].finish()),
            };
            columns.push((name, array));
        }
        let arrays = wanted
            .iter()
            .map(|f| {
                let (_, array) = columns
                    .iter()
                    .find(|(n, _)| n == f.name())
                    .expect("fields checked when the table was created");
                conform(array, f.data_type())
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Arc::new(StructArray::try_new(
            wanted.clone(),
            arrays,
            Some(NullBuffer::from(std::mem::take(&mut self.valid))),
        )?))
    }
}

fn conform(
    array: &ArrayRef,
    to: &DataType,
) -> std::result::Result<ArrayRef, arrow::error::ArrowError> {
    if array.data_type() == to {
        Ok(array.clone())
    } else {
        cast(array, to)
    }
}

fn person(row: &mut RowBuilder, p: &Person) {
    row.int(p.id);
    row.text(&p.name);
    row.text(&p.email_address);
    row.text(&p.credit_card);
    row.text(&p.city);
    row.text(&p.state);
    row.time(p.date_time);
    row.text(&p.extra);
    row.end_row();
}

fn auction(row: &mut RowBuilder, a: &Auction) {
    row.int(a.id);
    row.text(&a.item_name);
    row.text(&a.description);
    row.int(a.initial_bid);
    row.int(a.reserve);
    row.time(a.date_time);
    row.time(a.expires);
    row.int(a.seller);
    row.int(a.category);
    row.text(&a.extra);
    row.end_row();
}

fn bid(row: &mut RowBuilder, b: &Bid) {
    row.int(b.auction);
    row.int(b.bidder);
    row.int(b.price);
    row.text(&b.channel);
    row.text(&b.url);
    row.time(b.date_time);
    row.text(&b.extra);
    row.end_row();
}

/// The rows of `events` in the columns of `schema` (checked by [`NexmarkTable`]).
pub fn events_batch(events: &[Event], schema: &SchemaRef) -> WeirResult<RecordBatch> {
    let mut rows: Vec<RowBuilder> = ROWS
        .iter()
        .map(|(_, kinds)| RowBuilder::new(kinds, events.len()))
        .collect();
    for event in events {
        let own = event.event_type() as usize;
        for (i, row) in rows.iter_mut().enumerate() {
            match event {
                _ if i != own => row.null_row(),
                Event::Person(p) => person(row, p),
                Event::Auction(a) => auction(row, a),
                Event::Bid(b) => bid(row, b),
            }
        }
    }
    let mut rows: Vec<Option<RowBuilder>> = rows.into_iter().map(Some).collect();
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            if field.name() == "event_type" {
                let types: ArrayRef = Arc::new(
                    events
                        .iter()
                        .map(|e| i32::from(e.event_type()))
                        .collect::<Int32Array>(),
                );
                return conform(&types, field.data_type());
            }
            let index = ROWS
                .iter()
                .position(|(name, _)| name == field.name())
                .expect("columns checked when the table was created");
            let DataType::Struct(wanted) = field.data_type() else {
                unreachable!("row columns checked when the table was created")
            };
            rows[index]
                .take()
                .expect("each row column is declared once")
                .finish(wanted)
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| WeirError::Other(format!("nexmark source: {e}")))?;
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| WeirError::Other(e.to_string()))
}

/// Event numbers `index, index + count, index + 2·count, ...` from the `next`-th on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Split {
    index: u64,
    count: u64,
    next: u64,
}

impl Split {
    fn event_number(&self, k: u64) -> u64 {
        self.index + k * self.count
    }
}

const SPLITS: &str = "nexmark-splits";

/// A source subtask's reader of its splits, generating their events.
pub struct NexmarkReader {
    generator: NexmarkGenerator,
    rate_limit: Option<f64>,
    splits: VecDeque<Split>,
    schema: SchemaRef,
    started: Option<Instant>,
    emitted: u64,
}

impl NexmarkReader {
    /// The reader of subtask `ctx.subtask_index` of `ctx.parallelism`; a restored subtask
    /// continues the splits it was given.
    pub fn new(table: &NexmarkTable, schema: SchemaRef, ctx: &OperatorContext) -> WeirResult<Self> {
        let generator =
            NexmarkGenerator::new(table.options.config.clone()).map_err(WeirError::InvalidJob)?;
        let splits = match ctx.restored_state() {
            Some(restored) => restored.list::<Split>(SPLITS)?.into(),
            None => VecDeque::from([Split {
                index: ctx.subtask_index as u64,
                count: ctx.parallelism as u64,
                next: 0,
            }]),
        };
        Ok(NexmarkReader {
            generator,
            rate_limit: table.options.rate_limit,
            splits,
            schema,
            started: None,
            emitted: 0,
        })
    }

    /// Adds the splits' positions to a checkpoint.
    pub fn snapshot_state(&self, snapshot: &mut StateSnapshot) -> WeirResult<()> {
        snapshot.add_list(SPLITS, ListMode::Split, self.splits.iter())
    }

    /// The events this reader may emit now under the rate limit (`None`: no limit).
    fn budget(&mut self) -> Option<u64> {
        let rate = self.rate_limit?;
        let share: f64 = self.splits.iter().map(|s| 1.0 / s.count as f64).sum();
        let start = *self.started.get_or_insert_with(Instant::now);
        let allowed = (start.elapsed().as_secs_f64() * rate * share) as u64 + 1;
        Some(allowed.saturating_sub(self.emitted))
    }

    /// Generates up to `max` events of the next split: `Ok(None)` once every split is done,
    /// an empty batch with a delay when the rate limit says to wait.
    pub fn next_batch(&mut self, max: usize) -> WeirResult<Option<(RecordBatch, Duration)>> {
        let total = self.generator.config().events.unwrap_or(u64::MAX);
        while let Some(split) = self.splits.front() {
            if split.event_number(split.next) < total {
                break;
            }
            self.splits.pop_front();
        }
        let Some(mut split) = self.splits.pop_front() else {
            return Ok(None);
        };
        let mut n = max as u64;
        if let Some(budget) = self.budget() {
            if budget == 0 {
                self.splits.push_front(split);
                let empty = RecordBatch::new_empty(self.schema.clone());
                return Ok(Some((empty, Duration::from_millis(5))));
            }
            n = n.min(budget);
        }
        let remaining = (total - split.event_number(split.next)).div_ceil(split.count);
        let n = n.min(remaining);
        let events: Vec<Event> = (split.next..split.next + n)
            .map(|k| self.generator.event(split.event_number(k)))
            .collect();
        split.next += n;
        self.emitted += n;
        self.splits.push_back(split);
        Ok(Some((events_batch(&events, &self.schema)?, Duration::ZERO)))
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Int64Type, Schema};

    use super::*;

    fn table_schema() -> SchemaRef {
        let row = |kinds: &[(&str, Kind)]| {
            DataType::Struct(
                kinds
                    .iter()
                    .map(|(n, k)| Field::new(*n, arrow_kind(*k), true))
                    .collect(),
            )
        };
        Arc::new(Schema::new(vec![
            Field::new("event_type", DataType::Int32, true),
            Field::new("person", row(PERSON), true),
            Field::new("auction", row(AUCTION), true),
            Field::new("bid", row(BID), true),
        ]))
    }

    #[test]
    fn rows_hold_the_generated_events() {
        let generator = NexmarkGenerator::new(Default::default()).unwrap();
        let events: Vec<Event> = generator.events(0..100).collect();
        let batch = events_batch(&events, &table_schema()).unwrap();
        let types = batch
            .column(0)
            .as_primitive::<arrow::datatypes::Int32Type>();
        let bids = batch.column(3).as_struct();
        let auctions = batch.column(2).as_struct();
        for (i, event) in events.iter().enumerate() {
            assert_eq!(types.value(i), i32::from(event.event_type()));
            match event {
                Event::Bid(b) => {
                    assert!(bids.is_valid(i) && auctions.is_null(i));
                    let price = bids.column(2).as_primitive::<Int64Type>().value(i);
                    assert_eq!(price, b.price as i64);
                    assert_eq!(bids.column(4).as_string::<i32>().value(i), b.url);
                }
                Event::Auction(a) => {
                    assert!(auctions.is_valid(i) && bids.is_null(i));
                    let seller = auctions.column(7).as_primitive::<Int64Type>().value(i);
                    assert_eq!(seller, a.seller as i64);
                }
                Event::Person(_) => assert!(bids.is_null(i) && auctions.is_null(i)),
            }
        }
    }

    #[test]
    fn columns_are_checked_by_name() {
        let options = std::collections::BTreeMap::from([
            ("connector".to_string(), "nexmark".to_string()),
            ("events.num".to_string(), "10".to_string()),
        ]);
        let subset: SchemaRef = Arc::new(Schema::new(vec![Field::new(
            "bid",
            DataType::Struct(Fields::from(vec![Field::new(
                "price",
                DataType::Int32,
                true,
            )])),
            true,
        )]));
        assert!(NexmarkTable::from_options(&options, &subset).is_ok());
        let events: Vec<Event> = NexmarkGenerator::new(Default::default())
            .unwrap()
            .events(0..50)
            .collect();
        let batch = events_batch(&events, &subset).unwrap();
        assert_eq!(
            batch.column(0).as_struct().column(0).data_type(),
            &DataType::Int32
        );
        let bad: SchemaRef = Arc::new(Schema::new(vec![Field::new("bids", DataType::Int64, true)]));
        let err = NexmarkTable::from_options(&options, &bad).unwrap_err();
        assert!(err.to_string().contains("no column 'bids'"), "{err}");
        let unknown =
            std::collections::BTreeMap::from([("rows-per-second".to_string(), "5".to_string())]);
        let err = NexmarkTable::from_options(&unknown, &subset).unwrap_err();
        assert!(err.to_string().contains("rows-per-second"), "{err}");
    }
}
