//! Weir's state layer: keyed state and timers, organised by key group.
//!
//! A subtask of a keyed operator owns a [`KeyGroupRange`](weir_core::keygroup::KeyGroupRange);
//! all its keyed state is kept per key group, so that a snapshot can be written, and later
//! redistributed to another parallelism, key group by key group.
//!
//! - [`KeyedStateBackend`]: named state tables keyed by (key, namespace), with the current key
//!   set by the operator before user code runs; kept on the heap or, with the cargo feature
//!   `rocksdb`, in RocksDB on local disk, as [`StateBackendConfig`] says
//!   (`state.backend.type`). Both write snapshots in one portable format.
//! - [`ValueState`], [`ListState`], [`MapState`], [`ReducingState`], [`AggregatingState`]:
//!   typed handles, each also the state's descriptor (its name, TTL), as in Flink.
//! - [`StateTtlConfig`]: time-to-live of state entries.
//! - [`TimerService`]: event-time and processing-time timers per (key, namespace).
//! - [`KeyedMapState`]: a plain one-value-per-key map for simple operators.
//! - [`BroadcastState`]: operator state that is not keyed, the same on every subtask, written
//!   by the broadcast side of an operator, kept in a [`BroadcastStateStore`].
//! - [`StateSnapshot`], [`OperatorSnapshot`], [`RestoredState`]: what an operator writes at a
//!   checkpoint (keyed state by key group, operator list state), and what each subtask gets
//!   back on restore, whatever the new parallelism. State types are encoded with serde
//!   ([`StateKey`], [`StateValue`]).
//! - [`for_each_backend!`]: generates a test per backend from one test function.
//! - [`storage`]: checkpoint and savepoint storage on a directory, laid out like Flink's
//!   (`<dir>/<job-id>/chk-<n>/_metadata`), written atomically and validated on restore.

mod backend;
mod broadcast;
mod data;
mod grouped;
mod handles;
mod keyed_map;
mod snapshot;
pub mod storage;
mod store;
pub mod testing;
mod timers;
mod ttl;

pub use backend::{KeyedStateBackend, Namespace, StateAccess};
pub use broadcast::{
    BroadcastAccess, BroadcastState, BroadcastStateStore, ReadOnlyBroadcastAccess,
};
pub use data::{decode, encode, StateKey, StateValue};
pub use grouped::KeyGroupedMap;
pub use handles::{
    AggregateFunction, AggregatingState, ListState, MapState, ReducingState, ValueState,
};
pub use keyed_map::KeyedMapState;
pub use snapshot::{
    KeyGroupBytes, KeyedWriter, ListMode, ListSnapshot, NativeSnapshot, NativeWriter,
    OperatorSnapshot, RestoredState, StateSnapshot,
};
pub use store::StateBackendConfig;
pub use timers::{TimeDomain, TimerService};
pub use ttl::{StateTtlConfig, StateVisibility, TtlUpdateType};
