//! Analytics counters: hourly per-user counts, updated in the same
//! transaction as the activities they count.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::analytics::{CountedMetric, HourlyCounts, MetricCounts};
use hub_core::ids::UserId;
use hub_core::model::NewActivity;
use hub_core::store::{AnalyticsStore, StoreError};
use hub_core::time::{from_micros, micros};
use rusqlite::{params, Connection};

use std::sync::OnceLock;

use crate::{internal, SqliteStore};

/// Microseconds in an hour: the width of an analytics counter bucket.
pub(crate) const MICROS_PER_HOUR: i64 = 3_600 * 1_000_000;

/// The counter upsert, built once from the metric names.
pub(crate) fn count_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let names: Vec<&str> = CountedMetric::ALL.iter().map(|m| m.as_str()).collect();
        let placeholders: Vec<String> = (3..3 + names.len()).map(|i| format!("?{i}")).collect();
        let updates: Vec<String> = names
            .iter()
            .map(|n| format!("{n} = {n} + excluded.{n}"))
            .collect();
        format!(
            "INSERT INTO metric_hours (user_id, hour, {}) VALUES (?1, ?2, {}) \
             ON CONFLICT (user_id, hour) DO UPDATE SET {}",
            names.join(", "),
            placeholders.join(", "),
            updates.join(", ")
        )
    })
}

/// The counter read, built once from the metric names.
pub(crate) fn hourly_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let names: Vec<&str> = CountedMetric::ALL.iter().map(|m| m.as_str()).collect();
        format!(
            "SELECT hour, {} FROM metric_hours WHERE user_id = ?1 AND hour >= ?2 AND hour < ?3 \
             ORDER BY hour",
            names.join(", ")
        )
    })
}

/// The first whole hour (as hours since the epoch) starting at or after `t`.
pub(crate) fn hour_at_or_after(t: DateTime<Utc>) -> i64 {
    let us = micros(t);
    us.div_euclid(MICROS_PER_HOUR) + i64::from(us.rem_euclid(MICROS_PER_HOUR) != 0)
}

pub(crate) fn count_activity(conn: &Connection, a: &NewActivity) -> Result<(), StoreError> {
    let counts = MetricCounts::of_activity(a.kind, &a.metadata);
    if counts.is_zero() {
        return Ok(());
    }
    let hour = micros(a.created_at).div_euclid(MICROS_PER_HOUR);
    // On the publish path: fixed parameters, no boxing per activity.
    let c = counts.0.map(|n| n as i64);
    conn.prepare_cached(count_sql())
        .map_err(internal)?
        .execute(params![
            a.user_id.as_str(),
            hour,
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            c[5],
            c[6],
            c[7]
        ])
        .map_err(internal)?;
    Ok(())
}

// `count_activity` binds exactly one parameter per counted metric.
const _: () = assert!(CountedMetric::COUNT == 8);

#[async_trait]
impl AnalyticsStore for SqliteStore {
    async fn hourly_counts(
        &self,
        user: &UserId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HourlyCounts>, StoreError> {
        let user = user.clone();
        let (first, end) = (hour_at_or_after(from), hour_at_or_after(to));
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(hourly_sql()).map_err(internal)?;
            let rows = stmt
                .query_map(params![user.as_str(), first, end], |row| {
                    let hour: i64 = row.get(0)?;
                    let mut counts = MetricCounts::default();
                    for (i, slot) in counts.0.iter_mut().enumerate() {
                        *slot = row.get::<_, i64>(i + 1)?.max(0) as u64;
                    }
                    Ok(HourlyCounts {
                        hour_start: from_micros(hour * MICROS_PER_HOUR),
                        counts,
                    })
                })
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            Ok(rows)
        })
        .await
    }
}

// What every store must do is checked by the contract suite
// (`tests/contract.rs`); only what is SQLite's own is tested here.
#[cfg(test)]
mod analytics_tests {
    use std::sync::Arc;

    use hub_core::model::{Activity, ActivityType, NewActivity, Task};
    use hub_core::settings::Synchronous;
    use hub_core::store::ActivityStore;
    use hub_core::webhook::Delivery;
    use hub_core::EventSink;

    use super::*;
    use crate::schema::MIGRATIONS;

    struct NoSink;

    impl EventSink for NoSink {
        fn activity_committed(&self, _: &Activity) {}
        fn task_committed(&self, _: &Task) {}
        fn deliveries_committed(&self, _: &[Delivery]) {}
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn new_activity(
        user: &str,
        kind: ActivityType,
        metadata: serde_json::Value,
        t: &str,
    ) -> NewActivity {
        NewActivity {
            user_id: UserId(user.into()),
            kind,
            title: "t".into(),
            message: None,
            metadata,
            link: None,
            created_at: at(t),
        }
    }

    #[tokio::test]
    async fn the_migration_counts_activities_stored_before_it() {
        let dir = tempfile::tempdir().unwrap();
        {
            // A database as the first schema version left it, with history.
            let conn = Connection::open(dir.path().join("hub.db")).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch("PRAGMA user_version = 1").unwrap();
            for (kind, metadata, t) in [
                ("outreach_sent", "{}", "2025-01-01T10:15:00Z"),
                ("outreach_sent", "{}", "2025-01-01T10:45:00Z"),
                (
                    "task_completed",
                    r#"{"kind":"research"}"#,
                    "2025-01-01T10:50:00Z",
                ),
                (
                    "task_completed",
                    r#"{"kind":"content"}"#,
                    "2025-01-01T11:00:00Z",
                ),
                ("notification", "{}", "2025-01-01T11:00:00Z"),
            ] {
                conn.execute(
                    "INSERT INTO activities (user_id, kind, title, metadata, created_at) \
                     VALUES ('usr_a', ?1, 't', ?2, ?3)",
                    params![kind, metadata, micros(at(t))],
                )
                .unwrap();
            }
        }
        let store =
            SqliteStore::open(dir.path(), Synchronous::Normal, 64, Arc::new(NoSink)).unwrap();
        // And new activities keep counting from there.
        store
            .append_activity(
                new_activity(
                    "usr_a",
                    ActivityType::MeetingBooked,
                    serde_json::json!({}),
                    "2025-01-01T10:59:59Z",
                ),
                None,
            )
            .await
            .unwrap();
        let hours = store
            .hourly_counts(
                &UserId("usr_a".into()),
                at("2025-01-01T00:00:00Z"),
                at("2025-01-02T00:00:00Z"),
            )
            .await
            .unwrap();
        assert_eq!(hours.len(), 2);
        assert_eq!(hours[0].hour_start, at("2025-01-01T10:00:00Z"));
        let ten = &hours[0].counts;
        assert_eq!(ten.get(CountedMetric::OutreachSent), 2);
        assert_eq!(ten.get(CountedMetric::TasksCompleted), 1);
        assert_eq!(ten.get(CountedMetric::ResearchTasksCompleted), 1);
        assert_eq!(ten.get(CountedMetric::MeetingsBooked), 1);
        let eleven = &hours[1].counts;
        assert_eq!(eleven.get(CountedMetric::TasksCompleted), 1);
        assert_eq!(eleven.get(CountedMetric::ResearchTasksCompleted), 0);
        assert_eq!(
            eleven.0.iter().sum::<u64>(),
            1,
            "notifications count nowhere"
        );
    }
}
