//! Rolling sum/min/max/min_by/max_by/reduce per key produce exactly the updates that
//! Apache Flink 2.3 produced on the same input (golden files made by
//! tests/data/flink_rolling/generate.py).

mod common;

use std::path::PathBuf;

use common::env;
use weir_datastream::prelude::*;

type Row = (String, i64, i64);

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/flink_rolling")
}

fn read_rows(name: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(data_dir().join(name)).unwrap();
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect()
}

fn run(parallelism: usize, aggregate: impl Fn(DataStream<Row>) -> DataStream<Row>) -> Vec<Row> {
    let env = env(parallelism);
    // A tiny batch size makes the input arrive over many batches.
    env.configure("execution.batch-size", "7");
    let input = env.from_collection(read_rows("input.csv"));
    aggregate(input).execute_and_collect().unwrap()
}

fn key(r: &Row) -> String {
    r.0.clone()
}

/// A golden file and the aggregation that should reproduce it.
type Case = (
    &'static str,
    Box<dyn Fn(DataStream<Row>) -> DataStream<Row>>,
);

fn cases() -> Vec<Case> {
    vec![
        (
            "sum_1.csv",
            Box::new(|s: DataStream<Row>| s.key_by(key).sum(1)),
        ),
        (
            "min_2.csv",
            Box::new(|s: DataStream<Row>| s.key_by(key).min(2)),
        ),
        (
            "max_2.csv",
            Box::new(|s: DataStream<Row>| s.key_by(key).max(2)),
        ),
        (
            "min_by_2.csv",
            Box::new(|s: DataStream<Row>| s.key_by(key).min_by(2)),
        ),
        (
            "max_by_2.csv",
            Box::new(|s: DataStream<Row>| s.key_by(key).max_by(2)),
        ),
        (
            "reduce.csv",
            Box::new(|s: DataStream<Row>| {
                s.key_by(key).reduce(|a, b| (a.0, a.1 + b.1, a.2.max(b.2)))
            }),
        ),
    ]
}

#[test]
fn same_updates_as_flink_at_parallelism_1() {
    for (golden, aggregate) in cases() {
        assert_eq!(run(1, aggregate), read_rows(golden), "{golden}");
    }
}

#[test]
fn same_updates_per_key_as_flink_at_parallelism_3() {
    for (golden, aggregate) in cases() {
        let got = run(3, aggregate);
        let expected = read_rows(golden);
        for k in ["k1", "k2", "k3", "k4"] {
            let per_key = |rows: &[Row]| {
                rows.iter()
                    .filter(|r| r.0 == k)
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(per_key(&got), per_key(&expected), "{golden}, key {k}");
        }
        assert_eq!(got.len(), expected.len());
    }
}
