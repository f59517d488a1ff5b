//! Webhook endpoints and their deliveries: what owners manage, and the
//! pending queues, attempts and disabling that delivery actors drive.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::ids::{DeliveryId, UserId, WebhookId};
use hub_core::model::Activity;
use hub_core::store::{Conflict, Page, StoreError, WebhookStore};
use hub_core::time::{from_micros, micros};
use hub_core::webhook::{
    self, AttemptRecord, Delivery, DeliveryAttempt, DeliveryLog, DeliveryQuery, DeliveryStatus,
    EndpointUpdate, EventType, SigningSecrets, Webhook, WebhookChange, WebhookFormat,
    WebhookRecord, WebhookStatus,
};
use rusqlite::{params, Connection, OptionalExtension, Row, ToSql};

use crate::{internal, SqliteStore};

pub(crate) const WEBHOOK_COLUMNS: &str =
    "id, user_id, url, events, description, status, disabled_reason, created_at, updated_at, \
     last_delivery_at, last_status_code, consecutive_failures, version, \
     secret, previous_secret, previous_secret_expires_at, format";

pub(crate) fn events_to_text(events: &[EventType]) -> String {
    // A list of plain enum values always serialises.
    serde_json::to_string(events).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn events_from_text(text: &str) -> Vec<EventType> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(crate) fn webhook_from_row(row: &Row<'_>) -> rusqlite::Result<WebhookRecord> {
    let events: String = row.get(3)?;
    let status: String = row.get(5)?;
    Ok(WebhookRecord {
        webhook: Webhook {
            id: WebhookId(row.get(0)?),
            user_id: UserId(row.get(1)?),
            url: row.get(2)?,
            events: events_from_text(&events),
            description: row.get(4)?,
            // Only `WebhookFormat::as_str` values are ever written.
            format: WebhookFormat::parse(&row.get::<_, String>(16)?).unwrap_or_default(),
            // Only `WebhookStatus::as_str` values are ever written.
            status: WebhookStatus::parse(&status).unwrap_or(WebhookStatus::Disabled),
            disabled_reason: row.get(6)?,
            created_at: from_micros(row.get(7)?),
            updated_at: from_micros(row.get(8)?),
            last_delivery_at: row.get::<_, Option<i64>>(9)?.map(from_micros),
            last_status_code: row
                .get::<_, Option<i64>>(10)?
                .and_then(|c| u16::try_from(c).ok()),
            consecutive_failures: row.get::<_, i64>(11)?.clamp(0, u32::MAX as i64) as u32,
            version: row.get(12)?,
        },
        secrets: SigningSecrets {
            current: row.get(13)?,
            previous: row.get(14)?,
            previous_expires_at: row.get::<_, Option<i64>>(15)?.map(from_micros),
        },
    })
}

pub(crate) fn webhook_by_id(
    conn: &Connection,
    id: &str,
    owner: Option<&str>,
) -> Result<Option<WebhookRecord>, StoreError> {
    let record = conn
        .prepare_cached(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1"
        ))
        .map_err(internal)?
        .query_row([id], webhook_from_row)
        .optional()
        .map_err(internal)?;
    Ok(record.filter(|r| owner.is_none_or(|o| r.webhook.user_id.as_str() == o)))
}

pub(crate) fn owns_webhook(conn: &Connection, owner: &str, id: &str) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS(SELECT 1 FROM webhooks WHERE id = ?1 AND user_id = ?2)")
        .map_err(internal)?
        .query_row(params![id, owner], |r| r.get(0))
        .map_err(internal)
}

pub(crate) const DELIVERY_COLUMNS: &str =
    "seq, id, webhook_id, user_id, event_type, payload, status, \
     attempts, retry_base, next_attempt_at, created_at, updated_at";

pub(crate) fn delivery_from_row(row: &Row<'_>) -> rusqlite::Result<(i64, Delivery)> {
    let status: String = row.get(6)?;
    Ok((
        row.get(0)?,
        Delivery {
            id: DeliveryId(row.get(1)?),
            webhook_id: WebhookId(row.get(2)?),
            user_id: UserId(row.get(3)?),
            event_type: row.get(4)?,
            payload: row.get(5)?,
            // Only `DeliveryStatus::as_str` values are ever written.
            status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Failed),
            attempts: row.get::<_, i64>(7)?.clamp(0, u32::MAX as i64) as u32,
            retry_base: row.get::<_, i64>(8)?.clamp(0, u32::MAX as i64) as u32,
            next_attempt_at: row.get::<_, Option<i64>>(9)?.map(from_micros),
            created_at: from_micros(row.get(10)?),
            updated_at: from_micros(row.get(11)?),
        },
    ))
}

pub(crate) fn insert_delivery(
    conn: &Connection,
    d: &Delivery,
    activity_seq: Option<i64>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO webhook_deliveries (id, webhook_id, user_id, event_type, activity_seq, \
         payload, status, attempts, retry_base, next_attempt_at, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .map_err(internal)?
    .execute(params![
        d.id.as_str(),
        d.webhook_id.as_str(),
        d.user_id.as_str(),
        d.event_type,
        activity_seq,
        d.payload,
        d.status.as_str(),
        d.attempts,
        d.retry_base,
        d.next_attempt_at.map(micros),
        micros(d.created_at),
        micros(d.updated_at)
    ])
    .map_err(internal)?;
    Ok(())
}

/// The active webhooks of `user` with their event lists (as stored).
pub(crate) fn active_webhooks_of(
    conn: &Connection,
    user: &UserId,
) -> Result<Vec<(String, String)>, StoreError> {
    conn.prepare_cached("SELECT id, events FROM webhooks WHERE user_id = ?1 AND status = 'active'")
        .map_err(internal)?
        .query_map([user.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(internal)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(internal)
}

/// Stores a pending delivery of `activity` for every active webhook of its
/// user that subscribes to its type: part of the activity's own transaction.
pub(crate) fn enqueue_deliveries(
    conn: &Connection,
    activity: &Activity,
) -> Result<Vec<Delivery>, StoreError> {
    let targets = active_webhooks_of(conn, &activity.user_id)?;
    let mut deliveries = Vec::new();
    let mut payload: Option<String> = None;
    for (webhook_id, events) in targets {
        if !webhook::subscribes(&events_from_text(&events), activity.kind.into()) {
            continue;
        }
        let body = payload
            .get_or_insert_with(|| {
                webhook::envelope(activity.kind.as_str(), activity.created_at, activity)
            })
            .clone();
        let delivery = Delivery::pending(
            DeliveryId::generate(),
            WebhookId(webhook_id),
            activity.user_id.clone(),
            activity.kind.as_str(),
            body,
            activity.created_at,
        );
        insert_delivery(conn, &delivery, activity.id.seq())?;
        deliveries.push(delivery);
    }
    Ok(deliveries)
}

pub(crate) fn insert_attempt(
    conn: &Connection,
    webhook_id: &WebhookId,
    delivery_id: &DeliveryId,
    a: &DeliveryAttempt,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO webhook_attempts (delivery_id, attempt, webhook_id, attempted_at, \
         duration_ms, status_code, error, response_body, next_attempt_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .map_err(internal)?
    .execute(params![
        delivery_id.as_str(),
        a.attempt,
        webhook_id.as_str(),
        micros(a.attempted_at),
        a.duration_ms.min(i64::MAX as u64) as i64,
        a.status_code,
        a.error,
        a.response_body,
        a.next_attempt_at.map(micros)
    ])
    .map_err(internal)?;
    Ok(())
}

/// What an attempt changes on its endpoint: last outcome, failure count, and
/// possibly disabling it.
pub(crate) fn update_endpoint_after(
    conn: &Connection,
    webhook_id: &WebhookId,
    attempt: &DeliveryAttempt,
    update: &EndpointUpdate,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE webhooks SET last_delivery_at = ?1, last_status_code = ?2, \
         consecutive_failures = COALESCE(?3, consecutive_failures) WHERE id = ?4",
    )
    .map_err(internal)?
    .execute(params![
        micros(attempt.attempted_at),
        attempt.status_code,
        update.consecutive_failures,
        webhook_id.as_str()
    ])
    .map_err(internal)?;
    if let Some(reason) = &update.disable_reason {
        conn.prepare_cached(
            "UPDATE webhooks SET status = 'disabled', disabled_reason = ?1, updated_at = ?2, \
             version = version + 1 WHERE id = ?3 AND status = 'active'",
        )
        .map_err(internal)?
        .execute(params![
            reason,
            micros(attempt.attempted_at),
            webhook_id.as_str()
        ])
        .map_err(internal)?;
    }
    Ok(())
}

pub(crate) fn attempts_of(
    conn: &Connection,
    delivery: &str,
) -> Result<Vec<DeliveryAttempt>, StoreError> {
    conn.prepare_cached(
        "SELECT attempt, attempted_at, duration_ms, status_code, error, response_body, \
         next_attempt_at FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY attempt ASC",
    )
    .map_err(internal)?
    .query_map([delivery], |r| {
        Ok(DeliveryAttempt {
            attempt: r.get::<_, i64>(0)?.clamp(0, u32::MAX as i64) as u32,
            attempted_at: from_micros(r.get(1)?),
            duration_ms: r.get::<_, i64>(2)?.max(0) as u64,
            status_code: r
                .get::<_, Option<i64>>(3)?
                .and_then(|c| u16::try_from(c).ok()),
            error: r.get(4)?,
            response_body: r.get(5)?,
            next_attempt_at: r.get::<_, Option<i64>>(6)?.map(from_micros),
        })
    })
    .map_err(internal)?
    .collect::<Result<Vec<_>, _>>()
    .map_err(internal)
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_webhook(
        &self,
        webhook: Webhook,
        secret: String,
        max_per_user: usize,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            let count: i64 = conn
                .prepare_cached("SELECT COUNT(*) FROM webhooks WHERE user_id = ?1")
                .map_err(internal)?
                .query_row([webhook.user_id.as_str()], |r| r.get(0))
                .map_err(internal)?;
            if count as usize >= max_per_user {
                return Err(StoreError::Conflict(Conflict::WebhookLimit));
            }
            conn.prepare_cached(
                "INSERT INTO webhooks (id, user_id, url, events, description, status, \
                 disabled_reason, created_at, updated_at, consecutive_failures, version, secret, \
                 format) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .map_err(internal)?
            .execute(params![
                webhook.id.as_str(),
                webhook.user_id.as_str(),
                webhook.url,
                events_to_text(&webhook.events),
                webhook.description,
                webhook.status.as_str(),
                webhook.disabled_reason,
                micros(webhook.created_at),
                micros(webhook.updated_at),
                webhook.consecutive_failures,
                webhook.version,
                secret,
                webhook.format.as_str()
            ])
            .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn webhook(&self, owner: &UserId, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        let (owner, id) = (owner.clone(), id.clone());
        self.read(move |conn| {
            Ok(webhook_by_id(conn, id.as_str(), Some(owner.as_str()))?.map(|r| r.webhook))
        })
        .await
    }

    async fn list_webhooks(&self, owner: &UserId) -> Result<Vec<Webhook>, StoreError> {
        let owner = owner.clone();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = ?1 ORDER BY seq ASC"
            ))
            .map_err(internal)?
            .query_map([owner.as_str()], webhook_from_row)
            .map_err(internal)?
            .map(|r| r.map(|record| record.webhook))
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)
        })
        .await
    }

    async fn update_webhook(
        &self,
        owner: &UserId,
        id: &WebhookId,
        change: WebhookChange,
    ) -> Result<Option<Webhook>, StoreError> {
        let (owner, id) = (owner.clone(), id.clone());
        self.write(move |conn| {
            let updated = conn
                .prepare_cached(
                    "UPDATE webhooks SET url = ?1, events = ?2, description = ?3, updated_at = ?4, \
                     format = ?7, version = version + 1 WHERE id = ?5 AND user_id = ?6",
                )
                .map_err(internal)?
                .execute(params![
                    change.url,
                    events_to_text(&change.events),
                    change.description,
                    micros(change.updated_at),
                    id.as_str(),
                    owner.as_str(),
                    change.format.as_str()
                ])
                .map_err(internal)?;
            if updated == 0 {
                return Ok(None);
            }
            Ok(webhook_by_id(conn, id.as_str(), Some(owner.as_str()))?.map(|r| r.webhook))
        })
        .await
    }

    async fn delete_webhook(&self, owner: &UserId, id: &WebhookId) -> Result<bool, StoreError> {
        let (owner, id) = (owner.clone(), id.clone());
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM webhooks WHERE id = ?1 AND user_id = ?2")
                .map_err(internal)?
                .execute(params![id.as_str(), owner.as_str()])
                .map_err(internal)?;
            if deleted == 0 {
                return Ok(false);
            }
            conn.prepare_cached("DELETE FROM webhook_attempts WHERE webhook_id = ?1")
                .map_err(internal)?
                .execute([id.as_str()])
                .map_err(internal)?;
            conn.prepare_cached("DELETE FROM webhook_deliveries WHERE webhook_id = ?1")
                .map_err(internal)?
                .execute([id.as_str()])
                .map_err(internal)?;
            Ok(true)
        })
        .await
    }

    async fn webhook_secrets(
        &self,
        owner: &UserId,
        id: &WebhookId,
    ) -> Result<Option<SigningSecrets>, StoreError> {
        let (owner, id) = (owner.clone(), id.clone());
        self.read(move |conn| {
            Ok(webhook_by_id(conn, id.as_str(), Some(owner.as_str()))?.map(|r| r.secrets))
        })
        .await
    }

    async fn rotate_webhook_secret(
        &self,
        owner: &UserId,
        id: &WebhookId,
        new_secret: String,
        previous_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<SigningSecrets>, StoreError> {
        let (owner, id) = (owner.clone(), id.clone());
        self.write(move |conn| {
            let updated = conn
                .prepare_cached(
                    "UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = ?1, \
                     secret = ?2, updated_at = ?3, version = version + 1 \
                     WHERE id = ?4 AND user_id = ?5",
                )
                .map_err(internal)?
                .execute(params![
                    micros(previous_expires_at),
                    new_secret,
                    micros(now),
                    id.as_str(),
                    owner.as_str()
                ])
                .map_err(internal)?;
            if updated == 0 {
                return Ok(None);
            }
            Ok(webhook_by_id(conn, id.as_str(), Some(owner.as_str()))?.map(|r| r.secrets))
        })
        .await
    }

    async fn enable_webhook(
        &self,
        owner: &UserId,
        id: &WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Option<Webhook>, StoreError> {
        let (owner, id) = (owner.clone(), id.clone());
        self.write(move |conn| {
            let updated = conn
                .prepare_cached(
                    "UPDATE webhooks SET status = 'active', disabled_reason = NULL, \
                     consecutive_failures = 0, updated_at = ?1, version = version + 1 \
                     WHERE id = ?2 AND user_id = ?3",
                )
                .map_err(internal)?
                .execute(params![micros(now), id.as_str(), owner.as_str()])
                .map_err(internal)?;
            if updated == 0 {
                return Ok(None);
            }
            Ok(webhook_by_id(conn, id.as_str(), Some(owner.as_str()))?.map(|r| r.webhook))
        })
        .await
    }

    async fn list_deliveries(
        &self,
        owner: &UserId,
        webhook: &WebhookId,
        query: DeliveryQuery,
    ) -> Result<Page<DeliveryLog>, StoreError> {
        let (owner, webhook) = (owner.clone(), webhook.clone());
        self.read(move |conn| {
            if !owns_webhook(conn, owner.as_str(), webhook.as_str())? {
                return Ok(Page {
                    items: Vec::new(),
                    next_cursor: None,
                });
            }
            let mut sql = "SELECT seq, id, event_type, status, attempts, next_attempt_at, \
                           created_at, updated_at, payload FROM webhook_deliveries \
                           WHERE webhook_id = ?"
                .to_owned();
            let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(webhook.0.clone())];
            if let Some(status) = query.status {
                sql.push_str(" AND status = ?");
                args.push(Box::new(status.as_str()));
            }
            if let Some(before) = query.cursor.as_deref().and_then(|c| c.parse::<i64>().ok()) {
                sql.push_str(" AND seq < ?");
                args.push(Box::new(before));
            }
            sql.push_str(" ORDER BY seq DESC LIMIT ?");
            args.push(Box::new(query.limit as i64 + 1));
            let mut rows = conn
                .prepare_cached(&sql)
                .map_err(internal)?
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    let status: String = r.get(3)?;
                    Ok((
                        r.get::<_, i64>(0)?,
                        DeliveryLog {
                            id: DeliveryId(r.get(1)?),
                            event_type: r.get(2)?,
                            status: DeliveryStatus::parse(&status)
                                .unwrap_or(DeliveryStatus::Failed),
                            attempt_count: r.get::<_, i64>(4)?.clamp(0, u32::MAX as i64) as u32,
                            next_attempt_at: r.get::<_, Option<i64>>(5)?.map(from_micros),
                            created_at: from_micros(r.get(6)?),
                            updated_at: from_micros(r.get(7)?),
                            body: r.get(8)?,
                            attempts: Vec::new(),
                        },
                    ))
                })
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            let next_cursor = if rows.len() > query.limit {
                rows.truncate(query.limit);
                rows.last().map(|(seq, _)| seq.to_string())
            } else {
                None
            };
            let mut items = Vec::with_capacity(rows.len());
            for (_, mut log) in rows {
                log.attempts = attempts_of(conn, log.id.as_str())?;
                items.push(log);
            }
            Ok(Page { items, next_cursor })
        })
        .await
    }

    async fn retry_delivery(
        &self,
        owner: &UserId,
        webhook: &WebhookId,
        delivery: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>, StoreError> {
        let (owner, webhook, delivery) = (owner.clone(), webhook.clone(), delivery.clone());
        self.write(move |conn| {
            if !owns_webhook(conn, owner.as_str(), webhook.as_str())? {
                return Ok(None);
            }
            let updated = conn
                .prepare_cached(
                    "UPDATE webhook_deliveries SET status = 'pending', retry_base = attempts, \
                     next_attempt_at = ?1, updated_at = ?1 WHERE id = ?2 AND webhook_id = ?3",
                )
                .map_err(internal)?
                .execute(params![micros(now), delivery.as_str(), webhook.as_str()])
                .map_err(internal)?;
            if updated == 0 {
                return Ok(None);
            }
            conn.prepare_cached(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?1"
            ))
            .map_err(internal)?
            .query_row([delivery.as_str()], delivery_from_row)
            .optional()
            .map(|found| found.map(|(_, d)| d))
            .map_err(internal)
        })
        .await
    }

    async fn webhook_record(&self, id: &WebhookId) -> Result<Option<WebhookRecord>, StoreError> {
        let id = id.clone();
        self.read(move |conn| webhook_by_id(conn, id.as_str(), None))
            .await
    }

    async fn active_webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE status = 'active' ORDER BY seq ASC"
            ))
            .map_err(internal)?
            .query_map([], webhook_from_row)
            .map_err(internal)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)
        })
        .await
    }

    async fn pending_deliveries(
        &self,
        webhook: &WebhookId,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<Delivery>, StoreError> {
        let webhook = webhook.clone();
        let after = cursor.and_then(|c| c.parse::<i64>().ok()).unwrap_or(0);
        self.read(move |conn| {
            let mut rows = conn
                .prepare_cached(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
                     WHERE webhook_id = ?1 AND status = 'pending' AND seq > ?2 \
                     ORDER BY seq ASC LIMIT ?3"
                ))
                .map_err(internal)?
                .query_map(
                    params![webhook.as_str(), after, limit as i64 + 1],
                    delivery_from_row,
                )
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            let next_cursor = if rows.len() > limit {
                rows.truncate(limit);
                rows.last().map(|(seq, _)| seq.to_string())
            } else {
                None
            };
            Ok(Page {
                items: rows.into_iter().map(|(_, d)| d).collect(),
                next_cursor,
            })
        })
        .await
    }

    async fn record_attempt(&self, record: AttemptRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            let attempt = &record.attempt;
            let updated = conn
                .prepare_cached(
                    "UPDATE webhook_deliveries SET status = ?1, attempts = ?2, next_attempt_at = ?3, \
                     updated_at = ?4 WHERE id = ?5 AND attempts < ?2",
                )
                .map_err(internal)?
                .execute(params![
                    record.status.as_str(),
                    attempt.attempt,
                    attempt.next_attempt_at.map(micros),
                    micros(attempt.attempted_at),
                    record.delivery_id.as_str()
                ])
                .map_err(internal)?;
            if updated == 0 {
                // Deleted with its webhook, or a newer attempt is stored already.
                return Ok(());
            }
            insert_attempt(conn, &record.webhook_id, &record.delivery_id, attempt)?;
            update_endpoint_after(conn, &record.webhook_id, attempt, &record.endpoint)
        })
        .await
    }

    async fn enqueue_event(
        &self,
        user: &UserId,
        event: EventType,
        payload: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<Delivery>, StoreError> {
        let user = user.clone();
        self.write_announcing(
            move |conn| {
                let targets = active_webhooks_of(conn, &user)?;
                let mut deliveries = Vec::new();
                for (webhook_id, events) in targets {
                    if !webhook::subscribes(&events_from_text(&events), event) {
                        continue;
                    }
                    let delivery = Delivery::pending(
                        DeliveryId::generate(),
                        WebhookId(webhook_id),
                        user.clone(),
                        event.as_str(),
                        payload.clone(),
                        at,
                    );
                    insert_delivery(conn, &delivery, None)?;
                    deliveries.push(delivery);
                }
                Ok(deliveries)
            },
            |sink, deliveries| {
                if !deliveries.is_empty() {
                    sink.deliveries_committed(deliveries);
                }
            },
        )
        .await
    }

    async fn record_test_delivery(
        &self,
        delivery: Delivery,
        attempt: DeliveryAttempt,
        endpoint: EndpointUpdate,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            if webhook_by_id(conn, delivery.webhook_id.as_str(), None)?.is_none() {
                return Ok(());
            }
            insert_delivery(conn, &delivery, None)?;
            insert_attempt(conn, &delivery.webhook_id, &delivery.id, &attempt)?;
            update_endpoint_after(conn, &delivery.webhook_id, &attempt, &endpoint)
        })
        .await
    }
}
