//! Bids: most on hot auctions by hot bidders, at prices spread over six orders of magnitude.

use super::channels::Channels;
use super::ids::{last_auction_id, last_person_id, random_auction_id, random_person_id, HOT_BLOCK};
use super::price;
use super::strings::extra;
use crate::config::{NexmarkConfig, FIRST_AUCTION_ID, FIRST_PERSON_ID};
use crate::model::Bid;
use crate::rng::EventRng;

/// The bid of event `event_id`, at `timestamp_ms`.
pub fn bid(
    config: &NexmarkConfig,
    channels: &Channels,
    event_id: u64,
    timestamp_ms: i64,
    rng: &mut EventRng,
) -> Bid {
    let auction = if rng.below(config.hot_auction_ratio) > 0 {
        last_auction_id(config, event_id) / HOT_BLOCK * HOT_BLOCK
    } else {
        random_auction_id(config, event_id, rng)
    };
    // Hot bidders are the second person of a block, so that they are not the hot sellers.
    let bidder = if rng.below(config.hot_bidders_ratio) > 0 {
        last_person_id(config, event_id) / HOT_BLOCK * HOT_BLOCK + 1
    } else {
        random_person_id(config, event_id, rng)
    };
    let price = price(rng);
    let (channel, url) = channels.pick(rng).clone();
    Bid {
        auction: auction + FIRST_AUCTION_ID,
        bidder: bidder + FIRST_PERSON_ID,
        price,
        channel,
        url,
        date_time: timestamp_ms,
        extra: extra(rng, 4 * 8, config.avg_bid_bytes),
    }
}
