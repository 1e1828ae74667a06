//! The Nexmark DataStream source: subtasks split the stream without gap or overlap,
//! checkpointed positions resume exactly, the rate limit holds, and a job reads it.

use std::time::{Duration, Instant};

use weir_datastream::functions::RuntimeContext;
use weir_datastream::prelude::*;
use weir_nexmark::{Event, NexmarkConfig, NexmarkGenerator, NexmarkSource};

const EVENTS: u64 = 5_000;

fn config() -> NexmarkConfig {
    NexmarkConfig {
        events: Some(EVENTS),
        seed: 42,
        ..NexmarkConfig::default()
    }
}

fn expected() -> Vec<Event> {
    NexmarkGenerator::new(config())
        .unwrap()
        .events(0..EVENTS)
        .collect()
}

fn context(subtask_index: usize, parallelism: usize) -> RuntimeContext {
    RuntimeContext {
        subtask_index,
        parallelism,
        ..RuntimeContext::detached("nexmark", "nexmark")
    }
}

/// Polls `reader` in batches of `batch` until it finishes or `limit` events were read.
fn read(reader: &mut dyn SourceReader<Event>, batch: usize, limit: usize) -> Vec<Event> {
    let mut out = Vec::new();
    while out.len() < limit {
        let max = batch.min(limit - out.len());
        match reader.poll_next(&mut out, max).unwrap() {
            SourceStatus::More => {}
            SourceStatus::Pending(wait) => std::thread::sleep(wait),
            SourceStatus::Finished => break,
        }
    }
    out
}

#[test]
fn subtasks_together_read_the_stream_of_one_generator() {
    for parallelism in [1, 2, 3, 7] {
        let source = NexmarkSource::new(config(), None).unwrap();
        let all: Vec<Event> = (0..parallelism)
            .flat_map(|i| {
                let mut reader = source.create_reader(&context(i, parallelism)).unwrap();
                read(reader.as_mut(), 333, usize::MAX)
            })
            .collect();
        assert_eq!(all, expected(), "parallelism {parallelism}");
    }
}

#[test]
fn a_restored_reader_resumes_right_after_the_checkpoint() {
    let source = NexmarkSource::new(config(), None).unwrap();
    let mut reader = source.create_reader(&context(0, 1)).unwrap();
    let mut seen = read(reader.as_mut(), 100, 1_234);
    let splits = reader.snapshot_splits().unwrap();
    // Events read after the checkpoint are lost with the failed reader.
    read(reader.as_mut(), 100, 500);

    let restored_source = NexmarkSource::new(config(), None).unwrap();
    let mut restored = restored_source
        .restore_reader(&context(0, 1), &splits)
        .unwrap();
    seen.extend(read(restored.as_mut(), 100, usize::MAX));
    assert_eq!(seen, expected());
}

#[test]
fn positions_of_several_subtasks_restore_into_another_parallelism() {
    let source = NexmarkSource::new(config(), None).unwrap();
    let mut seen = Vec::new();
    let mut splits = Vec::new();
    for i in 0..3 {
        let mut reader = source.create_reader(&context(i, 3)).unwrap();
        seen.extend(read(reader.as_mut(), 64, 200 * (i + 1)));
        splits.extend(reader.snapshot_splits().unwrap());
    }
    // The rest, by two subtasks sharing the three splits.
    for (i, share) in [&splits[..2], &splits[2..]].into_iter().enumerate() {
        let mut reader = source.restore_reader(&context(i, 2), share).unwrap();
        seen.extend(read(reader.as_mut(), 64, usize::MAX));
    }
    let key = |e: &Event| format!("{e:?}");
    let mut seen: Vec<String> = seen.iter().map(key).collect();
    let mut expected: Vec<String> = expected().iter().map(key).collect();
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
}

#[test]
fn the_rate_limit_spreads_events_over_time() {
    let rate = 4_000.0;
    let source = NexmarkSource::new(config(), Some(rate)).unwrap();
    let mut reader = source.create_reader(&context(0, 1)).unwrap();
    let started = Instant::now();
    let events = read(reader.as_mut(), 1_000, 2_000);
    assert_eq!(events.len(), 2_000);
    // 2,000 events at 4,000/s: released in 1/20 s steps, the last one at 0.45 s.
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_parallel_job_reads_every_event_once() {
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    env.set_parallelism(2);
    let mut got: Vec<String> = env
        .from_source(NexmarkSource::new(config(), None).unwrap(), "Nexmark")
        .execute_and_collect()
        .unwrap()
        .iter()
        .map(|e: &Event| format!("{e:?}"))
        .collect();
    let mut want: Vec<String> = expected().iter().map(|e| format!("{e:?}")).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn an_invalid_configuration_is_an_error() {
    let config = NexmarkConfig {
        first_event_rate: 0,
        ..config()
    };
    let err = NexmarkSource::new(config, None).err().expect("an error");
    assert!(err.to_string().contains("rate"), "{err}");
}
