//! `/api/analytics`: summaries with trends and zero-filled series, and
//! exports as CSV, JSON or XLSX. The rules of periods, buckets and trends are
//! in [`crate::analytics`]; this file parses and checks what callers send.

use std::time::Instant;

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hub_core::model::ActivityType;
use hub_core::store::ActivityScan;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::analytics::export::{self, Dataset, Format};
use crate::analytics::period::{PeriodError, TimeRange};
use crate::analytics::{self, Metric, RangeSpec, Summary, SummaryError};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::routes::activities::{parse_time, target_user};
use crate::state::AppState;

/// The range used when neither `time_range` nor `start`/`end` is given.
const DEFAULT_RANGE: TimeRange = TimeRange::Month;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// `day` (24 hourly buckets), `week` (7 days), `month` (30 days, the
    /// default), `quarter` (13 weeks from Monday) or `year` (12 months):
    /// trailing windows ending with the bucket that holds now. Not with `start`/`end`.
    #[param(pattern = r"^(day|week|month|quarter|year)$")]
    pub time_range: Option<String>,
    /// RFC 3339, with `end` (one without the other is 422): a custom range,
    /// widened to whole buckets. `end` must be after `start`, at most 1,830
    /// days (five years) later.
    #[param(format = DateTime)]
    pub start: Option<String>,
    /// RFC 3339, exclusive, with `start`.
    #[param(format = DateTime)]
    pub end: Option<String>,
    /// IANA zone (such as `America/New_York`; another name is 422) whose hours, midnights,
    /// Mondays and months bound the buckets. Default `UTC`.
    pub tz: Option<String>,
    /// Required with a service key: whose numbers. A user token may omit it or name only itself (403 otherwise).
    pub user_id: Option<String>,
    /// `true` adds each metric's `forecast` of the next period (same
    /// length and granularity) with 80 % prediction intervals. Default `false`.
    pub forecast: Option<bool>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv`, `json` or `xlsx` (required).
    #[param(required = true, pattern = r"^(csv|json|xlsx)$")]
    pub format: Option<String>,
    /// `activities` or `metrics` (required).
    #[param(required = true, pattern = r"^(activities|metrics)$")]
    pub data: Option<String>,
    /// As in the summary; default `month`.
    #[param(pattern = r"^(day|week|month|quarter|year)$")]
    pub time_range: Option<String>,
    /// RFC 3339, with `end` (one without the other is 422); `end` after it,
    /// at most 1,830 days later.
    #[param(format = DateTime)]
    pub start: Option<String>,
    /// RFC 3339, exclusive, with `start`.
    #[param(format = DateTime)]
    pub end: Option<String>,
    /// Comma-separated: activity types for `activities`, metric names for
    /// `metrics`. Default: all.
    pub types: Option<String>,
    /// IANA zone of the buckets (and of named ranges); another name is 422. Default `UTC`.
    pub tz: Option<String>,
    /// Required with a service key: whose data. A user token may omit it or name only itself (403 otherwise).
    pub user_id: Option<String>,
}

/// `types` in a JSON body: a list, or the comma-separated form of the query string.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TypesField {
    List(Vec<String>),
    Text(String),
}

/// The body of `POST /api/analytics/export`: the fields of the GET query.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportBody {
    /// `csv`, `json` or `xlsx`.
    #[schema(required = true, value_type = String, pattern = r"^(csv|json|xlsx)$")]
    pub format: Option<String>,
    /// `activities` or `metrics`.
    #[schema(required = true, value_type = String, pattern = r"^(activities|metrics)$")]
    pub data: Option<String>,
    #[schema(pattern = r"^(day|week|month|quarter|year)$")]
    pub time_range: Option<String>,
    #[schema(format = DateTime)]
    pub start: Option<String>,
    #[schema(format = DateTime)]
    pub end: Option<String>,
    /// `["outreach_sent", "meeting_booked"]` or `"outreach_sent,meeting_booked"`.
    #[schema(value_type = Option<Vec<String>>)]
    pub types: Option<TypesField>,
    pub tz: Option<String>,
    pub user_id: Option<String>,
}

impl From<ExportBody> for ExportQuery {
    fn from(body: ExportBody) -> Self {
        ExportQuery {
            format: body.format,
            data: body.data,
            time_range: body.time_range,
            start: body.start,
            end: body.end,
            types: body.types.map(|t| match t {
                TypesField::List(list) => list.join(","),
                TypesField::Text(text) => text,
            }),
            tz: body.tz,
            user_id: body.user_id,
        }
    }
}

/// `time_range`, or `start` with `end`, or the default.
fn range_spec(
    time_range: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
) -> ApiResult<RangeSpec> {
    match (time_range, start, end) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(ApiError::field(
            "time_range",
            "give either time_range or start and end, not both",
        )),
        (Some(name), None, None) => TimeRange::parse(name).map(RangeSpec::Named).ok_or_else(|| {
            ApiError::field(
                "time_range",
                format!("{name:?} is not one of day, week, month, quarter, year"),
            )
        }),
        (None, None, None) => Ok(RangeSpec::Named(DEFAULT_RANGE)),
        (None, Some(_), None) => Err(ApiError::field("end", "is required with start")),
        (None, None, Some(_)) => Err(ApiError::field("start", "is required with end")),
        (None, Some(start), Some(end)) => {
            let start = parse_time("start", Some(start))?;
            let end = parse_time("end", Some(end))?;
            match (start, end) {
                (Some(start), Some(end)) => Ok(RangeSpec::Custom { start, end }),
                _ => Err(ApiError::field("start", "is required with end")),
            }
        }
    }
}

fn parse_tz(tz: Option<&str>) -> ApiResult<Tz> {
    match tz {
        None => Ok(Tz::UTC),
        Some(name) => name.parse::<Tz>().map_err(|_| {
            ApiError::field(
                "tz",
                format!("{name:?} is not an IANA time zone (such as Europe/Paris or UTC)"),
            )
        }),
    }
}

fn period_error(err: PeriodError) -> ApiError {
    match err {
        PeriodError::EndNotAfterStart => ApiError::field("end", err.to_string()),
        PeriodError::TooLong | PeriodError::OutOfRange => ApiError::field("start", err.to_string()),
    }
}

fn summary_error(err: SummaryError) -> ApiError {
    match err {
        SummaryError::Period(e) => period_error(e),
        SummaryError::Store(e) => e.into(),
    }
}

/// Comma-separated names, each parsed by `parse`; empty means all (`None`).
fn parse_list<T>(
    text: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
) -> ApiResult<Option<Vec<T>>> {
    let Some(text) = text else {
        return Ok(None);
    };
    let names: Vec<&str> = text
        .split(',')
        .map(|n| n.trim_matches(' '))
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Ok(None);
    }
    names
        .into_iter()
        .map(|n| parse(n).ok_or_else(|| ApiError::field("types", format!("{n:?} is not {what}"))))
        .collect::<ApiResult<Vec<T>>>()
        .map(Some)
}

/// Analytics of a user over a period: totals, the previous period, change,
/// average per bucket, trend, and a zero-filled series per metric.
///
/// Metrics: `prospects_added`, `prospects_analyzed` (research_completed),
/// `research_tasks_completed` (task_completed with kind research),
/// `outreach_sent`, `meetings_booked`, `content_published`,
/// `automations_triggered`, `tasks_completed`, and `conversion_rate` =
/// meetings_booked / outreach_sent as a fraction (0 when nothing was sent).
/// Granularity: hour for `day`, day for `week`/`month`, week for `quarter`,
/// month for `year`; for `start`/`end` by length (≤ 3 days hour, ≤ 45 days
/// day, ≤ 200 days week, else month). `trend` compares with the previous
/// period of as many buckets: `up` above +10 %, `down` below −10 %, else
/// `stable` (0 → more is `up`); `change_pct` is null when the previous total
/// is 0. Read from per-hour counters, never from raw activities.
///
/// `forecast=true` adds to each metric `forecast: {method, total, low, high,
/// points: [{start, value, low, high}]}`: the next period of as many buckets,
/// starting at `period_end`, each with its expected value and 80 %
/// prediction interval, and the expected total with its interval. The model
/// (Holt's linear trend, or Holt–Winters with a weekly season for daily
/// buckets with three weeks of history) is fitted to the complete buckets of
/// this period and the previous one; fewer than 4 non-empty buckets give
/// `method: insufficient_data` with no points. `conversion_rate` is the ratio
/// of the meetings and outreach forecasts. Values are never negative.
#[utoipa::path(
    get, path = "/api/analytics/summary", tag = "analytics",
    params(SummaryQuery),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The summary", body = Summary),
        (status = 403, description = "A user token naming another user", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown user_id (service keys)", body = crate::error::ErrorBody),
        (status = 422, description = "Unknown time_range or tz, bad start/end, forecast not true/false", body = crate::error::ErrorBody),
    )
)]
#[get("/analytics/summary")]
pub async fn summary(
    state: web::Data<AppState>,
    caller: Caller,
    Query(q): Query<SummaryQuery>,
) -> ApiResult<HttpResponse> {
    let spec = range_spec(
        q.time_range.as_deref(),
        q.start.as_deref(),
        q.end.as_deref(),
    )?;
    let tz = parse_tz(q.tz.as_deref())?;
    let user = target_user(&state, &caller, q.user_id).await?;
    let started = Instant::now();
    let report = analytics::summarize(
        state.store.as_ref(),
        &user,
        spec,
        tz,
        hub_core::time::now(),
        q.forecast.unwrap_or(false),
    )
    .await
    .map_err(summary_error)?;
    tracing::debug!(
        user_id = %user,
        time_range = report.time_range,
        buckets = report.metrics.first().map_or(0, |m| m.data_points.len()),
        elapsed_us = started.elapsed().as_micros() as u64,
        "analytics summary built"
    );
    Ok(HttpResponse::Ok().json(report))
}

/// Download activities or metrics as CSV, JSON or XLSX.
///
/// `data=activities`: the user's activities created in the period, in id
/// order, streamed page by page (memory stays flat for any size). Named
/// ranges use the same trailing windows as the summary; `start`/`end` are
/// exact. `types` filters activity types. Columns: id, created_at, type,
/// title, message, link, metadata (JSON text), user_id.
/// `data=metrics`: the summary's numbers; `types` picks metrics. CSV: one row
/// per bucket, a column per metric; JSON: the summary object; XLSX: sheets
/// "Summary" and "Data points".
/// CSV is RFC 4180 (CRLF, quoted fields) and text cells starting with
/// `=`, `+`, `-`, `@`, tab or CR are prefixed with `'` so spreadsheets do not
/// run them. XLSX has typed numbers and date cells (UTC).
/// Served as an attachment (`Content-Disposition`).
#[utoipa::path(
    get, path = "/api/analytics/export", tag = "analytics",
    params(ExportQuery),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The file (text/csv, application/json or XLSX)"),
        (status = 403, description = "A user token naming another user", body = crate::error::ErrorBody),
        (status = 422, description = "Missing or unknown format, data, types, time_range or tz", body = crate::error::ErrorBody),
    )
)]
#[get("/analytics/export")]
pub async fn export_get(
    state: web::Data<AppState>,
    caller: Caller,
    Query(q): Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    export(&state, &caller, q).await
}

/// The same download as `GET /api/analytics/export`, with the fields in a
/// JSON body (`types` may be a list). Unknown fields are 422.
#[utoipa::path(
    post, path = "/api/analytics/export", tag = "analytics",
    request_body = ExportBody,
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The file (text/csv, application/json or XLSX)"),
        (status = 403, description = "A user token naming another user", body = crate::error::ErrorBody),
        (status = 422, description = "Unknown field, missing or unknown format, data, types, time_range or tz", body = crate::error::ErrorBody),
    )
)]
#[post("/analytics/export")]
pub async fn export_post(
    state: web::Data<AppState>,
    caller: Caller,
    Json(body): Json<ExportBody>,
) -> ApiResult<HttpResponse> {
    export(&state, &caller, body.into()).await
}

async fn export(state: &AppState, caller: &Caller, q: ExportQuery) -> ApiResult<HttpResponse> {
    let format = match q.format.as_deref() {
        None => return Err(ApiError::field("format", "is required (csv, json or xlsx)")),
        Some(f) => Format::parse(f)
            .ok_or_else(|| ApiError::field("format", format!("{f:?} is not csv, json or xlsx")))?,
    };
    let dataset = match q.data.as_deref() {
        None => {
            return Err(ApiError::field(
                "data",
                "is required (activities or metrics)",
            ))
        }
        Some(d) => Dataset::parse(d).ok_or_else(|| {
            ApiError::field("data", format!("{d:?} is not activities or metrics"))
        })?,
    };
    let spec = range_spec(
        q.time_range.as_deref(),
        q.start.as_deref(),
        q.end.as_deref(),
    )?;
    let tz = parse_tz(q.tz.as_deref())?;
    let now = hub_core::time::now();
    match dataset {
        Dataset::Activities => {
            let kinds = parse_list(q.types.as_deref(), ActivityType::parse, "an activity type")?;
            let user = target_user(state, caller, q.user_id).await?;
            let (since, until) = match spec {
                RangeSpec::Custom { start, end } => {
                    if end <= start {
                        return Err(period_error(PeriodError::EndNotAfterStart));
                    }
                    (start, end)
                }
                RangeSpec::Named(_) => {
                    let period = spec.period(tz, now).map_err(period_error)?;
                    (period.start(), period.end())
                }
            };
            let scan = ActivityScan {
                kinds: kinds.unwrap_or_default(),
                since: Some(since),
                until: Some(until),
                ..ActivityScan::default()
            };
            let stream = export::activity_stream(state.store.clone(), user, scan, format, now)
                .map_err(ApiError::internal)?;
            Ok(download(dataset, format, since, until).streaming(stream))
        }
        Dataset::Metrics => {
            let metrics = parse_list(q.types.as_deref(), Metric::parse, "a metric")?;
            let user = target_user(state, caller, q.user_id).await?;
            let mut report =
                analytics::summarize(state.store.as_ref(), &user, spec, tz, now, false)
                    .await
                    .map_err(summary_error)?;
            if let Some(wanted) = metrics {
                report
                    .metrics
                    .retain(|m| wanted.iter().any(|w| w.as_str() == m.metric));
            }
            let file = export::metrics_file(&report, format, now).map_err(ApiError::internal)?;
            Ok(download(dataset, format, report.period_start, report.period_end).body(file))
        }
    }
}

/// A 200 with the headers of a file download.
fn download(
    dataset: Dataset,
    format: Format,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> actix_web::HttpResponseBuilder {
    let name = export::file_name(dataset, format, start, end);
    let mut res = HttpResponse::Ok();
    res.content_type(format.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    res
}
