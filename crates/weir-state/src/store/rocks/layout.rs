//! How state rows are laid out in RocksDB: the row key is
//! `key group (u16, big-endian) | table id (u16, big-endian) | key | namespace`, key and
//! namespace encoded with [`encode`](crate::encode)'s codec, and the value is the encoded
//! entry. Rows of one key group sort together, so a key group (or a range of them) is one
//! contiguous scan, and within it the rows of one table are too. A key's encoding is
//! self-delimiting, so the rows of one key are contiguous and the namespace follows it.

use serde::de::DeserializeOwned;
use serde::Serialize;
use weir_core::{Result, WeirError};

use crate::backend::Namespace;

/// Length of the (key group, table) prefix of a row key.
pub(crate) const PREFIX_LEN: usize = 4;

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
    bincode::serialize_into(&mut *out, key)
        .and_then(|()| bincode::serialize_into(&mut *out, &ns))
        .map_err(|e| WeirError::Other(format!("cannot encode a state key: {e}")))
}

/// The key and namespace of a row key written by [`write_row_key`]; `what` names the state
/// in errors.
pub(crate) fn split_row_key<K: DeserializeOwned>(row: &[u8], what: &str) -> Result<(K, Namespace)> {
    let mut rest = &row[PREFIX_LEN..];
    let key = bincode::deserialize_from(&mut rest);
    let ns = key.and_then(|key| Ok((key, bincode::deserialize(rest)?)));
    ns.map_err(|e| WeirError::Other(format!("corrupt row of state '{what}' in RocksDB: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_keys_split_back_into_key_and_namespace() {
        let mut row = Vec::new();
        let ns = Namespace::Window { start: 5, end: 10 };
        write_row_key(&mut row, 300, 2, &"key".to_string(), ns).unwrap();
        assert_eq!(&row[..PREFIX_LEN], &prefix(300, 2));
        let (key, back): (String, Namespace) = split_row_key(&row, "t").unwrap();
        assert_eq!((key.as_str(), back), ("key", ns));
    }

    #[test]
    fn prefixes_order_by_key_group_then_table() {
        assert!(prefix(1, 9) < prefix(2, 0));
        assert!(prefix(1, 9) < prefix_end(prefix(1, 9)));
        assert_eq!(prefix_end(prefix(1, 0xFFFF)), prefix(2, 0));
    }
}
