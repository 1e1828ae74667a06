//! Rows of a RocksDB table written in the portable key-group format without decoding them:
//! a key group of a table is the encoding of a map key → (map namespace → entry), and the
//! codec encodes a map as its length followed by its pairs, so the encoded keys, namespaces
//! and entries of the rows can be put together as they are.

use std::sync::Arc;

use weir_core::keygroup::KeyGroupRange;
use weir_core::Result;

use super::layout::{prefix, split_raw};
use super::{scan, Checkpoint};
use crate::snapshot::{KeyGroupBytes, KeyedWriter};

/// A writer of table `table` (named `name`) in the key groups `range` of `checkpoint`, in the
/// portable format.
pub(crate) fn table_writer(
    checkpoint: Arc<Checkpoint>,
    range: KeyGroupRange,
    table: u16,
    name: String,
) -> KeyedWriter {
    Box::new(move || {
        let mut out = KeyGroupBytes::new();
        for kg in range.start..=range.end_inclusive {
            let mut group = GroupEncoder::default();
            scan(&checkpoint.db, prefix(kg as u16, table), |row, entry| {
                group.push(row, entry, &name)
            })?;
            if let Some(bytes) = group.finish() {
                out.insert(kg as u32, bytes);
            }
        }
        Ok(out)
    })
}

/// Builds one key group of one table in the portable format from its rows, given in row-key
/// order (the rows of a key are contiguous).
#[derive(Default)]
pub(crate) struct GroupEncoder {
    out: Vec<u8>,
    keys: u64,
    /// The current key's encoding, and where its namespace count is in `out`.
    key: Vec<u8>,
    count_at: usize,
    namespaces: u64,
}

impl GroupEncoder {
    /// Adds a row; `what` names the state in errors.
    pub(crate) fn push(&mut self, row: &[u8], entry: &[u8], what: &str) -> Result<()> {
        let (key, ns) = split_raw(row, what)?;
        if self.keys == 0 || key != self.key.as_slice() {
            if self.keys == 0 {
                self.out.extend_from_slice(&[0; 8]);
            }
            self.finish_key();
            self.keys += 1;
            self.key.clear();
            self.key.extend_from_slice(key);
            self.out.extend_from_slice(key);
            self.count_at = self.out.len();
            self.out.extend_from_slice(&[0; 8]);
        }
        self.namespaces += 1;
        self.out.extend_from_slice(ns);
        self.out.extend_from_slice(entry);
        Ok(())
    }

    fn finish_key(&mut self) {
        if self.namespaces > 0 {
            let at = self.count_at;
            self.out[at..at + 8].copy_from_slice(&self.namespaces.to_le_bytes());
            self.namespaces = 0;
        }
    }

    /// The encoded key group, or `None` if no row was added.
    pub(crate) fn finish(mut self) -> Option<Vec<u8>> {
        if self.keys == 0 {
            return None;
        }
        self.finish_key();
        self.out[..8].copy_from_slice(&self.keys.to_le_bytes());
        Some(self.out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;
    use crate::backend::Namespace;
    use crate::store::rocks::layout::write_row_key;
    use crate::store::Entry;

    #[test]
    fn rows_become_the_encoding_of_the_key_group_map() {
        let window = Namespace::Window { start: 0, end: 10 };
        let rows = [
            ("a".to_string(), Namespace::Void, 1i64),
            ("a".to_string(), window, 2),
            ("bb".to_string(), Namespace::Void, 3),
        ];
        let mut encoded: Vec<(Vec<u8>, Vec<u8>)> = rows
            .iter()
            .map(|(key, ns, value)| {
                let mut row = Vec::new();
                write_row_key(&mut row, 4, 1, key, *ns).unwrap();
                let entry = Entry {
                    value: *value,
                    touched_ms: 7,
                };
                (row, crate::encode(&entry).unwrap())
            })
            .collect();
        encoded.sort();
        let mut group = GroupEncoder::default();
        for (row, entry) in &encoded {
            group.push(row, entry, "t").unwrap();
        }
        let bytes = group.finish().unwrap();
        let decoded: HashMap<String, BTreeMap<Namespace, Entry<i64>>> =
            crate::decode(&bytes, "t").unwrap();
        let mut flat: Vec<(String, Namespace, i64)> = decoded
            .into_iter()
            .flat_map(|(k, nss)| nss.into_iter().map(move |(ns, e)| (k.clone(), ns, e.value)))
            .collect();
        flat.sort_by_key(|(k, _, v)| (k.clone(), *v));
        assert_eq!(flat, rows.to_vec());
        assert!(GroupEncoder::default().finish().is_none());
    }
}
