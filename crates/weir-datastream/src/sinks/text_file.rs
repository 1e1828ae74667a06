//! Writes records as lines of text: to the file `path` when the sink has parallelism 1,
//! otherwise to the files `path/1`, `path/2`, ... one per subtask (as Flink's `writeAsText`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use weir_core::{Result, WeirError};

use super::{Sink, SinkWriter};
use crate::format::RecordFormat;
use crate::functions::RuntimeContext;

/// A text-file sink; existing files are overwritten.
#[derive(Clone)]
pub struct TextFileSink {
    path: PathBuf,
}

impl TextFileSink {
    /// A sink writing under `path`.
    pub fn new(path: impl AsRef<Path>) -> Self {
        TextFileSink {
            path: path.as_ref().to_path_buf(),
        }
    }
}

impl<T: RecordFormat + 'static> Sink<T> for TextFileSink {
    fn create_writer(&self, ctx: &RuntimeContext) -> Result<Box<dyn SinkWriter<T>>> {
        let path = if ctx.parallelism == 1 {
            self.path.clone()
        } else {
            std::fs::create_dir_all(&self.path).map_err(|e| {
                WeirError::io(
                    format!("cannot create output directory '{}'", self.path.display()),
                    e,
                )
            })?;
            self.path.join((ctx.subtask_index + 1).to_string())
        };
        let file = File::create(&path).map_err(|e| {
            WeirError::io(format!("cannot create output file '{}'", path.display()), e)
        })?;
        Ok(Box::new(TextFileWriter {
            path,
            out: BufWriter::with_capacity(1 << 16, file),
            line: String::new(),
        }))
    }
}

struct TextFileWriter {
    path: PathBuf,
    out: BufWriter<File>,
    line: String,
}

impl TextFileWriter {
    fn error(&self, e: std::io::Error) -> WeirError {
        WeirError::io(format!("cannot write to '{}'", self.path.display()), e)
    }
}

impl<T: RecordFormat> SinkWriter<T> for TextFileWriter {
    fn write(&mut self, records: Vec<T>) -> Result<()> {
        for r in &records {
            self.line.clear();
            r.format_record(&mut self.line);
            self.line.push('\n');
            if let Err(e) = self.out.write_all(self.line.as_bytes()) {
                return Err(self.error(e));
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| self.error(e))
    }
}
