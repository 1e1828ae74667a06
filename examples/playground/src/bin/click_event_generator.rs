//! The click-event generator of the operations playground: writes [`ClickEvent`]s as JSON
//! (keyed by page) to the topic `input`, creating it (2 partitions) and `output` (1) first.
//! Every 15 s window of event time holds exactly 1000 clicks of each of the six pages.
//!
//! ```text
//! weir run click_event_generator [--bootstrap HOST:PORT] [--rate 400] [--count N]
//!                                [--start-ms MS]
//! ```
//! `--rate` is clicks per second of wall-clock time: 400 (the default) is real time, more
//! makes event time run faster than the clock (tests use that); `--count` stops after N
//! clicks; `--start-ms` is the event time of the first click (default: now, rounded down to
//! a window).

use weir_connector_kafka::{JsonSerializer, KafkaSink};
use weir_datastream::prelude::*;
use weir_playground::{
    bootstrap_servers, create_topics, ClickEvent, INPUT_TOPIC, OUTPUT_TOPIC, WINDOW,
};

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let bootstrap = bootstrap_servers(&params);
        let rate: f64 = params.get_or("rate", 400.0)?;
        let count = params.get_parsed::<u64>("count")?;
        let window_ms = WINDOW.as_millis() as i64;
        let start_ms = match params.get_parsed::<i64>("start-ms")? {
            Some(start) => start,
            None => now_ms() / window_ms * window_ms,
        };
        create_topics(&bootstrap, &[(INPUT_TOPIC, 2), (OUTPUT_TOPIC, 1)])?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        env.set_parallelism(1);
        let sink = KafkaSink::builder()
            .bootstrap_servers(&bootstrap)
            .topic(INPUT_TOPIC)
            .serializer(JsonSerializer::with_key(|click: &ClickEvent| {
                click.page.clone()
            }))
            .build()?;
        let clicks = env
            .from_generator(move |i| ClickEvent::nth(i, start_ms), count, Some(rate))
            .name("ClickEvent Generator");
        sink.sink(&clicks, "Kafka: input");
        env.execute("ClickEvent Generator")?;
        Ok(())
    })
}

/// The wall clock in ms since the epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
