//! Which persons and auctions exist when event `event_id` is generated, and the random
//! choice of an existing (or soon to exist) one. Ids here are base 0: callers add
//! [`crate::FIRST_PERSON_ID`] or [`crate::FIRST_AUCTION_ID`].

use crate::config::NexmarkConfig;
use crate::rng::EventRng;

/// Ids this far beyond the newest person or auction may be chosen, so that a few bids and
/// auctions refer to a person or auction that appears just after them.
const ID_LEAD: u64 = 10;

/// Hot sellers, bidders and auctions are picked from the newest block of this many persons
/// or auctions.
pub const HOT_BLOCK: u64 = 100;

/// The newest person id at event `event_id` (the event's own id if it is a person).
pub fn last_person_id(config: &NexmarkConfig, event_id: u64) -> u64 {
    let total = config.total_proportion();
    let (group, offset) = (event_id / total, event_id % total);
    group * config.person_proportion + offset.min(config.person_proportion - 1)
}

/// The newest auction id at event `event_id` (the event's own id if it is an auction).
pub fn last_auction_id(config: &NexmarkConfig, event_id: u64) -> u64 {
    let total = config.total_proportion();
    let (group, offset) = (event_id / total, event_id % total);
    let persons = config.person_proportion;
    if offset < persons {
        // A person: the last auction of the previous group.
        (group * config.auction_proportion).saturating_sub(1)
    } else {
        group * config.auction_proportion + (offset - persons).min(config.auction_proportion - 1)
    }
}

/// A random person among the active ones at event `event_id`, or a few beyond.
pub fn random_person_id(config: &NexmarkConfig, event_id: u64, rng: &mut EventRng) -> u64 {
    let people = last_person_id(config, event_id) + 1;
    let active = people.min(config.num_active_people);
    people - active + rng.below(active + ID_LEAD)
}

/// A random auction among those likely still open at event `event_id`, or a few beyond.
pub fn random_auction_id(config: &NexmarkConfig, event_id: u64, rng: &mut EventRng) -> u64 {
    let newest = last_auction_id(config, event_id);
    let oldest = newest.saturating_sub(config.num_in_flight_auctions);
    oldest + rng.below(newest - oldest + 1 + ID_LEAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_the_events_of_each_kind() {
        let config = NexmarkConfig::default();
        // Group 2 (events 100..150): person 2 at 100, auctions 6..=8 at 101..=103, then bids.
        assert_eq!(last_person_id(&config, 100), 2);
        assert_eq!(last_person_id(&config, 149), 2);
        assert_eq!(last_auction_id(&config, 100), 5);
        assert_eq!(last_auction_id(&config, 101), 6);
        assert_eq!(last_auction_id(&config, 103), 8);
        assert_eq!(last_auction_id(&config, 120), 8);
        assert_eq!(last_auction_id(&config, 0), 0);
    }
}
