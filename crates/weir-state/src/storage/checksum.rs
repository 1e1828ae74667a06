//! CRC-32 (IEEE 802.3, the polynomial of zlib, gzip and PNG) of state files and metadata,
//! computed at once or while a file is written.

use std::io::Write;

/// The CRC-32 of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// A checksum as written in metadata: `crc32:` and eight hex digits.
pub fn format_checksum(data: &[u8]) -> String {
    format_crc(crc32(data))
}

fn format_crc(crc: u32) -> String {
    format!("crc32:{crc:08x}")
}

/// A writer that passes bytes on and keeps their count and CRC-32.
pub(crate) struct ChecksumWriter<W> {
    inner: W,
    hasher: crc32fast::Hasher,
    written: u64,
}

impl<W: Write> ChecksumWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        ChecksumWriter {
            inner,
            hasher: crc32fast::Hasher::new(),
            written: 0,
        }
    }

    /// The inner writer, the number of bytes written and their checksum as in metadata.
    pub(crate) fn finish(self) -> (W, u64, String) {
        (self.inner, self.written, format_crc(self.hasher.finalize()))
    }
}

impl<W: Write> Write for ChecksumWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
        assert_eq!(format_checksum(b"123456789"), "crc32:cbf43926");
    }

    #[test]
    fn the_writer_sums_what_passes_through() {
        let mut w = ChecksumWriter::new(Vec::new());
        w.write_all(b"12345").unwrap();
        w.write_all(b"6789").unwrap();
        let (bytes, n, sum) = w.finish();
        assert_eq!((bytes.as_slice(), n), (&b"123456789"[..], 9));
        assert_eq!(sum, "crc32:cbf43926");
    }
}
