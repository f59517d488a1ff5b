//! Analytics (SPEC §10): summaries built from the per-hour counters every
//! store keeps, and exports.
//!
//! A summary reads the counters of the period and of the previous period in
//! one store call (at most one row per hour: 17,520 rows for a year and the
//! year before), folds them into buckets of the caller's zone and derives the
//! totals, changes and trends. It never reads activities.

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

/// Reads the counters and builds the summary of `user` over `spec` in `tz`.
pub async fn summarize(
    store: &dyn Store,
    user: &UserId,
    spec: RangeSpec,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Summary, SummaryError> {
    let period = spec.period(tz, now)?;
    let previous = period.previous(tz)?;
    let hours = store
        .hourly_counts(user, previous.start(), period.end())
        .await?;
    let current = period.fold(&hours);
    let mut previous_totals = MetricCounts::default();
    for bucket in previous.fold(&hours) {
        previous_totals.add(&bucket);
    }
    Ok(Summary {
        user_id: user.clone(),
        time_range: spec.label(),
        period_start: period.start(),
        period_end: period.end(),
        granularity: period.granularity,
        metrics: build_metrics(&period, &current, &previous_totals),
    })
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
}
