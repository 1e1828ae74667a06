//! The ClickEventCount job of the operations playground: reads [`ClickEvent`]s from the topic
//! `input`, counts the clicks per page in 15 s tumbling windows and writes
//! [`ClickEventStatistics`] as JSON to the topic `output`.
//!
//! ```text
//! weir run click_event_count [--bootstrap HOST:PORT] [--checkpointing] [--event-time]
//!                            [--backpressure] [--delivery-guarantee at-least-once|exactly-once]
//! ```
//! As in Flink's playground: `--checkpointing` checkpoints every second (unless
//! `execution.checkpointing.interval` is configured), `--event-time` counts by the clicks'
//! timestamps with watermarks 200 ms behind (else by processing time), `--backpressure`
//! adds a map that sleeps 100 ms per click in even minutes. `--delivery-guarantee` is the
//! sink's (default `at-least-once`; `exactly-once` commits the counts with checkpoints).

use std::time::Duration;

use weir_connector_kafka::{JsonDeserializer, JsonSerializer, KafkaSink, KafkaSource};
use weir_datastream::prelude::*;
use weir_playground::{
    bootstrap_servers, ClickEvent, ClickEventStatistics, INPUT_TOPIC, OUTPUT_TOPIC, WINDOW,
};

/// Counts one page's clicks in one window, with the window's bounds.
#[allow(clippy::ptr_arg)] // the signature of a window function keyed by String
fn statistics(
    page: &String,
    counts: Vec<(String, u64)>,
    ctx: &mut WindowContext<'_, String, TimeWindow, ClickEventStatistics>,
) -> Result<()> {
    let window = ctx.window();
    for (_, count) in counts {
        ctx.collect(ClickEventStatistics {
            window_start: window.start,
            window_end: window.end,
            page: page.clone(),
            count,
        });
    }
    Ok(())
}

/// Sleeps 100 ms per click in even minutes (Flink's `BackpressureMap`).
fn backpressure(click: ClickEvent) -> ClickEvent {
    let minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 60);
    if minute.is_multiple_of(2) {
        std::thread::sleep(Duration::from_millis(100));
    }
    click
}

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let bootstrap = bootstrap_servers(&params);
        let event_time = params.has("event-time");
        let guarantee = params.get_or("delivery-guarantee", "at-least-once".to_string())?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        if params.has("checkpointing")
            && env
                .config()
                .get_string("execution.checkpointing.interval")
                .is_none()
        {
            env.configure("execution.checkpointing.interval", "1 s");
        }
        let mut source = KafkaSource::builder()
            .bootstrap_servers(&bootstrap)
            .topics(&[INPUT_TOPIC])
            .group_id("click-event-count")
            .deserializer(JsonDeserializer::<ClickEvent>::new());
        if event_time {
            source = source.watermark_strategy(
                WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_millis(200))
                    .with_timestamp_assigner(|click: &ClickEvent, _| Ok(click.timestamp)),
            );
        }
        let mut clicks = source
            .build()?
            .stream(&env, "ClickEvent Source")
            .uid("click-event-source");
        if params.has("backpressure") {
            clicks = clicks
                .map(backpressure)
                .name("Backpressure")
                .uid("backpressure")
                .disable_chaining();
        }
        let keyed = clicks
            .map(|click: ClickEvent| (click.page, 1u64))
            .uid("to-count")
            .key_by(|(page, _): &(String, u64)| page.clone());
        let add = |(page, a): (String, u64), (_, b): (String, u64)| (page, a + b);
        let counts = if event_time {
            keyed
                .window(TumblingEventTimeWindows::of(WINDOW))
                .reduce_with(add, statistics)
        } else {
            keyed
                .window(TumblingProcessingTimeWindows::of(WINDOW))
                .reduce_with(add, statistics)
        }
        .name("ClickEvent Counter")
        .uid("click-event-counter");
        let sink = KafkaSink::builder()
            .bootstrap_servers(&bootstrap)
            .topic(OUTPUT_TOPIC)
            .option("sink.delivery-guarantee", guarantee)
            .transactional_id_prefix("click-event-count")
            .serializer(JsonSerializer::with_key(|s: &ClickEventStatistics| {
                s.page.clone()
            }))
            .build()?;
        sink.sink(&counts, "ClickEventStatistics Sink")
            .uid("click-event-statistics-sink");
        env.execute("Click Event Count")?;
        Ok(())
    })
}
