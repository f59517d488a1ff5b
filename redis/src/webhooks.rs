//! Webhooks in Redis: reading the hashes the scripts write
//! (`redis/scripts/webhook.lua`, `webhook_fn.lua`), and the endpoint leases
//! that give each endpoint exactly one owning node.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::ids::{DeliveryId, UserId, WebhookId};
use hub_core::store::{Leases, StoreError};
use hub_core::time::from_micros;
use hub_core::webhook::{
    Delivery, DeliveryAttempt, DeliveryStatus, EventType, SigningSecrets, Webhook, WebhookFormat,
    WebhookRecord, WebhookStatus,
};
use redis::aio::ConnectionManager;
use redis::Script;

/// A field as a number of µs, absent or empty meaning none.
fn time_field(fields: &HashMap<String, String>, name: &str) -> Option<DateTime<Utc>> {
    fields
        .get(name)
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse().ok())
        .map(from_micros)
}

fn text_field(fields: &HashMap<String, String>, name: &str) -> Option<String> {
    fields.get(name).filter(|v| !v.is_empty()).cloned()
}

fn number<T: std::str::FromStr + Default>(fields: &HashMap<String, String>, name: &str) -> T {
    fields
        .get(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

/// Comma-separated type names, as the append function matches them.
pub fn events_csv(events: &[EventType]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn events_json(events: &[EventType]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".into())
}

/// The hash of a webhook (`HGETALL`), or `None` if it has no fields.
pub fn record_from_hash(fields: HashMap<String, String>) -> Option<WebhookRecord> {
    let id = fields.get("id")?.clone();
    let events: Vec<EventType> = fields
        .get("events")
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default();
    let webhook = Webhook {
        id: WebhookId(id),
        user_id: UserId(fields.get("user")?.clone()),
        url: fields.get("url")?.clone(),
        events,
        description: text_field(&fields, "description"),
        format: fields
            .get("format")
            .and_then(|f| WebhookFormat::parse(f))
            .unwrap_or_default(),
        status: fields
            .get("status")
            .and_then(|s| WebhookStatus::parse(s))
            .unwrap_or(WebhookStatus::Disabled),
        disabled_reason: text_field(&fields, "reason"),
        created_at: time_field(&fields, "created").unwrap_or_default(),
        updated_at: time_field(&fields, "updated").unwrap_or_default(),
        last_delivery_at: time_field(&fields, "last_at"),
        last_status_code: text_field(&fields, "last_code").and_then(|c| c.parse().ok()),
        consecutive_failures: number(&fields, "fails"),
        version: number(&fields, "version"),
    };
    let secrets = SigningSecrets {
        current: fields.get("secret").cloned().unwrap_or_default(),
        previous: text_field(&fields, "prev"),
        previous_expires_at: time_field(&fields, "prev_exp"),
    };
    Some(WebhookRecord { webhook, secrets })
}

/// The field/value pairs of a new webhook's hash.
pub fn webhook_fields(w: &Webhook, secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("id", w.id.0.clone()),
        ("user", w.user_id.0.clone()),
        ("url", w.url.clone()),
        ("events", events_json(&w.events)),
        ("events_csv", events_csv(&w.events)),
        ("description", w.description.clone().unwrap_or_default()),
        ("format", w.format.as_str().to_owned()),
        ("status", w.status.as_str().to_owned()),
        ("reason", w.disabled_reason.clone().unwrap_or_default()),
        ("created", w.created_at.timestamp_micros().to_string()),
        ("updated", w.updated_at.timestamp_micros().to_string()),
        ("last_at", String::new()),
        ("last_code", String::new()),
        ("fails", w.consecutive_failures.to_string()),
        ("version", w.version.to_string()),
        ("secret", secret.to_owned()),
        ("prev", String::new()),
        ("prev_exp", String::new()),
    ]
}

/// The field/value pairs of a delivery's hash (without `seq`).
pub fn delivery_fields(d: &Delivery) -> Vec<(&'static str, String)> {
    vec![
        ("webhook", d.webhook_id.0.clone()),
        ("user", d.user_id.0.clone()),
        ("type", d.event_type.clone()),
        ("payload", d.payload.clone()),
        ("status", d.status.as_str().to_owned()),
        ("attempts", d.attempts.to_string()),
        ("retry_base", d.retry_base.to_string()),
        (
            "next",
            d.next_attempt_at
                .map(|t| t.timestamp_micros().to_string())
                .unwrap_or_default(),
        ),
        ("created", d.created_at.timestamp_micros().to_string()),
        ("updated", d.updated_at.timestamp_micros().to_string()),
    ]
}

/// A delivery's hash (`HGETALL`) and its sequence number.
pub fn delivery_from_hash(id: &str, fields: &HashMap<String, String>) -> Option<(i64, Delivery)> {
    Some((
        number(fields, "seq"),
        Delivery {
            id: DeliveryId(id.to_owned()),
            webhook_id: WebhookId(fields.get("webhook")?.clone()),
            user_id: UserId(fields.get("user")?.clone()),
            event_type: fields.get("type")?.clone(),
            payload: fields.get("payload").cloned().unwrap_or_default(),
            status: fields
                .get("status")
                .and_then(|s| DeliveryStatus::parse(s))
                .unwrap_or(DeliveryStatus::Failed),
            attempts: number(fields, "attempts"),
            retry_base: number(fields, "retry_base"),
            next_attempt_at: time_field(fields, "next"),
            created_at: time_field(fields, "created").unwrap_or_default(),
            updated_at: time_field(fields, "updated").unwrap_or_default(),
        },
    ))
}

pub fn attempt_json(a: &DeliveryAttempt) -> Result<String, StoreError> {
    serde_json::to_string(a).map_err(|e| StoreError::Internal(e.to_string()))
}

pub fn attempt_from_json(json: &str) -> Option<DeliveryAttempt> {
    serde_json::from_str(json).ok()
}

/// Leases in Redis: `lease:{id}` holds the owning node, with a TTL.
pub struct RedisLeases {
    conn: ConnectionManager,
    prefix: String,
    node: String,
    ttl: Duration,
    script: Script,
}

impl RedisLeases {
    pub fn new(conn: ConnectionManager, prefix: &str, node: &str, ttl: Duration) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            node: node.to_owned(),
            ttl,
            script: Script::new(include_str!("../scripts/lease.lua")),
        }
    }

    fn call(&self, op: &str) -> redis::ScriptInvocation<'_> {
        let mut inv = self.script.prepare_invoke();
        inv.arg(op)
            .arg(&self.prefix)
            .arg(&self.node)
            .arg(self.ttl.as_millis() as u64);
        inv
    }
}

fn down(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

#[async_trait]
impl Leases for RedisLeases {
    async fn acquire(&self, id: &WebhookId) -> Result<bool, StoreError> {
        let mut inv = self.call("acquire");
        inv.arg(id.as_str());
        let got: i64 = inv
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(down)?;
        Ok(got == 1)
    }

    async fn renew(&self, ids: &[WebhookId]) -> Result<Vec<WebhookId>, StoreError> {
        let mut inv = self.call("renew");
        for id in ids {
            inv.arg(id.as_str());
        }
        let lost: Vec<String> = inv
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(down)?;
        Ok(lost.into_iter().map(WebhookId).collect())
    }

    async fn release(&self, id: &WebhookId) -> Result<(), StoreError> {
        let mut inv = self.call("release");
        inv.arg(id.as_str());
        let _: i64 = inv
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(down)?;
        Ok(())
    }

    fn ttl(&self) -> Duration {
        self.ttl
    }
}
