//! The two graph forms of a job.
//!
//! A [`StreamGraph`] is what a front end builds: one [`StreamNode`] per operator (with its
//! name, stable uid and parallelism) and one [`StreamEdge`] per connection (with its
//! partitioner). [`JobGraph::from_stream_graph`] chains forward edges between operators of
//! equal parallelism into [`JobVertex`]es: each parallel instance of a vertex is one task.
//! Both forms are serializable; the executable operators are kept apart by the runtime, keyed
//! by [`NodeId`].

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::{invalid_job, Result};

/// Identifies a node within its stream graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub usize);

/// How records are distributed from the subtasks of one operator to those of the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PartitionerKind {
    /// Subtask i sends to subtask i (equal parallelism only); chainable.
    Forward,
    /// Round-robin over all downstream subtasks.
    Rebalance,
    /// Round-robin over a local subset of downstream subtasks.
    Rescale,
    /// By the key's key group.
    Hash,
    /// Every record to every downstream subtask.
    Broadcast,
    /// Uniformly at random.
    Shuffle,
    /// Everything to downstream subtask 0.
    Global,
}

impl PartitionerKind {
    /// The name Flink shows for the partitioner in plans and the web UI.
    pub fn flink_name(self) -> &'static str {
        match self {
            PartitionerKind::Forward => "FORWARD",
            PartitionerKind::Rebalance => "REBALANCE",
            PartitionerKind::Rescale => "RESCALE",
            PartitionerKind::Hash => "HASH",
            PartitionerKind::Broadcast => "BROADCAST",
            PartitionerKind::Shuffle => "SHUFFLE",
            PartitionerKind::Global => "GLOBAL",
        }
    }
}

/// Whether an operator may be chained to its neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ChainingStrategy {
    /// Chain with the predecessor and successors where possible.
    #[default]
    Always,
    /// Start a new chain here, but successors may chain to this operator.
    Head,
    /// Never chain (`disable_chaining`).
    Never,
}

/// The role of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeKind {
    Source,
    Operator,
    Sink,
}

/// One operator of a stream graph.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamNode {
    pub id: NodeId,
    pub name: String,
    /// Stable id used to map state back to this operator after the job changes.
    pub uid: String,
    pub kind: NodeKind,
    pub parallelism: usize,
    pub max_parallelism: usize,
    pub chaining: ChainingStrategy,
    /// Number of logical inputs (0 for sources, 2 for connected streams).
    pub inputs: usize,
}

/// A connection between two nodes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamEdge {
    pub source: NodeId,
    pub target: NodeId,
    /// Which logical input of the target this edge feeds (0 or 1).
    pub input: usize,
    pub partitioner: PartitionerKind,
    /// Set when the edge carries a side output of the source instead of its main output.
    pub side_output: Option<String>,
}

/// The operators of a job and their connections, as a front end built them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StreamGraph {
    pub nodes: Vec<StreamNode>,
    pub edges: Vec<StreamEdge>,
}

impl StreamGraph {
    /// The node with `id`.
    pub fn node(&self, id: NodeId) -> &StreamNode {
        &self.nodes[id.0]
    }

    /// Edges that end at `id`.
    pub fn in_edges(&self, id: NodeId) -> impl Iterator<Item = (usize, &StreamEdge)> {
        self.edges
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.target == id)
    }

    /// Edges that start at `id`.
    pub fn out_edges(&self, id: NodeId) -> impl Iterator<Item = (usize, &StreamEdge)> {
        self.edges
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.source == id)
    }

    /// Checks what the runtime relies on: parallelism within max parallelism, unique uids,
    /// forward edges between equal parallelism, nodes listed in topological order.
    pub fn validate(&self) -> Result<()> {
        let mut uids = HashSet::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if n.id.0 != i {
                invalid_job!("node '{}' has id {} at position {i}", n.name, n.id.0);
            }
            if n.parallelism == 0 {
                invalid_job!(
                    "operator '{}' has parallelism 0; it must be at least 1",
                    n.name
                );
            }
            if n.parallelism > n.max_parallelism {
                invalid_job!(
                    "operator '{}' has parallelism {} above its max parallelism {}",
                    n.name,
                    n.parallelism,
                    n.max_parallelism
                );
            }
            if !uids.insert(n.uid.as_str()) {
                invalid_job!(
                    "the uid '{}' is used by more than one operator; uids must be unique",
                    n.uid
                );
            }
        }
        for e in &self.edges {
            let (s, t) = (self.node(e.source), self.node(e.target));
            if e.source.0 >= e.target.0 {
                invalid_job!("edge from '{}' to '{}' goes backwards", s.name, t.name);
            }
            if e.partitioner == PartitionerKind::Forward && s.parallelism != t.parallelism {
                invalid_job!(
                    "forward partitioning does not allow a change of parallelism: '{}' has {} and '{}' has {}; use rebalance() or another partitioner",
                    s.name,
                    s.parallelism,
                    t.name,
                    t.parallelism
                );
            }
            if e.input >= t.inputs {
                invalid_job!(
                    "edge into '{}' feeds input {} of {}",
                    t.name,
                    e.input,
                    t.inputs
                );
            }
        }
        Ok(())
    }
}

/// A chain of operators that runs as one task per parallel subtask.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobVertex {
    pub id: usize,
    /// Flink-style chain name: "Source: numbers -> Map -> Filter".
    pub name: String,
    /// The first operator of the chain; the only one with inputs from other vertices.
    pub head: NodeId,
    /// All operators of the chain, head first, in topological order.
    pub nodes: Vec<NodeId>,
    pub parallelism: usize,
    pub max_parallelism: usize,
}

/// A stream edge that crosses from one vertex to another (a channel between tasks).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobEdge {
    pub source_vertex: usize,
    pub target_vertex: usize,
    /// Index of the stream edge in [`StreamGraph::edges`].
    pub stream_edge: usize,
}

/// A stream graph with its operators chained into vertices.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobGraph {
    pub job_name: String,
    pub stream_graph: StreamGraph,
    pub vertices: Vec<JobVertex>,
    pub edges: Vec<JobEdge>,
    /// For each stream edge: whether it is chained (no channel).
    pub chained_edges: Vec<bool>,
}

impl JobGraph {
    /// Chains the stream graph (`chaining` is `pipeline.operator-chaining.enabled`).
    pub fn from_stream_graph(job_name: &str, graph: StreamGraph, chaining: bool) -> Result<Self> {
        graph.validate()?;
        let chained_edges: Vec<bool> = graph
            .edges
            .iter()
            .map(|e| chaining && is_chainable(&graph, e))
            .collect();

        // Each node belongs to the chain of its head: the first ancestor reached over
        // chained edges whose own input is not chained. Nodes are in topological order.
        let mut head_of: Vec<NodeId> = Vec::with_capacity(graph.nodes.len());
        for node in &graph.nodes {
            let chained_input = graph.in_edges(node.id).find(|(i, _)| chained_edges[*i]);
            head_of.push(match chained_input {
                Some((_, e)) => head_of[e.source.0],
                None => node.id,
            });
        }

        let mut vertex_of_head: BTreeMap<NodeId, usize> = BTreeMap::new();
        let mut vertices: Vec<JobVertex> = Vec::new();
        for node in &graph.nodes {
            let head = head_of[node.id.0];
            let v = *vertex_of_head.entry(head).or_insert_with(|| {
                vertices.push(JobVertex {
                    id: vertices.len(),
                    name: String::new(),
                    head,
                    nodes: Vec::new(),
                    parallelism: node.parallelism,
                    max_parallelism: node.max_parallelism,
                });
                vertices.len() - 1
            });
            vertices[v].nodes.push(node.id);
        }
        for v in &mut vertices {
            v.name = chain_name(&graph, &v.nodes);
        }

        let edges = graph
            .edges
            .iter()
            .enumerate()
            .filter(|(i, _)| !chained_edges[*i])
            .map(|(i, e)| JobEdge {
                source_vertex: vertex_of_head[&head_of[e.source.0]],
                target_vertex: vertex_of_head[&head_of[e.target.0]],
                stream_edge: i,
            })
            .collect();

        Ok(JobGraph {
            job_name: job_name.to_string(),
            stream_graph: graph,
            vertices,
            edges,
            chained_edges,
        })
    }

    /// The vertex that runs node `id`.
    pub fn vertex_of(&self, id: NodeId) -> &JobVertex {
        self.vertices
            .iter()
            .find(|v| v.nodes.contains(&id))
            .expect("every node belongs to a vertex")
    }

    /// The plan as Flink's `getExecutionPlan()` JSON shape: nodes with their chain,
    /// parallelism and inputs with ship strategies.
    pub fn execution_plan_json(&self) -> serde_json::Value {
        let g = &self.stream_graph;
        let nodes: Vec<serde_json::Value> = g
            .nodes
            .iter()
            .map(|n| {
                let predecessors: Vec<serde_json::Value> = g
                    .in_edges(n.id)
                    .map(|(i, e)| {
                        serde_json::json!({
                            "id": e.source.0,
                            "ship_strategy": g.edges[i].partitioner.flink_name(),
                            "side": if self.chained_edges[i] { "chained" } else { "second" },
                        })
                    })
                    .collect();
                serde_json::json!({
                    "id": n.id.0,
                    "type": n.name,
                    "pact": match n.kind { NodeKind::Source => "Data Source", NodeKind::Operator => "Operator", NodeKind::Sink => "Data Sink" },
                    "contents": n.name,
                    "uid": n.uid,
                    "parallelism": n.parallelism,
                    "chain": self.vertex_of(n.id).id,
                    "predecessors": predecessors,
                })
            })
            .collect();
        serde_json::json!({ "job": self.job_name, "nodes": nodes })
    }
}

/// Flink's rule: a forward edge into a single-input operator of equal parallelism whose
/// strategy allows chaining, from an operator that allows chaining after it.
fn is_chainable(graph: &StreamGraph, edge: &StreamEdge) -> bool {
    let (s, t) = (graph.node(edge.source), graph.node(edge.target));
    edge.partitioner == PartitionerKind::Forward
        && graph.in_edges(t.id).count() == 1
        && t.inputs == 1
        && s.parallelism == t.parallelism
        && t.chaining == ChainingStrategy::Always
        && s.chaining != ChainingStrategy::Never
}

fn chain_name(graph: &StreamGraph, nodes: &[NodeId]) -> String {
    nodes
        .iter()
        .map(|id| graph.node(*id).name.as_str())
        .collect::<Vec<_>>()
        .join(" -> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(
        id: usize,
        parallelism: usize,
        chaining: ChainingStrategy,
        inputs: usize,
    ) -> StreamNode {
        StreamNode {
            id: NodeId(id),
            name: format!("op{id}"),
            uid: format!("uid{id}"),
            kind: NodeKind::Operator,
            parallelism,
            max_parallelism: 128,
            chaining,
            inputs,
        }
    }

    fn edge(s: usize, t: usize, p: PartitionerKind) -> StreamEdge {
        StreamEdge {
            source: NodeId(s),
            target: NodeId(t),
            input: 0,
            partitioner: p,
            side_output: None,
        }
    }

    #[test]
    fn chains_forward_edges_and_breaks_at_shuffles() {
        use ChainingStrategy::*;
        let g = StreamGraph {
            nodes: vec![
                node(0, 2, Always, 0),
                node(1, 2, Always, 1),
                node(2, 2, Always, 1),
                node(3, 2, Head, 1),
            ],
            edges: vec![
                edge(0, 1, PartitionerKind::Forward),
                edge(1, 2, PartitionerKind::Hash),
                edge(2, 3, PartitionerKind::Forward),
            ],
        };
        let jg = JobGraph::from_stream_graph("j", g.clone(), true).unwrap();
        let chains: Vec<Vec<usize>> = jg
            .vertices
            .iter()
            .map(|v| v.nodes.iter().map(|n| n.0).collect())
            .collect();
        assert_eq!(chains, vec![vec![0, 1], vec![2], vec![3]]);
        assert_eq!(jg.vertices[0].name, "op0 -> op1");
        let unchained = JobGraph::from_stream_graph("j", g, false).unwrap();
        assert_eq!(unchained.vertices.len(), 4);
    }

    #[test]
    fn forward_with_other_parallelism_is_refused() {
        let g = StreamGraph {
            nodes: vec![
                node(0, 1, ChainingStrategy::Always, 0),
                node(1, 2, ChainingStrategy::Always, 1),
            ],
            edges: vec![edge(0, 1, PartitionerKind::Forward)],
        };
        let err = JobGraph::from_stream_graph("j", g, true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("forward partitioning"), "{err}");
    }
}
