//! CSV cells as RFC 4180 wants them, with spreadsheet formula injection
//! neutralised.
//!
//! A text cell that a spreadsheet would read as a formula (starting with
//! `=`, `+`, `-` or `@`, or with a tab or carriage return, which some
//! spreadsheets strip before looking) gets a leading `'`, as OWASP
//! recommends: the cell then shows its text instead of running it. Numbers
//! this hub writes itself are left alone (a negative number is not an attack).
//! A field holding a comma, a double quote, CR or LF is quoted, with its
//! quotes doubled. Records end with CRLF.

/// First characters that make a spreadsheet treat a cell as a formula.
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
/// The record terminator of RFC 4180.
pub const CRLF: &str = "\r\n";

/// Appends one text field (neutralised and quoted as needed).
pub fn push_text(out: &mut String, text: &str) {
    let neutralise = text.starts_with(FORMULA_TRIGGERS);
    let quote = text.contains([',', '"', '\r', '\n']);
    if quote {
        out.push('"');
    }
    if neutralise {
        out.push('\'');
    }
    if quote {
        for c in text.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// Appends a number this hub computed (never neutralised, never quoted).
pub fn push_number(out: &mut String, value: f64) {
    use std::fmt::Write as _;
    // Writing into a String cannot fail.
    let _ = write!(out, "{value}");
}

/// Appends a record: fields separated by commas, ended by CRLF.
pub fn push_record<'a>(out: &mut String, fields: impl IntoIterator<Item = Field<'a>>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match field {
            Field::Text(text) => push_text(out, text),
            Field::Number(value) => push_number(out, value),
            Field::Empty => {}
        }
    }
    out.push_str(CRLF);
}

/// One field of a record.
#[derive(Clone, Copy, Debug)]
pub enum Field<'a> {
    Text(&'a str),
    Number(f64),
    Empty,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> String {
        let mut out = String::new();
        push_text(&mut out, text);
        out
    }

    #[test]
    fn quoting_follows_rfc_4180() {
        assert_eq!(one("plain"), "plain");
        assert_eq!(one("a,b"), "\"a,b\"");
        assert_eq!(one("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(one("two\nlines"), "\"two\nlines\"");
        assert_eq!(one("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(one(""), "");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(one("=1+1"), "'=1+1");
        assert_eq!(one("+33 6"), "'+33 6");
        assert_eq!(one("-2"), "'-2");
        assert_eq!(one("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(one("\tx"), "'\tx");
        assert_eq!(
            one("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(one("a=b"), "a=b", "only a leading trigger counts");
    }

    #[test]
    fn records_end_with_crlf_and_numbers_stay_numbers() {
        let mut out = String::new();
        push_record(
            &mut out,
            [
                Field::Text("x"),
                Field::Number(-1.5),
                Field::Empty,
                Field::Number(3.0),
            ],
        );
        assert_eq!(out, "x,-1.5,,3\r\n");
    }
}
