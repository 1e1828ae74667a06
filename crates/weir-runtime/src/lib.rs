//! Weir's runtime: runs a [`job::ExecutableJob`] as tasks on a local mini-cluster.
//!
//! - [`operator`]: the one operator primitive, [`operator::StreamOperator`], that every
//!   front end implements (batches in, batches out, watermarks, end of input), and the
//!   erased [`operator::SourceReader`].
//! - [`partitioner`]: how a producing subtask splits its batches over downstream channels.
//! - [`channel`], [`input`], [`output`]: bounded channels between tasks, the input gate that
//!   merges a task's channels (watermark minimum, end of input), and the outputs that feed
//!   chained operators or channels.
//! - [`task`]: the loop of one task (one subtask of a chain of operators) on its own thread.
//! - [`minicluster`]: wires tasks and channels, runs the job, reports metrics, cancels, and
//!   restarts a failed job as its restart strategy allows.
//! - [`restart`]: the restart strategies (none, fixed-delay, failure-rate, exponential-delay).
//! - [`watermark`]: timestamp assigners, watermark generators and strategies.
//! - [`keyed`]: keyed process functions with keyed state and timers.
//! - [`keyed_co`]: keyed functions over two connected streams, and the interval and window
//!   joins built on them.
//! - [`broadcast`]: broadcast process functions with broadcast state.
//! - [`side_output`]: output tags and the buffers of side outputs.
//! - [`window`]: window assigners, triggers, evictors, window functions and the window
//!   operator.

mod attempt;
pub mod broadcast;
pub mod channel;
pub mod checkpoint;
pub mod input;
pub mod job;
pub mod keyed;
pub mod keyed_co;
pub mod minicluster;
pub mod operator;
pub mod output;
mod panic_capture;
pub mod partitioner;
pub mod restart;
pub mod side_output;
pub mod task;
#[cfg(test)]
mod test_util;
pub mod watermark;
pub mod window;

pub use job::ExecutableJob;
pub use minicluster::{JobExecutionResult, JobHandle, JobStatus, MiniCluster};
pub use operator::{
    OperatorContext, Output, SourceEventTime, SourcePoll, SourceReader, StreamOperator,
};
