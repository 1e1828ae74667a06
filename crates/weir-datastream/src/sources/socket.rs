//! Lines of text from a TCP socket (Flink's `socketTextStream`): not parallel, not
//! replayable; the stream ends when the other side closes the connection.

use std::io::{BufRead, BufReader, ErrorKind};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use weir_core::{Result, WeirError};

use super::{Source, SourceReader, SourceStatus};
use crate::functions::RuntimeContext;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_millis(100);

/// Connects to `host:port` and emits each line (without its `\n` or `\r\n`).
pub struct SocketTextSource {
    host: String,
    port: u16,
}

impl SocketTextSource {
    /// A source reading from `host:port`.
    pub fn new(host: &str, port: u16) -> Self {
        SocketTextSource {
            host: host.to_string(),
            port,
        }
    }
}

impl Source<String> for SocketTextSource {
    fn max_parallelism(&self) -> Option<usize> {
        Some(1)
    }

    fn create_reader(&self, _ctx: &RuntimeContext) -> Result<Box<dyn SourceReader<String>>> {
        Ok(Box::new(SocketReader {
            address: format!("{}:{}", self.host, self.port),
            reader: None,
            line: Vec::new(),
        }))
    }

    /// A socket cannot be replayed: the restored reader reconnects and reads what comes next.
    fn restore_reader(
        &self,
        ctx: &RuntimeContext,
        _splits: &[Vec<u8>],
    ) -> Result<Box<dyn SourceReader<String>>> {
        tracing::warn!(
            "source '{}' reads a socket, which cannot be replayed: lines sent to {}:{} before the restore and after the checkpoint are lost (at most once)",
            ctx.operator_name,
            self.host,
            self.port
        );
        self.create_reader(ctx)
    }
}

struct SocketReader {
    address: String,
    reader: Option<BufReader<TcpStream>>,
    /// Bytes of a line that is still arriving.
    line: Vec<u8>,
}

impl SocketReader {
    fn error(&self, e: std::io::Error) -> WeirError {
        WeirError::io(format!("socket {}", self.address), e)
    }
}

impl SourceReader<String> for SocketReader {
    /// Nothing to save: a socket has no position to go back to.
    fn snapshot_splits(&mut self) -> Result<Vec<Vec<u8>>> {
        Ok(Vec::new())
    }

    fn open(&mut self) -> Result<()> {
        let cannot = |e: std::io::Error| {
            WeirError::io(format!("cannot connect to socket {}", self.address), e)
        };
        let mut last_error =
            std::io::Error::new(ErrorKind::NotFound, "the host name resolves to no address");
        for addr in self.address.to_socket_addrs().map_err(cannot)? {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(stream) => {
                    stream
                        .set_read_timeout(Some(READ_TIMEOUT))
                        .map_err(cannot)?;
                    self.reader = Some(BufReader::new(stream));
                    return Ok(());
                }
                Err(e) => last_error = e,
            }
        }
        Err(cannot(last_error))
    }

    fn poll_next(&mut self, out: &mut Vec<String>, max_records: usize) -> Result<SourceStatus> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(SourceStatus::Finished);
        };
        let limit = out.len() + max_records;
        while out.len() < limit {
            match reader.read_until(b'\n', &mut self.line) {
                Ok(0) => {
                    // Connection closed: a last line without '\n' still counts.
                    if !self.line.is_empty() {
                        out.push(
                            String::from_utf8_lossy(&std::mem::take(&mut self.line)).into_owned(),
                        );
                    }
                    self.reader = None;
                    return Ok(SourceStatus::Finished);
                }
                Ok(_) if self.line.last() == Some(&b'\n') => {
                    self.line.pop();
                    if self.line.last() == Some(&b'\r') {
                        self.line.pop();
                    }
                    out.push(String::from_utf8_lossy(&self.line).into_owned());
                    self.line.clear();
                }
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Ok(SourceStatus::Pending(Duration::ZERO));
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(e)),
            }
            if reader.buffer().is_empty() && !out.is_empty() {
                // Hand over what arrived instead of waiting for a full batch.
                return Ok(SourceStatus::More);
            }
        }
        Ok(SourceStatus::More)
    }
}
