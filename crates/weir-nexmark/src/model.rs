//! The three kinds of Nexmark events, with the fields of Flink's Nexmark tables (`person`,
//! `auction`, `bid`). Times are milliseconds since the epoch (Flink's `TIMESTAMP(3)`).

use serde::{Deserialize, Serialize};

/// A person who sells or bids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Unique id, from [`crate::FIRST_PERSON_ID`] on.
    pub id: u64,
    /// First and last name.
    pub name: String,
    /// `emailAddress`.
    pub email_address: String,
    /// `creditCard`: four groups of four digits.
    pub credit_card: String,
    /// One of a few US cities.
    pub city: String,
    /// One of a few US states.
    pub state: String,
    /// `dateTime`: when the person registered.
    pub date_time: i64,
    /// Padding up to the configured average size.
    pub extra: String,
}

/// An item put up for auction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auction {
    /// Unique id, from [`crate::FIRST_AUCTION_ID`] on.
    pub id: u64,
    /// `itemName`.
    pub item_name: String,
    /// `description`.
    pub description: String,
    /// `initialBid`, in cents.
    pub initial_bid: u64,
    /// `reserve`: the lowest price the seller accepts (above `initial_bid`).
    pub reserve: u64,
    /// `dateTime`: when the auction opened.
    pub date_time: i64,
    /// When the auction closes.
    pub expires: i64,
    /// The selling person's id.
    pub seller: u64,
    /// Category id, from [`crate::FIRST_CATEGORY_ID`] on.
    pub category: u64,
    /// Padding up to the configured average size.
    pub extra: String,
}

/// A bid on an auction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bid {
    /// The auction's id.
    pub auction: u64,
    /// The bidding person's id.
    pub bidder: u64,
    /// In cents.
    pub price: u64,
    /// Where the bid came from: a few hot channels, or `channel-N`.
    pub channel: String,
    /// The page the bid came from.
    pub url: String,
    /// `dateTime`: when the bid was placed.
    pub date_time: i64,
    /// Padding up to the configured average size.
    pub extra: String,
}

/// One Nexmark event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A new person (`event_type` 0).
    Person(Person),
    /// A new auction (`event_type` 1).
    Auction(Auction),
    /// A bid (`event_type` 2).
    Bid(Bid),
}

impl Event {
    /// Flink Nexmark's `event_type` column: 0 person, 1 auction, 2 bid.
    pub fn event_type(&self) -> u8 {
        match self {
            Event::Person(_) => 0,
            Event::Auction(_) => 1,
            Event::Bid(_) => 2,
        }
    }

    /// The event time, in ms since the epoch.
    pub fn date_time(&self) -> i64 {
        match self {
            Event::Person(p) => p.date_time,
            Event::Auction(a) => a.date_time,
            Event::Bid(b) => b.date_time,
        }
    }
}
