//! The Kafka sink against a real broker: what a `read_committed` consumer sees equals the
//! input, for each delivery guarantee and partitioner.

mod common;

use common::TestBroker;
use weir_connector_kafka::{DeliveryGuarantee, KafkaSink, SinkPartitioner, StringSerializer};
use weir_datastream::prelude::*;

const TOPIC: &str = "output";

/// Writes `count` numbered lines through the sink at parallelism 2 and reads the topic back
/// as `(partition, value)`.
fn round_trip(
    broker: &TestBroker,
    count: usize,
    configure: impl FnOnce(
        weir_connector_kafka::KafkaSinkBuilder<String>,
    ) -> weir_connector_kafka::KafkaSinkBuilder<String>,
) -> Vec<(i32, String)> {
    broker.create_topic(TOPIC, 3);
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    env.set_parallelism(2);
    let input: Vec<String> = (0..count).map(|i| format!("line-{i}")).collect();
    let sink = configure(
        KafkaSink::builder()
            .bootstrap_servers(&broker.bootstrap)
            .topic(TOPIC)
            .serializer(StringSerializer),
    )
    .build()
    .unwrap();
    sink.sink(&env.from_collection(input).rebalance(), "Kafka");
    env.execute("sink").unwrap();
    broker
        .read_all(TOPIC, 3, "read_committed")
        .into_iter()
        .map(|(p, _, v)| (p, v))
        .collect()
}

fn sorted_values(records: &[(i32, String)]) -> Vec<String> {
    let mut values: Vec<String> = records.iter().map(|(_, v)| v.clone()).collect();
    values.sort();
    values
}

fn expected(count: usize) -> Vec<String> {
    let mut values: Vec<String> = (0..count).map(|i| format!("line-{i}")).collect();
    values.sort();
    values
}

#[test]
fn at_least_once_output_equals_the_input() {
    let broker = TestBroker::start();
    let got = round_trip(&broker, 1000, |b| {
        b.delivery_guarantee(DeliveryGuarantee::AtLeastOnce)
    });
    assert_eq!(sorted_values(&got), expected(1000));
}

#[test]
fn exactly_once_output_is_committed_and_equals_the_input() {
    let broker = TestBroker::start();
    let got = round_trip(&broker, 1000, |b| {
        b.delivery_guarantee(DeliveryGuarantee::ExactlyOnce)
            .transactional_id_prefix("weir-test")
    });
    assert_eq!(sorted_values(&got), expected(1000));
}

#[test]
fn fixed_partitioner_writes_each_subtask_to_one_partition() {
    let broker = TestBroker::start();
    let got = round_trip(&broker, 100, |b| b.partitioner(SinkPartitioner::Fixed));
    assert_eq!(sorted_values(&got), expected(100));
    // Subtasks 0 and 1 of 2 write to partitions 0 and 1; partition 2 stays empty.
    assert!(got.iter().all(|(p, _)| *p < 2), "{got:?}");
    assert!(got.iter().any(|(p, _)| *p == 0) && got.iter().any(|(p, _)| *p == 1));
}

#[test]
fn round_robin_partitioner_spreads_evenly() {
    let broker = TestBroker::start();
    let got = round_trip(&broker, 120, |b| b.partitioner(SinkPartitioner::RoundRobin));
    assert_eq!(sorted_values(&got), expected(120));
    for partition in 0..3 {
        let n = got.iter().filter(|(p, _)| *p == partition).count();
        assert_eq!(n, 40, "partition {partition}");
    }
}

#[test]
fn exactly_once_needs_a_transactional_id_prefix() {
    let err = KafkaSink::<String>::builder()
        .bootstrap_servers("127.0.0.1:9")
        .topic(TOPIC)
        .serializer(StringSerializer)
        .delivery_guarantee(DeliveryGuarantee::ExactlyOnce)
        .build()
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("'sink.transactional-id-prefix'"), "{err}");
}

/// A broker that stops answering mid-job (paused with SIGSTOP for longer than the producer's
/// delivery timeout, then resumed with SIGCONT): the producer retries, the undelivered
/// records fail the job, the restart strategy restarts it from its latest checkpoint, and the
/// output holds every record (at least once).
#[test]
fn a_paused_broker_leads_to_a_restart_and_loses_nothing() {
    const COUNT: u64 = 6000;
    let broker = TestBroker::start();
    broker.create_topic(TOPIC, 3);
    let checkpoints = std::env::temp_dir().join(format!("weir-kafka-pause-{}", std::process::id()));
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    env.set_parallelism(2);
    env.configure("execution.checkpointing.interval", "200 ms")
        .configure(
            "execution.checkpointing.dir",
            &checkpoints.display().to_string(),
        )
        .configure("restart-strategy.type", "fixed-delay")
        .configure("restart-strategy.fixed-delay.attempts", "20")
        .configure("restart-strategy.fixed-delay.delay", "500 ms");
    let sink = KafkaSink::builder()
        .bootstrap_servers(&broker.bootstrap)
        .topic(TOPIC)
        .serializer(StringSerializer)
        .delivery_guarantee(DeliveryGuarantee::AtLeastOnce)
        .property("message.timeout.ms", "1500")
        .build()
        .unwrap();
    let records = env
        .from_generator(|i| format!("line-{i}"), Some(COUNT), Some(2_000.0))
        .uid("generator")
        .rebalance();
    sink.sink(&records, "Kafka").uid("kafka");
    let handle = env.execute_async("paused broker").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    broker.pause();
    std::thread::sleep(std::time::Duration::from_secs(4));
    broker.resume();
    let result = handle.wait();
    let _ = std::fs::remove_dir_all(&checkpoints);
    let result = result.unwrap();
    assert!(
        result.num_restarts >= 1,
        "the pause should have failed the job"
    );
    let mut got: Vec<String> = broker
        .read_all(TOPIC, 3, "read_uncommitted")
        .into_iter()
        .map(|(_, _, v)| v)
        .collect();
    got.sort();
    got.dedup();
    let mut expected: Vec<String> = (0..COUNT).map(|i| format!("line-{i}")).collect();
    expected.sort();
    assert_eq!(got, expected);
}
