//! The event generator: event number `n` of the stream is a pure function of the
//! configuration and `n`, so generators on any number of threads or subtasks, each given
//! its own range of event numbers, together produce exactly the events of one generator.

mod auction;
mod bid;
mod channels;
mod ids;
mod person;
mod strings;

use std::sync::Arc;

use crate::config::NexmarkConfig;
use crate::model::Event;
use crate::rng::EventRng;
use channels::Channels;

/// Generates Nexmark events by event number. Cheap to clone (the channel table is shared).
#[derive(Debug, Clone)]
pub struct NexmarkGenerator {
    config: Arc<NexmarkConfig>,
    channels: Arc<Channels>,
}

impl NexmarkGenerator {
    /// A generator for `config`; fails if the configuration is invalid.
    pub fn new(config: NexmarkConfig) -> Result<Self, String> {
        config.validate()?;
        Ok(NexmarkGenerator {
            channels: Arc::new(Channels::new(config.seed)),
            config: Arc::new(config),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &NexmarkConfig {
        &self.config
    }

    /// The event at position `event_number` of the stream (counted from 0).
    pub fn event(&self, event_number: u64) -> Event {
        let config = &*self.config;
        let id = config.event_id(event_number);
        let timestamp = config.timestamp_ms(id);
        let mut rng = EventRng::new(config.seed, id);
        let offset = id % config.total_proportion();
        if offset < config.person_proportion {
            Event::Person(person::person(config, id, timestamp, &mut rng))
        } else if offset < config.person_proportion + config.auction_proportion {
            Event::Auction(auction::auction(config, id, timestamp, &mut rng))
        } else {
            Event::Bid(bid::bid(config, &self.channels, id, timestamp, &mut rng))
        }
    }

    /// The events at positions `range`, in order.
    pub fn events(&self, range: std::ops::Range<u64>) -> impl Iterator<Item = Event> + '_ {
        range.map(|n| self.event(n))
    }
}

/// A price in cents, log-uniform between $1 and $1,000,000.
fn price(rng: &mut EventRng) -> u64 {
    (10f64.powf(rng.unit() * 6.0) * 100.0).round() as u64
}

#[cfg(test)]
mod tests;
