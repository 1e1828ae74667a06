//! Writes generated events to a file that Flink's filesystem connector reads (see
//! [`Format`] for the layouts). Worker threads generate and format chunks of consecutive
//! events; one writer puts the chunks in order, so the file holds the events in event-number
//! order whatever the number of threads (event-time order matters to a reader that derives
//! watermarks from it).

mod format;

pub use format::Format;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use crate::NexmarkGenerator;

/// Events per chunk a worker formats at once.
const CHUNK: u64 = 16_384;

/// Chunks a worker may have formatted ahead of the writer.
const CHUNKS_AHEAD: usize = 4;

/// Writes events `0..events` of `generator` to `dir/events.<ext>` (creating `dir`) using
/// `threads` threads, and returns the file's path and size in bytes.
pub fn write_events(
    generator: &NexmarkGenerator,
    events: u64,
    format: Format,
    dir: &Path,
    threads: usize,
) -> io::Result<(PathBuf, u64)> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("events.{}", format.extension()));
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
    let chunks = events.div_ceil(CHUNK);
    let threads = threads.clamp(1, chunks.max(1) as usize);
    let mut bytes = 0u64;
    std::thread::scope(|scope| -> io::Result<()> {
        // Worker `t` formats chunks t, t + threads, t + 2·threads, ...
        let receivers: Vec<mpsc::Receiver<String>> = (0..threads)
            .map(|t| {
                let (send, receive) = mpsc::sync_channel(CHUNKS_AHEAD);
                scope.spawn(move || {
                    for chunk in (t as u64..chunks).step_by(threads) {
                        let start = chunk * CHUNK;
                        let text =
                            format_events(generator, start..(start + CHUNK).min(events), format);
                        if send.send(text).is_err() {
                            return; // The writer failed and left.
                        }
                    }
                });
                receive
            })
            .collect();
        for chunk in 0..chunks {
            let text = receivers[(chunk % threads as u64) as usize]
                .recv()
                .map_err(|_| io::Error::other("a generator thread stopped early"))?;
            out.write_all(text.as_bytes())?;
            bytes += text.len() as u64;
        }
        Ok(())
    })?;
    out.flush()?;
    Ok((path, bytes))
}

/// The lines of events `range`.
fn format_events(
    generator: &NexmarkGenerator,
    range: std::ops::Range<u64>,
    format: Format,
) -> String {
    let mut text = String::with_capacity((range.end - range.start) as usize * 200);
    for event in generator.events(range) {
        format.write_event(&mut text, &event);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NexmarkConfig;

    #[test]
    fn threads_write_the_same_file_as_one() {
        let generator = NexmarkGenerator::new(NexmarkConfig::default()).unwrap();
        let dir = std::env::temp_dir().join(format!("weir-nexmark-files-{}", std::process::id()));
        let events = 3 * CHUNK + 5;
        let (one, _) = write_events(&generator, events, Format::Csv, &dir.join("one"), 1).unwrap();
        let (three, bytes) =
            write_events(&generator, events, Format::Csv, &dir.join("three"), 3).unwrap();
        let (a, b) = (
            std::fs::read_to_string(one).unwrap(),
            std::fs::read_to_string(three).unwrap(),
        );
        assert_eq!(a, b);
        assert_eq!(a.len() as u64, bytes);
        assert_eq!(a.lines().count() as u64, events);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
