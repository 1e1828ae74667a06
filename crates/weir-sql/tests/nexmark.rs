//! The `nexmark` connector: Flink's Nexmark table (the DDL of `bench/nexmark/sql/ddl.sql`
//! with `'connector' = 'nexmark'`) gives the events of Weir's generator, on any number of
//! source subtasks, with watermarks that close event-time windows, and keyed operators (a
//! Top-N) see the same rows whatever the parallelism. Expected results are
//! computed here from the generator's events (`NexmarkGenerator::event`), not through SQL.

use std::collections::BTreeMap;

use arrow::array::AsArray;
use arrow::datatypes::{Int64Type, TimestampMillisecondType};
use weir_core::config::{options, Configuration};
use weir_nexmark::{Event, NexmarkConfig, NexmarkGenerator};
use weir_sql::{ChangeBatch, RowKind, StatementResult, TableEnvironment};

/// Flink's Nexmark table with the given extra options.
fn nexmark_ddl(options: &str) -> String {
    format!(
        "CREATE TABLE nexmark (
            event_type INT,
            person ROW<id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR,
                city VARCHAR, state VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR>,
            auction ROW<id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT,
                reserve BIGINT, `dateTime` TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT,
                category BIGINT, extra VARCHAR>,
            bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
                `dateTime` TIMESTAMP(3), extra VARCHAR>,
            `dateTime` AS CASE WHEN event_type = 0 THEN person.`dateTime`
                WHEN event_type = 1 THEN auction.`dateTime` ELSE bid.`dateTime` END,
            WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
        ) WITH ('connector' = 'nexmark', {options})"
    )
}

/// Runs `query` over the nexmark table and returns its result batches.
fn run(config: Configuration, ddl: &str, query: &str) -> Vec<ChangeBatch> {
    let mut env = TableEnvironment::new(config);
    env.execute_sql(ddl).unwrap();
    let StatementResult::Query(query) = env.execute_sql(query).unwrap() else {
        panic!("a query returns rows");
    };
    let rows: Vec<ChangeBatch> = query.rows.iter().collect();
    query.job.wait().unwrap();
    rows
}

fn parallelism(p: usize) -> Configuration {
    let mut config = Configuration::new();
    config.set(&options::PARALLELISM_DEFAULT, p);
    config
}

fn generator(events: u64) -> NexmarkGenerator {
    NexmarkGenerator::new(NexmarkConfig {
        events: Some(events),
        seed: 7,
        ..NexmarkConfig::default()
    })
    .unwrap()
}

#[test]
fn bids_are_the_generated_ones_on_any_parallelism() {
    const EVENTS: u64 = 20_000;
    let mut expected: Vec<(i64, i64, i64, String)> = generator(EVENTS)
        .events(0..EVENTS)
        .filter_map(|e| match e {
            Event::Bid(b) => Some((b.auction as i64, b.price as i64, b.date_time, b.channel)),
            _ => None,
        })
        .collect();
    expected.sort();
    let ddl = nexmark_ddl("'events.num' = '20000', 'seed' = '7'");
    let query = "SELECT bid.auction, bid.price, `dateTime`, bid.channel FROM nexmark \
                 WHERE event_type = 2";
    for p in [1, 3] {
        let mut actual: Vec<(i64, i64, i64, String)> = run(parallelism(p), &ddl, query)
            .iter()
            .flat_map(|batch| {
                let rows = &batch.rows;
                let auction = rows.column(0).as_primitive::<Int64Type>();
                let price = rows.column(1).as_primitive::<Int64Type>();
                let time = rows.column(2).as_primitive::<TimestampMillisecondType>();
                let channel = rows.column(3).as_string::<i32>();
                (0..rows.num_rows())
                    .map(|r| {
                        assert_eq!(batch.kind(r), RowKind::Insert);
                        (
                            auction.value(r),
                            price.value(r),
                            time.value(r),
                            channel.value(r).to_string(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        actual.sort();
        assert_eq!(actual, expected, "parallelism {p}");
    }
}

#[test]
fn windows_close_on_the_watermark_of_every_split() {
    const EVENTS: u64 = 30_000; // 3 s of event time at 10,000 events/s
    let mut expected: BTreeMap<i64, i64> = BTreeMap::new();
    for event in generator(EVENTS).events(0..EVENTS) {
        *expected.entry(event.date_time() / 1000 * 1000).or_default() += 1;
    }
    let ddl = nexmark_ddl("'events.num' = '30000', 'seed' = '7'");
    let query = "SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE nexmark, \
                 DESCRIPTOR(`dateTime`), INTERVAL '1' SECOND)) GROUP BY window_start, window_end";
    let batches = run(parallelism(2), &ddl, query);
    let mut actual = BTreeMap::new();
    for batch in &batches {
        let start = batch
            .rows
            .column(0)
            .as_primitive::<TimestampMillisecondType>();
        let count = batch.rows.column(1).as_primitive::<Int64Type>();
        for r in 0..batch.rows.num_rows() {
            assert!(actual.insert(start.value(r), count.value(r)).is_none());
        }
    }
    assert_eq!(actual, expected);
}

#[test]
fn top_n_bids_per_auction_on_two_subtasks() {
    const EVENTS: u64 = 20_000;
    const TOP: usize = 3;
    let mut prices: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for event in generator(EVENTS).events(0..EVENTS) {
        if let Event::Bid(b) = event {
            prices
                .entry(b.auction as i64)
                .or_default()
                .push(b.price as i64);
        }
    }
    let mut expected: Vec<(i64, i64)> = Vec::new();
    for (auction, mut p) in prices {
        p.sort_unstable_by(|a, b| b.cmp(a));
        expected.extend(p.into_iter().take(TOP).map(|price| (auction, price)));
    }
    let ddl = nexmark_ddl("'events.num' = '20000', 'seed' = '7'");
    let query = "SELECT auction, price FROM (
        SELECT bid.auction AS auction, bid.price AS price, ROW_NUMBER() OVER (
            PARTITION BY bid.auction ORDER BY bid.price DESC) AS rownum
        FROM nexmark WHERE event_type = 2)
        WHERE rownum <= 3";
    // The changelog folded into the final rows: +I adds a row, -D removes one.
    let mut actual: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for batch in run(parallelism(2), &ddl, query) {
        let auction = batch.rows.column(0).as_primitive::<Int64Type>();
        let price = batch.rows.column(1).as_primitive::<Int64Type>();
        for r in 0..batch.rows.num_rows() {
            let n = actual
                .entry((auction.value(r), price.value(r)))
                .or_default();
            *n += if batch.kind(r).is_accumulate() { 1 } else { -1 };
        }
    }
    let actual: Vec<(i64, i64)> = actual
        .into_iter()
        .flat_map(|(row, n)| {
            assert!(n >= 0, "{row:?} was retracted more often than emitted");
            std::iter::repeat_n(row, n as usize)
        })
        .collect();
    expected.sort_unstable();
    assert_eq!(actual, expected);
}
