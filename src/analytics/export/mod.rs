//! Exports of a user's activities or metrics as CSV, JSON or XLSX.
//!
//! Activity exports stream: the store is walked page by page in id order
//! (keyset pagination, [`PAGE_SIZE`] activities a page), each page is encoded
//! and handed to the response before the next is read, and the response
//! writer pulls pages only as fast as the client reads. Memory therefore holds
//! one page and one encoded chunk whatever the export's size. XLSX streams
//! too (see [`xlsx`]). Metric exports are small (at most a few hundred
//! buckets) and built in memory.
//!
//! Tables:
//!
//! - activities: `id, created_at, type, title, message, link, metadata,
//!   user_id` (metadata as JSON text; in XLSX `created_at` is a date cell, in
//!   UTC); JSON is an array of activity objects as the API shows them.
//! - metrics, CSV: one row per bucket, `start` then one column per metric.
//!   JSON: the summary object of `GET /api/analytics/summary`. XLSX: a
//!   "Summary" sheet (metric, total, previous_total, change_pct, average,
//!   trend) and a "Data points" sheet (as the CSV).

pub mod csv;
pub mod xlsx;

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use hub_core::model::Activity;
use hub_core::store::ActivityScan;
use hub_core::{Store, UserId};
use tracing::error;

use self::csv::Field;
use self::xlsx::{Cell, XlsxStream};
use super::Summary;

/// Activities read from the store per page.
pub const PAGE_SIZE: usize = 1_000;

/// Columns of the activities table.
pub const ACTIVITY_COLUMNS: [&str; 8] = [
    "id",
    "created_at",
    "type",
    "title",
    "message",
    "link",
    "metadata",
    "user_id",
];
/// Columns of the metrics summary table.
const SUMMARY_COLUMNS: [&str; 6] = [
    "metric",
    "total",
    "previous_total",
    "change_pct",
    "average",
    "trend",
];
const ACTIVITIES_SHEET: &str = "Activities";
const SUMMARY_SHEET: &str = "Summary";
const DATA_POINTS_SHEET: &str = "Data points";

/// File formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Xlsx,
}

impl Format {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8; header=present",
            Format::Json => "application/json",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// What is exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    Activities,
    Metrics,
}

impl Dataset {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "activities" => Some(Dataset::Activities),
            "metrics" => Some(Dataset::Metrics),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dataset::Activities => "activities",
            Dataset::Metrics => "metrics",
        }
    }
}

/// `aiclone-<data>-<first day>-<last day>.<ext>` (UTC dates of the period).
pub fn file_name(
    dataset: Dataset,
    format: Format,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> String {
    let last = end - chrono::Duration::milliseconds(1);
    format!(
        "aiclone-{}-{}-{}.{}",
        dataset.as_str(),
        start.format("%Y%m%d"),
        last.max(start).format("%Y%m%d"),
        format.extension()
    )
}

/// Turns pages of activities into the bytes of one format.
enum ActivityEncoder {
    Csv,
    Json {
        /// No comma before the first element.
        first: bool,
    },
    Xlsx(Box<XlsxStream>),
}

impl ActivityEncoder {
    fn new(format: Format, now: DateTime<Utc>) -> io::Result<Self> {
        Ok(match format {
            Format::Csv => ActivityEncoder::Csv,
            Format::Json => ActivityEncoder::Json { first: true },
            Format::Xlsx => ActivityEncoder::Xlsx(Box::new(XlsxStream::new(now)?)),
        })
    }

    fn begin(&mut self) -> io::Result<Vec<u8>> {
        match self {
            ActivityEncoder::Csv => {
                let mut out = String::new();
                csv::push_record(&mut out, ACTIVITY_COLUMNS.map(Field::Text));
                Ok(out.into_bytes())
            }
            ActivityEncoder::Json { .. } => Ok(b"[".to_vec()),
            ActivityEncoder::Xlsx(book) => {
                book.start_sheet(ACTIVITIES_SHEET, &ACTIVITY_COLUMNS)?;
                Ok(book.take_output())
            }
        }
    }

    fn page(&mut self, items: &[Activity]) -> io::Result<Vec<u8>> {
        match self {
            ActivityEncoder::Csv => {
                let mut out = String::new();
                for a in items {
                    let created = hub_core::time::format(&a.created_at);
                    let metadata = a.metadata.to_string();
                    csv::push_record(
                        &mut out,
                        [
                            Field::Text(a.id.as_str()),
                            Field::Text(&created),
                            Field::Text(a.kind.as_str()),
                            Field::Text(&a.title),
                            Field::Text(a.message.as_deref().unwrap_or("")),
                            Field::Text(a.link.as_deref().unwrap_or("")),
                            Field::Text(&metadata),
                            Field::Text(a.user_id.as_str()),
                        ],
                    );
                }
                Ok(out.into_bytes())
            }
            ActivityEncoder::Json { first } => {
                let mut out = Vec::new();
                for a in items {
                    if !*first {
                        out.push(b',');
                    }
                    *first = false;
                    serde_json::to_writer(&mut out, a)?;
                }
                Ok(out)
            }
            ActivityEncoder::Xlsx(book) => {
                for a in items {
                    let metadata = a.metadata.to_string();
                    book.row(&[
                        Cell::Text(a.id.as_str()),
                        Cell::Date(a.created_at),
                        Cell::Text(a.kind.as_str()),
                        Cell::Text(&a.title),
                        a.message.as_deref().map_or(Cell::Empty, Cell::Text),
                        a.link.as_deref().map_or(Cell::Empty, Cell::Text),
                        Cell::Text(&metadata),
                        Cell::Text(a.user_id.as_str()),
                    ])?;
                }
                Ok(book.take_output())
            }
        }
    }

    fn end(&mut self) -> io::Result<Vec<u8>> {
        match self {
            ActivityEncoder::Csv => Ok(Vec::new()),
            ActivityEncoder::Json { .. } => Ok(b"]".to_vec()),
            ActivityEncoder::Xlsx(book) => {
                book.finish()?;
                Ok(book.take_output())
            }
        }
    }
}

/// Where a streaming export is.
enum Phase {
    Begin,
    Rows,
    /// The last page was short: nothing more to read.
    End,
    Done,
}

/// The state of a streaming activity export.
struct ActivityExport {
    store: Arc<dyn Store>,
    user: UserId,
    scan: ActivityScan,
    encoder: ActivityEncoder,
    phase: Phase,
    /// Activities sent so far (for the log line at the end).
    rows: u64,
}

impl ActivityExport {
    /// The next chunk, or `None` at the end.
    async fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            match self.phase {
                Phase::Begin => {
                    self.phase = Phase::Rows;
                    return self.encoder.begin().map(Some);
                }
                Phase::Rows => {
                    let page = self
                        .store
                        .scan_activities(&self.user, self.scan.clone())
                        .await
                        .map_err(io::Error::other)?;
                    if page.len() < self.scan.limit {
                        self.phase = Phase::End;
                    }
                    let Some(last) = page.last() else {
                        continue;
                    };
                    self.scan.after = Some(last.id.clone());
                    self.rows += page.len() as u64;
                    let bytes = self.encoder.page(&page)?;
                    if !bytes.is_empty() {
                        return Ok(Some(bytes));
                    }
                }
                Phase::End => {
                    self.phase = Phase::Done;
                    tracing::info!(user_id = %self.user, rows = self.rows, "activity export finished");
                    let bytes = self.encoder.end()?;
                    if !bytes.is_empty() {
                        return Ok(Some(bytes));
                    }
                }
                Phase::Done => return Ok(None),
            }
        }
    }
}

/// The activities of `user` matching `scan` (its `after` and `limit` are
/// managed here), as a stream of file chunks. A failure half-way ends the
/// stream with an error, which aborts the response: the client sees a
/// truncated transfer, never a file that looks complete.
pub fn activity_stream(
    store: Arc<dyn Store>,
    user: UserId,
    mut scan: ActivityScan,
    format: Format,
    now: DateTime<Utc>,
) -> io::Result<impl Stream<Item = Result<Bytes, io::Error>> + 'static> {
    scan.after = None;
    scan.limit = PAGE_SIZE;
    let export = ActivityExport {
        store,
        user,
        scan,
        encoder: ActivityEncoder::new(format, now)?,
        phase: Phase::Begin,
        rows: 0,
    };
    Ok(futures_util::stream::unfold(
        Some(export),
        |state| async move {
            let mut export = state?;
            match export.next_chunk().await {
                Ok(Some(bytes)) => Some((Ok(Bytes::from(bytes)), Some(export))),
                Ok(None) => None,
                Err(err) => {
                    error!(cause = %err, user_id = %export.user, "activity export failed half-way");
                    Some((Err(err), None))
                }
            }
        },
    ))
}

/// A metrics export of `summary` (its metrics already filtered).
pub fn metrics_file(summary: &Summary, format: Format, now: DateTime<Utc>) -> io::Result<Vec<u8>> {
    match format {
        Format::Json => Ok(serde_json::to_vec(summary)?),
        Format::Csv => {
            let mut out = String::new();
            let header = std::iter::once("start").chain(summary.metrics.iter().map(|m| m.metric));
            csv::push_record(&mut out, header.map(Field::Text));
            for (i, start) in buckets(summary).enumerate() {
                let start = hub_core::time::format(&start);
                let fields = std::iter::once(Field::Text(&start)).chain(
                    summary
                        .metrics
                        .iter()
                        .map(|m| Field::Number(m.data_points[i].value.as_f64())),
                );
                csv::push_record(&mut out, fields);
            }
            Ok(out.into_bytes())
        }
        Format::Xlsx => {
            let mut book = XlsxStream::new(now)?;
            book.start_sheet(SUMMARY_SHEET, &SUMMARY_COLUMNS)?;
            for m in &summary.metrics {
                book.row(&[
                    Cell::Text(m.metric),
                    Cell::Number(m.total.as_f64()),
                    Cell::Number(m.previous_total.as_f64()),
                    m.change_pct.map_or(Cell::Empty, Cell::Number),
                    Cell::Number(m.average),
                    Cell::Text(match m.trend {
                        super::stats::Trend::Up => "up",
                        super::stats::Trend::Down => "down",
                        super::stats::Trend::Stable => "stable",
                    }),
                ])?;
            }
            let header: Vec<&str> = std::iter::once("start")
                .chain(summary.metrics.iter().map(|m| m.metric))
                .collect();
            book.start_sheet(DATA_POINTS_SHEET, &header)?;
            for (i, start) in buckets(summary).enumerate() {
                let cells: Vec<Cell<'_>> = std::iter::once(Cell::Date(start))
                    .chain(
                        summary
                            .metrics
                            .iter()
                            .map(|m| Cell::Number(m.data_points[i].value.as_f64())),
                    )
                    .collect();
                book.row(&cells)?;
            }
            book.finish()?;
            Ok(book.take_output())
        }
    }
}

/// Bucket starts of a summary (from its first metric: all share them).
fn buckets(summary: &Summary) -> impl Iterator<Item = DateTime<Utc>> + '_ {
    summary
        .metrics
        .first()
        .into_iter()
        .flat_map(|m| m.data_points.iter().map(|p| p.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_name_the_days_covered() {
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        assert_eq!(
            file_name(
                Dataset::Activities,
                Format::Csv,
                at("2026-10-28T00:00:00Z"),
                at("2026-11-27T00:00:00Z")
            ),
            "aiclone-activities-20261028-20261126.csv"
        );
    }
}
