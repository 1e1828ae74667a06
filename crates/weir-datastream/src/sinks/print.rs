//! Prints records to stdout or stderr as Flink's print sink does: `2> record` with the
//! subtask index when the sink runs in parallel, `prefix:2> record` with an identifier.

use std::io::Write;

use weir_core::{Result, WeirError};

use super::{Sink, SinkWriter};
use crate::format::RecordFormat;
use crate::functions::RuntimeContext;

/// Flink's `PrintSink`.
#[derive(Clone, Default)]
pub struct PrintSink {
    identifier: Option<String>,
    to_stderr: bool,
}

impl PrintSink {
    /// Prints to stdout, with `identifier` before each line if given.
    pub fn new(identifier: Option<String>) -> Self {
        PrintSink {
            identifier,
            to_stderr: false,
        }
    }

    /// Prints to stderr instead.
    pub fn to_stderr(mut self) -> Self {
        self.to_stderr = true;
        self
    }

    fn line_prefix(&self, subtask: usize, parallelism: usize) -> String {
        match (&self.identifier, parallelism > 1) {
            (Some(id), true) => format!("{id}:{}> ", subtask + 1),
            (Some(id), false) => format!("{id}> "),
            (None, true) => format!("{}> ", subtask + 1),
            (None, false) => String::new(),
        }
    }
}

impl<T: RecordFormat + 'static> Sink<T> for PrintSink {
    fn create_writer(&self, ctx: &RuntimeContext) -> Result<Box<dyn SinkWriter<T>>> {
        Ok(Box::new(PrintWriter {
            prefix: self.line_prefix(ctx.subtask_index, ctx.parallelism),
            to_stderr: self.to_stderr,
            buffer: String::new(),
        }))
    }
}

struct PrintWriter {
    prefix: String,
    to_stderr: bool,
    buffer: String,
}

impl<T: RecordFormat> SinkWriter<T> for PrintWriter {
    fn write(&mut self, records: Vec<T>) -> Result<()> {
        self.buffer.clear();
        for r in &records {
            self.buffer.push_str(&self.prefix);
            r.format_record(&mut self.buffer);
            self.buffer.push('\n');
        }
        let written = if self.to_stderr {
            std::io::stderr().lock().write_all(self.buffer.as_bytes())
        } else {
            std::io::stdout().lock().write_all(self.buffer.as_bytes())
        };
        written.map_err(|e| WeirError::io("printing records", e))
    }

    fn finish(&mut self) -> Result<()> {
        std::io::stdout()
            .flush()
            .map_err(|e| WeirError::io("flushing stdout", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_like_flink() {
        assert_eq!(PrintSink::new(None).line_prefix(1, 4), "2> ");
        assert_eq!(PrintSink::new(None).line_prefix(0, 1), "");
        assert_eq!(
            PrintSink::new(Some("out".into())).line_prefix(2, 4),
            "out:3> "
        );
        assert_eq!(
            PrintSink::new(Some("out".into())).line_prefix(0, 1),
            "out> "
        );
    }
}
