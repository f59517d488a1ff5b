//! Activities and the resume history: the ordered append (with its
//! idempotency keys, webhook deliveries and analytics counters in the same
//! transaction), lists, export scans and replays.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::ids::{ActivityId, UserId};
use hub_core::model::{Activity, ActivityType, IdempotencyKey, NewActivity};
use hub_core::store::{
    ActivityQuery, ActivityScan, ActivityStore, AppendOutcome, HistoryWindow, Page, Replay,
    StoreError,
};
use hub_core::time::{from_micros, micros};
use rusqlite::{params, Connection, OptionalExtension, Row, ToSql};

use crate::analytics::count_activity;
use crate::webhooks::enqueue_deliveries;
use crate::{internal, SqliteStore, IDEMPOTENCY_TTL_MICROS};

/// Adds `created_at` bounds (since inclusive, until exclusive) to a query
/// being built.
pub(crate) fn time_filters(
    sql: &mut String,
    args: &mut Vec<Box<dyn ToSql>>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) {
    if let Some(since) = since {
        sql.push_str(" AND created_at >= ?");
        args.push(Box::new(micros(since)));
    }
    if let Some(until) = until {
        sql.push_str(" AND created_at < ?");
        args.push(Box::new(micros(until)));
    }
}

pub(crate) const ACTIVITY_COLUMNS: &str =
    "seq, user_id, kind, title, message, metadata, link, created_at";

pub(crate) fn activity_from_row(row: &Row<'_>) -> rusqlite::Result<Activity> {
    let kind: String = row.get(2)?;
    let metadata: String = row.get(5)?;
    Ok(Activity {
        id: ActivityId::from_seq(row.get(0)?),
        user_id: UserId(row.get(1)?),
        // Only `ActivityType::as_str` values are ever written.
        kind: ActivityType::parse(&kind).unwrap_or(ActivityType::Notification),
        title: row.get(3)?,
        message: row.get(4)?,
        metadata: serde_json::from_str(&metadata).unwrap_or(serde_json::Value::Null),
        link: row.get(6)?,
        created_at: from_micros(row.get(7)?),
    })
}

pub(crate) fn insert_activity(conn: &Connection, a: &NewActivity) -> Result<Activity, StoreError> {
    let metadata = a.metadata.to_string();
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO activities (user_id, kind, title, message, metadata, link, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(internal)?;
    stmt.execute(params![
        a.user_id.as_str(),
        a.kind.as_str(),
        a.title,
        a.message,
        metadata,
        a.link,
        micros(a.created_at)
    ])
    .map_err(internal)?;
    let seq = conn.last_insert_rowid();
    count_activity(conn, a)?;
    Ok(Activity {
        id: ActivityId::from_seq(seq),
        user_id: a.user_id.clone(),
        kind: a.kind,
        title: a.title.clone(),
        message: a.message.clone(),
        metadata: a.metadata.clone(),
        link: a.link.clone(),
        created_at: a.created_at,
    })
}

/// Increments the analytics counters of the activity's hour. Runs in the
/// activity's own savepoint, so the counters and the activities never disagree.
pub(crate) fn activity_by_seq(
    conn: &Connection,
    user: &str,
    seq: i64,
) -> Result<Option<Activity>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {ACTIVITY_COLUMNS} FROM activities WHERE user_id = ?1 AND seq = ?2"
    ))
    .map_err(internal)?
    .query_row(params![user, seq], activity_from_row)
    .optional()
    .map_err(internal)
}

#[async_trait]
impl ActivityStore for SqliteStore {
    async fn append_activity(
        &self,
        activity: NewActivity,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<AppendOutcome, StoreError> {
        self.write_announcing(move |conn| {
            let now = micros(activity.created_at);
            if let Some(idem) = &idempotency {
                let seen: Option<(String, i64, i64)> = conn
                    .prepare_cached(
                        "SELECT fingerprint, activity_seq, created_at FROM idempotency_keys \
                         WHERE user_id = ?1 AND key = ?2",
                    )
                    .map_err(internal)?
                    .query_row(params![activity.user_id.as_str(), idem.key], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .optional()
                    .map_err(internal)?;
                if let Some((fingerprint, seq, created)) = seen {
                    if now - created < IDEMPOTENCY_TTL_MICROS {
                        if fingerprint != idem.fingerprint {
                            return Ok((AppendOutcome::KeyReused, Vec::new()));
                        }
                        if let Some(existing) =
                            activity_by_seq(conn, activity.user_id.as_str(), seq)?
                        {
                            return Ok((AppendOutcome::Replayed(existing), Vec::new()));
                        }
                    }
                }
            }
            let stored = insert_activity(conn, &activity)?;
            let deliveries = enqueue_deliveries(conn, &stored)?;
            if let Some(idem) = &idempotency {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO idempotency_keys (user_id, key, fingerprint, activity_seq, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(internal)?
                .execute(params![
                    activity.user_id.as_str(),
                    idem.key,
                    idem.fingerprint,
                    stored.id.seq(),
                    now
                ])
                .map_err(internal)?;
            }
            Ok((AppendOutcome::Created(stored), deliveries))
        }, |sink, (outcome, deliveries)| {
            if let AppendOutcome::Created(activity) = outcome {
                sink.activity_committed(activity);
            }
            if !deliveries.is_empty() {
                sink.deliveries_committed(deliveries);
            }
        })
        .await
        .map(|(outcome, _)| outcome)
    }

    async fn append_activities(
        &self,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<Activity>, StoreError> {
        self.write_announcing(
            move |conn| {
                let mut stored = Vec::with_capacity(activities.len());
                let mut deliveries = Vec::new();
                for a in &activities {
                    let activity = insert_activity(conn, a)?;
                    // Imported activities reach webhooks like any other.
                    deliveries.extend(enqueue_deliveries(conn, &activity)?);
                    stored.push(activity);
                }
                Ok((stored, deliveries))
            },
            |sink, (stored, deliveries)| {
                for activity in stored {
                    sink.activity_committed(activity);
                }
                if !deliveries.is_empty() {
                    sink.deliveries_committed(deliveries);
                }
            },
        )
        .await
        .map(|(stored, _)| stored)
    }

    async fn activity(&self, id: &ActivityId) -> Result<Option<Activity>, StoreError> {
        let Some(seq) = id.seq() else {
            return Ok(None);
        };
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {ACTIVITY_COLUMNS} FROM activities WHERE seq = ?1"
            ))
            .map_err(internal)?
            .query_row([seq], activity_from_row)
            .optional()
            .map_err(internal)
        })
        .await
    }

    async fn list_activities(
        &self,
        user: &UserId,
        query: ActivityQuery,
    ) -> Result<Page<Activity>, StoreError> {
        let user = user.clone();
        self.read(move |conn| {
            let mut sql = format!("SELECT {ACTIVITY_COLUMNS} FROM activities WHERE user_id = ?");
            let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(user.0.clone())];
            if let Some(kind) = query.kind {
                sql.push_str(" AND kind = ?");
                args.push(Box::new(kind.as_str()));
            }
            time_filters(&mut sql, &mut args, query.since, query.until);
            if let Some(before) = query.before.as_ref().and_then(ActivityId::seq) {
                sql.push_str(" AND seq < ?");
                args.push(Box::new(before));
            }
            sql.push_str(" ORDER BY seq DESC LIMIT ?");
            args.push(Box::new(query.limit as i64 + 1));
            let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
            let mut items = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), activity_from_row)
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            let next_cursor = if items.len() > query.limit {
                items.truncate(query.limit);
                items.last().map(|a| a.id.0.clone())
            } else {
                None
            };
            Ok(Page { items, next_cursor })
        })
        .await
    }

    async fn scan_activities(
        &self,
        user: &UserId,
        scan: ActivityScan,
    ) -> Result<Vec<Activity>, StoreError> {
        let user = user.clone();
        self.read(move |conn| {
            let mut sql = format!("SELECT {ACTIVITY_COLUMNS} FROM activities WHERE user_id = ?");
            let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(user.0.clone())];
            if !scan.kinds.is_empty() {
                let marks = vec!["?"; scan.kinds.len()].join(", ");
                sql.push_str(&format!(" AND kind IN ({marks})"));
                for kind in &scan.kinds {
                    args.push(Box::new(kind.as_str()));
                }
            }
            time_filters(&mut sql, &mut args, scan.since, scan.until);
            if let Some(after) = scan.after.as_ref().and_then(ActivityId::seq) {
                sql.push_str(" AND seq > ?");
                args.push(Box::new(after));
            }
            sql.push_str(" ORDER BY seq ASC LIMIT ?");
            args.push(Box::new(scan.limit as i64));
            let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
            let items = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), activity_from_row)
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            Ok(items)
        })
        .await
    }

    async fn replay_after(
        &self,
        user: &UserId,
        after: &ActivityId,
        window: HistoryWindow,
        now: DateTime<Utc>,
    ) -> Result<Replay, StoreError> {
        let after = after.seq().unwrap_or(0);
        let user = user.clone();
        self.read(move |conn| {
            // The oldest sequence number still inside the count bound.
            let floor: i64 = conn
                .prepare_cached(
                    "SELECT seq FROM activities WHERE user_id = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2",
                )
                .map_err(internal)?
                .query_row(params![user.as_str(), window.max_events as i64 - 1], |r| r.get(0))
                .optional()
                .map_err(internal)?
                .unwrap_or(0);
            let cutoff = micros(now - window.max_age);
            let events = conn
                .prepare_cached(&format!(
                    "SELECT {ACTIVITY_COLUMNS} FROM activities \
                     WHERE user_id = ?1 AND seq > ?2 AND seq >= ?3 AND created_at >= ?4 \
                     ORDER BY seq ASC LIMIT ?5"
                ))
                .map_err(internal)?
                .query_map(
                    params![user.as_str(), after, floor, cutoff, window.max_events as i64],
                    activity_from_row,
                )
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            let missing: bool = conn
                .prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM activities WHERE user_id = ?1 AND seq > ?2 \
                     AND (seq < ?3 OR created_at < ?4))",
                )
                .map_err(internal)?
                .query_row(params![user.as_str(), after, floor, cutoff], |r| r.get(0))
                .map_err(internal)?;
            Ok(Replay {
                events,
                complete: !missing,
            })
        })
        .await
    }
}
