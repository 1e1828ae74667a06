//! The connector in checkpoints, against a real broker: a job whose map fails once restarts
//! from its latest completed checkpoint (restart strategy fixed-delay), and the output equals
//! the input exactly. The source is checked through the exactly-once file sink (no gap, no
//! replay beyond the checkpoint), the sink through a `read_committed` consumer.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::TestBroker;
use weir_connector_kafka::{
    DeliveryGuarantee, KafkaSink, KafkaSource, StringDeserializer, StringSerializer,
};
use weir_datastream::prelude::*;
use weir_datastream::sinks::FileSink;

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("weir-kafka-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An environment at parallelism 2 with checkpoints every 100 ms into `checkpoints` and one
/// restart allowed.
fn env(checkpoints: &TempDir) -> StreamExecutionEnvironment {
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    env.set_parallelism(2);
    env.configure("execution.checkpointing.interval", "100 ms")
        .configure(
            "execution.checkpointing.dir",
            &checkpoints.0.display().to_string(),
        )
        .configure("restart-strategy.type", "fixed-delay")
        .configure("restart-strategy.fixed-delay.attempts", "1")
        .configure("restart-strategy.fixed-delay.delay", "10 ms");
    env
}

/// A map that passes records on, slowly enough for checkpoints to complete in between, and
/// fails once, at its `fail_at`-th record over all subtasks and attempts.
fn failing_once(fail_at: u64) -> impl Fn(String) -> Result<String> + Send + Sync + Clone + 'static {
    let (seen, failed) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    move |value: String| {
        std::thread::sleep(Duration::from_micros(500));
        if seen.fetch_add(1, Ordering::SeqCst) == fail_at && !failed.swap(true, Ordering::SeqCst) {
            return Err(WeirError::user("injected failure"));
        }
        Ok(value)
    }
}

/// The lines of the finished part files under `dir`, sorted.
fn finished_lines(dir: &PathBuf) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_string_lossy().starts_with('.') {
            let text = std::fs::read_to_string(&path).unwrap();
            lines.extend(text.lines().map(str::to_string));
        }
    }
    lines.sort();
    lines
}

#[test]
fn source_offsets_are_restored_after_a_failure() {
    const PARTITIONS: i32 = 3;
    const PER_PARTITION: i64 = 400;
    let broker = TestBroker::start();
    broker.create_topic("input", PARTITIONS);
    let input: Vec<(i32, i64, String)> = (0..PARTITIONS)
        .flat_map(|p| (0..PER_PARTITION).map(move |i| (p, i, format!("p{p}-{i}"))))
        .collect();
    broker.produce_batched("input", &input);
    let (out, chk) = (TempDir::new("src-out"), TempDir::new("src-chk"));
    let env = env(&chk);
    let source = KafkaSource::builder()
        .bootstrap_servers(&broker.bootstrap)
        .topics(&["input"])
        .deserializer(StringDeserializer)
        .bounded()
        .build()
        .unwrap();
    source
        .stream(&env, "Kafka")
        .uid("kafka")
        .try_map(failing_once(input.len() as u64 / 2))
        .uid("flaky")
        .sink_to(
            FileSink::for_row_format(&out.0).with_bucket_assigner(|_: &String, _| String::new()),
            "File Sink",
        )
        .uid("files");
    let result = env.execute("source restore").unwrap();
    assert_eq!(result.num_restarts, 1);
    let mut expected: Vec<String> = input.into_iter().map(|(_, _, v)| v).collect();
    expected.sort();
    assert_eq!(finished_lines(&out.0), expected);
}

#[test]
fn exactly_once_sink_output_equals_the_input_after_a_failure() {
    const COUNT: u64 = 3000;
    let broker = TestBroker::start();
    broker.create_topic("output", 3);
    let chk = TempDir::new("sink-chk");
    let env = env(&chk);
    let sink = KafkaSink::builder()
        .bootstrap_servers(&broker.bootstrap)
        .topic("output")
        .serializer(StringSerializer)
        .delivery_guarantee(DeliveryGuarantee::ExactlyOnce)
        .transactional_id_prefix("weir-restart")
        .build()
        .unwrap();
    let records = env
        .from_generator(|i| format!("record-{i}"), Some(COUNT), Some(5_000.0))
        .uid("generator")
        .rebalance()
        .try_map(failing_once(COUNT / 2))
        .uid("flaky");
    sink.sink(&records, "Kafka").uid("kafka");
    let result = env.execute("sink restore").unwrap();
    assert_eq!(result.num_restarts, 1);
    let mut got: Vec<String> = broker
        .read_all("output", 3, "read_committed")
        .into_iter()
        .map(|(_, _, v)| v)
        .collect();
    got.sort();
    let mut expected: Vec<String> = (0..COUNT).map(|i| format!("record-{i}")).collect();
    expected.sort();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
}

#[test]
fn completed_checkpoints_commit_their_offsets_to_the_group() {
    const PER_PARTITION: i64 = 50;
    let broker = TestBroker::start();
    broker.create_topic("input", 2);
    let input: Vec<(i32, i64, String)> = (0..2)
        .flat_map(|p| (0..PER_PARTITION).map(move |i| (p, i, format!("p{p}-{i}"))))
        .collect();
    broker.produce_batched("input", &input);
    let chk = TempDir::new("commit-chk");
    let env = env(&chk);
    let source = KafkaSource::builder()
        .bootstrap_servers(&broker.bootstrap)
        .topics(&["input"])
        .group_id("committer")
        .deserializer(StringDeserializer)
        .build()
        .unwrap();
    source.stream(&env, "Kafka").uid("kafka").sink_to_operator(
        std::sync::Arc::new(|_| Ok(Box::new(Discard) as Box<dyn weir_runtime::StreamOperator>)),
        "Discard",
    );
    let job = env.execute_async("offset commits").unwrap();
    // The unbounded source reads everything, then every completed checkpoint commits the
    // end offsets.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut committed = Vec::new();
    while std::time::Instant::now() < deadline {
        committed = broker.committed("committer", "input", 2);
        if committed == [PER_PARTITION, PER_PARTITION] {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    job.cancel();
    let _ = job.wait();
    assert_eq!(committed, [PER_PARTITION, PER_PARTITION]);
}

/// A sink that drops everything.
struct Discard;

impl weir_runtime::StreamOperator for Discard {
    fn process_batch(
        &mut self,
        _input: usize,
        _batch: weir_core::element::Batch,
        _out: &mut dyn weir_runtime::Output,
    ) -> Result<()> {
        Ok(())
    }
}
