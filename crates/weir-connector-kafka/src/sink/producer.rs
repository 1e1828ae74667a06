//! A producer that remembers the first failed delivery, so that the sink fails the job
//! (naming the topic and the error) instead of losing records silently.

use std::sync::Mutex;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext};
use weir_core::{Result, WeirError};

/// Keeps the first delivery error.
#[derive(Default)]
pub(crate) struct DeliveryTracker {
    first_error: Mutex<Option<String>>,
}

impl ClientContext for DeliveryTracker {}

impl ProducerContext for DeliveryTracker {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _opaque: ()) {
        if let Err((e, message)) = result {
            use rdkafka::message::Message;
            let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert_with(|| {
                format!(
                    "a record for topic '{}' (partition {}) was not delivered: {e}",
                    message.topic(),
                    message.partition()
                )
            });
        }
    }
}

/// How long a flush may take before the sink gives up.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

/// A producer with its delivery tracker.
pub(crate) struct TrackedProducer {
    pub producer: ThreadedProducer<DeliveryTracker>,
    /// For messages: the bootstrap servers.
    bootstrap: String,
}

impl TrackedProducer {
    /// A producer configured by `config`.
    pub fn create(config: &ClientConfig, bootstrap: &str) -> Result<Self> {
        let producer = config
            .create_with_context(DeliveryTracker::default())
            .map_err(|e| WeirError::Config(format!("cannot create the Kafka producer: {e}")))?;
        Ok(TrackedProducer {
            producer,
            bootstrap: bootstrap.to_string(),
        })
    }

    /// Queues a record, waiting while the client's queue is full.
    pub fn send(&self, mut record: BaseRecord<'_, [u8], [u8]>) -> Result<()> {
        loop {
            match self.producer.send(record) {
                Ok(()) => return self.check(),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err((e, back)) => {
                    return Err(self.error(format!("cannot send to topic '{}'", back.topic), e))
                }
            }
        }
    }

    /// Waits until every queued record is acknowledged; fails if any was not delivered.
    pub fn flush(&self) -> Result<()> {
        self.producer
            .flush(FLUSH_TIMEOUT)
            .map_err(|e| self.error("flushing the Kafka producer".into(), e))?;
        self.check()
    }

    /// The first delivery error so far, as a job failure.
    pub fn check(&self) -> Result<()> {
        let tracker = self.producer.context();
        let first = tracker
            .first_error
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match first.as_ref() {
            None => Ok(()),
            Some(message) => Err(WeirError::Io {
                context: format!("writing to the Kafka brokers at '{}'", self.bootstrap),
                message: message.clone(),
            }),
        }
    }

    /// An error of an operation on this producer.
    pub fn error(&self, what: String, e: impl std::fmt::Display) -> WeirError {
        WeirError::io(format!("{what} (brokers '{}')", self.bootstrap), e)
    }
}
