//! Partitioners of changelog batches: by the key group of the group key (a batch is split
//! into one slice per target subtask), and whole batches round-robin.

use std::sync::Arc;

use arrow::array::UInt32Array;
use arrow::datatypes::SchemaRef;
use weir_core::element::Batch;
use weir_core::keygroup::{key_group_for_key, subtask_for_key_group};
use weir_core::{Result, WeirError};
use weir_runtime::partitioner::{Partitioner, PartitionerFactory};

use super::keyed::KeyCodec;
use crate::changelog::ChangeBatch;

/// Partitions by the first `keys` columns of `schema`.
pub fn hash(schema: SchemaRef, keys: usize) -> PartitionerFactory {
    Arc::new(move |info| {
        Box::new(ByKey {
            codec: KeyCodec::new(&schema, keys).ok(),
            max_parallelism: info.consumer_max_parallelism,
        })
    })
}

/// Whole batches to the targets in turn.
pub fn rebalance() -> PartitionerFactory {
    Arc::new(|info| {
        Box::new(RoundRobin {
            next: info.producer_subtask,
        })
    })
}

struct ByKey {
    codec: Option<KeyCodec>,
    max_parallelism: usize,
}

impl Partitioner for ByKey {
    fn partition(
        &mut self,
        batch: Batch,
        targets: usize,
        emit: &mut dyn FnMut(usize, Batch) -> Result<()>,
    ) -> Result<()> {
        let codec = match &self.codec {
            Some(codec) if targets > 1 => codec,
            _ => return emit(0, batch),
        };
        let change = ChangeBatch::from_batch(&batch);
        let keys = codec.encode(&change.rows)?;
        let mut per_target: Vec<Vec<u32>> = vec![Vec::new(); targets];
        for (row, key) in keys.iter().enumerate() {
            let group = key_group_for_key(key, self.max_parallelism);
            per_target[subtask_for_key_group(self.max_parallelism, targets, group)]
                .push(row as u32);
        }
        for (target, rows) in per_target.into_iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            let kinds = change
                .kinds
                .as_ref()
                .map(|k| rows.iter().map(|r| k[*r as usize]).collect());
            let indices = UInt32Array::from(rows);
            let rows = arrow::compute::take_record_batch(&change.rows, &indices)
                .map_err(|e| WeirError::Other(e.to_string()))?;
            emit(target, ChangeBatch { rows, kinds }.into_batch())?;
        }
        Ok(())
    }
}

struct RoundRobin {
    next: usize,
}

impl Partitioner for RoundRobin {
    fn partition(
        &mut self,
        batch: Batch,
        targets: usize,
        emit: &mut dyn FnMut(usize, Batch) -> Result<()>,
    ) -> Result<()> {
        self.next = (self.next + 1) % targets;
        emit(self.next, batch)
    }
}
