//! Persons: names, e-mail addresses, credit cards and addresses from small fixed lists, so
//! that queries filtering on them find matches.

use super::ids::last_person_id;
use super::strings::{extra, random_string};
use crate::config::{NexmarkConfig, FIRST_PERSON_ID};
use crate::model::Person;
use crate::rng::EventRng;

const US_STATES: &[&str] = &["AZ", "CA", "ID", "OR", "WA", "WY"];
const US_CITIES: &[&str] = &[
    "Phoenix",
    "Los Angeles",
    "San Francisco",
    "Boise",
    "Portland",
    "Bend",
    "Redmond",
    "Seattle",
    "Kent",
    "Cheyenne",
];
const FIRST_NAMES: &[&str] = &[
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter",
];
const LAST_NAMES: &[&str] = &[
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris",
];

/// The person of event `event_id`, at `timestamp_ms`.
pub fn person(
    config: &NexmarkConfig,
    event_id: u64,
    timestamp_ms: i64,
    rng: &mut EventRng,
) -> Person {
    let name = format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES));
    let email_address = format!(
        "{}@{}.com",
        random_string(rng, 7, ' '),
        random_string(rng, 5, ' ')
    );
    let credit_card = (0..4)
        .map(|_| format!("{:04}", rng.below(10_000)))
        .collect::<Vec<_>>()
        .join(" ");
    let city = rng.pick(US_CITIES).to_string();
    let state = rng.pick(US_STATES).to_string();
    let size = 8 + name.len() + email_address.len() + credit_card.len() + city.len() + state.len();
    Person {
        id: last_person_id(config, event_id) + FIRST_PERSON_ID,
        name,
        email_address,
        credit_card,
        city,
        state,
        date_time: timestamp_ms,
        extra: extra(rng, size, config.avg_person_bytes),
    }
}
