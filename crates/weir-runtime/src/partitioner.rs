//! Partitioners: how one producing subtask spreads its batches over its target channels.
//!
//! Which downstream subtasks a producer is connected to is decided by the wiring
//! ([`targets_of`]); a partitioner only chooses among those targets. Typed front ends create
//! partitioners through the generic constructors here ([`for_kind`], [`hash`]).

use std::hash::Hash;
use std::sync::Arc;

use weir_core::element::{Batch, Records};
use weir_core::graph::PartitionerKind;
use weir_core::keygroup::{key_group_for_key, subtask_for_key_group};
use weir_core::Result;

/// Splits batches over a producer's target channels.
pub trait Partitioner: Send {
    /// Sends the records of `batch` to target channels `0..targets` through `emit`.
    fn partition(
        &mut self,
        batch: Batch,
        targets: usize,
        emit: &mut dyn FnMut(usize, Batch) -> Result<()>,
    ) -> Result<()>;
}

/// What a partitioner is created for.
#[derive(Debug, Clone, Copy)]
pub struct PartitionerInfo {
    pub producer_subtask: usize,
    pub consumer_parallelism: usize,
    pub consumer_max_parallelism: usize,
}

/// Creates the partitioner of one producing subtask of an edge.
pub type PartitionerFactory = Arc<dyn Fn(PartitionerInfo) -> Box<dyn Partitioner> + Send + Sync>;

/// The downstream subtasks that producer `subtask` of `producers` sends to, for an edge of
/// `kind` into `consumers` subtasks.
pub fn targets_of(
    kind: PartitionerKind,
    subtask: usize,
    producers: usize,
    consumers: usize,
) -> Vec<usize> {
    match kind {
        PartitionerKind::Forward => vec![subtask],
        PartitionerKind::Global => vec![0],
        PartitionerKind::Rescale if producers >= consumers => vec![subtask * consumers / producers],
        PartitionerKind::Rescale => {
            (subtask * consumers / producers..(subtask + 1) * consumers / producers).collect()
        }
        _ => (0..consumers).collect(),
    }
}

/// The partitioner of forward edges (any record type).
pub fn forward() -> PartitionerFactory {
    Arc::new(|_| Box::new(Single))
}

/// The partitioner for `kind` on records of type `T`; `Hash` needs a key and is built with
/// [`hash`] instead.
pub fn for_kind<T: Clone + Send + 'static>(kind: PartitionerKind) -> PartitionerFactory {
    match kind {
        PartitionerKind::Forward | PartitionerKind::Global => Arc::new(|_| Box::new(Single)),
        PartitionerKind::Rebalance | PartitionerKind::Rescale => Arc::new(|info| {
            // Start one before the producer's own index, so producers start on different targets.
            let next = info.producer_subtask + info.consumer_parallelism - 1;
            SplitPartitioner::<T, _>::boxed(RoundRobin { next })
        }),
        PartitionerKind::Broadcast => Arc::new(|_| Box::new(Broadcast)),
        PartitionerKind::Shuffle => {
            Arc::new(|info| SplitPartitioner::<T, _>::boxed(Random::new(info.producer_subtask)))
        }
        PartitionerKind::Hash => {
            panic!("weir internal error: a hash partitioner needs a key selector")
        }
    }
}

/// A partitioner by key group of the key that `key_of` extracts.
pub fn hash<T, K, F>(key_of: F) -> PartitionerFactory
where
    T: Clone + Send + 'static,
    K: Hash,
    F: Fn(&T) -> K + Clone + Send + Sync + 'static,
{
    Arc::new(move |info| {
        SplitPartitioner::<T, _>::boxed(ByKeyGroup {
            key_of: key_of.clone(),
            max_parallelism: info.consumer_max_parallelism,
        })
    })
}

/// Everything to the one target.
struct Single;

impl Partitioner for Single {
    fn partition(
        &mut self,
        batch: Batch,
        _targets: usize,
        emit: &mut dyn FnMut(usize, Batch) -> Result<()>,
    ) -> Result<()> {
        emit(0, batch)
    }
}

/// A copy to every target.
struct Broadcast;

impl Partitioner for Broadcast {
    fn partition(
        &mut self,
        batch: Batch,
        targets: usize,
        emit: &mut dyn FnMut(usize, Batch) -> Result<()>,
    ) -> Result<()> {
        for t in 1..targets {
            emit(t, batch.clone())?;
        }
        emit(0, batch)
    }
}

/// Chooses the target of each record.
trait Chooser<T>: Send {
    fn choose(&mut self, record: &T, targets: usize) -> usize;
}

/// Splits each batch into one batch per target, by a [`Chooser`].
struct SplitPartitioner<T, C> {
    chooser: C,
    _t: std::marker::PhantomData<fn(T)>,
}

impl<T, C> SplitPartitioner<T, C> {
    fn boxed(chooser: C) -> Box<Self> {
        Box::new(SplitPartitioner {
            chooser,
            _t: std::marker::PhantomData,
        })
    }
}

impl<T: Clone + Send + 'static, C: Chooser<T>> Partitioner for SplitPartitioner<T, C> {
    fn partition(
        &mut self,
        batch: Batch,
        targets: usize,
        emit: &mut dyn FnMut(usize, Batch) -> Result<()>,
    ) -> Result<()> {
        if targets == 1 {
            return emit(0, batch);
        }
        let records = batch.into_records::<T>();
        let (capacity, timed) = (records.len() / targets + 1, records.timestamps.is_some());
        let mut parts: Vec<Records<T>> = (0..targets)
            .map(|_| Records::with_capacity(capacity, timed))
            .collect();
        for (r, ts) in records.into_iter_timestamped() {
            let t = self.chooser.choose(&r, targets);
            parts[t].push(r, ts);
        }
        for (t, part) in parts.into_iter().enumerate() {
            if !part.is_empty() {
                emit(t, Batch::from_records(part))?;
            }
        }
        Ok(())
    }
}

/// Round-robin per record, continuing across batches (rebalance, rescale).
struct RoundRobin {
    next: usize,
}

impl<T> Chooser<T> for RoundRobin {
    fn choose(&mut self, _record: &T, targets: usize) -> usize {
        self.next = (self.next + 1) % targets;
        self.next
    }
}

/// Uniformly random per record, from a per-subtask xorshift generator.
struct Random {
    state: u64,
}

impl Random {
    fn new(subtask: usize) -> Self {
        Random {
            state: 0x9E37_79B9_7F4A_7C15 ^ (subtask as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9),
        }
    }
}

impl<T> Chooser<T> for Random {
    fn choose(&mut self, _record: &T, targets: usize) -> usize {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state % targets as u64) as usize
    }
}

/// By the key group of each record's key.
struct ByKeyGroup<F> {
    key_of: F,
    max_parallelism: usize,
}

impl<T, K: Hash, F: Fn(&T) -> K + Send> Chooser<T> for ByKeyGroup<F> {
    fn choose(&mut self, record: &T, targets: usize) -> usize {
        let max = self.max_parallelism;
        subtask_for_key_group(max, targets, key_group_for_key(&(self.key_of)(record), max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: &mut dyn Partitioner, batch: Vec<u32>, targets: usize) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); targets];
        p.partition(Batch::from_vec(batch), targets, &mut |t, b| {
            out[t].extend(b.into_vec::<u32>());
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn rescale_targets_are_pointwise() {
        assert_eq!(targets_of(PartitionerKind::Rescale, 1, 2, 4), vec![2, 3]);
        assert_eq!(targets_of(PartitionerKind::Rescale, 3, 4, 2), vec![1]);
        assert_eq!(
            targets_of(PartitionerKind::Rebalance, 0, 1, 3),
            vec![0, 1, 2]
        );
    }

    #[test]
    fn round_robin_continues_across_batches() {
        let info = PartitionerInfo {
            producer_subtask: 0,
            consumer_parallelism: 3,
            consumer_max_parallelism: 128,
        };
        let mut p = for_kind::<u32>(PartitionerKind::Rebalance)(info);
        assert_eq!(
            run(p.as_mut(), vec![1, 2, 3, 4], 3),
            vec![vec![1, 4], vec![2], vec![3]]
        );
        assert_eq!(run(p.as_mut(), vec![5], 3), vec![vec![], vec![5], vec![]]);
    }

    #[test]
    fn hash_sends_each_key_to_its_key_group_owner() {
        let info = PartitionerInfo {
            producer_subtask: 0,
            consumer_parallelism: 4,
            consumer_max_parallelism: 128,
        };
        let mut p = hash::<u32, u32, _>(|r: &u32| *r % 10)(info);
        let out = run(p.as_mut(), (0..1000).collect(), 4);
        for (t, part) in out.iter().enumerate() {
            for r in part {
                assert_eq!(weir_core::keygroup::subtask_for_key(&(r % 10), 128, 4), t);
            }
        }
        assert_eq!(out.iter().map(Vec::len).sum::<usize>(), 1000);
    }

    #[test]
    fn broadcast_copies_to_all() {
        let mut p = Broadcast;
        assert_eq!(run(&mut p, vec![7], 3), vec![vec![7], vec![7], vec![7]]);
    }
}
