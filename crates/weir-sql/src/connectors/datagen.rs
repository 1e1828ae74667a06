//! The `datagen` connector: rows of random or sequential values, optionally rate-limited
//! (`rows-per-second`) and bounded (`number-of-rows`, or the end of a sequence).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::error::{Result, SqlError};

/// The option keys of the datagen connector (`fields.#.` stands for a field name).
pub const OPTIONS: &[&str] = &[
    "rows-per-second",
    "number-of-rows",
    "fields.#.kind",
    "fields.#.min",
    "fields.#.max",
    "fields.#.length",
    "fields.#.start",
    "fields.#.end",
    "fields.#.max-past",
    "fields.#.null-rate",
];

/// How one field is generated.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldGen {
    /// `'kind' = 'sequence'`: `start`, `start + 1`, ... `end` (inclusive); the source ends after
    /// the last value.
    Sequence { start: i64, end: i64 },
    /// `'kind' = 'random'`: uniform in `[min, max]` for numbers, `length` characters for
    /// strings, up to `max-past` ms before now for timestamps.
    Random {
        min: f64,
        max: f64,
        length: usize,
        max_past_ms: i64,
    },
}

/// Options of the datagen connector.
#[derive(Debug, Clone, PartialEq)]
pub struct DatagenOptions {
    /// `rows-per-second` (default 10000).
    pub rows_per_second: u64,
    /// `number-of-rows`: the source ends after this many rows.
    pub number_of_rows: Option<u64>,
    /// One generator per column.
    pub fields: Vec<FieldGen>,
}

fn number<T: std::str::FromStr>(
    options: &BTreeMap<String, String>,
    key: &str,
) -> Result<Option<T>> {
    options
        .get(key)
        .map(|v| {
            v.trim().parse().map_err(|_| {
                SqlError::connector(format!("option '{key}' must be a number, not '{v}'"))
            })
        })
        .transpose()
}

impl DatagenOptions {
    /// Reads the options for a table of `schema`.
    pub fn from_options(options: &BTreeMap<String, String>, schema: &SchemaRef) -> Result<Self> {
        let fields = schema
            .fields()
            .iter()
            .map(|f| {
                let key = |o: &str| format!("fields.{}.{o}", f.name());
                let kind = options
                    .get(&key("kind"))
                    .map(String::as_str)
                    .unwrap_or("random");
                match kind {
                    "sequence" => {
                        let start = number(options, &key("start"))?;
                        let end = number(options, &key("end"))?;
                        match (start, end) {
                            (Some(start), Some(end)) => Ok(FieldGen::Sequence { start, end }),
                            _ => Err(SqlError::connector(format!(
                                "a sequence field needs '{}' and '{}'",
                                key("start"),
                                key("end")
                            ))),
                        }
                    }
                    "random" => {
                        let (default_min, default_max) = match f.data_type() {
                            DataType::Int8 => (i8::MIN as f64, i8::MAX as f64),
                            DataType::Int16 => (i16::MIN as f64, i16::MAX as f64),
                            DataType::Int32 => (i32::MIN as f64, i32::MAX as f64),
                            DataType::Float32 | DataType::Float64 => {
                                (f32::MIN as f64, f32::MAX as f64)
                            }
                            _ => (i64::MIN as f64, i64::MAX as f64),
                        };
                        Ok(FieldGen::Random {
                            min: number(options, &key("min"))?.unwrap_or(default_min),
                            max: number(options, &key("max"))?.unwrap_or(default_max),
                            length: number(options, &key("length"))?.unwrap_or(100),
                            max_past_ms: number(options, &key("max-past"))?.unwrap_or(0),
                        })
                    }
                    other => Err(SqlError::connector(format!(
                        "'{}' must be 'random' or 'sequence', not '{other}'",
                        key("kind")
                    ))),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DatagenOptions {
            rows_per_second: number(options, "rows-per-second")?.unwrap_or(10_000),
            number_of_rows: number(options, "number-of-rows")?,
            fields,
        })
    }

    /// How many rows the source produces in all, if it is bounded.
    pub fn total_rows(&self) -> Option<u64> {
        let sequences = self.fields.iter().filter_map(|f| match f {
            FieldGen::Sequence { start, end } => Some((end - start + 1).max(0) as u64),
            FieldGen::Random { .. } => None,
        });
        sequences.chain(self.number_of_rows).min()
    }
}

/// A small, seeded pseudo-random generator (SplitMix64): reproducible and cheap.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Generates rows `from..from + n` of the table.
pub fn generate(
    options: &DatagenOptions,
    schema: &SchemaRef,
    from: u64,
    n: usize,
    now_ms: i64,
) -> Result<RecordBatch> {
    let mut rng = SplitMix::new(from.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5EED);
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (field, generator) in schema.fields().iter().zip(&options.fields) {
        let texts: Vec<String> = (0..n as u64)
            .map(|i| match generator {
                FieldGen::Sequence { start, .. } => (start + (from + i) as i64).to_string(),
                FieldGen::Random {
                    min,
                    max,
                    length,
                    max_past_ms,
                } => match field.data_type() {
                    DataType::Utf8 => (0..*length)
                        .map(|_| char::from_digit((rng.next_u64() % 16) as u32, 16).unwrap_or('0'))
                        .collect(),
                    DataType::Boolean => rng.next_u64().is_multiple_of(2).to_string(),
                    DataType::Timestamp(..) => {
                        let past = if *max_past_ms > 0 {
                            (rng.next_u64() % *max_past_ms as u64) as i64
                        } else {
                            0
                        };
                        crate::display::timestamp_ms(now_ms - past)
                    }
                    DataType::Float32 | DataType::Float64 => {
                        (min + rng.next_f64() * (max - min)).to_string()
                    }
                    _ => {
                        let span = (max - min) as u128 + 1;
                        let offset = (rng.next_u64() as u128 % span.max(1)) as i128;
                        (*min as i128 + offset).to_string()
                    }
                },
            })
            .collect();
        let strings: ArrayRef = Arc::new(StringArray::from(texts));
        columns.push(cast(&strings, field.data_type())?);
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

#[cfg(test)]
mod tests {
    use arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn sequence_bounds_the_source() {
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("v", DataType::Int32, true),
        ]));
        let options: BTreeMap<String, String> = [
            ("fields.id.kind", "sequence"),
            ("fields.id.start", "1"),
            ("fields.id.end", "10"),
            ("fields.v.min", "5"),
            ("fields.v.max", "6"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let o = DatagenOptions::from_options(&options, &schema).unwrap();
        assert_eq!(o.total_rows(), Some(10));
        let batch = generate(&o, &schema, 3, 4, 0).unwrap();
        let ids = batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        assert_eq!(ids.values(), &[4, 5, 6, 7]);
        let v = batch
            .column(1)
            .as_any()
            .downcast_ref::<arrow::array::Int32Array>()
            .unwrap();
        assert!(v.values().iter().all(|x| (5..=6).contains(x)));
    }
}
