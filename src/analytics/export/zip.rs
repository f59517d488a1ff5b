//! A write-only ZIP archive that never seeks, so an XLSX file can be sent
//! while it is being written.
//!
//! Each entry is deflated as it is written. Its CRC and sizes are not known
//! when its local header goes out, so the header says so (general-purpose
//! flag bit 3) and a data descriptor follows the data; the central directory
//! at the end repeats everything, which is what readers (Excel, LibreOffice,
//! Python's `zipfile`) use. The output accumulates in a buffer the caller
//! drains with [`ZipStream::take_output`] whenever it likes, so memory holds
//! one chunk of output plus the deflater's window, whatever the archive size.
//!
//! No ZIP64: an entry or the archive past 4 GiB is an error (an XLSX sheet is
//! capped at 1,048,576 rows long before that in practice).

use std::io::{self, Write};

use flate2::write::DeflateEncoder;
use flate2::Compression;

const LOCAL_HEADER_SIGNATURE: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR_SIGNATURE: u32 = 0x0807_4b50;
const CENTRAL_HEADER_SIGNATURE: u32 = 0x0201_4b50;
const END_OF_CENTRAL_DIRECTORY_SIGNATURE: u32 = 0x0605_4b50;
/// "Version needed to extract": 2.0, deflate.
const VERSION_NEEDED: u16 = 20;
/// Bit 3 (sizes and CRC in a data descriptor) and bit 11 (UTF-8 names).
const FLAGS: u16 = (1 << 3) | (1 << 11);
const METHOD_DEFLATE: u16 = 8;
/// Fast compression: exports are large and mostly repetitive XML, where the
/// fast level already shrinks them several times over at a fraction of the CPU.
const LEVEL: Compression = Compression::fast();

/// What the central directory needs to know of a finished entry.
struct EntryRecord {
    name: String,
    crc: u32,
    compressed: u32,
    uncompressed: u32,
    offset: u32,
}

/// The entry being written.
struct OpenEntry {
    name: String,
    offset: u32,
    /// Deflates into its own buffer, moved to the output after every write.
    encoder: DeflateEncoder<Vec<u8>>,
    crc: crc32fast::Hasher,
    uncompressed: u64,
    compressed: u64,
}

/// A ZIP archive written front to back into a drainable buffer.
pub struct ZipStream {
    /// Bytes not yet handed to the caller.
    output: Vec<u8>,
    /// Bytes written so far, handed over or not: the next entry's offset.
    written: u64,
    entries: Vec<EntryRecord>,
    open: Option<OpenEntry>,
    /// MS-DOS time and date stamped on every entry.
    dos_time: u16,
    dos_date: u16,
}

fn too_big() -> io::Error {
    io::Error::other("the archive passed 4 GiB, the limit of a ZIP without ZIP64")
}

impl ZipStream {
    /// A new archive whose entries carry this (UTC) modification time.
    pub fn new(modified: chrono::DateTime<chrono::Utc>) -> Self {
        use chrono::{Datelike, Timelike};
        let year = modified.year().clamp(1980, 2107) as u16;
        Self {
            output: Vec::new(),
            written: 0,
            entries: Vec::new(),
            open: None,
            dos_time: ((modified.hour() as u16) << 11)
                | ((modified.minute() as u16) << 5)
                | (modified.second() as u16 / 2),
            dos_date: ((year - 1980) << 9)
                | ((modified.month() as u16) << 5)
                | modified.day() as u16,
        }
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.output.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
        if self.written > u64::from(u32::MAX) {
            return Err(too_big());
        }
        Ok(())
    }

    /// Starts an entry (finishing the open one, if any).
    pub fn start_entry(&mut self, name: &str) -> io::Result<()> {
        self.finish_entry()?;
        let offset = u32::try_from(self.written).map_err(|_| too_big())?;
        let mut header = Vec::with_capacity(30 + name.len());
        header.extend_from_slice(&LOCAL_HEADER_SIGNATURE.to_le_bytes());
        header.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
        header.extend_from_slice(&FLAGS.to_le_bytes());
        header.extend_from_slice(&METHOD_DEFLATE.to_le_bytes());
        header.extend_from_slice(&self.dos_time.to_le_bytes());
        header.extend_from_slice(&self.dos_date.to_le_bytes());
        // CRC, compressed and uncompressed size: in the data descriptor.
        header.extend_from_slice(&[0u8; 12]);
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(name.as_bytes());
        self.emit(&header)?;
        self.open = Some(OpenEntry {
            name: name.to_owned(),
            offset,
            encoder: DeflateEncoder::new(Vec::new(), LEVEL),
            crc: crc32fast::Hasher::new(),
            uncompressed: 0,
            compressed: 0,
        });
        Ok(())
    }

    /// Appends to the open entry.
    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let Some(entry) = self.open.as_mut() else {
            return Err(io::Error::other("no open ZIP entry"));
        };
        entry.crc.update(data);
        entry.uncompressed += data.len() as u64;
        if entry.uncompressed > u64::from(u32::MAX) {
            return Err(too_big());
        }
        entry.encoder.write_all(data)?;
        let deflated = std::mem::take(entry.encoder.get_mut());
        entry.compressed += deflated.len() as u64;
        self.emit(&deflated)
    }

    /// Ends the open entry with its data descriptor.
    fn finish_entry(&mut self) -> io::Result<()> {
        let Some(entry) = self.open.take() else {
            return Ok(());
        };
        let tail = entry.encoder.finish()?;
        let compressed = entry.compressed + tail.len() as u64;
        self.emit(&tail)?;
        let record = EntryRecord {
            name: entry.name,
            crc: entry.crc.finalize(),
            compressed: u32::try_from(compressed).map_err(|_| too_big())?,
            uncompressed: u32::try_from(entry.uncompressed).map_err(|_| too_big())?,
            offset: entry.offset,
        };
        let mut descriptor = Vec::with_capacity(16);
        descriptor.extend_from_slice(&DATA_DESCRIPTOR_SIGNATURE.to_le_bytes());
        descriptor.extend_from_slice(&record.crc.to_le_bytes());
        descriptor.extend_from_slice(&record.compressed.to_le_bytes());
        descriptor.extend_from_slice(&record.uncompressed.to_le_bytes());
        self.emit(&descriptor)?;
        self.entries.push(record);
        Ok(())
    }

    /// Writes the central directory; the archive is complete once the output
    /// is drained.
    pub fn finish(&mut self) -> io::Result<()> {
        self.finish_entry()?;
        let directory_offset = u32::try_from(self.written).map_err(|_| too_big())?;
        let mut directory = Vec::new();
        for e in &self.entries {
            directory.extend_from_slice(&CENTRAL_HEADER_SIGNATURE.to_le_bytes());
            directory.extend_from_slice(&VERSION_NEEDED.to_le_bytes()); // made by
            directory.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
            directory.extend_from_slice(&FLAGS.to_le_bytes());
            directory.extend_from_slice(&METHOD_DEFLATE.to_le_bytes());
            directory.extend_from_slice(&self.dos_time.to_le_bytes());
            directory.extend_from_slice(&self.dos_date.to_le_bytes());
            directory.extend_from_slice(&e.crc.to_le_bytes());
            directory.extend_from_slice(&e.compressed.to_le_bytes());
            directory.extend_from_slice(&e.uncompressed.to_le_bytes());
            directory.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            // Extra field, comment, disk number, internal and external attributes.
            directory.extend_from_slice(&[0u8; 2 + 2 + 2 + 2 + 4]);
            directory.extend_from_slice(&e.offset.to_le_bytes());
            directory.extend_from_slice(e.name.as_bytes());
        }
        let count = u16::try_from(self.entries.len())
            .map_err(|_| io::Error::other("too many ZIP entries"))?;
        let directory_size = directory.len() as u32;
        directory.extend_from_slice(&END_OF_CENTRAL_DIRECTORY_SIGNATURE.to_le_bytes());
        directory.extend_from_slice(&[0u8; 4]); // this disk, directory's disk
        directory.extend_from_slice(&count.to_le_bytes());
        directory.extend_from_slice(&count.to_le_bytes());
        directory.extend_from_slice(&directory_size.to_le_bytes());
        directory.extend_from_slice(&directory_offset.to_le_bytes());
        directory.extend_from_slice(&0u16.to_le_bytes()); // comment length
        self.emit(&directory)
    }

    /// The bytes written since the last call.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a stored archive back by its central directory, inflating each
    /// entry: proves offsets, sizes and CRCs agree with what was written.
    fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        use std::io::Read;
        let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
        let u32_at = |i: usize| u32::from_le_bytes(zip[i..i + 4].try_into().unwrap()) as usize;
        let end = zip.len() - 22;
        assert_eq!(u32_at(end) as u32, END_OF_CENTRAL_DIRECTORY_SIGNATURE);
        let count = u16_at(end + 10);
        let mut at = u32_at(end + 16);
        let mut out = Vec::new();
        for _ in 0..count {
            assert_eq!(u32_at(at) as u32, CENTRAL_HEADER_SIGNATURE);
            let crc = u32_at(at + 16) as u32;
            let compressed = u32_at(at + 20);
            let name_len = u16_at(at + 28);
            let offset = u32_at(at + 42);
            let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap();
            let data_at = offset + 30 + u16_at(offset + 26) + u16_at(offset + 28);
            let mut data = Vec::new();
            flate2::read::DeflateDecoder::new(&zip[data_at..data_at + compressed])
                .read_to_end(&mut data)
                .unwrap();
            assert_eq!(crc32fast::hash(&data), crc);
            out.push((name, data));
            at += 46 + name_len;
        }
        out
    }

    #[test]
    fn archive_reads_back_through_its_central_directory() {
        let mut zip = ZipStream::new(chrono::Utc::now());
        let mut bytes = Vec::new();
        zip.start_entry("a.txt").unwrap();
        zip.write_all(b"hello ").unwrap();
        bytes.extend(zip.take_output());
        zip.write_all(b"world").unwrap();
        zip.start_entry("dir/b.xml").unwrap();
        let big = "<row/>".repeat(100_000);
        zip.write_all(big.as_bytes()).unwrap();
        zip.finish().unwrap();
        bytes.extend(zip.take_output());
        let read = entries(&bytes);
        assert_eq!(read.len(), 2);
        assert_eq!(read[0], ("a.txt".to_owned(), b"hello world".to_vec()));
        assert_eq!(read[1].0, "dir/b.xml");
        assert_eq!(read[1].1, big.as_bytes());
        assert!(bytes.len() < big.len() / 10, "deflated");
    }
}
