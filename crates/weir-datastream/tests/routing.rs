//! Keyed routing: every record of a key reaches one subtask, keys spread over all subtasks,
//! each subtask only sees keys of its key-group range, and the assignment is the same in
//! every run.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::env;
use weir_core::keygroup::KeyGroupRange;
use weir_datastream::prelude::*;

/// (key, subtask that saw it, key group as computed by the test from the engine's hash).
fn route(parallelism: usize, max_parallelism: usize) -> BTreeMap<u64, BTreeSet<usize>> {
    let env = env(parallelism);
    env.set_max_parallelism(max_parallelism);
    let seen = env
        .from_sequence(0, 19_999)
        .map(|i: i64| (i as u64 % 1000, i))
        .key_by(|(k, _): &(u64, i64)| *k)
        .reduce(|a, _| a)
        .process(
            |(k, _): (u64, i64), ctx: &mut ProcessContext<'_, (u64, usize)>| {
                let subtask = ctx.runtime_context().subtask_index;
                ctx.collect((k, subtask));
                Ok(())
            },
        )
        .execute_and_collect()
        .unwrap();
    let mut by_key: BTreeMap<u64, BTreeSet<usize>> = BTreeMap::new();
    for (k, s) in seen {
        by_key.entry(k).or_default().insert(s);
    }
    by_key
}

#[test]
fn every_key_reaches_one_subtask_and_all_subtasks_get_keys() {
    for (p, max) in [(1, 128), (3, 128), (4, 7), (4, 1000)] {
        let routes = route(p, max);
        assert_eq!(routes.len(), 1000);
        assert!(
            routes.values().all(|s| s.len() == 1),
            "a key went to two subtasks at p={p}"
        );
        let used: BTreeSet<usize> = routes.values().flatten().copied().collect();
        assert_eq!(
            used,
            (0..p).collect(),
            "keys spread over all subtasks at p={p}"
        );
        // The subtask owning a key is the one whose key-group range holds the key's group.
        for (k, subtasks) in &routes {
            let kg = weir_core::keygroup::key_group_for_key(k, max);
            let s = *subtasks.iter().next().unwrap();
            assert!(KeyGroupRange::for_subtask(max, p, s).contains(kg));
        }
        assert_eq!(route(p, max), routes, "the same assignment in another run");
    }
}

#[test]
fn key_group_ranges_are_contiguous_and_balanced() {
    for (max, p) in [(128, 3), (128, 128), (1000, 7)] {
        let ranges: Vec<KeyGroupRange> = (0..p)
            .map(|i| KeyGroupRange::for_subtask(max, p, i))
            .collect();
        assert_eq!(ranges[0].start, 0);
        assert_eq!(ranges[p - 1].end_inclusive, max - 1);
        for w in ranges.windows(2) {
            assert_eq!(w[0].end_inclusive + 1, w[1].start);
        }
        let sizes: BTreeSet<usize> = ranges.iter().map(|r| r.len()).collect();
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
    }
}
