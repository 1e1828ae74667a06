//! A job ready to run: the serializable [`JobGraph`] plus the code that creates its operators
//! and partitioners.

use std::sync::Arc;

use weir_core::graph::JobGraph;
use weir_core::Result;

use crate::operator::{OperatorContext, SourceReader, StreamOperator};
use crate::partitioner::PartitionerFactory;

/// Creates one subtask's operator.
pub type OperatorFactory =
    Arc<dyn Fn(&OperatorContext) -> Result<Box<dyn StreamOperator>> + Send + Sync>;
/// Creates one subtask's source reader.
pub type SourceFactory =
    Arc<dyn Fn(&OperatorContext) -> Result<Box<dyn SourceReader>> + Send + Sync>;

/// How a node of the stream graph is instantiated.
#[derive(Clone)]
pub enum NodeFactory {
    Source(SourceFactory),
    Operator(OperatorFactory),
}

/// A job graph with the factories for its nodes (indexed by node id) and its edges' partitioners
/// (indexed by stream edge).
#[derive(Clone)]
pub struct ExecutableJob {
    pub graph: JobGraph,
    pub nodes: Vec<NodeFactory>,
    pub partitioners: Vec<PartitionerFactory>,
}
