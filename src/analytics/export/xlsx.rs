//! A streaming XLSX (Office Open XML spreadsheet) writer on top of
//! [`ZipStream`]: rows go out as they are written, so memory stays bounded
//! however many there are.
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
use std::io;

use chrono::{DateTime, Utc};

use super::zip::ZipStream;

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
    zip: ZipStream,
    /// Names of the finished and open sheets, in order.
    sheet_names: Vec<String>,
    open: Option<OpenSheet>,
    /// Reused for every row's XML.
    scratch: String,
}

impl XlsxStream {
    pub fn new(now: DateTime<Utc>) -> io::Result<Self> {
        let mut zip = ZipStream::new(now);
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
