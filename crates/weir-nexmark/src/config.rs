//! What shapes the generated events: the options of Flink's Nexmark source (`events.num`,
//! `first-event.rate`, `person.proportion`, `bid.hot-ratio.auctions`, ...) with the reference
//! defaults, and the arithmetic derived from them (event ids, timestamps, the out-of-order
//! permutation).

use serde::{Deserialize, Serialize};

/// Person, auction and category ids start here, so that queries find matches even on small
/// inputs.
pub const FIRST_PERSON_ID: u64 = 1000;
/// See [`FIRST_PERSON_ID`].
pub const FIRST_AUCTION_ID: u64 = 1000;
/// See [`FIRST_PERSON_ID`].
pub const FIRST_CATEGORY_ID: u64 = 10;

/// The Nexmark generator's options. [`Default`] gives the reference values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NexmarkConfig {
    /// Number of events (`events.num`); `None` for an unbounded stream.
    pub events: Option<u64>,
    /// Events per second of event time (`first-event.rate`): event `n` happens
    /// `n / rate` seconds after [`base_time_ms`](Self::base_time_ms).
    pub first_event_rate: u64,
    /// Event time of the first event, in ms since the epoch.
    pub base_time_ms: i64,
    /// Seed of every random choice; the same seed gives the same events.
    pub seed: u64,
    /// Persons in each group of `person + auction + bid` events (`person.proportion`).
    pub person_proportion: u64,
    /// Auctions per group (`auction.proportion`).
    pub auction_proportion: u64,
    /// Bids per group (`bid.proportion`).
    pub bid_proportion: u64,
    /// Average size in bytes of a person, reached by its `extra` field (`person.avg-size`).
    pub avg_person_bytes: usize,
    /// Average size of an auction (`auction.avg-size`).
    pub avg_auction_bytes: usize,
    /// Average size of a bid (`bid.avg-size`).
    pub avg_bid_bytes: usize,
    /// A bid is for a hot auction with probability `1 - 1/ratio` (`bid.hot-ratio.auctions`).
    pub hot_auction_ratio: u64,
    /// An auction is by a hot seller with probability `1 - 1/ratio`
    /// (`auction.hot-ratio.sellers`).
    pub hot_sellers_ratio: u64,
    /// A bid is by a hot bidder with probability `1 - 1/ratio` (`bid.hot-ratio.bidders`).
    pub hot_bidders_ratio: u64,
    /// Persons that bid and sell: ids are drawn from the latest this many.
    pub num_active_people: u64,
    /// Auctions open at a time: bids go to the latest this many, and auctions last about as
    /// long as it takes to create this many more.
    pub num_in_flight_auctions: u64,
    /// Events are shuffled within groups of this many consecutive event numbers (1: in order).
    pub out_of_order_group_size: u64,
}

impl Default for NexmarkConfig {
    fn default() -> Self {
        NexmarkConfig {
            events: None,
            first_event_rate: 10_000,
            // 2024-01-01 00:00:00 UTC: a fixed origin keeps generated files reproducible.
            base_time_ms: 1_704_067_200_000,
            seed: 0,
            person_proportion: 1,
            auction_proportion: 3,
            bid_proportion: 46,
            avg_person_bytes: 200,
            avg_auction_bytes: 500,
            avg_bid_bytes: 100,
            hot_auction_ratio: 2,
            hot_sellers_ratio: 4,
            hot_bidders_ratio: 4,
            num_active_people: 1000,
            num_in_flight_auctions: 100,
            out_of_order_group_size: 1,
        }
    }
}

impl NexmarkConfig {
    /// Persons, auctions and bids in one group of events (50 by default).
    pub fn total_proportion(&self) -> u64 {
        self.person_proportion + self.auction_proportion + self.bid_proportion
    }

    /// Checks that the options describe a generator that can run.
    pub fn validate(&self) -> Result<(), String> {
        if self.total_proportion() == 0 || self.auction_proportion == 0 {
            return Err("the auction proportion and the total proportion must be positive".into());
        }
        if self.person_proportion == 0 {
            return Err("the person proportion must be positive".into());
        }
        if self.first_event_rate == 0 {
            return Err("the event rate must be positive".into());
        }
        let ratios = [
            self.hot_auction_ratio,
            self.hot_sellers_ratio,
            self.hot_bidders_ratio,
            self.out_of_order_group_size,
            self.num_active_people,
        ];
        if ratios.contains(&0) {
            return Err("hot ratios, the out-of-order group size and the number of active people must be positive".into());
        }
        Ok(())
    }

    /// The event id generated at position `event_number` of the stream: the number itself, or
    /// a permutation of it within its out-of-order group.
    pub fn event_id(&self, event_number: u64) -> u64 {
        let n = self.out_of_order_group_size;
        let base = event_number / n * n;
        base + event_number.wrapping_mul(953) % n
    }

    /// The event time, in ms since the epoch, of event id `event_id`.
    pub fn timestamp_ms(&self, event_id: u64) -> i64 {
        let offset_us = event_id as u128 * 1_000_000 / self.first_event_rate as u128;
        self.base_time_ms + (offset_us / 1000) as i64
    }

    /// The greatest event time that no event at position `event_number` or later is below: a
    /// perfect watermark.
    pub fn watermark_ms(&self, event_number: u64) -> i64 {
        let n = self.out_of_order_group_size;
        self.timestamp_ms(event_number / n * n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_follow_the_rate() {
        let config = NexmarkConfig {
            first_event_rate: 1000,
            ..NexmarkConfig::default()
        };
        assert_eq!(config.timestamp_ms(0), config.base_time_ms);
        assert_eq!(config.timestamp_ms(1500), config.base_time_ms + 1500);
        let fast = NexmarkConfig {
            first_event_rate: 10_000_000,
            ..NexmarkConfig::default()
        };
        assert_eq!(fast.timestamp_ms(25_000), fast.base_time_ms + 2);
    }

    #[test]
    fn out_of_order_ids_permute_each_group() {
        let config = NexmarkConfig {
            out_of_order_group_size: 10,
            ..NexmarkConfig::default()
        };
        let mut ids: Vec<u64> = (20..30).map(|n| config.event_id(n)).collect();
        assert_ne!(ids, (20..30).collect::<Vec<_>>());
        ids.sort();
        assert_eq!(ids, (20..30).collect::<Vec<_>>());
        assert_eq!(config.watermark_ms(27), config.timestamp_ms(20));
    }
}
