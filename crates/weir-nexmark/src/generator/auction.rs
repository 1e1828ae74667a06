//! Auctions: most by hot sellers, with prices spread over six orders of magnitude and a
//! length that keeps about `num_in_flight_auctions` open at a time.

use super::ids::{last_auction_id, last_person_id, random_person_id, HOT_BLOCK};
use super::price;
use super::strings::{extra, random_string};
use crate::config::{NexmarkConfig, FIRST_AUCTION_ID, FIRST_CATEGORY_ID, FIRST_PERSON_ID};
use crate::model::Auction;
use crate::rng::EventRng;

/// Categories are few so that per-category queries have matches.
const NUM_CATEGORIES: u64 = 5;

/// The auction of event `event_id`, at `timestamp_ms`.
pub fn auction(
    config: &NexmarkConfig,
    event_id: u64,
    timestamp_ms: i64,
    rng: &mut EventRng,
) -> Auction {
    let seller = if rng.below(config.hot_sellers_ratio) > 0 {
        last_person_id(config, event_id) / HOT_BLOCK * HOT_BLOCK
    } else {
        random_person_id(config, event_id, rng)
    };
    let category = FIRST_CATEGORY_ID + rng.below(NUM_CATEGORIES);
    let initial_bid = price(rng);
    let expires = timestamp_ms + auction_length_ms(config, event_id, timestamp_ms, rng);
    let item_name = random_string(rng, 20, ' ');
    let description = random_string(rng, 100, ' ');
    let reserve = initial_bid + price(rng);
    let size = 8 + item_name.len() + description.len() + 5 * 8;
    Auction {
        id: last_auction_id(config, event_id) + FIRST_AUCTION_ID,
        item_name,
        description,
        initial_bid,
        reserve,
        date_time: timestamp_ms,
        expires,
        seller: seller + FIRST_PERSON_ID,
        category,
        extra: extra(rng, size, config.avg_auction_bytes),
    }
}

/// A random length averaging the event time it takes to create `num_in_flight_auctions`
/// more auctions.
fn auction_length_ms(
    config: &NexmarkConfig,
    event_id: u64,
    timestamp_ms: i64,
    rng: &mut EventRng,
) -> i64 {
    let events_ahead =
        config.num_in_flight_auctions * config.total_proportion() / config.auction_proportion;
    let horizon_ms = config.timestamp_ms(event_id + events_ahead) - timestamp_ms;
    1 + rng.below((2 * horizon_ms).max(1) as u64) as i64
}
