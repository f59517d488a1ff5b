//! A streaming XLSX (Office Open XML spreadsheet) writer on top of the `zip`
//! crate's non-seeking writer: rows go out as they are written, so memory
//! stays bounded however many there are.
//!
//! What makes that possible: strings are inline (`t="inlineStr"`) rather than
//! in a shared-string table that would have to be complete before the first
//! sheet; the workbook part, which lists the sheets, is written last (ZIP
//! entries may come in any order). Numbers are typed numeric cells; dates are
//! numbers (days since 1899-12-30, Excel's 1900 date system) with a date
//! number format, so Excel, LibreOffice and openpyxl show and read them as
//! dates. A sheet that reaches Excel's row limit continues on a new sheet
//! named with a counter ("Activities (2)").

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

/// Excel's rows per sheet, the header row included.
pub const MAX_ROWS_PER_SHEET: u32 = 1_048_576;
/// Excel's longest cell text; longer text is cut (and marked with "…").
const MAX_CELL_CHARS: usize = 32_767;
/// Days between Excel's day 0 (1899-12-30) and the Unix epoch.
const EXCEL_UNIX_EPOCH_DAYS: f64 = 25_569.0;
const SECONDS_PER_DAY: f64 = 86_400.0;
/// Style index (in `cellXfs` of [`STYLES`]) of date-time cells.
const DATE_STYLE: u8 = 1;
/// Style index of the bold header row.
const HEADER_STYLE: u8 = 2;
/// Fast deflate: exports are large and mostly repetitive XML, where the fast
/// level already shrinks them several times over at a fraction of the CPU.
const DEFLATE_LEVEL: i64 = 1;

const CONTENT_TYPES_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

/// Fonts (regular, bold), the two fills Excel requires, one border, and the
/// cell formats: 0 general, 1 date-time, 2 bold header.
const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#;

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
const SHEET_TAIL: &str = "</sheetData></worksheet>";

/// Where the archive's bytes collect until [`Archive::take_output`] hands
/// them on. The `ZipWriter` owns its writer, so the two share this buffer.
#[derive(Clone, Default)]
struct Output(Arc<Mutex<Vec<u8>>>);

impl Output {
    fn buffer(&self) -> MutexGuard<'_, Vec<u8>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl io::Write for Output {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A ZIP archive written front to back, never seeking: each entry is
/// deflated as it is written and followed by a data descriptor (its CRC and
/// sizes are not known when its local header goes out), and the central
/// directory comes last. Memory holds the output not yet taken plus the
/// deflater's buffers, whatever the archive size. Entries are not ZIP64
/// (`large_file` stays off): one past 4 GiB is an error (a sheet reaches
/// Excel's row limit long before that in practice).
struct Archive {
    /// `None` once finished.
    writer: Option<ZipWriter<StreamWriter<Output>>>,
    output: Output,
    options: SimpleFileOptions,
}

impl Archive {
    /// A new archive whose entries carry this (UTC) modification time.
    fn new(modified: DateTime<Utc>) -> Self {
        use chrono::{Datelike, Timelike};
        // Years outside MS-DOS time's 1980–2107 are clamped; the rest of a
        // valid chrono date is always in range.
        let stamp = zip::DateTime::from_date_and_time(
            modified.year().clamp(1980, 2107) as u16,
            modified.month() as u8,
            modified.day() as u8,
            modified.hour() as u8,
            modified.minute() as u8,
            modified.second() as u8,
        )
        .unwrap_or_default();
        let output = Output::default();
        Self {
            writer: Some(ZipWriter::new_stream(output.clone())),
            output,
            options: SimpleFileOptions::default()
                .compression_method(CompressionMethod::Deflated)
                .compression_level(Some(DEFLATE_LEVEL))
                .last_modified_time(stamp),
        }
    }

    fn writer(&mut self) -> io::Result<&mut ZipWriter<StreamWriter<Output>>> {
        self.writer
            .as_mut()
            .ok_or_else(|| io::Error::other("the archive is finished"))
    }

    /// Starts an entry (finishing the open one, if any).
    fn start_entry(&mut self, name: &str) -> io::Result<()> {
        let options = self.options;
        Ok(self.writer()?.start_file(name, options)?)
    }

    /// Appends to the open entry.
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.writer()?.write_all(data)
    }

    /// Writes the central directory; the archive is complete once the output
    /// is taken.
    fn finish(&mut self) -> io::Result<()> {
        match self.writer.take() {
            Some(writer) => writer.finish().map(drop).map_err(io::Error::from),
            None => Err(io::Error::other("the archive is finished")),
        }
    }

    /// The bytes written since the last call.
    fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut *self.output.buffer())
    }
}

/// One cell value.
#[derive(Clone, Copy, Debug)]
pub enum Cell<'a> {
    Text(&'a str),
    Number(f64),
    Date(DateTime<Utc>),
    Empty,
}

/// The sheet being written.
struct OpenSheet {
    /// Name the rows go under; continuation sheets add a counter.
    base_name: String,
    /// Which continuation this is (1 for the first).
    part: u32,
    /// Rows written, header included.
    rows: u32,
    /// Repeated at the top of continuation sheets.
    header: Vec<String>,
}

/// A workbook being streamed.
pub struct XlsxStream {
    zip: Archive,
    /// Names of the finished and open sheets, in order.
    sheet_names: Vec<String>,
    open: Option<OpenSheet>,
    /// Reused for every row's XML.
    scratch: String,
}

impl XlsxStream {
    pub fn new(now: DateTime<Utc>) -> io::Result<Self> {
        let mut zip = Archive::new(now);
        zip.start_entry("_rels/.rels")?;
        zip.write_all(ROOT_RELS.as_bytes())?;
        zip.start_entry("xl/styles.xml")?;
        zip.write_all(STYLES.as_bytes())?;
        Ok(Self {
            zip,
            sheet_names: Vec::new(),
            open: None,
            scratch: String::new(),
        })
    }

    /// Starts a sheet with a bold header row (finishing the open one).
    pub fn start_sheet(&mut self, name: &str, header: &[&str]) -> io::Result<()> {
        self.open_part(
            name.to_owned(),
            1,
            header.iter().map(|h| h.to_string()).collect(),
        )
    }

    fn open_part(&mut self, base_name: String, part: u32, header: Vec<String>) -> io::Result<()> {
        self.finish_sheet()?;
        let name = if part == 1 {
            base_name.clone()
        } else {
            format!("{base_name} ({part})")
        };
        self.sheet_names.push(name);
        self.zip.start_entry(&format!(
            "xl/worksheets/sheet{}.xml",
            self.sheet_names.len()
        ))?;
        self.zip.write_all(SHEET_HEAD.as_bytes())?;
        let titles = header.clone();
        self.open = Some(OpenSheet {
            base_name,
            part,
            rows: 0,
            header,
        });
        let cells: Vec<Cell<'_>> = titles.iter().map(|h| Cell::Text(h)).collect();
        self.write_row(&cells, Some(HEADER_STYLE))
    }

    /// Appends a row to the open sheet, moving on to a continuation sheet
    /// when this one is full.
    pub fn row(&mut self, cells: &[Cell<'_>]) -> io::Result<()> {
        if let Some(full) = self.open.as_ref().filter(|s| s.rows >= MAX_ROWS_PER_SHEET) {
            let (base_name, part, header) =
                (full.base_name.clone(), full.part, full.header.clone());
            self.open_part(base_name, part + 1, header)?;
        }
        self.write_row(cells, None)
    }

    fn write_row(&mut self, cells: &[Cell<'_>], style: Option<u8>) -> io::Result<()> {
        let Some(sheet) = self.open.as_mut() else {
            return Err(io::Error::other("no open sheet"));
        };
        sheet.rows += 1;
        let r = sheet.rows;
        let xml = &mut self.scratch;
        xml.clear();
        // Writing into a String cannot fail: the `write!` results are ignored.
        let _ = write!(xml, r#"<row r="{r}">"#);
        for (i, cell) in cells.iter().enumerate() {
            if matches!(cell, Cell::Empty) || matches!(cell, Cell::Number(n) if !n.is_finite()) {
                continue;
            }
            xml.push_str(r#"<c r=""#);
            push_column_name(xml, i);
            let _ = write!(xml, r#"{r}""#);
            match (style, cell) {
                (Some(s), _) => {
                    let _ = write!(xml, r#" s="{s}""#);
                }
                (None, Cell::Date(_)) => {
                    let _ = write!(xml, r#" s="{DATE_STYLE}""#);
                }
                _ => {}
            }
            match cell {
                Cell::Text(text) => {
                    xml.push_str(r#" t="inlineStr"><is><t xml:space="preserve">"#);
                    escape_into(xml, text);
                    xml.push_str("</t></is></c>");
                }
                Cell::Number(n) => {
                    let _ = write!(xml, "><v>{n}</v></c>");
                }
                Cell::Date(t) => {
                    let _ = write!(xml, "><v>{}</v></c>", excel_serial(*t));
                }
                Cell::Empty => {}
            }
        }
        xml.push_str("</row>");
        self.zip.write_all(self.scratch.as_bytes())
    }

    fn finish_sheet(&mut self) -> io::Result<()> {
        if self.open.take().is_some() {
            self.zip.write_all(SHEET_TAIL.as_bytes())?;
        }
        Ok(())
    }

    /// Writes the parts that list the sheets and closes the archive.
    pub fn finish(&mut self) -> io::Result<()> {
        self.finish_sheet()?;
        let mut types = String::from(CONTENT_TYPES_HEAD);
        let mut workbook = String::from(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>"#,
        );
        let mut rels = String::from(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
        );
        for (i, name) in self.sheet_names.iter().enumerate() {
            let n = i + 1;
            let _ = write!(
                types,
                r#"<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
            );
            let _ = write!(workbook, r#"<sheet name=""#);
            escape_into(&mut workbook, name);
            let _ = write!(workbook, r#"" sheetId="{n}" r:id="rId{n}"/>"#);
            let _ = write!(
                rels,
                r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>"#
            );
        }
        let styles_id = self.sheet_names.len() + 1;
        let _ = write!(
            rels,
            r#"<Relationship Id="rId{styles_id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#
        );
        types.push_str("</Types>");
        workbook.push_str("</sheets></workbook>");
        self.zip.start_entry("xl/workbook.xml")?;
        self.zip.write_all(workbook.as_bytes())?;
        self.zip.start_entry("xl/_rels/workbook.xml.rels")?;
        self.zip.write_all(rels.as_bytes())?;
        self.zip.start_entry("[Content_Types].xml")?;
        self.zip.write_all(types.as_bytes())?;
        self.zip.finish()
    }

    /// The bytes produced since the last call.
    pub fn take_output(&mut self) -> Vec<u8> {
        self.zip.take_output()
    }
}

/// Appends `A`, `B`, …, `Z`, `AA`, … for a zero-based column index.
fn push_column_name(out: &mut String, index: usize) {
    if index >= 26 {
        push_column_name(out, index / 26 - 1);
    }
    out.push(char::from(b'A' + (index % 26) as u8));
}

/// Days since 1899-12-30 with the time as a fraction, to the millisecond.
pub fn excel_serial(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1_000.0 / SECONDS_PER_DAY + EXCEL_UNIX_EPOCH_DAYS
}

/// XML-escapes `text` into `out`, dropping characters XML 1.0 cannot carry
/// (control characters other than tab, LF and CR) and cutting it at Excel's
/// cell limit.
fn escape_into(out: &mut String, text: &str) {
    for (i, c) in text.chars().enumerate() {
        if i == MAX_CELL_CHARS - 1 {
            out.push('…');
            break;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column_name(index: usize) -> String {
        let mut out = String::new();
        push_column_name(&mut out, index);
        out
    }

    #[test]
    fn column_names() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(27), "AB");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
    }

    #[test]
    fn dates_are_excel_serials() {
        let t = DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(excel_serial(t), 46_023.5);
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(excel_serial(epoch), 25_569.0);
    }

    /// Reads an archive back by its central directory, inflating each entry
    /// (the reader checks every entry's CRC as it reaches the end).
    fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        use std::io::Read;
        let mut archive = zip::ZipArchive::new(io::Cursor::new(zip)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut entry = archive.by_index(i).unwrap();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).unwrap();
                (entry.name().unwrap().into_owned(), data)
            })
            .collect()
    }

    #[test]
    fn archive_reads_back_through_its_central_directory() {
        let mut zip = Archive::new(Utc::now());
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
        assert!(zip.write_all(b"late").is_err(), "finished");
        let read = entries(&bytes);
        assert_eq!(read.len(), 2);
        assert_eq!(read[0], ("a.txt".to_owned(), b"hello world".to_vec()));
        assert_eq!(read[1].0, "dir/b.xml");
        assert_eq!(read[1].1, big.as_bytes());
        assert!(bytes.len() < big.len() / 10, "deflated");
    }

    /// Rows come out while the sheet is being written, in chunks far smaller
    /// than the sheet, and the pieces make one valid workbook.
    #[test]
    fn workbook_streams_and_round_trips() {
        let mut book = XlsxStream::new(Utc::now()).unwrap();
        book.start_sheet("Rows", &["n", "text"]).unwrap();
        let mut bytes = book.take_output();
        let mut largest_chunk = 0;
        let mut chunks_before_finish = 0;
        for i in 0..100_000u32 {
            let text = format!("row {i} {}", i.wrapping_mul(2_654_435_761));
            book.row(&[Cell::Number(f64::from(i)), Cell::Text(&text)])
                .unwrap();
            let chunk = book.take_output();
            if !chunk.is_empty() {
                chunks_before_finish += 1;
                largest_chunk = largest_chunk.max(chunk.len());
            }
            bytes.extend(chunk);
        }
        book.finish().unwrap();
        bytes.extend(book.take_output());
        assert!(chunks_before_finish > 10, "{chunks_before_finish} chunks");
        assert!(
            largest_chunk <= 256 * 1024,
            "a chunk of {largest_chunk} bytes"
        );
        let names: Vec<String> = entries(&bytes).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "_rels/.rels",
                "xl/styles.xml",
                "xl/worksheets/sheet1.xml",
                "xl/workbook.xml",
                "xl/_rels/workbook.xml.rels",
                "[Content_Types].xml",
            ]
        );
        let sheet = entries(&bytes).swap_remove(2).1;
        let sheet = String::from_utf8(sheet).unwrap();
        assert!(sheet.starts_with(SHEET_HEAD) && sheet.ends_with(SHEET_TAIL));
        assert_eq!(sheet.matches("<row ").count(), 100_001);
        assert!(sheet.contains(r#"<row r="100001"><c r="A100001"><v>99999</v></c>"#));
    }

    #[test]
    fn the_stream_can_move_between_threads() {
        fn send<T: Send>() {}
        send::<XlsxStream>();
    }

    #[test]
    fn text_is_escaped_and_cleaned() {
        let mut out = String::new();
        escape_into(&mut out, "a<b>&\"c\"\u{1}\td");
        assert_eq!(out, "a&lt;b&gt;&amp;&quot;c&quot;\td");
        let mut long = String::new();
        escape_into(&mut long, &"x".repeat(40_000));
        assert_eq!(long.chars().count(), MAX_CELL_CHARS);
    }
}
