//! Parsing with sqlparser's generic dialect: the parser, and its errors turned into
//! [`SqlError::Parse`] with a line and a column.

use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};

use crate::error::{Result, SqlError};

/// The dialect Weir parses Flink SQL with (after [`crate::rewrite`]'s pre-pass).
pub static DIALECT: GenericDialect = GenericDialect {};

/// A parser over `sql`.
pub fn parser(sql: &str) -> Result<Parser<'static>> {
    Parser::new(&DIALECT).try_with_sql(sql).map_err(parse_error)
}

/// A parser error as a [`SqlError::Parse`]: sqlparser appends " at Line: L, Column: C".
pub fn parse_error(e: ParserError) -> SqlError {
    let text = match e {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
        ParserError::RecursionLimitExceeded => "the statement is nested too deeply".into(),
    };
    match text.rsplit_once(" at Line: ") {
        Some((message, position)) => {
            let mut numbers = position
                .split(", Column: ")
                .map(|n| n.trim().parse::<usize>().unwrap_or(1));
            SqlError::Parse {
                line: numbers.next().unwrap_or(1),
                column: numbers.next().unwrap_or(1),
                message: message.to_string(),
            }
        }
        None => SqlError::Parse {
            line: 1,
            column: 1,
            message: text,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_have_positions() {
        let err = parser("SELECT a,\n  , b FROM t")
            .and_then(|mut p| p.parse_statement().map_err(parse_error))
            .unwrap_err();
        match err {
            SqlError::Parse {
                line,
                column,
                message,
            } => {
                assert_eq!((line, column), (2, 3));
                assert!(message.contains("Expected"), "{message}");
            }
            other => panic!("{other}"),
        }
    }
}
