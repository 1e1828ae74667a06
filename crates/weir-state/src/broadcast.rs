//! Broadcast state (Flink's broadcast state pattern): operator state that is not keyed, one
//! map per [`BroadcastState`] descriptor. Only the broadcast side of an operator writes it,
//! and every subtask sees the same broadcast elements, so it is the same on every subtask.
//!
//! The operator keeps a [`BroadcastStateStore`] and hands user code a context that gives
//! read-only access ([`ReadOnlyBroadcastAccess`]) to non-broadcast elements and read-write
//! access ([`BroadcastAccess`]) to broadcast elements; the descriptor's methods take the
//! context, as the keyed state handles do.

use std::any::Any;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use weir_core::{Result, WeirError};

use crate::data::{decode, encode, StateKey, StateValue};
use crate::snapshot::{ListMode, ListSnapshot, RestoredState, StateSnapshot};

/// Prefix of the list states that hold broadcast maps in snapshots (`broadcast/<name>`).
const BROADCAST_PREFIX: &str = "broadcast/";

/// A broadcast map of any key and value type.
trait ErasedMap: Send {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn encode(&self) -> Result<Vec<u8>>;
}

impl<K: StateKey, V: StateValue> ErasedMap for HashMap<K, V> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn encode(&self) -> Result<Vec<u8>> {
        encode(self)
    }
}

/// One broadcast map: decoded on first use when it was restored.
#[derive(Default)]
struct Slot {
    restored: Option<Vec<u8>>,
    map: OnceCell<Box<dyn ErasedMap>>,
}

/// The broadcast state of one operator subtask: a map per registered descriptor name.
pub struct BroadcastStateStore {
    registered: Vec<String>,
    maps: HashMap<String, Slot>,
}

impl BroadcastStateStore {
    /// An empty store that accepts the descriptors named in `registered` (those passed to
    /// `broadcast_state`).
    pub fn new(registered: Vec<String>) -> Self {
        BroadcastStateStore {
            registered,
            maps: HashMap::new(),
        }
    }

    fn check_registered(&self, name: &str) -> Result<()> {
        if self.registered.iter().any(|n| n == name) {
            return Ok(());
        }
        Err(WeirError::Other(format!(
            "broadcast state '{name}' does not exist: check the descriptor's name, or pass the \
             descriptor to broadcast_state(...) (registered: {:?})",
            self.registered
        )))
    }

    fn type_error(name: &str) -> WeirError {
        WeirError::Other(format!(
            "broadcast state '{name}' is used with two different key or value types"
        ))
    }

    /// The map of `slot`, decoding it first if it was restored and not used yet.
    fn init<K: StateKey, V: StateValue>(slot: &Slot, name: &str) -> Result<()> {
        if slot.map.get().is_none() {
            let map: HashMap<K, V> = match &slot.restored {
                Some(bytes) => decode(bytes, name)?,
                None => HashMap::new(),
            };
            let _ = slot.map.set(Box::new(map));
        }
        Ok(())
    }

    /// The map named `name`, if anything was ever put in it.
    fn map<K: StateKey, V: StateValue>(&self, name: &str) -> Result<Option<&HashMap<K, V>>> {
        self.check_registered(name)?;
        let Some(slot) = self.maps.get(name) else {
            return Ok(None);
        };
        Self::init::<K, V>(slot, name)?;
        let map = slot.map.get().expect("initialised above");
        map.as_any()
            .downcast_ref::<HashMap<K, V>>()
            .map(Some)
            .ok_or_else(|| Self::type_error(name))
    }

    /// The map named `name`, created empty on first use.
    fn map_mut<K: StateKey, V: StateValue>(&mut self, name: &str) -> Result<&mut HashMap<K, V>> {
        self.check_registered(name)?;
        let slot = self.maps.entry(name.to_string()).or_default();
        Self::init::<K, V>(slot, name)?;
        let map = slot.map.get_mut().expect("initialised above");
        map.as_any_mut()
            .downcast_mut::<HashMap<K, V>>()
            .ok_or_else(|| Self::type_error(name))
    }

    /// Adds every broadcast map to a checkpoint, as list state that every subtask restores.
    pub fn snapshot(&self, snapshot: &mut StateSnapshot) -> Result<()> {
        for (name, slot) in &self.maps {
            let bytes = match (slot.map.get(), &slot.restored) {
                (Some(map), _) => map.encode()?,
                (None, Some(bytes)) => bytes.clone(),
                (None, None) => continue,
            };
            let list = ListSnapshot {
                mode: ListMode::Broadcast,
                elements: vec![bytes],
            };
            snapshot.add_encoded_list(&format!("{BROADCAST_PREFIX}{name}"), list);
        }
        Ok(())
    }

    /// Takes the restored broadcast maps; each is decoded when first used.
    pub fn restore(&mut self, restored: &RestoredState) {
        for name in &self.registered {
            if let Some(bytes) = restored
                .encoded_list(&format!("{BROADCAST_PREFIX}{name}"))
                .first()
            {
                let slot = Slot {
                    restored: Some(bytes.clone()),
                    map: OnceCell::new(),
                };
                self.maps.insert(name.clone(), slot);
            }
        }
    }
}

/// A context that can read broadcast state (Flink's `ReadOnlyContext`).
pub trait ReadOnlyBroadcastAccess {
    /// The operator's broadcast state.
    fn broadcast_store(&self) -> &BroadcastStateStore;
}

/// A context that can also write broadcast state: only the broadcast side's.
pub trait BroadcastAccess: ReadOnlyBroadcastAccess {
    /// The operator's broadcast state, writable.
    fn broadcast_store_mut(&mut self) -> &mut BroadcastStateStore;
}

/// Names a broadcast state, a map from `K` to `V`, and reads and writes it through a context
/// (Flink's `MapStateDescriptor` with `getBroadcastState`).
pub struct BroadcastState<K, V> {
    name: Arc<str>,
    _t: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for BroadcastState<K, V> {
    fn clone(&self) -> Self {
        BroadcastState {
            name: Arc::clone(&self.name),
            _t: PhantomData,
        }
    }
}

impl<K, V> BroadcastState<K, V> {
    /// The broadcast state named `name`.
    pub fn new(name: &str) -> Self {
        BroadcastState {
            name: name.into(),
            _t: PhantomData,
        }
    }

    /// The state's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<K: StateKey, V: StateValue> BroadcastState<K, V> {
    /// The value under `key`.
    pub fn get(&self, ctx: &(impl ReadOnlyBroadcastAccess + ?Sized), key: &K) -> Result<Option<V>> {
        let map = ctx.broadcast_store().map::<K, V>(&self.name)?;
        Ok(map.and_then(|m| m.get(key).cloned()))
    }

    /// Whether `key` has a value.
    pub fn contains(&self, ctx: &(impl ReadOnlyBroadcastAccess + ?Sized), key: &K) -> Result<bool> {
        let map = ctx.broadcast_store().map::<K, V>(&self.name)?;
        Ok(map.is_some_and(|m| m.contains_key(key)))
    }

    /// All entries, in no particular order.
    pub fn entries(&self, ctx: &(impl ReadOnlyBroadcastAccess + ?Sized)) -> Result<Vec<(K, V)>> {
        let map = ctx.broadcast_store().map::<K, V>(&self.name)?;
        Ok(map
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    /// Sets the value under `key`.
    pub fn put(&self, ctx: &mut (impl BroadcastAccess + ?Sized), key: K, value: V) -> Result<()> {
        let map = ctx.broadcast_store_mut().map_mut::<K, V>(&self.name)?;
        map.insert(key, value);
        Ok(())
    }

    /// Removes `key`, returning its value.
    pub fn remove(&self, ctx: &mut (impl BroadcastAccess + ?Sized), key: &K) -> Result<Option<V>> {
        let map = ctx.broadcast_store_mut().map_mut::<K, V>(&self.name)?;
        Ok(map.remove(key))
    }

    /// Removes every entry.
    pub fn clear(&self, ctx: &mut (impl BroadcastAccess + ?Sized)) -> Result<()> {
        ctx.broadcast_store_mut()
            .map_mut::<K, V>(&self.name)?
            .clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl ReadOnlyBroadcastAccess for BroadcastStateStore {
        fn broadcast_store(&self) -> &BroadcastStateStore {
            self
        }
    }

    impl BroadcastAccess for BroadcastStateStore {
        fn broadcast_store_mut(&mut self) -> &mut BroadcastStateStore {
            self
        }
    }

    #[test]
    fn maps_per_descriptor_with_registration_and_type_checks() {
        let mut store = BroadcastStateStore::new(vec!["rules".into()]);
        let rules = BroadcastState::<String, i64>::new("rules");
        assert_eq!(rules.get(&store, &"a".into()).unwrap(), None);
        rules.put(&mut store, "a".into(), 1).unwrap();
        rules.put(&mut store, "b".into(), 2).unwrap();
        assert_eq!(rules.remove(&mut store, &"b".into()).unwrap(), Some(2));
        assert_eq!(rules.entries(&store).unwrap(), vec![("a".to_string(), 1)]);
        assert!(rules.contains(&store, &"a".into()).unwrap());

        let other_type = BroadcastState::<String, String>::new("rules");
        assert!(other_type.get(&store, &"a".into()).is_err());
        let unregistered = BroadcastState::<String, i64>::new("typo");
        let err = unregistered.get(&store, &"a".into()).unwrap_err();
        assert!(err.to_string().contains("'typo' does not exist"), "{err}");
    }
}
