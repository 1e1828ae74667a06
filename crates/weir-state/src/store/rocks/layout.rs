//! How state rows are laid out in RocksDB: the row key is
//! `key group (u16, big-endian) | table id (u16, big-endian) | key length (u32, big-endian) |
//! key | namespace`, key and namespace encoded with [`encode`](crate::encode)'s codec, and
//! the value is the encoded entry. Rows of one key group sort together, so a key group (or a
//! range of them) is one contiguous scan, and within it the rows of one table are too; the
//! rows of one key are contiguous. The key's length lets rows be split into key and namespace
//! without knowing their types ([`split_raw`]), so that snapshots and restores move rows as
//! bytes.

use serde::Serialize;
use weir_core::{Result, WeirError};

use crate::backend::Namespace;

/// Length of the (key group, table) prefix of a row key.
pub(crate) const PREFIX_LEN: usize = 4;
/// Length of the key's length field after the prefix.
const KEY_LEN_LEN: usize = 4;

/// The prefix of the rows of table `table` in key group `key_group`.
pub(crate) fn prefix(key_group: u16, table: u16) -> [u8; PREFIX_LEN] {
    let [g0, g1] = key_group.to_be_bytes();
    let [t0, t1] = table.to_be_bytes();
    [g0, g1, t0, t1]
}

/// The first row key after every row of `prefix` (an exclusive upper bound for a scan).
pub(crate) fn prefix_end(prefix: [u8; PREFIX_LEN]) -> [u8; PREFIX_LEN] {
    (u32::from_be_bytes(prefix) + 1).to_be_bytes()
}

/// Writes the row key of `key` in `ns` of table `table` in key group `key_group` to `out`.
pub(crate) fn write_row_key<K: Serialize>(
    out: &mut Vec<u8>,
    key_group: u16,
    table: u16,
    key: &K,
    ns: Namespace,
) -> Result<()> {
    out.extend_from_slice(&prefix(key_group, table));
    out.extend_from_slice(&[0; KEY_LEN_LEN]);
    let key_start = out.len();
    let failed = |e: bincode::Error| WeirError::Other(format!("cannot encode a state key: {e}"));
    bincode::serialize_into(&mut *out, key).map_err(failed)?;
    let key_len = u32::try_from(out.len() - key_start)
        .map_err(|_| WeirError::Other("a state key is longer than 4 GiB".into()))?;
    out[PREFIX_LEN..key_start].copy_from_slice(&key_len.to_be_bytes());
    bincode::serialize_into(&mut *out, &ns).map_err(failed)
}

/// The encoded key and namespace of a row key written by [`write_row_key`]; `what` names the
/// state in errors.
pub(crate) fn split_raw<'a>(row: &'a [u8], what: &str) -> Result<(&'a [u8], &'a [u8])> {
    let corrupt = || WeirError::Other(format!("corrupt row of state '{what}' in RocksDB"));
    let rest = row.get(PREFIX_LEN..).ok_or_else(corrupt)?;
    let (len, rest) = rest
        .split_first_chunk::<KEY_LEN_LEN>()
        .ok_or_else(corrupt)?;
    let len = u32::from_be_bytes(*len) as usize;
    if rest.len() < len {
        return Err(corrupt());
    }
    Ok(rest.split_at(len))
}

/// `row` moved to `table`: the same row key with another table id.
pub(crate) fn with_table(row: &[u8], table: u16) -> Vec<u8> {
    let mut moved = row.to_vec();
    moved[2..PREFIX_LEN].copy_from_slice(&table.to_be_bytes());
    moved
}

/// The key group and table id of a row key.
pub(crate) fn row_prefix(row: &[u8]) -> (u16, u16) {
    (
        u16::from_be_bytes([row[0], row[1]]),
        u16::from_be_bytes([row[2], row[3]]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_keys_split_back_into_encoded_key_and_namespace() {
        let mut row = Vec::new();
        let ns = Namespace::Window { start: 5, end: 10 };
        write_row_key(&mut row, 300, 2, &"key".to_string(), ns).unwrap();
        assert_eq!(&row[..PREFIX_LEN], &prefix(300, 2));
        let (key, back) = split_raw(&row, "t").unwrap();
        assert_eq!(key, crate::encode(&"key".to_string()).unwrap());
        assert_eq!(back, crate::encode(&ns).unwrap());
        assert_eq!(row_prefix(&with_table(&row, 7)), (300, 7));
    }

    #[test]
    fn prefixes_order_by_key_group_then_table() {
        assert!(prefix(1, 9) < prefix(2, 0));
        assert!(prefix(1, 9) < prefix_end(prefix(1, 9)));
        assert_eq!(prefix_end(prefix(1, 0xFFFF)), prefix(2, 0));
    }
}
