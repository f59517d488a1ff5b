//! Analytics: summaries built from the per-hour counters every
//! store keeps, and exports.
//!
//! A summary reads the counters of the period and of the previous period in
//! one store call (at most one row per hour: 17,520 rows for a year and the
//! year before), folds them into buckets of the caller's zone and derives the
//! totals, changes and trends. It never reads activities.
//!
//! With forecasts asked for, the same counters (both periods) are the history
//! each metric's forecast of the next period is fitted to (see [`forecast`]):
//! no further store call.

pub mod export;
pub mod forecast;
pub mod period;
pub mod stats;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hub_core::analytics::{CountedMetric, MetricCounts};
use hub_core::{Store, StoreError, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use self::forecast::{Estimate, Method, Projection};
use self::period::{Granularity, Period, PeriodError, TimeRange};
use self::stats::Trend;

/// Name of the derived metric, `meetings_booked / outreach_sent`.
pub const CONVERSION_RATE: &str = "conversion_rate";

/// A metric of a summary: a counter, or the derived conversion rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Counted(CountedMetric),
    ConversionRate,
}

impl Metric {
    /// Every metric, in the order summaries list them.
    pub fn all() -> impl Iterator<Item = Metric> {
        CountedMetric::ALL
            .into_iter()
            .map(Metric::Counted)
            .chain(std::iter::once(Metric::ConversionRate))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Counted(m) => m.as_str(),
            Metric::ConversionRate => CONVERSION_RATE,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::all().find(|m| m.as_str() == text)
    }

    /// The metric's value in one bucket (or a whole period's totals).
    fn value(self, counts: &MetricCounts) -> Number {
        match self {
            Metric::Counted(m) => Number::Count(counts.get(m)),
            Metric::ConversionRate => Number::Rate(stats::ratio(
                counts.get(CountedMetric::MeetingsBooked),
                counts.get(CountedMetric::OutreachSent),
            )),
        }
    }
}

/// A count, or a fraction for rates: counts stay integers on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Number {
    Count(u64),
    Rate(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Count(n) => n as f64,
            Number::Rate(x) => x,
        }
    }
}

/// Which instants a summary covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeSpec {
    Named(TimeRange),
    Custom {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
}

impl RangeSpec {
    /// The period this spec means at `now`, bucketed in `tz`.
    pub fn period(self, tz: Tz, now: DateTime<Utc>) -> Result<Period, PeriodError> {
        match self {
            RangeSpec::Named(range) => Period::trailing(range, tz, now),
            RangeSpec::Custom { start, end } => Period::custom(start, end, tz),
        }
    }

    /// `time_range` as the response shows it.
    pub fn label(self) -> &'static str {
        match self {
            RangeSpec::Named(range) => range.as_str(),
            RangeSpec::Custom { .. } => "custom",
        }
    }
}

/// One bucket of a series.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DataPoint {
    /// Start of the bucket (RFC 3339 UTC); it ends where the next one starts.
    #[serde(with = "hub_core::time")]
    pub start: DateTime<Utc>,
    /// A count, or a fraction for `conversion_rate`.
    #[schema(value_type = f64)]
    pub value: Number,
}

/// One bucket of a forecast.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ForecastPoint {
    /// Start of the bucket (RFC 3339 UTC); it ends where the next one starts.
    #[serde(with = "hub_core::time")]
    pub start: DateTime<Utc>,
    /// The expected value (a fraction for `conversion_rate`), never negative.
    pub value: f64,
    /// Lower end of the 80 % prediction interval (at least 0).
    pub low: f64,
    /// Upper end of the 80 % prediction interval.
    pub high: f64,
}

/// The forecast of a metric for the next period: as many buckets as the
/// period, of the same granularity, starting at `period_end`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MetricForecast {
    /// `holt_linear`, `holt_winters_additive` (weekly season, daily buckets),
    /// `ratio_of_forecasts` (`conversion_rate`), or `insufficient_data`
    /// (fewer than 4 non-empty buckets of history: no points, null totals).
    pub method: Method,
    /// The expected total of the next period (for `conversion_rate`: its rate).
    pub total: Option<f64>,
    /// Lower end of the total's 80 % prediction interval.
    pub low: Option<f64>,
    /// Upper end of the total's 80 % prediction interval.
    pub high: Option<f64>,
    /// One per bucket of the next period, oldest first; empty for `insufficient_data`.
    pub points: Vec<ForecastPoint>,
}

/// One metric of a summary.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MetricSummary {
    /// `prospects_added`, …, `conversion_rate`.
    pub metric: &'static str,
    /// Over the whole period (for `conversion_rate`: the period's rate).
    #[schema(value_type = f64)]
    pub total: Number,
    /// The same over the previous period of as many buckets.
    #[schema(value_type = f64)]
    pub previous_total: Number,
    /// `(total − previous_total) / previous_total × 100`; null when the
    /// previous total is 0.
    pub change_pct: Option<f64>,
    /// Mean per bucket over every bucket of the period.
    pub average: f64,
    pub trend: Trend,
    /// One per bucket, oldest first, zero-filled.
    pub data_points: Vec<DataPoint>,
    /// The next period, only with `forecast=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast: Option<MetricForecast>,
}

/// `GET /api/analytics/summary`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Summary {
    #[schema(value_type = String)]
    pub user_id: UserId,
    /// `day`, `week`, `month`, `quarter`, `year`, or `custom` for `start`/`end`.
    pub time_range: &'static str,
    #[serde(with = "hub_core::time")]
    pub period_start: DateTime<Utc>,
    /// Exclusive; the end of the newest bucket (in the future for named ranges).
    #[serde(with = "hub_core::time")]
    pub period_end: DateTime<Utc>,
    pub granularity: Granularity,
    pub metrics: Vec<MetricSummary>,
}

/// Why a summary could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error(transparent)]
    Period(#[from] PeriodError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads the counters and builds the summary of `user` over `spec` in `tz`,
/// with each metric's forecast of the next period when `forecast` is set.
pub async fn summarize(
    store: &dyn Store,
    user: &UserId,
    spec: RangeSpec,
    tz: Tz,
    now: DateTime<Utc>,
    forecast: bool,
) -> Result<Summary, SummaryError> {
    let period = spec.period(tz, now)?;
    let previous = period.previous(tz)?;
    let hours = store
        .hourly_counts(user, previous.start(), period.end())
        .await?;
    let current = period.fold(&hours);
    let previous_buckets = previous.fold(&hours);
    let mut previous_totals = MetricCounts::default();
    for bucket in &previous_buckets {
        previous_totals.add(bucket);
    }
    let mut metrics = build_metrics(&period, &current, &previous_totals);
    if forecast {
        let history: Vec<MetricCounts> = previous_buckets.into_iter().chain(current).collect();
        let boundaries: Vec<DateTime<Utc>> = previous
            .boundaries
            .iter()
            .chain(&period.boundaries[1..])
            .copied()
            .collect();
        // Buckets not over yet (the one holding now, and any after it) are
        // not history: the forecast starts that many steps further out.
        let observed = boundaries[1..].iter().filter(|end| **end <= now).count();
        let next = next_starts(&period, tz)?;
        for (summary, forecast) in metrics.iter_mut().zip(forecasts(
            &history[..observed],
            history.len() - observed,
            &next,
            period.granularity,
        )) {
            summary.forecast = Some(forecast);
        }
    }
    Ok(Summary {
        user_id: user.clone(),
        time_range: spec.label(),
        period_start: period.start(),
        period_end: period.end(),
        granularity: period.granularity,
        metrics,
    })
}

/// The bucket starts of the period right after `period`: as many buckets,
/// by the same calendar rules.
pub fn next_starts(period: &Period, tz: Tz) -> Result<Vec<DateTime<Utc>>, PeriodError> {
    (0..period.buckets() as i64)
        .map(|i| period::step(period.granularity, tz, period.end(), i))
        .collect::<Option<Vec<_>>>()
        .ok_or(PeriodError::OutOfRange)
}

/// Every metric's forecast (in [`Metric::all`] order) of the buckets
/// starting at `starts`, from the observed bucket counts `history`, the
/// newest of which ends `skip` buckets before the first of `starts`.
pub fn forecasts(
    history: &[MetricCounts],
    skip: usize,
    starts: &[DateTime<Utc>],
    granularity: Granularity,
) -> Vec<MetricForecast> {
    let season = (granularity == Granularity::Day).then_some(forecast::WEEK);
    let count = |m: CountedMetric| {
        let series: Vec<f64> = history.iter().map(|c| c.get(m) as f64).collect();
        forecast::project(&series, skip, starts.len(), season)
    };
    let meetings = count(CountedMetric::MeetingsBooked);
    let outreach = count(CountedMetric::OutreachSent);
    Metric::all()
        .map(|metric| match metric {
            Metric::Counted(m) => wire(&count(m), starts, f64::INFINITY),
            Metric::ConversionRate => wire(&forecast::ratio(&meetings, &outreach), starts, 1.0),
        })
        .collect()
}

/// A projection as the response shows it: clamped to `[0, ceiling]`, rounded.
fn wire(p: &Projection, starts: &[DateTime<Utc>], ceiling: f64) -> MetricForecast {
    let bounds = |e: &Estimate| {
        let (value, low, high) = e.interval(0.0, ceiling);
        (stats::round(value), stats::round(low), stats::round(high))
    };
    let total = p.total.as_ref().map(bounds);
    MetricForecast {
        method: p.method,
        total: total.map(|t| t.0),
        low: total.map(|t| t.1),
        high: total.map(|t| t.2),
        points: p
            .points
            .iter()
            .zip(starts)
            .map(|(e, start)| {
                let (value, low, high) = bounds(e);
                ForecastPoint {
                    start: *start,
                    value,
                    low,
                    high,
                }
            })
            .collect(),
    }
}

/// The per-metric figures from the bucket counts of the period and the
/// totals of the previous one.
pub fn build_metrics(
    period: &Period,
    buckets: &[MetricCounts],
    previous_totals: &MetricCounts,
) -> Vec<MetricSummary> {
    let mut totals = MetricCounts::default();
    for bucket in buckets {
        totals.add(bucket);
    }
    Metric::all()
        .map(|metric| {
            let data_points: Vec<DataPoint> = buckets
                .iter()
                .zip(&period.boundaries)
                .map(|(counts, start)| DataPoint {
                    start: *start,
                    value: metric.value(counts),
                })
                .collect();
            let total = metric.value(&totals);
            let previous_total = metric.value(previous_totals);
            let sum: f64 = data_points.iter().map(|p| p.value.as_f64()).sum();
            MetricSummary {
                metric: metric.as_str(),
                total,
                previous_total,
                change_pct: stats::change_pct(total.as_f64(), previous_total.as_f64()),
                average: stats::average(sum, buckets.len()),
                trend: stats::trend(total.as_f64(), previous_total.as_f64()),
                data_points,
                forecast: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_derived_from_bucket_counts() {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let period = Period::custom(start, start + chrono::Duration::days(4), Tz::UTC).unwrap();
        let mut buckets = vec![MetricCounts::default(); 4];
        buckets[0].0[CountedMetric::OutreachSent.index()] = 4;
        buckets[0].0[CountedMetric::MeetingsBooked.index()] = 1;
        buckets[2].0[CountedMetric::OutreachSent.index()] = 2;
        buckets[2].0[CountedMetric::MeetingsBooked.index()] = 2;
        let mut previous = MetricCounts::default();
        previous.0[CountedMetric::OutreachSent.index()] = 5;
        previous.0[CountedMetric::MeetingsBooked.index()] = 1;

        let metrics = build_metrics(&period, &buckets, &previous);
        assert_eq!(metrics.len(), 9);
        let by_name = |name: &str| metrics.iter().find(|m| m.metric == name).unwrap();
        let sent = by_name("outreach_sent");
        assert_eq!(sent.total, Number::Count(6));
        assert_eq!(sent.previous_total, Number::Count(5));
        assert_eq!(sent.change_pct, Some(20.0));
        assert_eq!(sent.trend, Trend::Up);
        assert_eq!(sent.average, 1.5);
        assert_eq!(sent.data_points.len(), 4);
        assert_eq!(sent.data_points[1].value, Number::Count(0));

        let rate = by_name("conversion_rate");
        assert_eq!(rate.total, Number::Rate(0.5));
        assert_eq!(rate.previous_total, Number::Rate(0.2));
        assert_eq!(rate.trend, Trend::Up);
        let values: Vec<f64> = rate.data_points.iter().map(|p| p.value.as_f64()).collect();
        assert_eq!(values, [0.25, 0.0, 1.0, 0.0]);
        assert_eq!(rate.average, 0.3125);

        let none = by_name("content_published");
        assert_eq!(none.change_pct, None);
        assert_eq!(none.trend, Trend::Stable);
    }

    #[test]
    fn the_next_period_follows_the_calendar_of_the_zone() {
        let berlin = chrono_tz::Europe::Berlin;
        let now = DateTime::parse_from_rfc3339("2026-03-15T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let year = Period::trailing(TimeRange::Year, berlin, now).unwrap();
        let next = next_starts(&year, berlin).unwrap();
        assert_eq!(next.len(), 12);
        assert_eq!(next[0], year.end());
        let local: Vec<String> = next
            .iter()
            .map(|t| {
                t.with_timezone(&berlin)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .collect();
        assert_eq!(local[0], "2026-04-01 00:00");
        assert_eq!(local[11], "2027-03-01 00:00");
        // Summer time: April starts at 22:00 UTC, November at 23:00 UTC.
        assert_eq!(next[0].format("%H").to_string(), "22");
        assert_eq!(next[7].format("%H").to_string(), "23");
        let week = Period::trailing(TimeRange::Quarter, berlin, now).unwrap();
        let next = next_starts(&week, berlin).unwrap();
        assert!(next.windows(2).all(|w| w[1]
            .with_timezone(&berlin)
            .format("%a %H:%M")
            .to_string()
            == "Mon 00:00"));
    }

    #[test]
    fn forecasts_cover_every_metric_and_clamp_rates() {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let period = Period::custom(start, start + chrono::Duration::days(30), Tz::UTC).unwrap();
        let next = next_starts(&period, Tz::UTC).unwrap();
        let mut history = vec![MetricCounts::default(); 59];
        for (t, bucket) in history.iter_mut().enumerate() {
            bucket.0[CountedMetric::OutreachSent.index()] = 20 + (t % 7) as u64;
            bucket.0[CountedMetric::MeetingsBooked.index()] = 2 + (t % 3) as u64;
        }
        let all = forecasts(&history, 1, &next, period.granularity);
        assert_eq!(all.len(), 9);
        for (metric, f) in Metric::all().zip(&all) {
            match metric {
                Metric::Counted(CountedMetric::OutreachSent)
                | Metric::Counted(CountedMetric::MeetingsBooked) => {
                    assert_ne!(f.method, Method::InsufficientData, "{metric:?}");
                    assert_eq!(f.points.len(), 30);
                }
                Metric::ConversionRate => {
                    assert_eq!(f.method, Method::RatioOfForecasts);
                    assert!(f.points.iter().all(|p| p.high <= 1.0 && p.low >= 0.0));
                    let total = f.total.unwrap();
                    assert!((0.05..0.2).contains(&total), "{total}");
                }
                _ => {
                    assert_eq!(f.method, Method::InsufficientData, "{metric:?}");
                    assert!(f.points.is_empty() && f.total.is_none());
                }
            }
            for p in &f.points {
                assert!(
                    0.0 <= p.low && p.low <= p.value && p.value <= p.high,
                    "{p:?}"
                );
            }
        }
        assert_eq!(all[0].points.first().map(|p| p.start), None);
        let sent = &all[3];
        assert_eq!(sent.points[0].start, period.end());
        let total = sent.total.unwrap();
        assert!((600.0..780.0).contains(&total), "{total}");
        assert!(sent.low.unwrap() <= total && total <= sent.high.unwrap());
    }
}
