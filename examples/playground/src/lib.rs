//! Flink's operations playground on Weir: a generator writes click events to the Kafka topic
//! `input`; the ClickEventCount job counts the clicks per page in 15 s event-time windows and
//! writes the counts to the topic `output`. The generator's schedule puts exactly
//! [`CLICKS_PER_WINDOW`] clicks of every page into every window, so any other count in the
//! output is a lost or duplicated record.
//!
//! - `weir run click_event_generator`: see `src/bin/click_event_generator.rs`;
//! - `weir run click_event_count`: see `src/bin/click_event_count.rs`;
//! - `examples/playground/run.sh` starts broker, generator and job.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};
use weir_datastream::prelude::*;

/// The pages clicked, as in Flink's playground.
pub const PAGES: [&str; 6] = ["/help", "/index", "/shop", "/jobs", "/about", "/news"];
/// The window of the count.
pub const WINDOW: Duration = Duration::from_secs(15);
/// Clicks of each page in each window.
pub const CLICKS_PER_WINDOW: u64 = 1000;
/// Event time between two clicks of the same page: 15 ms.
const CLICK_SPACING_MS: i64 = WINDOW.as_millis() as i64 / CLICKS_PER_WINDOW as i64;

/// The input topic and the output topic.
pub const INPUT_TOPIC: &str = "input";
pub const OUTPUT_TOPIC: &str = "output";

/// One click (Flink's `ClickEvent`); `timestamp` in ms since the epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickEvent {
    pub timestamp: i64,
    pub page: String,
}

impl ClickEvent {
    /// The `index`-th click of the schedule starting at `start_ms`: the pages take turns, and
    /// each page's clicks are 15 ms of event time apart, so that a window of 15 s holds
    /// exactly 1000 clicks of each page.
    pub fn nth(index: u64, start_ms: i64) -> Self {
        let page = PAGES[(index % PAGES.len() as u64) as usize];
        let round = (index / PAGES.len() as u64) as i64;
        ClickEvent {
            timestamp: start_ms + round * CLICK_SPACING_MS,
            page: page.to_string(),
        }
    }
}

/// The count of one page in one window (Flink's `ClickEventStatistics`), as JSON
/// `{"windowStart":..,"windowEnd":..,"page":..,"count":..}` (times in ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClickEventStatistics {
    pub window_start: i64,
    pub window_end: i64,
    pub page: String,
    pub count: u64,
}

/// The bootstrap servers: `--bootstrap`, else `$WEIR_KAFKA_BOOTSTRAP` (set by
/// `scripts/kafka-broker.sh run`), else `127.0.0.1:9092`.
pub fn bootstrap_servers(params: &ParameterTool) -> String {
    params
        .get("bootstrap")
        .map(String::from)
        .or_else(|| std::env::var("WEIR_KAFKA_BOOTSTRAP").ok())
        .unwrap_or_else(|| "127.0.0.1:9092".to_string())
}

/// Creates the `topics` (name, partitions) that do not exist yet.
pub fn create_topics(bootstrap: &str, topics: &[(&str, i32)]) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .map_err(|e| WeirError::Config(format!("cannot create a Kafka admin client: {e}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| WeirError::io("starting a runtime for Kafka admin requests", e))?;
    let new: Vec<NewTopic> = topics
        .iter()
        .map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1)))
        .collect();
    let context = format!("creating the topics at the Kafka brokers '{bootstrap}'");
    let results = runtime
        .block_on(admin.create_topics(&new, &AdminOptions::new()))
        .map_err(|e| WeirError::io(context.clone(), e))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(WeirError::io(format!("{context} ({topic})"), code)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_window_holds_1000_clicks_of_every_page() {
        let mut counts = std::collections::BTreeMap::new();
        for i in 0..(3 * 6 * CLICKS_PER_WINDOW) {
            let click = ClickEvent::nth(i, 0);
            let window = click.timestamp / WINDOW.as_millis() as i64;
            *counts.entry((window, click.page)).or_insert(0u64) += 1;
        }
        assert_eq!(counts.len(), 3 * 6);
        assert!(counts.values().all(|n| *n == CLICKS_PER_WINDOW));
    }

    #[test]
    fn statistics_have_flinks_json_field_names() {
        let stats = ClickEventStatistics {
            window_start: 0,
            window_end: 15_000,
            page: "/help".into(),
            count: 1000,
        };
        let json = serde_json::to_string(&stats).unwrap();
        assert_eq!(
            json,
            r#"{"windowStart":0,"windowEnd":15000,"page":"/help","count":1000}"#
        );
    }
}
