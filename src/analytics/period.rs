//! Periods and buckets of analytics summaries: which instants a `time_range`
//! (or a `start`/`end` pair) covers, cut into buckets whose boundaries fall on
//! the caller's time zone's hours, midnights, Mondays and first days of the
//! month, and how hourly counters fold into those buckets.
//!
//! Pure calendar arithmetic, no I/O: every rule here has a unit test.
//!
//! The rules (also in the README):
//!
//! - Named ranges are *trailing* windows that end with the bucket holding
//!   "now", so the newest bucket is partial and `period_end` lies in the
//!   future: `day` = the last 24 hours (24 hourly buckets), `week` = today and
//!   the 6 days before (7 daily buckets), `month` = today and the 29 days
//!   before (30 daily buckets), `quarter` = this week and the 12 before
//!   (13 weekly buckets, weeks start on Monday), `year` = this month and the
//!   11 before (12 monthly buckets).
//! - A custom `start`/`end` (end exclusive) is widened to whole buckets:
//!   `start` down to the start of its bucket, `end` up to the end of its
//!   bucket. The granularity follows the length, mirroring the named ranges:
//!   up to 3 days hourly, up to 45 days daily, up to 200 days weekly, longer
//!   monthly.
//! - The previous period is the same number of buckets right before the
//!   period. With daily or coarser buckets in a zone with DST, or with months,
//!   its length in hours may differ slightly; it is equal in buckets.
//! - Days, weeks and months start at local midnight in the zone. A day with a
//!   DST change has 23 or 25 hours. When midnight itself does not exist (a
//!   zone that springs forward at 00:00), the day starts at the first local
//!   time that does.
//! - Counters are kept per UTC hour. An hour's counts go to the bucket that
//!   contains the hour's start. In zones whose offset is a whole number of
//!   hours (nearly all), this is exact; in the few with a half- or
//!   quarter-hour offset (India, Nepal, parts of Australia) a bucket boundary
//!   falls inside a UTC hour, and that hour counts wholly in the bucket where
//!   it starts (an error of at most 45 minutes at the boundary).

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use hub_core::analytics::{HourlyCounts, MetricCounts};
use serde::Serialize;
use utoipa::ToSchema;

/// Length of a custom range up to which buckets are hours.
const HOURLY_UP_TO: Duration = Duration::days(3);
/// ... up to which they are days.
const DAILY_UP_TO: Duration = Duration::days(45);
/// ... up to which they are weeks; longer ranges use months.
const WEEKLY_UP_TO: Duration = Duration::days(200);
/// Longest custom range: bounds the counters one summary reads.
pub const MAX_CUSTOM_RANGE: Duration = Duration::days(5 * 366);
/// Step used to find the first existing local time after a DST gap.
const GAP_PROBE: Duration = Duration::minutes(15);
/// Longest DST gap probed for (real gaps are 30 minutes to 2 hours).
const MAX_GAP_PROBES: i32 = 16;

/// The named ranges of `time_range`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeRange {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl TimeRange {
    pub const ALL: [TimeRange; 5] = [
        TimeRange::Day,
        TimeRange::Week,
        TimeRange::Month,
        TimeRange::Quarter,
        TimeRange::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TimeRange::Day => "day",
            TimeRange::Week => "week",
            TimeRange::Month => "month",
            TimeRange::Quarter => "quarter",
            TimeRange::Year => "year",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The bucket size and how many buckets the trailing window holds.
    fn shape(self) -> (Granularity, usize) {
        match self {
            TimeRange::Day => (Granularity::Hour, 24),
            TimeRange::Week => (Granularity::Day, 7),
            TimeRange::Month => (Granularity::Day, 30),
            TimeRange::Quarter => (Granularity::Week, 13),
            TimeRange::Year => (Granularity::Month, 12),
        }
    }
}

/// The size of one bucket (one data point).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Hour,
    Day,
    Week,
    Month,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    /// The granularity of a custom range of this length.
    pub fn for_length(length: Duration) -> Self {
        if length <= HOURLY_UP_TO {
            Granularity::Hour
        } else if length <= DAILY_UP_TO {
            Granularity::Day
        } else if length <= WEEKLY_UP_TO {
            Granularity::Week
        } else {
            Granularity::Month
        }
    }
}

/// Why a period cannot be built.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("end must be after start")]
    EndNotAfterStart,
    #[error("the range may span at most {} days", MAX_CUSTOM_RANGE.num_days())]
    TooLong,
    #[error("the range is outside the supported calendar")]
    OutOfRange,
}

/// A run of consecutive buckets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub granularity: Granularity,
    /// Bucket boundaries, oldest first: bucket `i` is
    /// `[boundaries[i], boundaries[i + 1])`. Always at least two entries.
    pub boundaries: Vec<DateTime<Utc>>,
}

impl Period {
    /// The trailing window of a named range that ends with the bucket holding `now`.
    pub fn trailing(range: TimeRange, tz: Tz, now: DateTime<Utc>) -> Result<Self, PeriodError> {
        let (granularity, buckets) = range.shape();
        let current = floor(granularity, tz, now).ok_or(PeriodError::OutOfRange)?;
        let start =
            step(granularity, tz, current, 1 - buckets as i64).ok_or(PeriodError::OutOfRange)?;
        Self::from_start(granularity, tz, start, buckets)
    }

    /// `[start, end)` widened to whole buckets of the granularity its length calls for.
    pub fn custom(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> Result<Self, PeriodError> {
        if end <= start {
            return Err(PeriodError::EndNotAfterStart);
        }
        let length = end - start;
        if length > MAX_CUSTOM_RANGE {
            return Err(PeriodError::TooLong);
        }
        let granularity = Granularity::for_length(length);
        let first = floor(granularity, tz, start).ok_or(PeriodError::OutOfRange)?;
        let mut boundaries = vec![first];
        let mut last = first;
        while last < end {
            last = step(granularity, tz, first, boundaries.len() as i64)
                .ok_or(PeriodError::OutOfRange)?;
            boundaries.push(last);
        }
        Ok(Self {
            granularity,
            boundaries,
        })
    }

    /// `buckets` buckets starting at `start` (a bucket boundary).
    fn from_start(
        granularity: Granularity,
        tz: Tz,
        start: DateTime<Utc>,
        buckets: usize,
    ) -> Result<Self, PeriodError> {
        let boundaries = (0..=buckets as i64)
            .map(|i| step(granularity, tz, start, i))
            .collect::<Option<Vec<_>>>()
            .ok_or(PeriodError::OutOfRange)?;
        Ok(Self {
            granularity,
            boundaries,
        })
    }

    /// The same number of buckets right before this period.
    pub fn previous(&self, tz: Tz) -> Result<Self, PeriodError> {
        let buckets = self.buckets();
        let start = step(self.granularity, tz, self.start(), -(buckets as i64))
            .ok_or(PeriodError::OutOfRange)?;
        Self::from_start(self.granularity, tz, start, buckets)
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.boundaries[0]
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.boundaries[self.boundaries.len() - 1]
    }

    pub fn buckets(&self) -> usize {
        self.boundaries.len() - 1
    }

    /// The bucket holding `t`, if the period does.
    pub fn bucket_of(&self, t: DateTime<Utc>) -> Option<usize> {
        let after = self.boundaries.partition_point(|b| *b <= t);
        (after >= 1 && after <= self.buckets()).then(|| after - 1)
    }

    /// Sums hourly counters into this period's buckets (every bucket present,
    /// zero when nothing was counted). Each hour goes to the bucket that holds
    /// its start; hours outside the period are ignored.
    pub fn fold(&self, hours: &[HourlyCounts]) -> Vec<MetricCounts> {
        let mut buckets = vec![MetricCounts::default(); self.buckets()];
        for hour in hours {
            if let Some(i) = self.bucket_of(hour.hour_start) {
                buckets[i].add(&hour.counts);
            }
        }
        buckets
    }
}

/// The start of the bucket holding `t`.
pub fn floor(granularity: Granularity, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let local = t.with_timezone(&tz);
    match granularity {
        // Minus the local minutes and seconds, with the offset in force at `t`:
        // during a repeated (fall-back) hour this stays in the right one.
        Granularity::Hour => {
            let into_hour = Duration::minutes(i64::from(local.minute()))
                + Duration::seconds(i64::from(local.second()))
                + Duration::nanoseconds(i64::from(local.nanosecond()));
            Some(t - into_hour)
        }
        Granularity::Day => start_of_day(tz, local.date_naive()),
        Granularity::Week => {
            let date = local.date_naive();
            let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
            start_of_day(tz, monday)
        }
        Granularity::Month => start_of_day(tz, local.date_naive().with_day(1)?),
    }
}

/// The boundary `n` buckets after (before, if negative) the boundary `from`.
pub fn step(
    granularity: Granularity,
    tz: Tz,
    from: DateTime<Utc>,
    n: i64,
) -> Option<DateTime<Utc>> {
    let date = from.with_timezone(&tz).date_naive();
    match granularity {
        Granularity::Hour => from.checked_add_signed(Duration::hours(n)),
        Granularity::Day => start_of_day(tz, date.checked_add_signed(Duration::days(n))?),
        Granularity::Week => start_of_day(tz, date.checked_add_signed(Duration::weeks(n))?),
        Granularity::Month => {
            let months = i64::from(date.year()) * 12 + i64::from(date.month0()) + n;
            let year = i32::try_from(months.div_euclid(12)).ok()?;
            let month0 = u32::try_from(months.rem_euclid(12)).ok()?;
            start_of_day(tz, NaiveDate::from_ymd_opt(year, month0 + 1, 1)?)
        }
    }
}

/// The first instant of a local date: local midnight, or the end of a DST gap
/// that swallowed midnight; the earlier one if midnight happened twice.
pub fn start_of_day(tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    (0..=MAX_GAP_PROBES).find_map(|i| resolve(tz, midnight + GAP_PROBE * i))
}

fn resolve(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_core::analytics::CountedMetric;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(p: &Period) -> Vec<String> {
        p.boundaries
            .iter()
            .map(|b| b.format("%Y-%m-%dT%H:%M").to_string())
            .collect()
    }

    #[test]
    fn trailing_windows_have_the_spec_granularity_and_size() {
        let now = at("2026-11-26T10:17:00Z");
        let expect = [
            (
                TimeRange::Day,
                Granularity::Hour,
                24,
                "2026-11-25T11:00:00Z",
            ),
            (TimeRange::Week, Granularity::Day, 7, "2026-11-20T00:00:00Z"),
            (
                TimeRange::Month,
                Granularity::Day,
                30,
                "2026-10-28T00:00:00Z",
            ),
            // 2026-11-26 is a Thursday; its week starts Monday the 23rd.
            (
                TimeRange::Quarter,
                Granularity::Week,
                13,
                "2026-08-31T00:00:00Z",
            ),
            (
                TimeRange::Year,
                Granularity::Month,
                12,
                "2025-12-01T00:00:00Z",
            ),
        ];
        for (range, granularity, buckets, start) in expect {
            let p = Period::trailing(range, Tz::UTC, now).unwrap();
            assert_eq!(p.granularity, granularity, "{range:?}");
            assert_eq!(p.buckets(), buckets, "{range:?}");
            assert_eq!(p.start(), at(start), "{range:?}");
            assert!(
                p.bucket_of(now) == Some(buckets - 1),
                "{range:?}: now is in the last bucket"
            );
        }
        let year = Period::trailing(TimeRange::Year, Tz::UTC, now).unwrap();
        assert_eq!(year.end(), at("2026-12-01T00:00:00Z"));
    }

    #[test]
    fn day_boundaries_follow_the_zone() {
        // 10:17 UTC is 19:17 in Tokyo (UTC+9): the Tokyo day began at 15:00 UTC.
        let now = at("2026-11-26T10:17:00Z");
        let week = Period::trailing(TimeRange::Week, chrono_tz::Asia::Tokyo, now).unwrap();
        assert_eq!(week.end(), at("2026-11-26T15:00:00Z"));
        assert_eq!(week.start(), at("2026-11-19T15:00:00Z"));
        // 03:00 UTC is still the 25th in New York (UTC-5 in November).
        let ny = chrono_tz::America::New_York;
        let early = at("2026-11-26T03:00:00Z");
        assert_eq!(
            floor(Granularity::Day, ny, early),
            Some(at("2026-11-25T05:00:00Z"))
        );
    }

    #[test]
    fn days_across_dst_have_23_and_25_hours() {
        let ny = chrono_tz::America::New_York;
        // US DST 2026: starts Sunday 8 March, ends Sunday 1 November.
        let spring =
            Period::custom(at("2026-03-07T05:00:00Z"), at("2026-03-10T04:00:00Z"), ny).unwrap();
        assert_eq!(spring.granularity, Granularity::Hour);
        let days =
            Period::custom(at("2026-03-01T05:00:00Z"), at("2026-03-15T04:00:00Z"), ny).unwrap();
        assert_eq!(days.granularity, Granularity::Day);
        let lengths: Vec<i64> = days
            .boundaries
            .windows(2)
            .map(|w| (w[1] - w[0]).num_hours())
            .collect();
        assert_eq!(lengths.len(), 14);
        assert_eq!(lengths[7], 23, "8 March has 23 hours: {lengths:?}");
        assert!(lengths.iter().enumerate().all(|(i, h)| i == 7 || *h == 24));
        // The boundaries are local midnights: 05:00 UTC before, 04:00 UTC after.
        assert_eq!(days.boundaries[7], at("2026-03-08T05:00:00Z"));
        assert_eq!(days.boundaries[8], at("2026-03-09T04:00:00Z"));

        let fall =
            Period::custom(at("2026-10-31T04:00:00Z"), at("2026-11-03T04:00:00Z"), ny).unwrap();
        assert_eq!(fall.granularity, Granularity::Hour);
        assert_eq!(
            fall.buckets(),
            72,
            "hourly buckets are real hours, 25 local ones on 1 Nov"
        );
        let fall_days = Period::trailing(TimeRange::Week, ny, at("2026-11-03T12:00:00Z")).unwrap();
        let lengths: Vec<i64> = fall_days
            .boundaries
            .windows(2)
            .map(|w| (w[1] - w[0]).num_hours())
            .collect();
        assert_eq!(
            lengths,
            [24, 24, 24, 24, 25, 24, 24],
            "1 November has 25 hours"
        );
    }

    #[test]
    fn hourly_buckets_stay_whole_through_the_repeated_hour() {
        let ny = chrono_tz::America::New_York;
        // 05:30 and 06:30 UTC on 1 Nov 2026 are both 01:30 local (EDT, then EST).
        let first = floor(Granularity::Hour, ny, at("2026-11-01T05:30:00Z")).unwrap();
        let second = floor(Granularity::Hour, ny, at("2026-11-01T06:30:00Z")).unwrap();
        assert_eq!(first, at("2026-11-01T05:00:00Z"));
        assert_eq!(second, at("2026-11-01T06:00:00Z"));
        let day = Period::trailing(TimeRange::Day, ny, at("2026-11-01T12:10:00Z")).unwrap();
        assert!(day
            .boundaries
            .windows(2)
            .all(|w| w[1] - w[0] == Duration::hours(1)));
    }

    #[test]
    fn midnight_swallowed_by_dst_starts_the_day_at_one() {
        // Santiago springs forward at 00:00 (to 01:00) on 6 September 2026.
        let santiago = chrono_tz::America::Santiago;
        let date = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let start = start_of_day(santiago, date).unwrap();
        assert_eq!(
            start.with_timezone(&santiago).format("%H:%M").to_string(),
            "01:00"
        );
    }

    #[test]
    fn custom_ranges_widen_to_whole_buckets_and_pick_granularity() {
        let p = Period::custom(
            at("2026-01-01T10:30:00Z"),
            at("2026-01-01T12:10:00Z"),
            Tz::UTC,
        )
        .unwrap();
        assert_eq!(
            utc(&p),
            [
                "2026-01-01T10:00",
                "2026-01-01T11:00",
                "2026-01-01T12:00",
                "2026-01-01T13:00"
            ]
        );
        let length = |days| {
            Period::custom(
                at("2026-01-01T00:00:00Z"),
                at("2026-01-01T00:00:00Z") + Duration::days(days),
                Tz::UTC,
            )
            .unwrap()
            .granularity
        };
        assert_eq!(length(3), Granularity::Hour);
        assert_eq!(length(4), Granularity::Day);
        assert_eq!(length(45), Granularity::Day);
        assert_eq!(length(46), Granularity::Week);
        assert_eq!(length(200), Granularity::Week);
        assert_eq!(length(201), Granularity::Month);
        let month = Period::custom(
            at("2026-01-01T00:00:00Z"),
            at("2026-02-01T00:00:00Z"),
            Tz::UTC,
        )
        .unwrap();
        assert_eq!(month.buckets(), 31, "an exact end adds no bucket");
        assert_eq!(
            Period::custom(
                at("2026-01-02T00:00:00Z"),
                at("2026-01-01T00:00:00Z"),
                Tz::UTC
            ),
            Err(PeriodError::EndNotAfterStart)
        );
        assert_eq!(
            Period::custom(
                at("2000-01-01T00:00:00Z"),
                at("2026-01-01T00:00:00Z"),
                Tz::UTC
            ),
            Err(PeriodError::TooLong)
        );
    }

    #[test]
    fn previous_period_has_as_many_buckets_right_before() {
        let now = at("2026-03-15T10:00:00Z");
        for range in TimeRange::ALL {
            let p = Period::trailing(range, chrono_tz::Europe::Berlin, now).unwrap();
            let prev = p.previous(chrono_tz::Europe::Berlin).unwrap();
            assert_eq!(prev.buckets(), p.buckets(), "{range:?}");
            assert_eq!(prev.end(), p.start(), "{range:?}");
        }
        let year = Period::trailing(TimeRange::Year, Tz::UTC, now).unwrap();
        assert_eq!(
            year.previous(Tz::UTC).unwrap().start(),
            at("2024-04-01T00:00:00Z")
        );
    }

    #[test]
    fn fold_zero_fills_and_puts_each_hour_in_its_bucket() {
        let p = Period::custom(
            at("2026-01-01T00:00:00Z"),
            at("2026-01-04T12:00:00Z"),
            Tz::UTC,
        )
        .unwrap();
        assert_eq!(p.granularity, Granularity::Day);
        let hour = |t: &str, n: u64| {
            let mut counts = MetricCounts::default();
            counts.0[CountedMetric::OutreachSent.index()] = n;
            HourlyCounts {
                hour_start: at(t),
                counts,
            }
        };
        let folded = p.fold(&[
            hour("2025-12-31T23:00:00Z", 100),
            hour("2026-01-01T00:00:00Z", 1),
            hour("2026-01-01T23:00:00Z", 2),
            hour("2026-01-03T05:00:00Z", 4),
            hour("2026-01-05T00:00:00Z", 100),
        ]);
        let sent: Vec<u64> = folded
            .iter()
            .map(|c| c.get(CountedMetric::OutreachSent))
            .collect();
        assert_eq!(sent, [3, 0, 4, 0]);
    }

    #[test]
    fn half_hour_zones_count_an_hour_where_it_starts() {
        // Kolkata is UTC+5:30: its day starts at 18:30 UTC.
        let kolkata = chrono_tz::Asia::Kolkata;
        let p = Period::custom(
            at("2026-01-01T18:30:00Z"),
            at("2026-01-05T18:30:00Z"),
            kolkata,
        )
        .unwrap();
        assert_eq!(p.start(), at("2026-01-01T18:30:00Z"));
        assert_eq!(p.bucket_of(at("2026-01-02T18:00:00Z")), Some(0));
        assert_eq!(p.bucket_of(at("2026-01-02T19:00:00Z")), Some(1));
    }
}
