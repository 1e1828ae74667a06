//! What state keys and values must be, and how they are encoded in snapshots.
//!
//! Snapshots encode state with `bincode` (compact, fast, driven by serde): every key and
//! every stored value must implement serde's `Serialize` and `DeserializeOwned`, as Flink
//! requires a serializer for every state type. Values are also `Clone + Sync` because a
//! snapshot shares the state maps with the thread that writes them (copy on write).

use std::hash::Hash;

use serde::de::DeserializeOwned;
use serde::Serialize;
use weir_core::{Result, WeirError};

/// What a key needs: hashable, comparable, cloneable, shareable between threads, encodable.
pub trait StateKey:
    Hash + Eq + Clone + Send + Sync + Serialize + DeserializeOwned + 'static
{
}
impl<K: Hash + Eq + Clone + Send + Sync + Serialize + DeserializeOwned + 'static> StateKey for K {}

/// What a stored state value needs: cloneable, shareable between threads, encodable.
pub trait StateValue: Clone + Send + Sync + Serialize + DeserializeOwned + 'static {}
impl<V: Clone + Send + Sync + Serialize + DeserializeOwned + 'static> StateValue for V {}

/// Encodes `value` for a snapshot.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    bincode::serialize(value).map_err(|e| WeirError::Other(format!("cannot encode state: {e}")))
}

/// Decodes `bytes` written by [`encode`]; `what` names the state in the error.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    bincode::deserialize(bytes).map_err(|e| {
        WeirError::Other(format!(
            "cannot decode the restored state '{what}' ({e}): was it written by another version of the job, with other state types?"
        ))
    })
}
