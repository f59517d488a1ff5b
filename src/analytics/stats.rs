//! The arithmetic of a summary: change against the previous period, the trend
//! rule, averages and the conversion rate. Pure functions, unit-tested.
//!
//! Rules (also in the README):
//!
//! - `trend` is `up` when the total is more than 10 % above the previous
//!   period's, `down` when more than 10 % below, else `stable`; from 0 to
//!   anything above 0 is `up`, 0 to 0 is `stable`. Exactly ±10 % is `stable`.
//! - `change_pct` is `(total − previous) / previous × 100`, and `null` when the
//!   previous total is 0: no finite percentage describes growth from nothing
//!   (the trend still says `up`).
//! - `conversion_rate` is `meetings_booked / outreach_sent` as a fraction
//!   (0.25 = 25 %), per bucket and for the whole period; it is 0 when nothing
//!   was sent, so a bucket without outreach reads as "no conversion" rather
//!   than a gap in the series.
//! - `average` is the mean of the data points over every bucket of the period
//!   (zero-filled buckets included): `total / buckets` for counts, the
//!   unweighted mean of the bucket rates for `conversion_rate`.
//! - Fractional outputs are rounded to [`DECIMALS`] places.

use serde::Serialize;
use utoipa::ToSchema;

/// Relative change beyond which a trend is `up` or `down` (10 %).
const TREND_THRESHOLD: f64 = 0.10;
/// Decimal places kept in rates, averages and percentages.
pub const DECIMALS: i32 = 4;

/// Where a metric is heading compared with the previous period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Up,
    Down,
    Stable,
}

/// The trend rule. Compared by cross-multiplication, so a count exactly 10 %
/// up (110 against 100) is `stable` without floating-point doubt.
pub fn trend(current: f64, previous: f64) -> Trend {
    if previous <= 0.0 {
        return if current > 0.0 {
            Trend::Up
        } else {
            Trend::Stable
        };
    }
    if current * 100.0 > previous * (100.0 + TREND_THRESHOLD * 100.0) {
        Trend::Up
    } else if current * 100.0 < previous * (100.0 - TREND_THRESHOLD * 100.0) {
        Trend::Down
    } else {
        Trend::Stable
    }
}

/// Percentage change, `None` when the previous value is 0.
pub fn change_pct(current: f64, previous: f64) -> Option<f64> {
    (previous > 0.0).then(|| round((current - previous) / previous * 100.0))
}

/// `numerator / denominator`, 0 when the denominator is 0.
pub fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        round(numerator as f64 / denominator as f64)
    }
}

/// Mean over `buckets` buckets (0 for none).
pub fn average(sum: f64, buckets: usize) -> f64 {
    if buckets == 0 {
        0.0
    } else {
        round(sum / buckets as f64)
    }
}

/// Rounds to [`DECIMALS`] places.
pub fn round(x: f64) -> f64 {
    let scale = 10f64.powi(DECIMALS);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_uses_a_ten_percent_band() {
        assert_eq!(trend(111.0, 100.0), Trend::Up);
        assert_eq!(
            trend(110.0, 100.0),
            Trend::Stable,
            "exactly +10 % is stable"
        );
        assert_eq!(trend(100.0, 100.0), Trend::Stable);
        assert_eq!(trend(90.0, 100.0), Trend::Stable, "exactly -10 % is stable");
        assert_eq!(trend(89.0, 100.0), Trend::Down);
        assert_eq!(trend(0.0, 5.0), Trend::Down);
        assert_eq!(trend(11.0, 10.0), Trend::Stable);
        assert_eq!(trend(12.0, 10.0), Trend::Up);
    }

    #[test]
    fn growth_from_zero_is_up_with_no_percentage() {
        assert_eq!(trend(1.0, 0.0), Trend::Up);
        assert_eq!(trend(0.0, 0.0), Trend::Stable);
        assert_eq!(change_pct(5.0, 0.0), None);
        assert_eq!(change_pct(0.0, 0.0), None);
        assert_eq!(change_pct(150.0, 100.0), Some(50.0));
        assert_eq!(change_pct(0.0, 4.0), Some(-100.0));
        assert_eq!(change_pct(1.0, 3.0), Some(-66.6667));
    }

    #[test]
    fn ratios_and_averages() {
        assert_eq!(ratio(1, 4), 0.25);
        assert_eq!(ratio(3, 0), 0.0, "no outreach: conversion 0");
        assert_eq!(ratio(2, 3), 0.6667);
        assert_eq!(average(10.0, 4), 2.5);
        assert_eq!(average(1.0, 3), 0.3333);
        assert_eq!(average(5.0, 0), 0.0);
    }
}
