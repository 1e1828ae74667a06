//! The one error type of the SQL layer, [`SqlError`]: every variant says where the problem is
//! (the position in the statement, the table, the option, the file and line).

use std::fmt;

use weir_core::WeirError;

/// Result with [`SqlError`].
pub type Result<T, E = SqlError> = std::result::Result<T, E>;

/// Everything that can go wrong while parsing, planning or running SQL.
#[derive(Debug, Clone)]
pub enum SqlError {
    /// The statement is not valid SQL: `line` and `column` are 1-based positions in the script.
    Parse {
        line: usize,
        column: usize,
        message: String,
    },
    /// A table, view, column or function is unknown, or a name is defined twice.
    Catalog(String),
    /// A connector or format is unknown, or its options are invalid.
    Connector(String),
    /// The query is valid SQL but cannot be planned (for example a type error, or a construct
    /// that streaming mode cannot run).
    Plan(String),
    /// Running the job failed.
    Runtime(WeirError),
}

impl SqlError {
    /// A planning error with a message.
    pub fn plan(message: impl Into<String>) -> Self {
        SqlError::Plan(message.into())
    }

    /// A connector or format error with a message.
    pub fn connector(message: impl Into<String>) -> Self {
        SqlError::Connector(message.into())
    }

    /// A catalog error with a message.
    pub fn catalog(message: impl Into<String>) -> Self {
        SqlError::Catalog(message.into())
    }

    /// Places an error of a statement that starts at (`line`, `column`) of a script: a parse
    /// error moves to its position in the script, other errors name the statement's line.
    pub fn in_statement_at(self, line: usize, column: usize) -> Self {
        let at = |m: String| format!("statement at line {line}: {m}");
        match self.shifted(line, column) {
            SqlError::Catalog(m) => SqlError::Catalog(at(m)),
            SqlError::Connector(m) => SqlError::Connector(at(m)),
            SqlError::Plan(m) => SqlError::Plan(at(m)),
            SqlError::Runtime(e) => SqlError::plan(at(format!("job failed: {e}"))),
            parse => parse,
        }
    }

    /// Moves a parse error found in a statement that starts at (`line`, `column`) of the
    /// script to its position in the script.
    fn shifted(self, line: usize, column: usize) -> Self {
        match self {
            SqlError::Parse {
                line: l,
                column: c,
                message,
            } => SqlError::Parse {
                line: l + line - 1,
                column: if l == 1 { c + column - 1 } else { c },
                message,
            },
            other => other,
        }
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlError::Parse {
                line,
                column,
                message,
            } => write!(
                f,
                "SQL parse error at line {line}, column {column}: {message}"
            ),
            SqlError::Catalog(m) => write!(f, "catalog error: {m}"),
            SqlError::Connector(m) => write!(f, "connector error: {m}"),
            SqlError::Plan(m) => write!(f, "planning error: {m}"),
            SqlError::Runtime(e) => write!(f, "job failed: {e}"),
        }
    }
}

impl std::error::Error for SqlError {}

impl From<WeirError> for SqlError {
    fn from(e: WeirError) -> Self {
        SqlError::Runtime(e)
    }
}

impl From<datafusion_common::DataFusionError> for SqlError {
    fn from(e: datafusion_common::DataFusionError) -> Self {
        SqlError::Plan(e.strip_backtrace())
    }
}

impl From<arrow::error::ArrowError> for SqlError {
    fn from(e: arrow::error::ArrowError) -> Self {
        SqlError::Plan(e.to_string())
    }
}

impl From<SqlError> for WeirError {
    fn from(e: SqlError) -> Self {
        match e {
            SqlError::Runtime(inner) => inner,
            other => WeirError::Other(other.to_string()),
        }
    }
}
