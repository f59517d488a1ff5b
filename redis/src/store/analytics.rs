//! Analytics counters: hourly per-user counts in hashes of 512 hours,
//! updated by the append script.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::analytics::{metrics_of, HourlyCounts, MetricCounts};
use hub_core::ids::UserId;
use hub_core::model::NewActivity;
use hub_core::store::StoreError;
use hub_core::time::{from_micros, micros};
use std::collections::HashMap;

use super::{unavailable, RedisStore};
use hub_core::store::AnalyticsStore;

/// Hours per analytics counter hash (must match `append_fn.lua`).
pub(crate) const HOURS_PER_COUNTER_HASH: i64 = 512;
pub(crate) const MICROS_PER_HOUR: i64 = 3_600 * 1_000_000;

/// The UTC hour (since the epoch) an activity is counted in, and the indexes
/// of the metrics it counts for, as the append function takes them.
pub(crate) fn counter_args(a: &NewActivity) -> (i64, String) {
    let hour = micros(a.created_at).div_euclid(MICROS_PER_HOUR);
    let metrics = metrics_of(a.kind, &a.metadata)
        .iter()
        .map(|m| m.index().to_string())
        .collect::<Vec<_>>()
        .join(",");
    (hour, metrics)
}

#[async_trait]
impl AnalyticsStore for RedisStore {
    async fn hourly_counts(
        &self,
        user: &UserId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HourlyCounts>, StoreError> {
        // Hours that start in [from, to).
        let ceil = |t: DateTime<Utc>| {
            let us = micros(t);
            us.div_euclid(MICROS_PER_HOUR) + i64::from(us.rem_euclid(MICROS_PER_HOUR) != 0)
        };
        let (first, end) = (ceil(from), ceil(to));
        if end <= first {
            return Ok(Vec::new());
        }
        let chunks: Vec<i64> = (first.div_euclid(HOURS_PER_COUNTER_HASH)
            ..=(end - 1).div_euclid(HOURS_PER_COUNTER_HASH))
            .collect();
        let mut pipe = redis::pipe();
        for chunk in &chunks {
            pipe.hgetall(self.keys.counters(user, *chunk));
        }
        let hashes: Vec<HashMap<i64, String>> = pipe
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let mut rows: Vec<HourlyCounts> = hashes
            .into_iter()
            .flatten()
            .filter(|(hour, _)| (first..end).contains(hour))
            .map(|(hour, csv)| {
                let mut counts = MetricCounts::default();
                for (slot, v) in counts.0.iter_mut().zip(csv.split(',')) {
                    *slot = v.parse().unwrap_or(0);
                }
                HourlyCounts {
                    hour_start: from_micros(hour * MICROS_PER_HOUR),
                    counts,
                }
            })
            .collect();
        rows.sort_by_key(|r| r.hour_start);
        Ok(rows)
    }
}
