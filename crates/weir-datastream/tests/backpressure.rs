//! Backpressure: with a sink that takes 1 ms per record, an unthrottled source slows to the
//! sink's rate and the records in flight stay under the bound the channels allow.

mod common;

use std::time::Duration;

use common::env;
use weir_datastream::prelude::*;

const BATCH: usize = 50;
const BUFFERS_PER_CHANNEL: usize = 2;

#[test]
fn a_slow_sink_slows_the_source_and_bounds_memory() {
    let env = env(1);
    env.configure("execution.batch-size", &BATCH.to_string());
    env.configure(
        "taskmanager.network.memory.buffers-per-channel",
        &BUFFERS_PER_CHANNEL.to_string(),
    );
    env.from_generator(|i| i, None, None)
        .name("fast source")
        .sink_to(
            |batch: Vec<u64>| {
                std::thread::sleep(Duration::from_millis(batch.len() as u64));
                Ok(())
            },
            "slow sink",
        )
        .disable_chaining();
    let handle = env.execute_async("backpressure").unwrap();

    let mut max_in_flight = 0;
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(100));
        let metrics = handle.metrics();
        let source_out = metrics
            .iter()
            .find(|t| t.vertex.contains("fast source"))
            .unwrap()
            .num_records_out;
        let sink_in = metrics
            .iter()
            .find(|t| t.vertex.contains("slow sink"))
            .unwrap()
            .num_records_in;
        max_in_flight = max_in_flight.max(source_out - sink_in);
    }
    let metrics = handle.metrics();
    handle.cancel();
    assert!(matches!(handle.wait(), Err(WeirError::Cancelled)));

    // In flight: the batches a channel holds, the one the sink is processing and the one the
    // source is blocked sending.
    let bound = ((BUFFERS_PER_CHANNEL + 2) * BATCH) as u64;
    assert!(
        max_in_flight <= bound,
        "{max_in_flight} records in flight, more than {bound}"
    );
    let source = metrics
        .iter()
        .find(|t| t.vertex.contains("fast source"))
        .unwrap();
    // About 2 s at 1 ms per record: ~2000 records, never the millions an unthrottled source makes.
    assert!(
        source.num_records_out < 3000,
        "the source emitted {} records",
        source.num_records_out
    );
    assert!(
        source.num_records_out > 1000,
        "the source emitted only {} records",
        source.num_records_out
    );
    assert!(
        source.rates.back_pressured_time_ms_per_second > 500.0,
        "the source is back-pressured most of the time: {:?}",
        source.rates
    );
}
