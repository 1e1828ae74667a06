//! Weir's DataStream API: typed streams of Rust records, in the style of Flink's DataStream API.
//!
//! Start from a [`StreamExecutionEnvironment`], create a [`DataStream`] from a source, transform
//! it (`map`, `flat_map`, `filter`, `key_by` + `reduce`/`sum`, `union`, `connect`, `process`),
//! combine it with another ([`joins`], [`broadcast`]), send it to a sink (`print`,
//! `write_as_text`, `sink_to`) and call
//! [`StreamExecutionEnvironment::execute`]. The environment turns the program into a
//! [`weir_core::graph::StreamGraph`] and runs it on the local mini-cluster of `weir-runtime`.
//!
//! ```
//! use weir_datastream::prelude::*;
//!
//! let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
//! let counts = env
//!     .from_collection(vec!["a b".to_string(), "b".to_string()])
//!     .flat_map(|line: String| line.split(' ').map(|w| (w.to_string(), 1i64)).collect::<Vec<_>>())
//!     .key_by(|(word, _): &(String, i64)| word.clone())
//!     .sum(1)
//!     .execute_and_collect()
//!     .unwrap();
//! assert_eq!(counts.last(), Some(&("b".to_string(), 2)));
//! ```

pub mod aggregation;
pub mod broadcast;
pub mod env;
pub mod format;
pub mod functions;
pub mod joins;
mod operators;
pub mod params;
pub mod sinks;
pub mod sources;
pub mod stream;
pub mod windowed;

pub use env::{GraphInput, GraphNode, StreamExecutionEnvironment};
pub use params::ParameterTool;
pub use stream::{ConnectedStreams, DataStream, KeyedStream};
pub use weir_core::element::Watermark;
pub use weir_runtime::keyed::{KeyedContext, KeyedProcessFunction};
pub use weir_runtime::side_output::OutputTag;
pub use weir_runtime::watermark::{WatermarkGenerator, WatermarkOutput, WatermarkStrategy};
pub use weir_state::{
    AggregateFunction, AggregatingState, ListMode, ListState, MapState, ReducingState,
    RestoredState, StateSnapshot, StateTtlConfig, StateVisibility, TimeDomain, TtlUpdateType,
    ValueState,
};

use std::hash::Hash;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a stream can carry: any cloneable, sendable, serializable Rust value.
pub trait Record: Clone + Send + Sync + Serialize + DeserializeOwned + 'static {}
impl<T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static> Record for T {}

/// What a stream can be keyed by.
pub trait Key: Record + Hash + Eq {}
impl<K: Record + Hash + Eq> Key for K {}

/// Everything a job needs, in one import.
pub mod prelude {
    pub use crate::aggregation::Aggregatable;
    pub use crate::broadcast::{
        BroadcastContext, BroadcastProcessFunction, BroadcastState, KeyedBroadcastProcessFunction,
        KeyedReadOnlyContext, ReadOnlyContext,
    };
    pub use crate::format::RecordFormat;
    pub use crate::functions::{ProcessContext, ProcessFunction, RuntimeContext};
    pub use crate::joins::{
        Either, KeyedCoProcessFunction, ProcessJoinContext, ProcessJoinFunction,
    };
    pub use crate::params::ParameterTool;
    pub use crate::sinks::{Sink, SinkWriter};
    pub use crate::sources::{Source, SourceReader, SourceStatus};
    pub use crate::windowed::*;
    pub use crate::{
        AggregateFunction, AggregatingState, ConnectedStreams, DataStream, Key, KeyedContext,
        KeyedProcessFunction, KeyedStream, ListMode, ListState, MapState, OutputTag, Record,
        ReducingState, RestoredState, StateSnapshot, StateTtlConfig, StateVisibility,
        StreamExecutionEnvironment, TimeDomain, TtlUpdateType, ValueState, Watermark,
        WatermarkGenerator, WatermarkOutput, WatermarkStrategy,
    };
    pub use weir_core::config::Configuration;
    pub use weir_core::{Result, WeirError};
    pub use weir_runtime::JobExecutionResult;
}

/// Cancels the job when the user presses Ctrl-C (a second Ctrl-C exits at once);
/// `execute` does this by itself.
pub fn cancel_on_interrupt(handle: &weir_runtime::JobHandle) {
    weir_runtime::minicluster::cancel_on_interrupt(handle.cancel_flag());
}

/// Runs a job's `main`: sets up logging, and turns an error into a one-line message on
/// stderr and exit code 1 (130 for a cancelled job), without a backtrace.
pub fn run_main(main: impl FnOnce() -> weir_core::Result<()>) {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(tracing::Level::INFO)
        .try_init();
    match main() {
        Ok(()) => {}
        Err(weir_core::WeirError::Cancelled) => {
            eprintln!("The job was cancelled.");
            std::process::exit(130);
        }
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::exit(1);
        }
    }
}
