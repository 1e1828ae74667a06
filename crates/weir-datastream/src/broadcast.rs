//! The broadcast state pattern (Flink's `broadcast(descriptor)` and `BroadcastConnectedStream`):
//! a low-volume stream (rules, thresholds, configuration) is broadcast to every subtask of an
//! operator and stored in broadcast state, which the elements of the other stream, plain or
//! keyed, can read.
//!
//! ```
//! use weir_datastream::prelude::*;
//!
//! #[derive(Clone)]
//! struct Label(BroadcastState<u32, String>);
//!
//! impl BroadcastProcessFunction<u32, (u32, String), String> for Label {
//!     fn process_element(&mut self, id: u32, ctx: &mut ReadOnlyContext<'_, String>) -> Result<()> {
//!         let label = self.0.get(ctx, &id)?.unwrap_or_else(|| "?".into());
//!         ctx.collect(format!("{id}:{label}"));
//!         Ok(())
//!     }
//!     fn process_broadcast_element(
//!         &mut self,
//!         (id, label): (u32, String),
//!         ctx: &mut BroadcastContext<'_, String>,
//!     ) -> Result<()> {
//!         self.0.put(ctx, id, label)
//!     }
//! }
//!
//! let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
//! let labels = BroadcastState::<u32, String>::new("labels");
//! let rules = env.from_collection(vec![(1u32, "one".to_string())]).broadcast_state(&labels);
//! let out = env.from_collection(vec![1u32, 1])
//!     .connect_broadcast(&rules)
//!     .process(Label(labels))
//!     .execute_and_collect()
//!     .unwrap();
//! // Which elements see the rule depends on how the two inputs interleave.
//! assert!(out.iter().all(|s| s == "1:one" || s == "1:?"));
//! ```

use std::sync::Arc;

use weir_runtime::broadcast::{BroadcastProcessOperator, KeyedBroadcastProcessOperator};
use weir_runtime::job::OperatorFactory;
use weir_runtime::StreamOperator;

pub use weir_runtime::broadcast::{
    BroadcastContext, BroadcastProcessFunction, KeyedBroadcastProcessFunction,
    KeyedReadOnlyContext, ReadOnlyContext,
};
pub use weir_state::BroadcastState;

use crate::stream::{DataStream, KeyedStream};
use crate::{Key, Record};

/// A stream sent to every subtask of the operator it is connected to, with the broadcast
/// state descriptors that operator may use (Flink's `BroadcastStream`).
pub struct BroadcastStream<T> {
    stream: DataStream<T>,
    states: Vec<String>,
}

impl<T> Clone for BroadcastStream<T> {
    fn clone(&self) -> Self {
        BroadcastStream {
            stream: self.stream.clone(),
            states: self.states.clone(),
        }
    }
}

impl<T: Record> BroadcastStream<T> {
    /// Registers one more broadcast state descriptor.
    pub fn and_state<K, V>(mut self, descriptor: &BroadcastState<K, V>) -> Self {
        self.states.push(descriptor.name().to_string());
        self
    }
}

impl<T: Record> DataStream<T> {
    /// Broadcasts this stream, for operators that keep it in the broadcast state `descriptor`
    /// (more with [`BroadcastStream::and_state`]).
    pub fn broadcast_state<K, V>(&self, descriptor: &BroadcastState<K, V>) -> BroadcastStream<T> {
        BroadcastStream {
            stream: self.broadcast(),
            states: vec![descriptor.name().to_string()],
        }
    }

    /// Connects this stream with a broadcast stream, for a [`BroadcastProcessFunction`].
    pub fn connect_broadcast<B: Record>(
        &self,
        broadcast: &BroadcastStream<B>,
    ) -> BroadcastConnectedStream<DataStream<T>, B> {
        BroadcastConnectedStream {
            stream: self.clone(),
            broadcast: broadcast.clone(),
        }
    }
}

impl<T, K, F> KeyedStream<T, K, F>
where
    T: Record,
    K: Key,
    F: Fn(&T) -> K + Clone + Send + Sync + 'static,
{
    /// Connects this keyed stream with a broadcast stream, for a
    /// [`KeyedBroadcastProcessFunction`].
    pub fn connect_broadcast<B: Record>(
        &self,
        broadcast: &BroadcastStream<B>,
    ) -> BroadcastConnectedStream<KeyedStream<T, K, F>, B> {
        BroadcastConnectedStream {
            stream: self.clone(),
            broadcast: broadcast.clone(),
        }
    }
}

/// A plain or keyed stream `S` connected with a broadcast stream of `B` (Flink's
/// `BroadcastConnectedStream`).
pub struct BroadcastConnectedStream<S, B> {
    stream: S,
    broadcast: BroadcastStream<B>,
}

impl<T: Record, B: Record> BroadcastConnectedStream<DataStream<T>, B> {
    /// Runs a [`BroadcastProcessFunction`] over both streams.
    pub fn process<O: Record>(
        &self,
        function: impl BroadcastProcessFunction<T, B, O>,
    ) -> DataStream<O> {
        let states = self.broadcast.states.clone();
        let factory: OperatorFactory = Arc::new(move |_ctx| {
            Ok(Box::new(BroadcastProcessOperator::new(
                function.clone(),
                states.clone(),
            )) as Box<dyn StreamOperator>)
        });
        self.stream.add_operator(
            "Co-Process-Broadcast",
            Some(&self.broadcast.stream.refs),
            factory,
        )
    }
}

impl<T, K, F, B> BroadcastConnectedStream<KeyedStream<T, K, F>, B>
where
    T: Record,
    K: Key,
    F: Fn(&T) -> K + Clone + Send + Sync + 'static,
    B: Record,
{
    /// Runs a [`KeyedBroadcastProcessFunction`] over both streams.
    pub fn process<O: Record>(
        &self,
        function: impl KeyedBroadcastProcessFunction<K, T, B, O>,
    ) -> DataStream<O> {
        let states = self.broadcast.states.clone();
        let key_of = self.stream.key_of.clone();
        let factory: OperatorFactory = Arc::new(move |_ctx| {
            Ok(Box::new(KeyedBroadcastProcessOperator::new(
                key_of.clone(),
                function.clone(),
                states.clone(),
            )) as Box<dyn StreamOperator>)
        });
        self.stream.stream.add_operator(
            "Co-Process-Broadcast-Keyed",
            Some(&self.broadcast.stream.refs),
            factory,
        )
    }
}
