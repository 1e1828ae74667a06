//! The `filesystem` connector: reads every line of a file, or of the files of a directory in
//! name order (skipping hidden `.`/`_` files), and writes part files.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use weir_core::{Result, WeirError};

use crate::formats::Format;

/// The option keys of the filesystem connector (besides the format's).
pub const OPTIONS: &[&str] = &[
    "path",
    "format",
    "sink.rolling-policy.file-size",
    "sink.rolling-policy.rollover-interval",
    "source.monitor-interval",
];

/// Options of the filesystem connector.
#[derive(Debug, Clone, PartialEq)]
pub struct FilesystemOptions {
    /// The file or directory.
    pub path: String,
    /// The line format.
    pub format: Format,
}

/// Reads the lines of the table's files, resuming at a (file, line) position.
pub struct FileReader {
    files: Vec<PathBuf>,
    file: usize,
    line: u64,
    reader: Option<BufReader<File>>,
    format: Format,
    schema: SchemaRef,
}

impl FileReader {
    /// A reader of the files at `options.path`, decoding rows of `schema`.
    pub fn new(options: &FilesystemOptions, schema: SchemaRef) -> Result<Self> {
        Ok(FileReader {
            files: list_files(Path::new(&options.path))?,
            file: 0,
            line: 0,
            reader: None,
            format: options.format.clone(),
            schema,
        })
    }

    /// The position after the lines read so far: (file index, lines read in that file).
    pub fn position(&self) -> (u64, u64) {
        (self.file as u64, self.line)
    }

    /// Continues after `position` (from [`FileReader::position`]).
    pub fn seek(&mut self, (file, line): (u64, u64)) -> Result<()> {
        self.file = file as usize;
        self.reader = None;
        self.line = 0;
        if self.file < self.files.len() {
            let path = self.files[self.file].display().to_string();
            let reader = self.open_current()?;
            let mut skip = String::new();
            for _ in 0..line {
                skip.clear();
                reader
                    .read_line(&mut skip)
                    .map_err(|e| WeirError::io(format!("reading {path}"), e))?;
            }
            self.line = line;
        }
        Ok(())
    }

    fn open_current(&mut self) -> Result<&mut BufReader<File>> {
        if self.reader.is_none() {
            let path = &self.files[self.file];
            let file = File::open(path)
                .map_err(|e| WeirError::io(format!("opening {}", path.display()), e))?;
            self.reader = Some(BufReader::new(file));
        }
        Ok(self.reader.as_mut().expect("opened"))
    }

    /// Reads and decodes up to `max` lines; `None` once every file was read.
    pub fn next_batch(&mut self, max: usize) -> Result<Option<RecordBatch>> {
        let mut lines = Vec::new();
        while lines.len() < max && self.file < self.files.len() {
            let path = self.files[self.file].display().to_string();
            let reader = self.open_current()?;
            let mut line = String::new();
            let n = reader
                .read_line(&mut line)
                .map_err(|e| WeirError::io(format!("reading {path}"), e))?;
            if n == 0 {
                self.file += 1;
                self.line = 0;
                self.reader = None;
                continue;
            }
            self.line += 1;
            let text = line.trim_end_matches(['\n', '\r']);
            if text.is_empty() {
                continue;
            }
            lines.push((format!("{path}:{}", self.line), text.to_string()));
        }
        if lines.is_empty() {
            return Ok(None);
        }
        self.format.decode(&lines, &self.schema).map(Some)
    }
}

/// The files at `path`: the file itself, or a directory's visible files in name order.
fn list_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| WeirError::io(format!("listing {}", path.display()), e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && !n.starts_with('_'))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Writes rows to a part file in the table's directory, committed (renamed from an
/// in-progress name) when the job finishes.
pub struct FileWriter {
    dir: PathBuf,
    name: String,
    file: Option<std::io::BufWriter<File>>,
    format: Format,
}

impl FileWriter {
    /// A writer of part file `part-<subtask>-0` under `options.path`.
    pub fn new(options: &FilesystemOptions, subtask: usize) -> Self {
        FileWriter {
            dir: PathBuf::from(&options.path),
            name: format!("part-{subtask}-0"),
            file: None,
            format: options.format.clone(),
        }
    }

    fn in_progress(&self) -> PathBuf {
        self.dir.join(format!(".{}.inprogress", self.name))
    }

    /// Appends the rows of `batch`.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if self.file.is_none() {
            std::fs::create_dir_all(&self.dir)
                .map_err(|e| WeirError::io(format!("creating {}", self.dir.display()), e))?;
            let path = self.in_progress();
            let file = File::create(&path)
                .map_err(|e| WeirError::io(format!("creating {}", path.display()), e))?;
            self.file = Some(std::io::BufWriter::new(file));
        }
        let file = self.file.as_mut().expect("opened");
        for line in self.format.encode(batch) {
            writeln!(file, "{line}").map_err(|e| WeirError::io("writing a part file", e))?;
        }
        Ok(())
    }

    /// Flushes and commits the part file.
    pub fn commit(&mut self) -> Result<()> {
        if let Some(mut file) = self.file.take() {
            file.flush()
                .map_err(|e| WeirError::io("flushing a part file", e))?;
            let target = self.dir.join(&self.name);
            std::fs::rename(self.in_progress(), &target)
                .map_err(|e| WeirError::io(format!("committing {}", target.display()), e))?;
        }
        Ok(())
    }
}
