//! The error type shared by all layers: every variant carries the context a user needs to
//! find the cause (the operator, the file, the configuration key).

use std::fmt;

use crate::config::ConfigError;

/// Result with [`WeirError`].
pub type Result<T, E = WeirError> = std::result::Result<T, E>;

/// Everything that can go wrong while building or running a job.
#[derive(Debug, Clone)]
pub enum WeirError {
    /// A configuration value or file is invalid.
    Config(String),
    /// The job is built in a way that cannot run (for example a forward edge between
    /// operators of different parallelism).
    InvalidJob(String),
    /// Reading or writing outside the process failed; `context` names what and where.
    Io { context: String, message: String },
    /// A record could not be parsed or converted; `location` names the source and position.
    BadInput { location: String, message: String },
    /// A user function or operator returned an error or panicked.
    Operator {
        operator: String,
        subtask: usize,
        message: String,
    },
    /// The job was cancelled before it finished.
    Cancelled,
    /// Anything else, with a message.
    Other(String),
}

impl WeirError {
    /// An I/O error with a description of what was being done.
    pub fn io(context: impl Into<String>, err: impl fmt::Display) -> Self {
        WeirError::Io {
            context: context.into(),
            message: err.to_string(),
        }
    }

    /// An error raised from user code, to be attributed to the running operator.
    pub fn user(message: impl Into<String>) -> Self {
        WeirError::Other(message.into())
    }

    /// Attributes this error to an operator subtask, unless it already names one.
    pub fn in_operator(self, operator: &str, subtask: usize) -> Self {
        match self {
            WeirError::Operator { .. } | WeirError::Cancelled => self,
            other => WeirError::Operator {
                operator: operator.to_string(),
                subtask,
                message: other.to_string(),
            },
        }
    }
}

impl fmt::Display for WeirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeirError::Config(m) => write!(f, "configuration error: {m}"),
            WeirError::InvalidJob(m) => write!(f, "invalid job: {m}"),
            WeirError::Io { context, message } => write!(f, "{context}: {message}"),
            WeirError::BadInput { location, message } => {
                write!(f, "bad input at {location}: {message}")
            }
            WeirError::Operator {
                operator,
                subtask,
                message,
            } => write!(
                f,
                "operator '{operator}' (subtask {subtask}) failed: {message}"
            ),
            WeirError::Cancelled => write!(f, "the job was cancelled"),
            WeirError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for WeirError {}

impl From<ConfigError> for WeirError {
    fn from(e: ConfigError) -> Self {
        WeirError::Config(e.to_string())
    }
}

impl From<std::io::Error> for WeirError {
    fn from(e: std::io::Error) -> Self {
        WeirError::io("I/O error", e)
    }
}

/// Returns early with a [`WeirError::InvalidJob`] built from a format string.
#[macro_export]
macro_rules! invalid_job {
    ($($arg:tt)*) => {
        return Err($crate::WeirError::InvalidJob(format!($($arg)*)))
    };
}
