//! Kafka transactions for the exactly-once sink, one per checkpoint, as in Flink's
//! `KafkaSink`: records go into the open transaction; at a checkpoint barrier it is flushed
//! and kept open, pre-committed, and a new one begins on another producer; when the
//! checkpoint completes, every transaction pre-committed up to it is committed.
//!
//! librdkafka can only commit a transaction from the producer that began it, so each
//! transaction has its own producer, drawn from a pool whose transactional ids are
//! `<prefix>-<subtask>-<slot>`. At the start the pool's ids are initialised, which makes the
//! broker abort what an earlier attempt left open (fencing that attempt's producers). A
//! transaction pre-committed by a crashed process cannot be resumed by librdkafka and is
//! aborted then too (Flink's Java client resumes and commits it).

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::producer::Producer;
use rdkafka::ClientConfig;
use weir_core::Result;

use super::producer::TrackedProducer;

/// How long transaction requests may take.
const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// The slots initialised at the start: the open transaction and one pre-committed.
const INITIAL_SLOTS: usize = 2;

/// The transactions of one sink subtask.
pub(crate) struct Transactions {
    config: ClientConfig,
    bootstrap: String,
    prefix: String,
    /// Producers not in a transaction, by slot.
    free: BTreeMap<usize, TrackedProducer>,
    /// The open transaction.
    current: (usize, TrackedProducer),
    /// Pre-committed transactions by checkpoint id.
    pending: BTreeMap<u64, (usize, TrackedProducer)>,
    next_slot: usize,
}

impl Transactions {
    /// Initialises the pool of `<prefix>-<subtask>` (aborting what an earlier attempt left
    /// open) and begins the first transaction.
    pub fn start(config: ClientConfig, bootstrap: &str, prefix: String) -> Result<Self> {
        let mut free = BTreeMap::new();
        for slot in 0..INITIAL_SLOTS {
            free.insert(slot, init_producer(&config, bootstrap, &prefix, slot)?);
        }
        let (slot, producer) = free.pop_first().expect("the pool starts with producers");
        begin(&producer)?;
        Ok(Transactions {
            config,
            bootstrap: bootstrap.to_string(),
            prefix,
            free,
            current: (slot, producer),
            pending: BTreeMap::new(),
            next_slot: INITIAL_SLOTS,
        })
    }

    /// The producer of the open transaction.
    pub fn producer(&self) -> &TrackedProducer {
        &self.current.1
    }

    /// At the barrier of `checkpoint_id`: flushes the open transaction, keeps it for the
    /// commit, and begins the next.
    pub fn pre_commit(&mut self, checkpoint_id: u64) -> Result<()> {
        self.current.1.flush()?;
        let next = self.begin()?;
        let done = std::mem::replace(&mut self.current, next);
        self.pending.insert(checkpoint_id, done);
        Ok(())
    }

    /// Checkpoint `checkpoint_id` completed: commits the transactions pre-committed up to it.
    pub fn commit_up_to(&mut self, checkpoint_id: u64) -> Result<()> {
        let later = match checkpoint_id.checked_add(1) {
            Some(next) => self.pending.split_off(&next),
            None => BTreeMap::new(),
        };
        for (_, (slot, producer)) in std::mem::replace(&mut self.pending, later) {
            producer
                .producer
                .commit_transaction(TRANSACTION_TIMEOUT)
                .map_err(|e| producer.error("committing a Kafka transaction".into(), e))?;
            self.free.insert(slot, producer);
        }
        Ok(())
    }

    /// A free producer (a new slot if none is free) with a begun transaction.
    fn begin(&mut self) -> Result<(usize, TrackedProducer)> {
        let (slot, producer) = match self.free.pop_first() {
            Some(free) => free,
            None => {
                let slot = self.next_slot;
                self.next_slot += 1;
                let producer = init_producer(&self.config, &self.bootstrap, &self.prefix, slot)?;
                (slot, producer)
            }
        };
        begin(&producer)?;
        Ok((slot, producer))
    }
}

/// The producer of `<prefix>-<slot>`, its transactions initialised.
fn init_producer(
    config: &ClientConfig,
    bootstrap: &str,
    prefix: &str,
    slot: usize,
) -> Result<TrackedProducer> {
    let id = format!("{prefix}-{slot}");
    let mut config = config.clone();
    config.set("transactional.id", &id);
    let producer = TrackedProducer::create(&config, bootstrap)?;
    producer
        .producer
        .init_transactions(TRANSACTION_TIMEOUT)
        .map_err(|e| producer.error(format!("initialising the transactional id '{id}'"), e))?;
    Ok(producer)
}

fn begin(producer: &TrackedProducer) -> Result<()> {
    producer
        .producer
        .begin_transaction()
        .map_err(|e| producer.error("beginning a Kafka transaction".into(), e))
}
