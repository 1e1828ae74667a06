//! Weir's shared vocabulary, used by every other crate.
//!
//! - [`config`]: Flink-style typed configuration ([`config::Configuration`], [`config::ConfigOption`]).
//! - [`element`]: what flows on a channel ([`element::StreamElement`]): batches of records,
//!   watermarks, checkpoint barriers and end of input.
//! - [`graph`]: the serializable [`graph::StreamGraph`] of operators with stable uids and the
//!   [`graph::JobGraph`] of chained vertices derived from it.
//! - [`keygroup`]: how keys hash into key groups and key groups map onto subtasks.
//! - [`metrics`]: per-subtask counters with Flink's metric names.
//! - [`error`]: the crate-wide error type [`WeirError`].

pub mod config;
pub mod element;
pub mod error;
pub mod graph;
pub mod keygroup;
pub mod metrics;
pub mod timestamp;

pub use error::{Result, WeirError};
