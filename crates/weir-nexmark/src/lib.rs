//! The Nexmark benchmark's events for Weir.
//!
//! Nexmark models an online auction: [`Person`]s register, put up [`Auction`]s and place
//! [`Bid`]s, in the proportion 1 : 3 : 46. [`NexmarkGenerator`] follows the semantics of the
//! reference generator (Apache Beam's and Flink's Nexmark `GeneratorConfig`): ids that refer
//! mostly to hot sellers, bidders and auctions, the reference field distributions and sizes,
//! and event times advancing at the configured rate ([`NexmarkConfig`], with the reference
//! defaults and Flink's option names in its docs). Unlike the reference, every event is a
//! function of the seed and its event number alone, so the stream can be split over
//! parallel subtasks (or threads writing files) and still be exactly the stream of one
//! generator.
//!
//! [`NexmarkSource`] is the DataStream source (parallel by event-number ranges,
//! checkpointable, optionally rate limited); [`files`] writes the events as JSON or CSV in
//! the column layout of Flink's Nexmark tables, for the `weir-nexmark generate` command;
//! [`options`] reads the options of Flink's `'connector' = 'nexmark'` table source.
//!
//! ```
//! use weir_nexmark::{Event, NexmarkConfig, NexmarkGenerator};
//!
//! let generator = NexmarkGenerator::new(NexmarkConfig::default()).unwrap();
//! assert!(matches!(generator.event(0), Event::Person(_)));
//! assert!(matches!(generator.event(1), Event::Auction(_)));
//! assert!(matches!(generator.event(4), Event::Bid(_)));
//! ```

pub mod config;
pub mod files;
mod generator;
pub mod model;
pub mod options;
mod rng;
mod source;

pub use config::{NexmarkConfig, FIRST_AUCTION_ID, FIRST_CATEGORY_ID, FIRST_PERSON_ID};
pub use generator::NexmarkGenerator;
pub use model::{Auction, Bid, Event, Person};
pub use source::NexmarkSource;
