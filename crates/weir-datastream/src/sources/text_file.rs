//! Reads lines of text from a file or from all files of a folder (Flink's `readTextFile`).
//!
//! The files are cut into splits of at least 4 MiB; split `i` goes to subtask `i mod p`. A
//! split owns the lines that start inside it: it skips the partial line at its start and
//! reads past its end to finish its last line. In checkpoints, the unread rest of each split
//! is a split that starts at a line.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use weir_core::{Result, WeirError};

use serde::{Deserialize, Serialize};

use super::{decode_splits, encode_splits, Source, SourceReader, SourceStatus};
use crate::functions::RuntimeContext;

const MIN_SPLIT_BYTES: u64 = 4 << 20;

/// Lines of a file or of the files in a folder (not recursive; sorted by name; hidden files
/// and files starting with `_` skipped, as Flink does).
pub struct TextFileSource {
    path: PathBuf,
}

impl TextFileSource {
    /// Lines under `path`.
    pub fn new(path: impl AsRef<Path>) -> Self {
        TextFileSource {
            path: path.as_ref().to_path_buf(),
        }
    }

    fn files(&self) -> Result<Vec<(PathBuf, u64)>> {
        let cannot = |e: std::io::Error| {
            WeirError::io(
                format!("cannot read text file '{}'", self.path.display()),
                e,
            )
        };
        let meta = std::fs::metadata(&self.path).map_err(cannot)?;
        if meta.is_file() {
            return Ok(vec![(self.path.clone(), meta.len())]);
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.path).map_err(cannot)? {
            let entry = entry.map_err(cannot)?;
            let name = entry.file_name().to_string_lossy().to_string();
            let meta = entry.metadata().map_err(cannot)?;
            if meta.is_file() && !name.starts_with('.') && !name.starts_with('_') {
                files.push((entry.path(), meta.len()));
            }
        }
        files.sort();
        Ok(files)
    }
}

/// A byte range of one file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Split {
    path: PathBuf,
    start: u64,
    end: u64,
    /// `start` is the first byte of a line (a split resumed from a checkpoint), so nothing
    /// is skipped.
    at_line_start: bool,
    /// The 1-based number of the line at `start`, when known.
    first_line: Option<u64>,
}

fn splits(files: &[(PathBuf, u64)], parallelism: usize) -> Vec<Split> {
    let total: u64 = files.iter().map(|(_, len)| len).sum();
    let size = (total / parallelism.max(1) as u64).max(MIN_SPLIT_BYTES);
    let mut out = Vec::new();
    for (path, len) in files {
        let mut start = 0;
        loop {
            let end = (start + size).min(*len);
            out.push(Split {
                path: path.clone(),
                start,
                end,
                at_line_start: start == 0,
                first_line: (start == 0).then_some(1),
            });
            if end >= *len {
                break;
            }
            start = end;
        }
    }
    out
}

impl Source<String> for TextFileSource {
    fn create_reader(&self, ctx: &RuntimeContext) -> Result<Box<dyn SourceReader<String>>> {
        let mine = splits(&self.files()?, ctx.parallelism)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % ctx.parallelism == ctx.subtask_index)
            .map(|(_, s)| s)
            .collect();
        Ok(Box::new(TextFileReader {
            splits: mine,
            current: None,
        }))
    }

    fn restore_reader(
        &self,
        _ctx: &RuntimeContext,
        splits: &[Vec<u8>],
    ) -> Result<Box<dyn SourceReader<String>>> {
        Ok(Box::new(TextFileReader {
            splits: decode_splits(splits)?,
            current: None,
        }))
    }
}

struct OpenSplit {
    split: Split,
    reader: BufReader<File>,
    /// Offset of the next line's first byte.
    position: u64,
    /// 1-based number of the next line, when known (splits that start at 0).
    line_number: Option<u64>,
}

struct TextFileReader {
    splits: Vec<Split>,
    current: Option<OpenSplit>,
}

impl OpenSplit {
    fn open(split: Split) -> Result<Self> {
        let cannot = |e: std::io::Error| {
            WeirError::io(
                format!("cannot read text file '{}'", split.path.display()),
                e,
            )
        };
        let mut file = File::open(&split.path).map_err(cannot)?;
        let mut position = split.start;
        let skip_partial_line = !split.at_line_start;
        if skip_partial_line {
            // Skip the rest of the line that the previous split owns.
            file.seek(SeekFrom::Start(split.start - 1))
                .map_err(cannot)?;
        } else {
            file.seek(SeekFrom::Start(split.start)).map_err(cannot)?;
        }
        let mut reader = BufReader::with_capacity(1 << 16, file);
        if skip_partial_line {
            let mut skipped = Vec::new();
            position += reader.read_until(b'\n', &mut skipped).map_err(cannot)? as u64 - 1;
        }
        Ok(OpenSplit {
            line_number: split.first_line,
            split,
            reader,
            position,
        })
    }

    /// Reads the next line owned by this split into `buf`; false at the split's end.
    fn next_line(&mut self, buf: &mut Vec<u8>) -> Result<bool> {
        if self.position >= self.split.end
            && !(self.split.start == self.split.end && self.position == 0)
        {
            return Ok(false);
        }
        buf.clear();
        let n = self.reader.read_until(b'\n', buf).map_err(|e| {
            WeirError::io(
                format!("cannot read text file '{}'", self.split.path.display()),
                e,
            )
        })?;
        if n == 0 {
            return Ok(false);
        }
        self.position += n as u64;
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        Ok(true)
    }

    fn location(&self) -> String {
        match self.line_number {
            Some(line) => format!("{}:{line}", self.split.path.display()),
            None => format!(
                "{} (line starting at byte {})",
                self.split.path.display(),
                self.position
            ),
        }
    }
}

impl SourceReader<String> for TextFileReader {
    fn open(&mut self) -> Result<()> {
        // Fail early, naming the file, if any assigned file cannot be opened.
        for s in &self.splits {
            File::open(&s.path).map_err(|e| {
                WeirError::io(format!("cannot read text file '{}'", s.path.display()), e)
            })?;
        }
        Ok(())
    }

    fn snapshot_splits(&mut self) -> Result<Vec<Vec<u8>>> {
        let resumed = self.current.as_ref().map(|c| Split {
            start: c.position,
            at_line_start: true,
            first_line: c.line_number,
            ..c.split.clone()
        });
        encode_splits(resumed.iter().chain(&self.splits))
    }

    fn poll_next(&mut self, out: &mut Vec<String>, max_records: usize) -> Result<SourceStatus> {
        let mut buf = Vec::new();
        let limit = out.len() + max_records;
        while out.len() < limit {
            let current = match &mut self.current {
                Some(c) => c,
                None if self.splits.is_empty() => return Ok(SourceStatus::Finished),
                None => self.current.insert(OpenSplit::open(self.splits.remove(0))?),
            };
            let line_start = current.position;
            if !current.next_line(&mut buf)? {
                self.current = None;
                continue;
            }
            match String::from_utf8(std::mem::take(&mut buf)) {
                Ok(line) => out.push(line),
                Err(_) => {
                    current.position = line_start;
                    return Err(WeirError::BadInput {
                        location: current.location(),
                        message: "the line is not valid UTF-8".into(),
                    });
                }
            }
            if let Some(n) = &mut current.line_number {
                *n += 1;
            }
        }
        Ok(SourceStatus::More)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(split_list: Vec<Split>) -> Vec<String> {
        let mut reader = TextFileReader {
            splits: split_list,
            current: None,
        };
        let mut out = Vec::new();
        while reader.poll_next(&mut out, 3).unwrap() != SourceStatus::Finished {}
        out
    }

    #[test]
    fn splits_own_each_line_once() {
        let dir = std::env::temp_dir().join(format!("weir-text-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.txt");
        let lines: Vec<String> = (0..200)
            .map(|i| "x".repeat(i % 13) + &i.to_string())
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        for cut in [1u64, 7, 50, 333, len - 1] {
            let mut split_list = Vec::new();
            let mut start = 0;
            while start < len {
                let end = (start + cut).min(len);
                split_list.push(Split {
                    path: path.clone(),
                    start,
                    end,
                    at_line_start: start == 0,
                    first_line: None,
                });
                start = end;
            }
            assert_eq!(read_all(split_list), lines, "split size {cut}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
