//! `CREATE TABLE` in Flink's dialect: physical and computed columns, `WATERMARK FOR`,
//! `PRIMARY KEY ... NOT ENFORCED` and the `WITH (...)` options, parsed into a [`TableDef`].

use std::collections::BTreeMap;
use std::fmt::Write;

use arrow::datatypes::{DataType, Field, Fields};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::error::Result;
use crate::parse::{parse_error, parser};
use crate::types::arrow_type;

/// A column of a table.
#[derive(Debug, Clone)]
pub struct ColumnDef {
    /// The column name.
    pub name: String,
    /// Whether it is read from the connector or computed.
    pub kind: ColumnKind,
}

/// Where a column's values come from.
#[derive(Debug, Clone)]
pub enum ColumnKind {
    /// Read from the connector, of a Flink type (`type_name` as written).
    Physical {
        type_name: String,
        data_type: DataType,
        not_null: bool,
    },
    /// Computed from other columns: `name AS expr` (`PROCTIME()` makes a processing-time
    /// attribute).
    Computed { expr: String },
}

/// `WATERMARK FOR column AS expr`.
#[derive(Debug, Clone)]
pub struct WatermarkDef {
    /// The event-time attribute.
    pub column: String,
    /// The watermark expression, e.g. `ts - INTERVAL '5' SECOND`.
    pub expr: String,
}

/// A table declared with `CREATE TABLE`.
#[derive(Debug, Clone)]
pub struct TableDef {
    /// The table's name.
    pub name: String,
    /// `CREATE TEMPORARY TABLE`.
    pub temporary: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// The columns in declared order.
    pub columns: Vec<ColumnDef>,
    /// The watermark declaration, if any.
    pub watermark: Option<WatermarkDef>,
    /// `PRIMARY KEY (...) NOT ENFORCED` columns.
    pub primary_key: Vec<String>,
    /// The `WITH` options.
    pub options: BTreeMap<String, String>,
}

impl TableDef {
    /// The physical columns with their types.
    pub fn physical_columns(&self) -> impl Iterator<Item = (&str, &DataType)> {
        self.columns.iter().filter_map(|c| match &c.kind {
            ColumnKind::Physical { data_type, .. } => Some((c.name.as_str(), data_type)),
            ColumnKind::Computed { .. } => None,
        })
    }

    /// The DDL that creates this table, as `SHOW CREATE TABLE` prints it.
    pub fn to_ddl(&self) -> String {
        let mut out = String::new();
        let temporary = if self.temporary { "TEMPORARY " } else { "" };
        let _ = writeln!(out, "CREATE {temporary}TABLE `{}` (", self.name);
        let mut lines: Vec<String> = self
            .columns
            .iter()
            .map(|c| match &c.kind {
                ColumnKind::Physical {
                    type_name,
                    not_null,
                    ..
                } => format!(
                    "  `{}` {}{}",
                    c.name,
                    if type_name.starts_with("ROW") {
                        type_name.clone() // field names keep their case
                    } else {
                        type_name.to_ascii_uppercase()
                    },
                    if *not_null { " NOT NULL" } else { "" }
                ),
                ColumnKind::Computed { expr } => format!("  `{}` AS {expr}", c.name),
            })
            .collect();
        if let Some(w) = &self.watermark {
            lines.push(format!("  WATERMARK FOR `{}` AS {}", w.column, w.expr));
        }
        if !self.primary_key.is_empty() {
            let keys: Vec<String> = self.primary_key.iter().map(|k| format!("`{k}`")).collect();
            lines.push(format!("  PRIMARY KEY ({}) NOT ENFORCED", keys.join(", ")));
        }
        let _ = writeln!(out, "{}", lines.join(",\n"));
        let _ = writeln!(out, ") WITH (");
        let options: Vec<String> = self
            .options
            .iter()
            .map(|(k, v)| format!("  '{k}' = '{}'", v.replace('\'', "''")))
            .collect();
        let _ = write!(out, "{}\n)", options.join(",\n"));
        out
    }
}

/// Parses `CREATE [TEMPORARY] TABLE [IF NOT EXISTS] name (...) [COMMENT '...'] WITH (...)`.
pub fn parse_create_table(sql: &str) -> Result<TableDef> {
    let mut p = parser(sql)?;
    create_table(&mut p).map_err(parse_error)
}

fn create_table(p: &mut Parser) -> Result<TableDef, sqlparser::parser::ParserError> {
    p.expect_keyword_is(Keyword::CREATE)?;
    let temporary = p.parse_keyword(Keyword::TEMPORARY);
    p.expect_keyword_is(Keyword::TABLE)?;
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = p
        .parse_object_name(false)?
        .0
        .last()
        .and_then(|part| part.as_ident())
        .map(|ident| ident.value.clone())
        .unwrap_or_default();
    let mut table = TableDef {
        name,
        temporary,
        if_not_exists,
        columns: Vec::new(),
        watermark: None,
        primary_key: Vec::new(),
        options: BTreeMap::new(),
    };
    p.expect_token(&Token::LParen)?;
    loop {
        table_element(p, &mut table)?;
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    p.expect_token(&Token::RParen)?;
    if p.parse_keyword(Keyword::COMMENT) {
        p.parse_literal_string()?;
    }
    if p.parse_keywords(&[Keyword::PARTITIONED, Keyword::BY]) {
        p.expect_token(&Token::LParen)?;
        while !p.consume_token(&Token::RParen) {
            p.next_token();
        }
    }
    p.expect_keyword_is(Keyword::WITH)?;
    p.expect_token(&Token::LParen)?;
    loop {
        let key = p.parse_literal_string()?;
        p.expect_token(&Token::Eq)?;
        let value = p.parse_literal_string()?;
        table.options.insert(key, value);
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    p.expect_token(&Token::RParen)?;
    p.expect_token(&Token::EOF)?;
    Ok(table)
}

/// Consumes the next token if it is the word `word` (for words sqlparser has no keyword for).
fn parse_word(p: &mut Parser, word: &str) -> bool {
    let is_word =
        matches!(&p.peek_token().token, Token::Word(w) if w.value.eq_ignore_ascii_case(word));
    if is_word {
        p.next_token();
    }
    is_word
}

/// One element of the column list: a column, a watermark or a primary key.
fn table_element(
    p: &mut Parser,
    table: &mut TableDef,
) -> Result<(), sqlparser::parser::ParserError> {
    if parse_word(p, "WATERMARK") {
        p.expect_keyword_is(Keyword::FOR)?;
        let column = p.parse_identifier()?.value;
        p.expect_keyword_is(Keyword::AS)?;
        let expr = p.parse_expr()?.to_string();
        table.watermark = Some(WatermarkDef { column, expr });
        return Ok(());
    }
    if p.parse_keyword(Keyword::CONSTRAINT) {
        p.parse_identifier()?;
    }
    if p.parse_keywords(&[Keyword::PRIMARY, Keyword::KEY]) {
        p.expect_token(&Token::LParen)?;
        loop {
            table.primary_key.push(p.parse_identifier()?.value);
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        p.expect_token(&Token::RParen)?;
        p.expect_keywords(&[Keyword::NOT, Keyword::ENFORCED])?;
        return Ok(());
    }
    let name = p.parse_identifier()?.value;
    if p.parse_keyword(Keyword::AS) {
        let expr = p.parse_expr()?.to_string();
        table.columns.push(ColumnDef {
            name,
            kind: ColumnKind::Computed { expr },
        });
        return Ok(());
    }
    let (type_name, data_type) = column_type(p)?;
    let not_null = p.parse_keywords(&[Keyword::NOT, Keyword::NULL]);
    if p.parse_keywords(&[Keyword::PRIMARY, Keyword::KEY]) {
        p.expect_keywords(&[Keyword::NOT, Keyword::ENFORCED])?;
        table.primary_key.push(name.clone());
    }
    table.columns.push(ColumnDef {
        name,
        kind: ColumnKind::Physical {
            type_name,
            data_type,
            not_null,
        },
    });
    Ok(())
}

/// A column type: a Flink type name, or a nested row `ROW<name type, ...>` (also written
/// `ROW(name type, ...)`) whose fields may be rows again. Returns the type as written (for
/// `SHOW CREATE TABLE`) and its Arrow type.
fn column_type(p: &mut Parser) -> Result<(String, DataType), sqlparser::parser::ParserError> {
    let mut pending_close = false;
    let parsed = column_type_nested(p, &mut pending_close)?;
    if pending_close {
        return Err(sqlparser::parser::ParserError::ParserError(
            "unexpected '>' after a column type".into(),
        ));
    }
    Ok(parsed)
}

/// [`column_type`] inside a `ROW<...>`: a `>>` token closes two rows at once, so the inner
/// row sets `pending_close` for the outer one.
fn column_type_nested(
    p: &mut Parser,
    pending_close: &mut bool,
) -> Result<(String, DataType), sqlparser::parser::ParserError> {
    let is_row = matches!(&p.peek_token().token, Token::Word(w) if w.keyword == Keyword::ROW)
        && matches!(p.peek_nth_token(1).token, Token::Lt | Token::LParen);
    if !is_row {
        let type_name = p.parse_data_type()?.to_string();
        let data_type = arrow_type(&type_name)
            .map_err(|e| sqlparser::parser::ParserError::ParserError(e.to_string()))?;
        return Ok((type_name, data_type));
    }
    p.next_token();
    let angle = p.next_token().token == Token::Lt;
    let mut names = Vec::new();
    let mut fields = Vec::new();
    loop {
        let name = p.parse_identifier()?.value;
        let mut inner_close = false;
        let (type_name, data_type) = column_type_nested(p, &mut inner_close)?;
        let not_null = p.parse_keywords(&[Keyword::NOT, Keyword::NULL]);
        if let Token::SingleQuotedString(_) = p.peek_token().token {
            p.next_token(); // a field description
        }
        names.push(format!(
            "`{name}` {type_name}{}",
            if not_null { " NOT NULL" } else { "" }
        ));
        fields.push(Field::new(name, data_type, true));
        if inner_close {
            break; // `>>`: the inner row's closing bracket was also this one's
        }
        if !p.consume_token(&Token::Comma) {
            if angle {
                match p.next_token().token {
                    Token::Gt => {}
                    Token::ShiftRight => *pending_close = true,
                    other => {
                        return Err(sqlparser::parser::ParserError::ParserError(format!(
                            "expected ',' or '>' in ROW<...>, found {other}"
                        )))
                    }
                }
            } else {
                p.expect_token(&Token::RParen)?;
            }
            break;
        }
    }
    let (open, close) = if angle { ('<', '>') } else { ('(', ')') };
    Ok((
        format!("ROW{open}{}{close}", names.join(", ")),
        DataType::Struct(Fields::from(fields)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SqlError;

    #[test]
    fn parses_flink_ddl() {
        let t = parse_create_table(
            "CREATE TEMPORARY TABLE orders (id INT NOT NULL, name STRING, ts TIMESTAMP(3), \
             pt AS PROCTIME(), big AS id * 2, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND, \
             PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'datagen', 'rows-per-second' = '5')",
        )
        .unwrap();
        assert!(t.temporary);
        assert_eq!(t.columns.len(), 5);
        assert_eq!(t.primary_key, ["id"]);
        assert_eq!(
            t.watermark.as_ref().unwrap().expr,
            "ts - INTERVAL '5' SECOND"
        );
        assert_eq!(t.options["rows-per-second"], "5");
        assert!(t.to_ddl().contains("PRIMARY KEY (`id`) NOT ENFORCED"));
    }

    #[test]
    fn parses_nested_rows() {
        let t = parse_create_table(
            "CREATE TABLE n (event_type INT, bid ROW<auction BIGINT, `dateTime` TIMESTAMP(3), \
             inner ROW<x INT, y ROW(z STRING)>>, p ROW(id BIGINT NOT NULL 'the id')) \
             WITH ('connector' = 'blackhole')",
        )
        .unwrap();
        let types: Vec<&DataType> = t.physical_columns().map(|(_, t)| t).collect();
        let DataType::Struct(bid) = types[1] else {
            panic!("{:?}", types[1])
        };
        let names: Vec<&str> = bid.iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["auction", "dateTime", "inner"]);
        let DataType::Struct(inner) = bid[2].data_type() else {
            panic!("{bid:?}")
        };
        assert_eq!(
            inner[1].data_type(),
            &DataType::Struct(Fields::from(vec![Field::new("z", DataType::Utf8, true)]))
        );
        assert!(matches!(types[2], DataType::Struct(f) if f[0].data_type() == &DataType::Int64));
        assert!(t.to_ddl().contains(
            "`bid` ROW<`auction` BIGINT, `dateTime` TIMESTAMP(3), `inner` ROW<`x` INT, `y` ROW(`z` STRING)>>"
        ));
        let err =
            parse_create_table("CREATE TABLE n (r ROW<a INT b INT>) WITH ('connector' = 'x')")
                .unwrap_err();
        assert!(err.to_string().contains("ROW<...>"), "{err}");
    }

    #[test]
    fn reports_position_and_expectation() {
        let err =
            parse_create_table("CREATE TABLE t (\n  a INT,\n  b STRING\n WITH ('connector' = 'x')")
                .unwrap_err();
        match err {
            SqlError::Parse { line, message, .. } => {
                assert_eq!(line, 4);
                assert!(message.contains("Expected"), "{message}");
            }
            other => panic!("{other}"),
        }
    }
}
