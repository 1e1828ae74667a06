//! The options of Flink's Nexmark table source (`'connector' = 'nexmark'`), read into a
//! [`NexmarkConfig`] and a rate limit, so that a Nexmark table DDL written for Flink
//! configures Weir's generator the same way.
//!
//! ```
//! use weir_nexmark::options::NexmarkOptions;
//!
//! let options = NexmarkOptions::parse([
//!     ("events.num", "1000000"),
//!     ("first-event.rate", "10000000"),
//!     ("next-event.rate", "10000000"),
//!     ("bid.avg-size", "100b"),
//! ])
//! .unwrap();
//! assert_eq!(options.config.events, Some(1_000_000));
//! assert_eq!(options.rate_limit, None);
//! ```

use crate::NexmarkConfig;

/// What the source options say: the generator's configuration and, when `rate.limited` is
/// true, the events per second to emit (the event-time rate, in wall-clock time too).
#[derive(Debug, Clone, PartialEq)]
pub struct NexmarkOptions {
    /// The generator's configuration.
    pub config: NexmarkConfig,
    /// Events per second over all subtasks, or `None` for as fast as possible.
    pub rate_limit: Option<f64>,
}

/// The option keys understood, with what they set.
pub const OPTION_KEYS: &[(&str, &str)] = &[
    (
        "events.num",
        "number of events; 0 (the default) for an unbounded stream",
    ),
    (
        "first-event.rate",
        "events per second of event time (default 10000)",
    ),
    (
        "next-event.rate",
        "must equal first-event.rate: rate shapes are not supported yet",
    ),
    (
        "rate.limited",
        "true: emit at the event-time rate in wall-clock time (default false)",
    ),
    (
        "person.proportion",
        "persons per group of events (default 1)",
    ),
    ("auction.proportion", "auctions per group (default 3)"),
    ("bid.proportion", "bids per group (default 46)"),
    (
        "person.avg-size",
        "average person size, e.g. 200b (default)",
    ),
    ("auction.avg-size", "average auction size (default 500b)"),
    ("bid.avg-size", "average bid size (default 100b)"),
    (
        "bid.hot-ratio.auctions",
        "1 - 1/ratio of bids are for hot auctions (default 2)",
    ),
    (
        "bid.hot-ratio.bidders",
        "1 - 1/ratio of bids are by hot bidders (default 4)",
    ),
    (
        "auction.hot-ratio.sellers",
        "1 - 1/ratio of auctions are by hot sellers (default 4)",
    ),
    ("seed", "Weir only: the generator's seed (default 0)"),
    (
        "base-time",
        "Weir only: event time of the first event, ms since the epoch",
    ),
];

impl NexmarkOptions {
    /// Reads `options` (key, value pairs, as in a `WITH (...)` clause); an unknown key or a
    /// bad value is an error that names the option.
    pub fn parse<K: AsRef<str>, V: AsRef<str>>(
        options: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, String> {
        let mut config = NexmarkConfig::default();
        let mut rate_limited = false;
        let mut next_rate = None;
        for (key, value) in options {
            let (key, value) = (key.as_ref(), value.as_ref().trim());
            match key {
                "events.num" => config.events = Some(number(key, value)?).filter(|n| *n > 0),
                "first-event.rate" => config.first_event_rate = number(key, value)?,
                "next-event.rate" => next_rate = Some(number(key, value)?),
                "rate.limited" => rate_limited = boolean(key, value)?,
                "person.proportion" => config.person_proportion = number(key, value)?,
                "auction.proportion" => config.auction_proportion = number(key, value)?,
                "bid.proportion" => config.bid_proportion = number(key, value)?,
                "person.avg-size" => config.avg_person_bytes = bytes(key, value)?,
                "auction.avg-size" => config.avg_auction_bytes = bytes(key, value)?,
                "bid.avg-size" => config.avg_bid_bytes = bytes(key, value)?,
                "bid.hot-ratio.auctions" => config.hot_auction_ratio = number(key, value)?,
                "bid.hot-ratio.bidders" => config.hot_bidders_ratio = number(key, value)?,
                "auction.hot-ratio.sellers" => config.hot_sellers_ratio = number(key, value)?,
                "seed" => config.seed = number(key, value)?,
                "base-time" => {
                    config.base_time_ms = value
                        .parse()
                        .map_err(|_| invalid(key, value, "a number of milliseconds"))?
                }
                _ => {
                    let known: Vec<&str> = OPTION_KEYS.iter().map(|(k, _)| *k).collect();
                    return Err(format!(
                        "unsupported option '{key}' of the nexmark connector; supported: {}",
                        known.join(", ")
                    ));
                }
            }
        }
        if next_rate.is_some_and(|next| next != config.first_event_rate) {
            return Err("'next-event.rate' must equal 'first-event.rate': \
                 changing rates (rate shapes) are not supported yet"
                .into());
        }
        config.validate()?;
        let rate_limit = rate_limited.then_some(config.first_event_rate as f64);
        Ok(NexmarkOptions { config, rate_limit })
    }
}

fn invalid(key: &str, value: &str, expected: &str) -> String {
    format!("option '{key}' of the nexmark connector: '{value}' is not {expected}")
}

fn number(key: &str, value: &str) -> Result<u64, String> {
    value
        .parse()
        .map_err(|_| invalid(key, value, "a non-negative whole number"))
}

fn boolean(key: &str, value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(key, value, "true or false")),
    }
}

/// A size in Flink's `MemorySize` text form: a number and an optional unit (`b`, `kb`,
/// `mb`, `gb` and their short forms; bytes if none).
fn bytes(key: &str, value: &str) -> Result<usize, String> {
    let lower = value.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(split);
    let scale: usize = match unit.trim() {
        "" | "b" | "bytes" => 1,
        "k" | "kb" | "kibibytes" => 1 << 10,
        "m" | "mb" | "mebibytes" => 1 << 20,
        "g" | "gb" | "gibibytes" => 1 << 30,
        _ => return Err(invalid(key, value, "a size such as 200b or 1kb")),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| invalid(key, value, "a size such as 200b or 1kb"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flink_nexmark_ddl_options_configure_the_generator() {
        let options = NexmarkOptions::parse([
            ("first-event.rate", "1000"),
            ("next-event.rate", "1000"),
            ("events.num", "50"),
            ("person.proportion", "2"),
            ("auction.proportion", "3"),
            ("bid.proportion", "45"),
            ("auction.avg-size", "1kb"),
            ("bid.hot-ratio.auctions", "3"),
            ("rate.limited", "true"),
            ("seed", "9"),
        ])
        .unwrap();
        let config = &options.config;
        assert_eq!(config.events, Some(50));
        assert_eq!(config.first_event_rate, 1000);
        assert_eq!(config.total_proportion(), 50);
        assert_eq!(config.avg_auction_bytes, 1024);
        assert_eq!(config.hot_auction_ratio, 3);
        assert_eq!(config.seed, 9);
        assert_eq!(options.rate_limit, Some(1000.0));
        let unbounded = NexmarkOptions::parse([("events.num", "0")]).unwrap();
        assert_eq!(unbounded.config, NexmarkConfig::default());
    }

    #[test]
    fn bad_options_are_errors_naming_the_option() {
        let err = |key: &str, value: &str| NexmarkOptions::parse([(key, value)]).unwrap_err();
        assert!(err("events.num", "many").contains("'events.num'"));
        assert!(err("bid.avg-size", "100 parsecs").contains("'bid.avg-size'"));
        assert!(err("rate.limited", "maybe").contains("true or false"));
        assert!(err("first-event.rate", "0").contains("rate"));
        assert!(err("rows-per-second", "5").contains("unsupported option 'rows-per-second'"));
        let shapes = NexmarkOptions::parse([("first-event.rate", "10"), ("next-event.rate", "20")]);
        assert!(shapes.unwrap_err().contains("rate shapes"));
    }
}
