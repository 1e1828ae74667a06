//! Partitioners, chaining and parallelism precedence, checked on results and on the plan.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::env;
use serde_json::Value;
use weir_datastream::prelude::*;

/// Tags each record with the subtask that received it.
fn tag_subtask(stream: &DataStream<i64>) -> DataStream<(i64, usize)> {
    stream.process(|x: i64, ctx: &mut ProcessContext<'_, (i64, usize)>| {
        let s = ctx.runtime_context().subtask_index;
        ctx.collect((x, s));
        Ok(())
    })
}

fn per_subtask(records: &[(i64, usize)]) -> BTreeMap<usize, Vec<i64>> {
    let mut m: BTreeMap<usize, Vec<i64>> = BTreeMap::new();
    for (x, s) in records {
        m.entry(*s).or_default().push(*x);
    }
    m
}

#[test]
fn rebalance_spreads_evenly_and_global_sends_to_the_first() {
    let env = env(1);
    let source = env.from_sequence(1, 1000);
    let out = tag_subtask(&source.rebalance())
        .set_parallelism(4)
        .execute_and_collect()
        .unwrap();
    let m = per_subtask(&out);
    assert_eq!(m.len(), 4);
    assert!(
        m.values().all(|v| v.len() == 250),
        "round robin gives 250 each"
    );

    let env = common::env(3);
    let out = tag_subtask(&env.from_sequence(1, 300).global())
        .execute_and_collect()
        .unwrap();
    assert_eq!(
        per_subtask(&out).keys().copied().collect::<Vec<_>>(),
        vec![0]
    );
}

#[test]
fn broadcast_copies_every_record_to_every_subtask() {
    let env = env(1);
    let out = tag_subtask(&env.from_sequence(1, 100).broadcast())
        .set_parallelism(3)
        .execute_and_collect()
        .unwrap();
    for records in per_subtask(&out).values() {
        assert_eq!(
            records.iter().copied().collect::<BTreeSet<_>>(),
            (1..=100).collect()
        );
    }
    assert_eq!(out.len(), 300);
}

#[test]
fn rescale_keeps_producers_to_their_local_consumers() {
    let env = env(2);
    // Source subtask 0 emits 1..=500, subtask 1 emits 501..=1000.
    let out = tag_subtask(&env.from_sequence(1, 1000).rescale())
        .set_parallelism(4)
        .execute_and_collect()
        .unwrap();
    for (x, s) in &out {
        let expected = if *x <= 500 { [0, 1] } else { [2, 3] };
        assert!(expected.contains(s), "{x} went to subtask {s}");
    }
    assert_eq!(per_subtask(&out).len(), 4);
}

#[test]
fn shuffle_reaches_all_subtasks_and_loses_nothing() {
    let env = env(1);
    let out = tag_subtask(&env.from_sequence(1, 2000).shuffle())
        .set_parallelism(4)
        .execute_and_collect()
        .unwrap();
    assert_eq!(per_subtask(&out).len(), 4);
    assert_eq!(
        out.iter().map(|(x, _)| *x).collect::<BTreeSet<_>>(),
        (1..=2000).collect()
    );
}

#[test]
fn forward_with_another_parallelism_is_refused() {
    let env = env(2);
    env.from_sequence(1, 10)
        .forward()
        .map(|x: i64| x)
        .set_parallelism(3)
        .print();
    let err = env.execute("bad forward").unwrap_err().to_string();
    assert!(
        err.contains("forward partitioning does not allow a change of parallelism"),
        "{err}"
    );
}

fn plan(env: &StreamExecutionEnvironment) -> Vec<Value> {
    let plan: Value = serde_json::from_str(&env.get_execution_plan().unwrap()).unwrap();
    plan["nodes"].as_array().unwrap().clone()
}

fn chains(nodes: &[Value]) -> Vec<u64> {
    nodes.iter().map(|n| n["chain"].as_u64().unwrap()).collect()
}

fn pipeline(env: &StreamExecutionEnvironment, middle: impl Fn(DataStream<i64>) -> DataStream<i64>) {
    let mapped = env.from_sequence(1, 10).map(|x: i64| x + 1);
    middle(mapped).filter(|x: &i64| *x > 0).print();
}

#[test]
fn forward_edges_chain_unless_switched_off() {
    let env = env(2);
    pipeline(&env, |s| s);
    assert_eq!(
        chains(&plan(&env)),
        vec![0, 0, 0, 0],
        "source, map, filter and sink in one chain"
    );

    let env = common::env(2);
    pipeline(&env, |s| s.disable_chaining());
    assert_eq!(
        chains(&plan(&env)),
        vec![0, 1, 2, 2],
        "the map stands alone"
    );

    let env = common::env(2);
    pipeline(&env, |s| s.start_new_chain());
    assert_eq!(
        chains(&plan(&env)),
        vec![0, 1, 1, 1],
        "a new chain starts at the map"
    );

    let env = common::env(2);
    env.configure("pipeline.operator-chaining.enabled", "false");
    pipeline(&env, |s| s);
    assert_eq!(chains(&plan(&env)), vec![0, 1, 2, 3]);

    let env = common::env(2);
    env.disable_operator_chaining();
    pipeline(&env, |s| s);
    assert_eq!(chains(&plan(&env)), vec![0, 1, 2, 3]);

    let env = common::env(2);
    pipeline(&env, |s| s.key_by(|x: &i64| *x).reduce(|a, b| a + b));
    let nodes = plan(&env);
    assert_eq!(
        chains(&nodes),
        vec![0, 0, 1, 1, 1],
        "a hash edge ends the chain"
    );
    assert_eq!(nodes[2]["predecessors"][0]["ship_strategy"], "HASH");
}

#[test]
fn parallelism_precedence_operator_over_env_over_config() {
    let parallelisms = |env: &StreamExecutionEnvironment| -> Vec<u64> {
        plan(env)
            .iter()
            .map(|n| n["parallelism"].as_u64().unwrap())
            .collect()
    };
    let from_config = |conf: &[(&str, &str)]| {
        let mut c = Configuration::new();
        for (k, v) in conf {
            c.set_string(*k, *v);
        }
        StreamExecutionEnvironment::with_configuration(c)
    };

    let env = from_config(&[("parallelism.default", "3")]);
    env.from_sequence(1, 10)
        .map(|x: i64| x)
        .set_parallelism(5)
        .print();
    assert_eq!(parallelisms(&env), vec![3, 5, 3]);

    let env = from_config(&[("parallelism.default", "3")]);
    env.set_parallelism(2);
    env.from_collection(vec![1i64]).map(|x: i64| x).print();
    assert_eq!(
        parallelisms(&env),
        vec![1, 2, 2],
        "a collection source is not parallel"
    );

    let env = from_config(&[]);
    env.from_sequence(1, 10).print();
    assert_eq!(parallelisms(&env), vec![1, 1], "parallelism.default is 1");

    let env = from_config(&[]);
    env.from_collection(vec![1i64]).set_parallelism(2).print();
    let err = env.execute("bad").unwrap_err().to_string();
    assert!(err.contains("non-parallel operator"), "{err}");
}

#[test]
fn uids_are_kept_and_must_be_unique() {
    let env = env(1);
    env.from_sequence(1, 10)
        .uid("numbers")
        .map(|x: i64| x)
        .uid("double")
        .print();
    let nodes = plan(&env);
    assert_eq!(nodes[0]["uid"], "numbers");
    assert_eq!(nodes[1]["uid"], "double");

    let env = common::env(1);
    env.from_sequence(1, 10)
        .uid("same")
        .map(|x: i64| x)
        .uid("same")
        .print();
    let err = env.execute("dup").unwrap_err().to_string();
    assert!(
        err.contains("uid 'same' is used by more than one operator"),
        "{err}"
    );
}
