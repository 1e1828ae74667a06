use super::*;
use crate::config::{FIRST_AUCTION_ID, FIRST_PERSON_ID};
use crate::model::{Auction, Bid, Person};

fn generator() -> NexmarkGenerator {
    NexmarkGenerator::new(NexmarkConfig::default()).unwrap()
}

fn person_size(p: &Person) -> usize {
    8 + p.name.len()
        + p.email_address.len()
        + p.credit_card.len()
        + p.city.len()
        + p.state.len()
        + p.extra.len()
}

fn auction_size(a: &Auction) -> usize {
    8 + a.item_name.len() + a.description.len() + 5 * 8 + a.extra.len()
}

fn bid_size(b: &Bid) -> usize {
    4 * 8 + b.extra.len()
}

#[test]
fn kinds_come_in_the_configured_proportions() {
    let mut counts = [0u64; 3];
    for event in generator().events(0..100_000) {
        counts[event.event_type() as usize] += 1;
    }
    assert_eq!(counts, [2_000, 6_000, 92_000]);
}

#[test]
fn the_same_seed_gives_the_same_events_and_another_seed_others() {
    let a: Vec<Event> = generator().events(0..2_000).collect();
    let b: Vec<Event> = generator().events(0..2_000).collect();
    assert_eq!(a, b);
    let other = NexmarkGenerator::new(NexmarkConfig {
        seed: 1,
        ..NexmarkConfig::default()
    })
    .unwrap();
    let c: Vec<Event> = other.events(0..2_000).collect();
    assert_ne!(a, c);
}

#[test]
fn any_split_of_event_numbers_gives_the_same_events() {
    let whole: Vec<Event> = generator().events(0..5_000).collect();
    for cuts in [
        vec![0, 5_000],
        vec![0, 1, 1_234, 4_999, 5_000],
        vec![0, 2_500, 5_000],
    ] {
        // Each piece from its own generator, the last piece first.
        let mut pieces: Vec<Vec<Event>> = cuts
            .windows(2)
            .rev()
            .map(|w| generator().events(w[0]..w[1]).collect())
            .collect();
        pieces.reverse();
        assert_eq!(pieces.concat(), whole);
    }
}

#[test]
fn ids_and_times_progress_like_the_reference() {
    let gen = generator();
    let base = gen.config().base_time_ms;
    // Event 50 opens group 1: person 1001 at 5 ms (10,000 events/s).
    match gen.event(50) {
        Event::Person(p) => {
            assert_eq!(p.id, 1001);
            assert_eq!(p.date_time, base + 5);
        }
        other => panic!("expected a person, got {other:?}"),
    }
    match gen.event(53) {
        Event::Auction(a) => {
            assert_eq!(a.id, 1005);
            assert!(a.expires > a.date_time);
            assert!((10..15).contains(&a.category));
            assert!(a.reserve > a.initial_bid);
        }
        other => panic!("expected an auction, got {other:?}"),
    }
    let times: Vec<i64> = gen.events(0..10_000).map(|e| e.date_time()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(times[9_999], base + 999);
}

#[test]
fn hot_auctions_and_bidders_dominate_bids() {
    let gen = generator();
    let (mut bids, mut hot_auction, mut hot_bidder) = (0, 0, 0);
    for n in 0..100_000 {
        if let Event::Bid(b) = gen.event(n) {
            bids += 1;
            let newest_auction = ids::last_auction_id(gen.config(), n);
            if b.auction - FIRST_AUCTION_ID == newest_auction / 100 * 100 {
                hot_auction += 1;
            }
            if (b.bidder - FIRST_PERSON_ID) % 100 == 1 {
                hot_bidder += 1;
            }
        }
    }
    // Hot with probability 1/2 (auctions) and 3/4 (bidders), plus random picks that hit.
    let share = |n: i32| n as f64 / bids as f64;
    assert!(
        (0.49..0.56).contains(&share(hot_auction)),
        "{}",
        share(hot_auction)
    );
    assert!(
        (0.74..0.80).contains(&share(hot_bidder)),
        "{}",
        share(hot_bidder)
    );
}

#[test]
fn events_have_the_configured_average_sizes() {
    let (mut sizes, mut counts) = ([0usize; 3], [0usize; 3]);
    for event in generator().events(0..50_000) {
        let (kind, size) = match &event {
            Event::Person(p) => (0, person_size(p)),
            Event::Auction(a) => (1, auction_size(a)),
            Event::Bid(b) => (2, bid_size(b)),
        };
        sizes[kind] += size;
        counts[kind] += 1;
    }
    let average = |k: usize| sizes[k] as f64 / counts[k] as f64;
    assert!((190.0..210.0).contains(&average(0)), "{}", average(0));
    assert!((475.0..525.0).contains(&average(1)), "{}", average(1));
    assert!((97.0..103.0).contains(&average(2)), "{}", average(2));
}

#[test]
fn channels_and_prices_have_the_reference_shapes() {
    let bids: Vec<Bid> = generator()
        .events(0..20_000)
        .filter_map(|e| match e {
            Event::Bid(b) => Some(b),
            _ => None,
        })
        .collect();
    let hot = bids
        .iter()
        .filter(|b| ["Google", "Facebook", "Baidu", "Apple"].contains(&b.channel.as_str()))
        .count();
    assert!((0.47..0.53).contains(&(hot as f64 / bids.len() as f64)));
    assert!(bids.iter().all(|b| (100..=100_000_000).contains(&b.price)));
    assert!(bids
        .iter()
        .all(|b| b.url.starts_with("https://www.nexmark.com/")));
}
