//! Results printed as Flink's SQL client prints them (`tableau` mode): a boxed table, with an
//! `op` column (`+I`, `-U`, `+U`, `-D`) for streaming results, printed row by row as they come.

use std::io::Write;

use arrow::datatypes::{DataType, SchemaRef};

use crate::changelog::ChangeBatch;
use crate::display::{format_value, BoolStyle};

const NULL: &str = "<NULL>";

/// Prints a streaming result: the header at once, then rows as they arrive.
pub struct StreamingTable {
    widths: Vec<usize>,
    /// Whether rows are printed with their row kind (the `op` column).
    changelog: bool,
    rows: usize,
}

/// The column width Flink derives from a type in streaming mode.
fn type_width(data_type: &DataType) -> usize {
    match data_type {
        DataType::Boolean => 7,
        DataType::Int8 => 4,
        DataType::Int16 => 6,
        DataType::Int32 => 11,
        DataType::Int64 => 20,
        DataType::Date32 => 10,
        DataType::Timestamp(..) => 23,
        DataType::Decimal128(p, _) => *p as usize + 2,
        _ => 30,
    }
}

fn border(widths: &[usize]) -> String {
    let mut line = String::from("+");
    for w in widths {
        line.push_str(&"-".repeat(w + 2));
        line.push('+');
    }
    line
}

fn row_line(cells: &[String], widths: &[usize]) -> String {
    let mut line = String::from("|");
    for (cell, w) in cells.iter().zip(widths) {
        let cell = if cell.chars().count() > *w {
            let cut: String = cell.chars().take(w.saturating_sub(3)).collect();
            format!("{cut}...")
        } else {
            cell.clone()
        };
        line.push_str(&format!(" {cell:>w$} |"));
    }
    line
}

impl StreamingTable {
    /// Prints the header of a result of `schema`, with the `op` column when the result is a
    /// `changelog` (streaming mode) rather than final rows (batch mode).
    pub fn start(
        schema: &SchemaRef,
        changelog: bool,
        out: &mut dyn Write,
    ) -> std::io::Result<Self> {
        let (mut widths, mut names) = match changelog {
            true => (vec![2], vec!["op".to_string()]),
            false => (Vec::new(), Vec::new()),
        };
        for f in schema.fields() {
            widths.push(type_width(f.data_type()).max(f.name().chars().count()));
            names.push(f.name().clone());
        }
        writeln!(out, "{}", border(&widths))?;
        writeln!(out, "{}", row_line(&names, &widths))?;
        writeln!(out, "{}", border(&widths))?;
        Ok(StreamingTable {
            widths,
            changelog,
            rows: 0,
        })
    }

    /// Prints the rows of `batch`.
    pub fn rows(&mut self, batch: &ChangeBatch, out: &mut dyn Write) -> std::io::Result<()> {
        for row in 0..batch.rows.num_rows() {
            let mut cells = Vec::with_capacity(self.widths.len());
            if self.changelog {
                cells.push(batch.kind(row).short_string().to_string());
            }
            for column in batch.rows.columns() {
                cells.push(
                    format_value(column.as_ref(), row, BoolStyle::Upper)
                        .unwrap_or_else(|| NULL.into()),
                );
            }
            writeln!(out, "{}", row_line(&cells, &self.widths))?;
            self.rows += 1;
        }
        out.flush()
    }

    /// Prints the footer.
    pub fn finish(self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.rows == 0 {
            writeln!(out, "{}", border(&self.widths))?;
            return writeln!(out, "Empty set");
        }
        writeln!(out, "{}", border(&self.widths))?;
        writeln!(
            out,
            "{} row{} in set",
            self.rows,
            if self.rows == 1 { "" } else { "s" }
        )
    }
}

/// Prints a small table of text (SHOW, DESCRIBE), columns as wide as their content.
pub fn print_table(
    header: &[&str],
    rows: &[Vec<String>],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let widths: Vec<usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([h.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let left = |cells: &[String]| {
        let mut line = String::from("|");
        for (c, w) in cells.iter().zip(&widths) {
            line.push_str(&format!(" {c:<w$} |"));
        }
        line
    };
    writeln!(out, "{}", border(&widths))?;
    writeln!(
        out,
        "{}",
        left(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>())
    )?;
    writeln!(out, "{}", border(&widths))?;
    for r in rows {
        writeln!(out, "{}", left(r))?;
    }
    writeln!(out, "{}", border(&widths))?;
    match rows.len() {
        0 => writeln!(out, "Empty set"),
        1 => writeln!(out, "1 row in set"),
        n => writeln!(out, "{n} rows in set"),
    }
}
