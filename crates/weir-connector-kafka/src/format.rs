//! How Kafka records become typed records and back: [`KafkaDeserializer`] for the source,
//! [`KafkaSerializer`] for the sink, with JSON (serde) and raw UTF-8 implementations and
//! adapters for closures.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A record as read from Kafka, borrowed from the client's buffer.
#[derive(Debug, Clone, Copy)]
pub struct ConsumedRecord<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    /// The record's timestamp (create or log-append time) in ms since the epoch, if any.
    pub timestamp: Option<i64>,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
}

/// Turns a Kafka record into a typed record (Flink's `KafkaRecordDeserializationSchema`).
pub trait KafkaDeserializer<T>: Send + Sync + 'static {
    /// The format's name, the prefix of its options (`json` for `json.ignore-parse-errors`).
    fn format(&self) -> &str;
    /// The typed record, or why the bytes are not one (the source adds topic, partition and
    /// offset to the message).
    fn deserialize(&self, record: &ConsumedRecord<'_>) -> Result<T, String>;
}

/// The value as JSON, deserialized with serde (a missing value is an error).
pub struct JsonDeserializer<T>(PhantomData<fn() -> T>);

impl<T> JsonDeserializer<T> {
    /// A deserializer of JSON values into `T`.
    pub fn new() -> Self {
        JsonDeserializer(PhantomData)
    }
}

impl<T> Default for JsonDeserializer<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: DeserializeOwned + 'static> KafkaDeserializer<T> for JsonDeserializer<T> {
    fn format(&self) -> &str {
        "json"
    }

    fn deserialize(&self, record: &ConsumedRecord<'_>) -> Result<T, String> {
        let value = record.value.ok_or("the record has no value")?;
        serde_json::from_slice(value).map_err(|e| format!("invalid JSON: {e}"))
    }
}

/// The value as UTF-8 text (Flink's `SimpleStringSchema`; a missing value is empty text).
#[derive(Debug, Clone, Copy, Default)]
pub struct StringDeserializer;

impl KafkaDeserializer<String> for StringDeserializer {
    fn format(&self) -> &str {
        "raw"
    }

    fn deserialize(&self, record: &ConsumedRecord<'_>) -> Result<String, String> {
        String::from_utf8(record.value.unwrap_or_default().to_vec())
            .map_err(|e| format!("the value is not UTF-8: {e}"))
    }
}

/// A deserializer made of a format name and a closure.
pub struct FnDeserializer<F> {
    format: String,
    f: F,
}

/// A deserializer calling `f`; `format` names it (and prefixes its options).
pub fn deserializer_fn<T, F>(format: &str, f: F) -> FnDeserializer<F>
where
    F: Fn(&ConsumedRecord<'_>) -> Result<T, String> + Send + Sync + 'static,
{
    FnDeserializer {
        format: format.to_string(),
        f,
    }
}

impl<T, F> KafkaDeserializer<T> for FnDeserializer<F>
where
    F: Fn(&ConsumedRecord<'_>) -> Result<T, String> + Send + Sync + 'static,
{
    fn format(&self) -> &str {
        &self.format
    }

    fn deserialize(&self, record: &ConsumedRecord<'_>) -> Result<T, String> {
        (self.f)(record)
    }
}

/// Key and value bytes of a record to produce (a record with a key and no value is a
/// tombstone: compaction removes the key).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducedRecord {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

/// Turns a typed record into the key and value of a Kafka record (Flink's
/// `KafkaRecordSerializationSchema`).
pub trait KafkaSerializer<T>: Send + Sync + 'static {
    /// The key and value bytes, or why `record` cannot be written.
    fn serialize(&self, record: &T) -> Result<ProducedRecord, String>;
}

/// A function giving a record's key.
type KeyFn<T> = Box<dyn Fn(&T) -> String + Send + Sync>;

/// The value as JSON (serde), with a key from an optional key function (its text as UTF-8).
pub struct JsonSerializer<T> {
    key: Option<KeyFn<T>>,
}

impl<T> JsonSerializer<T> {
    /// JSON values without keys.
    pub fn new() -> Self {
        JsonSerializer { key: None }
    }

    /// JSON values keyed by `key(record)`.
    pub fn with_key(key: impl Fn(&T) -> String + Send + Sync + 'static) -> Self {
        JsonSerializer {
            key: Some(Box::new(key)),
        }
    }
}

impl<T> Default for JsonSerializer<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Serialize + 'static> KafkaSerializer<T> for JsonSerializer<T> {
    fn serialize(&self, record: &T) -> Result<ProducedRecord, String> {
        Ok(ProducedRecord {
            key: self.key.as_ref().map(|key| key(record).into_bytes()),
            value: Some(serde_json::to_vec(record).map_err(|e| e.to_string())?),
        })
    }
}

/// Records that already are key and value bytes, written as they are (for front ends that
/// encode rows themselves, such as SQL's formats).
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesSerializer;

impl KafkaSerializer<ProducedRecord> for BytesSerializer {
    fn serialize(&self, record: &ProducedRecord) -> Result<ProducedRecord, String> {
        Ok(record.clone())
    }
}

/// Text records as UTF-8 values without keys (Flink's `SimpleStringSchema`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StringSerializer;

impl KafkaSerializer<String> for StringSerializer {
    fn serialize(&self, record: &String) -> Result<ProducedRecord, String> {
        Ok(ProducedRecord {
            key: None,
            value: Some(record.as_bytes().to_vec()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(value: &[u8]) -> ConsumedRecord<'_> {
        ConsumedRecord {
            topic: "t",
            partition: 0,
            offset: 0,
            timestamp: None,
            key: None,
            value: Some(value),
        }
    }

    #[test]
    fn json_round_trips_and_explains_bad_input() {
        let bytes = JsonSerializer::<(String, i64)>::new()
            .serialize(&("a".into(), 1))
            .unwrap();
        assert_eq!(bytes.value.as_deref(), Some(&b"[\"a\",1]"[..]));
        let de = JsonDeserializer::<(String, i64)>::new();
        assert_eq!(
            de.deserialize(&record(b"[\"a\",1]")).unwrap(),
            ("a".to_string(), 1)
        );
        let err = de.deserialize(&record(b"{oops")).unwrap_err();
        assert!(err.starts_with("invalid JSON: "), "{err}");
    }

    #[test]
    fn strings_must_be_utf8() {
        assert_eq!(
            StringDeserializer.deserialize(&record(b"hi")).unwrap(),
            "hi"
        );
        assert!(StringDeserializer
            .deserialize(&record(&[0xff, 0xfe]))
            .unwrap_err()
            .contains("not UTF-8"));
    }
}
