//! What the SQL Kafka tests share: running statements and collecting a query's rows, reading
//! a topic as the table a compacted topic stands for, temporary folders and checkpoints.

#![allow(dead_code)] // each test file uses a part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use weir_core::config::Configuration;
use weir_sql::display::{format_value, BoolStyle};
use weir_sql::{RowKind, StatementResult, TableEnvironment};

#[path = "../../../../crates/weir-connector-kafka/tests/common/mod.rs"]
pub mod common;

pub use common::{KeyedRecord, TestBroker};

/// An environment with `config` in which every statement of `ddl` ran.
pub fn env_with(config: Configuration, ddl: &[&str]) -> TableEnvironment {
    let mut env = TableEnvironment::new(config);
    for statement in ddl {
        env.execute_sql(statement).unwrap();
    }
    env
}

/// A query's rows with their kinds, each value as text (NULL as `None`).
pub type Rows = Vec<(RowKind, Vec<Option<String>>)>;

/// The rows of query `sql` once its job ended, or the job's error.
pub fn query(env: &mut TableEnvironment, sql: &str) -> Result<Rows, String> {
    let StatementResult::Query(result) = env.execute_sql(sql).map_err(|e| e.to_string())? else {
        panic!("{sql} is not a query");
    };
    let mut rows = Vec::new();
    for batch in result.rows.iter() {
        for row in 0..batch.rows.num_rows() {
            let values = batch
                .rows
                .columns()
                .iter()
                .map(|c| format_value(c.as_ref(), row, BoolStyle::Lower))
                .collect();
            rows.push((batch.kind(row), values));
        }
    }
    result.job.wait().map_err(|e| e.to_string())?;
    Ok(rows)
}

/// Runs `INSERT` statement `sql` to its end.
pub fn insert(env: &mut TableEnvironment, sql: &str) -> Result<(), String> {
    let StatementResult::Job(job) = env.execute_sql(sql).map_err(|e| e.to_string())? else {
        panic!("{sql} is not an INSERT");
    };
    job.wait().map(|_| ()).map_err(|e| e.to_string())
}

/// What a compacted topic keeps of `records` (in offset order per partition): the last value
/// of each key; a tombstone removes its key.
pub fn compacted(records: &[KeyedRecord]) -> BTreeMap<String, String> {
    let mut table = BTreeMap::new();
    for record in records {
        let key = record.key.clone().expect("upsert records have keys");
        match &record.value {
            Some(value) => table.insert(key, value.clone()),
            None => table.remove(&key),
        };
    }
    table
}

/// A JSON object's field as text (strings without quotes).
pub fn json_field(object: &str, field: &str) -> String {
    let start = object
        .find(&format!("\"{field}\":"))
        .unwrap_or_else(|| panic!("no field {field} in {object}"))
        + field.len()
        + 3;
    let rest = &object[start..];
    let end = if let Some(quoted) = rest.strip_prefix('"') {
        return quoted[..quoted.find('"').expect("a closing quote")].to_string();
    } else {
        rest.find([',', '}']).expect("the end of a value")
    };
    rest[..end].to_string()
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "weir-sql-kafka-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The newest complete checkpoint (highest id with `_metadata`) of any job under `dir`.
pub fn newest_checkpoint(dir: &Path) -> Option<PathBuf> {
    let mut best: Option<(u64, PathBuf)> = None;
    for job in std::fs::read_dir(dir).into_iter().flatten() {
        for chk in std::fs::read_dir(job.unwrap().path()).into_iter().flatten() {
            let path = chk.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let Some(id) = name
                .strip_prefix("chk-")
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            if path.join("_metadata").is_file() && best.as_ref().is_none_or(|(b, _)| id > *b) {
                best = Some((id, path));
            }
        }
    }
    best.map(|(_, path)| path)
}
