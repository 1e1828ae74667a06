//! One event as a line in the layout of Flink's Nexmark table: the columns `event_type`,
//! `person`, `auction` and `bid`, the last three `ROW`s of which only the event's own is set
//! and the others are null.
//!
//! - JSON (Flink's `json` format): an object per line, nested rows as objects, null rows as
//!   `null`, timestamps as `"yyyy-MM-dd HH:mm:ss.SSS"`.
//! - CSV (Flink's `csv` format): a nested row is one quoted field whose values are joined
//!   by `;` (the format's array element delimiter); a null row is an empty field. Generated
//!   strings hold neither `;` nor `"`, so no value needs escaping.

use std::fmt::Write;

use crate::model::{Auction, Bid, Event, Person};
use weir_core::timestamp::write_timestamp;

/// A file format Flink's filesystem connector reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `'format' = 'json'`.
    Json,
    /// `'format' = 'csv'`.
    Csv,
}

impl Format {
    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }

    /// Appends `event` and a newline to `out`.
    pub fn write_event(self, out: &mut String, event: &Event) {
        let mut row = match self {
            Format::Json => RowWriter::json(out),
            Format::Csv => RowWriter::csv(out),
        };
        row.start_line(event.event_type());
        for kind in 0..3 {
            if kind != event.event_type() {
                row.null_row();
                continue;
            }
            row.start_row();
            match event {
                Event::Person(p) => person_fields(&mut row, p),
                Event::Auction(a) => auction_fields(&mut row, a),
                Event::Bid(b) => bid_fields(&mut row, b),
            }
            row.end_row();
        }
        row.end_line();
    }
}

/// The names of the three row columns, in order.
const ROW_COLUMNS: [&str; 3] = ["person", "auction", "bid"];

fn person_fields(row: &mut RowWriter, p: &Person) {
    row.number("id", p.id);
    row.string("name", &p.name);
    row.string("emailAddress", &p.email_address);
    row.string("creditCard", &p.credit_card);
    row.string("city", &p.city);
    row.string("state", &p.state);
    row.timestamp("dateTime", p.date_time);
    row.string("extra", &p.extra);
}

fn auction_fields(row: &mut RowWriter, a: &Auction) {
    row.number("id", a.id);
    row.string("itemName", &a.item_name);
    row.string("description", &a.description);
    row.number("initialBid", a.initial_bid);
    row.number("reserve", a.reserve);
    row.timestamp("dateTime", a.date_time);
    row.timestamp("expires", a.expires);
    row.number("seller", a.seller);
    row.number("category", a.category);
    row.string("extra", &a.extra);
}

fn bid_fields(row: &mut RowWriter, b: &Bid) {
    row.number("auction", b.auction);
    row.number("bidder", b.bidder);
    row.number("price", b.price);
    row.string("channel", &b.channel);
    row.string("url", &b.url);
    row.timestamp("dateTime", b.date_time);
    row.string("extra", &b.extra);
}

/// Writes the columns of one line; knows the punctuation of its format.
struct RowWriter<'a> {
    out: &'a mut String,
    json: bool,
    /// Row columns written so far on this line.
    rows: usize,
    /// Fields written so far in the current row.
    fields: usize,
}

impl<'a> RowWriter<'a> {
    fn json(out: &'a mut String) -> Self {
        RowWriter {
            out,
            json: true,
            rows: 0,
            fields: 0,
        }
    }

    fn csv(out: &'a mut String) -> Self {
        RowWriter {
            json: false,
            ..RowWriter::json(out)
        }
    }

    fn start_line(&mut self, event_type: u8) {
        if self.json {
            let _ = write!(self.out, "{{\"event_type\":{event_type}");
        } else {
            let _ = write!(self.out, "{event_type}");
        }
    }

    fn column_name(&mut self) {
        self.out.push(',');
        if self.json {
            let _ = write!(self.out, "\"{}\":", ROW_COLUMNS[self.rows]);
        }
        self.rows += 1;
    }

    fn null_row(&mut self) {
        self.column_name();
        if self.json {
            self.out.push_str("null");
        }
    }

    fn start_row(&mut self) {
        self.column_name();
        self.out.push(if self.json { '{' } else { '"' });
        self.fields = 0;
    }

    fn end_row(&mut self) {
        self.out.push(if self.json { '}' } else { '"' });
    }

    fn end_line(&mut self) {
        if self.json {
            self.out.push('}');
        }
        self.out.push('\n');
    }

    fn field_name(&mut self, name: &str) {
        if self.fields > 0 {
            self.out.push(if self.json { ',' } else { ';' });
        }
        self.fields += 1;
        if self.json {
            let _ = write!(self.out, "\"{name}\":");
        }
    }

    fn number(&mut self, name: &str, value: u64) {
        self.field_name(name);
        let _ = write!(self.out, "{value}");
    }

    fn string(&mut self, name: &str, value: &str) {
        self.field_name(name);
        if self.json {
            self.out.push('"');
            write_json_escaped(self.out, value);
            self.out.push('"');
        } else {
            self.out.push_str(value);
        }
    }

    fn timestamp(&mut self, name: &str, ms: i64) {
        self.field_name(name);
        if self.json {
            self.out.push('"');
        }
        write_timestamp(self.out, ms);
        if self.json {
            self.out.push('"');
        }
    }
}

/// Appends `s` with JSON's string escapes.
fn write_json_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bid() -> Event {
        Event::Bid(Bid {
            auction: 1000,
            bidder: 1001,
            price: 250,
            channel: "Google".into(),
            url: "https://www.nexmark.com/a/b/c/item.htm?query=1".into(),
            date_time: 1_704_067_200_005,
            extra: "xy".into(),
        })
    }

    fn line(format: Format, event: &Event) -> String {
        let mut out = String::new();
        format.write_event(&mut out, event);
        out
    }

    #[test]
    fn json_nests_the_event_row_and_nulls_the_others() {
        assert_eq!(
            line(Format::Json, &bid()),
            "{\"event_type\":2,\"person\":null,\"auction\":null,\"bid\":{\"auction\":1000,\
             \"bidder\":1001,\"price\":250,\"channel\":\"Google\",\
             \"url\":\"https://www.nexmark.com/a/b/c/item.htm?query=1\",\
             \"dateTime\":\"2024-01-01 00:00:00.005\",\"extra\":\"xy\"}}\n"
        );
    }

    #[test]
    fn csv_joins_the_event_row_in_one_field() {
        assert_eq!(
            line(Format::Csv, &bid()),
            "2,,,\"1000;1001;250;Google;https://www.nexmark.com/a/b/c/item.htm?query=1;\
             2024-01-01 00:00:00.005;xy\"\n"
        );
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        write_json_escaped(&mut out, "a\"b\\c\n");
        assert_eq!(out, "a\\\"b\\\\c\\u000a");
    }
}
