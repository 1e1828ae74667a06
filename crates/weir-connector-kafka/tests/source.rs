//! The Kafka source against a real broker: each startup mode, parse errors with and without
//! the ignore option, and per-partition watermarks with an idle partition.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestBroker;
use weir_connector_kafka::{
    deserializer_fn, KafkaSource, KafkaSourceBuilder, StartupMode, StringDeserializer,
};
use weir_datastream::prelude::*;

const TOPIC: &str = "input";

/// `records` records per partition: `(partition, timestamp, "p<partition>-<i>")`, timestamps
/// `1000 * (i + 1)`.
fn fill(broker: &TestBroker, partitions: i32, records: i64) -> Vec<(i32, i64, String)> {
    broker.create_topic(TOPIC, partitions);
    let all: Vec<_> = (0..partitions)
        .flat_map(|p| (0..records).map(move |i| (p, 1000 * (i + 1), format!("p{p}-{i}"))))
        .collect();
    broker.produce(TOPIC, &all);
    all
}

fn source(broker: &TestBroker) -> KafkaSourceBuilder<String> {
    KafkaSource::builder()
        .bootstrap_servers(&broker.bootstrap)
        .topics(&[TOPIC])
        .deserializer(StringDeserializer)
}

/// Runs a bounded source at parallelism 2 and returns its records, sorted.
fn read(source: KafkaSourceBuilder<String>) -> Result<Vec<String>> {
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    env.set_parallelism(2);
    let mut out = source
        .bounded()
        .build()?
        .stream(&env, "Kafka")
        .execute_and_collect()?;
    out.sort();
    Ok(out)
}

/// The values of `all` from offset `start(partition)` on, sorted.
fn expected(all: &[(i32, i64, String)], start: impl Fn(i32) -> i64) -> Vec<String> {
    let mut by_partition: BTreeMap<i32, Vec<&String>> = BTreeMap::new();
    for (p, _, v) in all {
        by_partition.entry(*p).or_default().push(v);
    }
    let mut out: Vec<String> = by_partition
        .iter()
        .flat_map(|(p, values)| {
            values
                .iter()
                .skip(start(*p) as usize)
                .map(|v| v.to_string())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn earliest_offset_reads_every_partition_once_over_two_subtasks() {
    let broker = TestBroker::start();
    let all = fill(&broker, 3, 20);
    let got = read(source(&broker).startup_mode(StartupMode::EarliestOffset)).unwrap();
    assert_eq!(got, expected(&all, |_| 0));
}

#[test]
fn group_offsets_start_at_the_committed_offsets() {
    let broker = TestBroker::start();
    let all = fill(&broker, 2, 10);
    broker.commit("g1", TOPIC, &[(0, 4), (1, 7)]);
    let got = read(
        source(&broker)
            .group_id("g1")
            .startup_mode(StartupMode::GroupOffsets),
    )
    .unwrap();
    assert_eq!(got, expected(&all, |p| if p == 0 { 4 } else { 7 }));

    // Without a committed offset and without a reset strategy: a clear error.
    let err = read(
        source(&broker)
            .group_id("nobody")
            .startup_mode(StartupMode::GroupOffsets),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("'nobody' has no committed offset for topic 'input', partition"),
        "{err}"
    );
}

#[test]
fn specific_offsets_and_timestamps() {
    let broker = TestBroker::start();
    let all = fill(&broker, 2, 10);
    // Partition 1 has no given offset and no committed one: it starts at the earliest.
    let got =
        read(source(&broker).startup_mode(StartupMode::SpecificOffsets(BTreeMap::from([(0, 3)]))))
            .unwrap();
    assert_eq!(got, expected(&all, |p| if p == 0 { 3 } else { 0 }));
    // Timestamps are 1000 * (offset + 1): 6000 is offset 5 of each partition.
    let got = read(source(&broker).startup_mode(StartupMode::Timestamp(5_500))).unwrap();
    assert_eq!(got, expected(&all, |_| 5));
}

#[test]
fn latest_offset_reads_only_what_is_written_after_the_start() {
    let broker = TestBroker::start();
    fill(&broker, 2, 5);
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    source(&broker)
        .startup_mode(StartupMode::LatestOffset)
        .build()
        .unwrap()
        .stream(&env, "Kafka")
        .sink_to(
            move |batch: Vec<String>| {
                sink.lock().unwrap().extend(batch);
                Ok(())
            },
            "collect",
        );
    let job = env.execute_async("latest").unwrap();
    let started = Instant::now();
    let mut written = 0;
    while seen.lock().unwrap().len() < 3 && started.elapsed() < Duration::from_secs(30) {
        broker.produce(TOPIC, &[(written % 2, 0, format!("new-{written}"))]);
        written += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    job.cancel();
    let outcome = job.wait().err();
    assert!(
        seen.lock().unwrap().len() >= 3,
        "no new records read; the job ended with {outcome:?}"
    );
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().all(|v| v.starts_with("new-")), "{seen:?}");
}

/// A topic with a record that is not a number at partition 1, offset 2.
fn numbers(broker: &TestBroker) -> KafkaSourceBuilder<i64> {
    broker.create_topic(TOPIC, 2);
    let values = ["1", "2", "3", "4"];
    let mut records: Vec<_> = values.iter().map(|v| (0, 0, v.to_string())).collect();
    records.extend(
        ["10", "20", "thirty", "40"]
            .iter()
            .map(|v| (1, 0, v.to_string())),
    );
    broker.produce(TOPIC, &records);
    KafkaSource::builder()
        .bootstrap_servers(&broker.bootstrap)
        .topics(&[TOPIC])
        .bounded()
        .deserializer(deserializer_fn("number", |r| {
            let text =
                std::str::from_utf8(r.value.unwrap_or_default()).map_err(|e| e.to_string())?;
            text.parse::<i64>()
                .map_err(|_| format!("'{text}' is not a whole number"))
        }))
}

#[test]
fn a_bad_record_fails_the_job_naming_topic_partition_and_offset() {
    let broker = TestBroker::start();
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    let err = numbers(&broker)
        .build()
        .unwrap()
        .stream(&env, "Kafka")
        .execute_and_collect()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("topic 'input', partition 1, offset 2: 'thirty' is not a whole number"),
        "{err}"
    );
}

#[test]
fn ignore_parse_errors_skips_bad_records() {
    let broker = TestBroker::start();
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    let mut got = numbers(&broker)
        .option("number.ignore-parse-errors", "true")
        .build()
        .unwrap()
        .stream(&env, "Kafka")
        .execute_and_collect()
        .unwrap();
    got.sort();
    assert_eq!(got, vec![1, 2, 3, 4, 10, 20, 40]);
}

/// Counts per 10 s event-time window of an unbounded source whose partition 1 has a single
/// early record and then falls silent while partition 0 goes on: with an idle timeout the windows of partition 0 fire;
/// without one partition 1 holds the watermark back and none does.
fn windows_fired(
    broker: &TestBroker,
    idleness: Option<Duration>,
    wait: Duration,
) -> Vec<(i64, i64)> {
    let mut strategy = WatermarkStrategy::<String>::for_bounded_out_of_orderness(Duration::ZERO);
    if let Some(timeout) = idleness {
        strategy = strategy.with_idleness(timeout);
    }
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    let fired = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&fired);
    source(broker)
        .watermark_strategy(strategy)
        .build()
        .unwrap()
        .stream(&env, "Kafka")
        .map(|_: String| 0u8)
        .key_by(|k: &u8| *k)
        .window(TumblingEventTimeWindows::of(Duration::from_secs(10)))
        .process(
            |_: &u8, elements: Vec<u8>, ctx: &mut WindowContext<'_, u8, TimeWindow, (i64, i64)>| {
                let start = ctx.window().start;
                ctx.collect((start, elements.len() as i64));
                Ok(())
            },
        )
        .sink_to(
            move |batch: Vec<(i64, i64)>| {
                sink.lock().unwrap().extend(batch);
                Ok(())
            },
            "collect",
        );
    let job = env.execute_async("watermarks").unwrap();
    // Partition 0 stays active: a record every 100 ms, all in the window [20 s, 30 s).
    let keep_alive = broker.keep_writing(TOPIC, 0, 29_000);
    let started = Instant::now();
    while started.elapsed() < wait && fired.lock().unwrap().len() < 2 {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Taken before the job is cancelled, which may flush windows.
    let result = fired.lock().unwrap().clone();
    job.cancel();
    drop(keep_alive);
    result
}

#[test]
fn an_idle_partition_does_not_hold_back_watermarks() {
    let broker = TestBroker::start();
    broker.create_topic(TOPIC, 2);
    // Partition 0: one record per second of event time from 1 s to 29 s; partition 1: one
    // record at 1 s. (A timestamp of 0 would make the producer stamp the current time.)
    let mut records: Vec<_> = (1..30).map(|s| (0, s * 1000, format!("a{s}"))).collect();
    records.push((1, 1000, "b".to_string()));
    broker.produce(TOPIC, &records);
    // Windows [0, 10) and [10, 20) close once partition 0's watermark (28999) counts; [20, 30)
    // stays open. Partition 1's record lands in [0, 10).
    let fired = windows_fired(
        &broker,
        Some(Duration::from_secs(2)),
        Duration::from_secs(20),
    );
    assert_eq!(fired, vec![(0, 10), (10_000, 10)]);
    let fired = windows_fired(&broker, None, Duration::from_secs(3));
    assert_eq!(
        fired,
        vec![],
        "partition 1 holds event time at 999 without idleness"
    );
}

#[test]
fn an_unreachable_bootstrap_server_fails_the_job_naming_it() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let bootstrap = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let source = KafkaSource::builder()
        .bootstrap_servers(&bootstrap)
        .topics(&[TOPIC])
        .property("default.api.timeout.ms", "2000")
        .deserializer(StringDeserializer);
    let err = read(source).unwrap_err().to_string();
    assert!(err.contains(&format!("'{bootstrap}'")), "{err}");
    assert!(err.contains("properties.bootstrap.servers"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the request timeout of 2 s was not applied"
    );
}
