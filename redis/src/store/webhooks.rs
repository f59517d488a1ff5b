//! Webhook endpoints and their deliveries in hashes the scripts write
//! (`webhook.lua`, `webhook_fn.lua`), all in the owner's slot: what owners
//! manage, and the pending queues, attempts and disabling that delivery
//! actors drive (they know endpoints by id: `{ids}:wh` names each owner,
//! and is the index of every endpoint a starting node loads).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::ids::UserId;
use hub_core::ids::{DeliveryId, WebhookId};
use hub_core::store::{Conflict, Page, StoreError};
use hub_core::time::{from_micros, micros};
use hub_core::webhook::{
    AttemptRecord, Delivery, DeliveryAttempt, DeliveryLog, DeliveryQuery, DeliveryStatus,
    EndpointUpdate, EventType, SigningSecrets, Webhook, WebhookChange, WebhookRecord,
};
use std::collections::HashMap;

use redis::AsyncCommands;

use super::{unavailable, RedisStore, DELIVERY_CHUNK};
use hub_core::store::WebhookStore;
use hub_core::webhook::{WebhookFormat, WebhookStatus};

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
pub(crate) fn events_csv(events: &[EventType]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn events_json(events: &[EventType]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".into())
}

/// The hash of a webhook (`HGETALL`), or `None` if it has no fields.
pub(crate) fn record_from_hash(fields: HashMap<String, String>) -> Option<WebhookRecord> {
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
pub(crate) fn webhook_fields(w: &Webhook, secret: &str) -> Vec<(&'static str, String)> {
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
pub(crate) fn delivery_fields(d: &Delivery) -> Vec<(&'static str, String)> {
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
pub(crate) fn delivery_from_hash(
    id: &str,
    fields: &HashMap<String, String>,
) -> Option<(i64, Delivery)> {
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

pub(crate) fn attempt_json(a: &DeliveryAttempt) -> Result<String, StoreError> {
    serde_json::to_string(a).map_err(|e| StoreError::Internal(e.to_string()))
}

pub(crate) fn attempt_from_json(json: &str) -> Option<DeliveryAttempt> {
    serde_json::from_str(json).ok()
}

impl RedisStore {
    /// A fresh delivery id: `msg_`, the time in µs (so ids sort by
    /// creation) and 16 random hex digits (so they are unique beyond this
    /// hub: receivers deduplicate on them).
    pub(crate) fn delivery_id() -> String {
        format!(
            "msg_{:016x}{}",
            micros(Utc::now()),
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        )
    }

    /// The webhook script with its keys; `op` is its first argument.
    pub(crate) fn webhook_op(&self, op: &str, keys: &[String]) -> redis::ScriptInvocation<'_> {
        let mut inv = self.scripts.webhook.prepare_invoke();
        for key in keys {
            inv.key(key);
        }
        inv.arg(op);
        inv
    }

    /// The owner of an endpoint id, if it is one.
    pub(crate) async fn webhook_owner(&self, id: &WebhookId) -> Result<Option<UserId>, StoreError> {
        self.owner(
            &self.webhook_owners,
            self.keys.webhook_owners(),
            id.as_str(),
        )
        .await
    }

    pub(crate) async fn webhook_hash(
        &self,
        owner: &UserId,
        id: &WebhookId,
    ) -> Result<Option<WebhookRecord>, StoreError> {
        let fields: HashMap<String, String> = self
            .conn()
            .hgetall(self.keys.webhook(owner, id))
            .await
            .map_err(unavailable)?;
        Ok(record_from_hash(fields))
    }

    pub(crate) async fn owned_webhook(
        &self,
        owner: &UserId,
        id: &WebhookId,
    ) -> Result<Option<WebhookRecord>, StoreError> {
        Ok(self
            .webhook_hash(owner, id)
            .await?
            .filter(|r| r.webhook.user_id == *owner))
    }

    pub(crate) async fn delivery_hashes(
        &self,
        owner: &UserId,
        ids: &[String],
    ) -> Result<Vec<(i64, Delivery)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.hgetall(self.keys.delivery(owner, id));
        }
        let hashes: Vec<HashMap<String, String>> = pipe
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(ids
            .iter()
            .zip(hashes.iter())
            .filter_map(|(id, h)| delivery_from_hash(id, h))
            .collect())
    }
}

#[async_trait]
impl WebhookStore for RedisStore {
    async fn create_webhook(
        &self,
        webhook: Webhook,
        secret: String,
        max_per_user: usize,
    ) -> Result<(), StoreError> {
        let user = &webhook.user_id;
        // Indexed first, so no endpoint exists that a node loading every
        // endpoint would miss; a step cut after this leaves an entry whose
        // endpoint is missing, which loading skips and removes.
        self.conn()
            .hset::<_, _, _, ()>(
                self.keys.webhook_owners(),
                webhook.id.as_str(),
                user.as_str(),
            )
            .await
            .map_err(unavailable)?;
        self.webhook_owners.put(webhook.id.as_str(), user);
        let mut inv = self.webhook_op(
            "create",
            &[
                self.keys.webhook(user, &webhook.id),
                self.keys.webhooks_of(user),
                self.keys.webhook_order(user),
                self.keys.active_webhooks_of(user),
            ],
        );
        inv.arg(webhook.id.as_str())
            .arg(webhook.user_id.as_str())
            .arg(max_per_user);
        for (field, value) in webhook_fields(&webhook, &secret) {
            inv.arg(field).arg(value);
        }
        let outcome: String = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        match outcome.as_str() {
            "ok" => Ok(()),
            _ => {
                self.conn()
                    .hdel::<_, _, ()>(self.keys.webhook_owners(), webhook.id.as_str())
                    .await
                    .map_err(unavailable)?;
                Err(StoreError::Conflict(Conflict::WebhookLimit))
            }
        }
    }

    async fn webhook(&self, owner: &UserId, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        Ok(self.owned_webhook(owner, id).await?.map(|r| r.webhook))
    }

    async fn list_webhooks(&self, owner: &UserId) -> Result<Vec<Webhook>, StoreError> {
        let ids: Vec<String> = self
            .conn()
            .zrange(self.keys.webhooks_of(owner), 0, -1)
            .await
            .map_err(unavailable)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = self.owned_webhook(owner, &WebhookId(id)).await? {
                out.push(r.webhook);
            }
        }
        Ok(out)
    }

    async fn update_webhook(
        &self,
        owner: &UserId,
        id: &WebhookId,
        change: WebhookChange,
    ) -> Result<Option<Webhook>, StoreError> {
        let mut inv = self.webhook_op(
            "update",
            &[
                self.keys.webhook(owner, id),
                self.keys.active_webhooks_of(owner),
            ],
        );
        inv.arg(id.as_str())
            .arg(owner.as_str())
            .arg(&change.url)
            .arg(events_json(&change.events))
            .arg(events_csv(&change.events))
            .arg(change.description.clone().unwrap_or_default())
            .arg(micros(change.updated_at))
            .arg(change.format.as_str());
        let done: i64 = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if done == 0 {
            return Ok(None);
        }
        self.webhook(owner, id).await
    }

    async fn delete_webhook(&self, owner: &UserId, id: &WebhookId) -> Result<bool, StoreError> {
        for _ in 0..super::activities::APPEND_ATTEMPTS {
            // Every delivery goes with the endpoint: their keys are read
            // first, and the script refuses if the log changed since.
            let log: Vec<String> = self
                .conn()
                .zrange(self.keys.deliveries_log(owner, id), 0, -1)
                .await
                .map_err(unavailable)?;
            let mut keys = vec![
                self.keys.webhook(owner, id),
                self.keys.webhooks_of(owner),
                self.keys.active_webhooks_of(owner),
                self.keys.deliveries_log(owner, id),
                self.keys.pending_deliveries(owner, id),
            ];
            for did in &log {
                keys.push(self.keys.delivery(owner, did));
                keys.push(self.keys.attempts(owner, did));
            }
            let mut inv = self.webhook_op("delete", &keys);
            inv.arg(id.as_str()).arg(owner.as_str()).arg(log.len());
            let done: redis::Value = inv
                .invoke_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            match done {
                redis::Value::Int(1) => {
                    self.conn()
                        .hdel::<_, _, ()>(self.keys.webhook_owners(), id.as_str())
                        .await
                        .map_err(unavailable)?;
                    return Ok(true);
                }
                redis::Value::Int(_) => return Ok(false),
                _ => continue,
            }
        }
        Err(super::activities::busy())
    }

    async fn webhook_secrets(
        &self,
        owner: &UserId,
        id: &WebhookId,
    ) -> Result<Option<SigningSecrets>, StoreError> {
        Ok(self.owned_webhook(owner, id).await?.map(|r| r.secrets))
    }

    async fn rotate_webhook_secret(
        &self,
        owner: &UserId,
        id: &WebhookId,
        new_secret: String,
        previous_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<SigningSecrets>, StoreError> {
        let mut inv = self.webhook_op("rotate", &[self.keys.webhook(owner, id)]);
        inv.arg(id.as_str())
            .arg(owner.as_str())
            .arg(new_secret)
            .arg(micros(previous_expires_at))
            .arg(micros(now));
        let done: i64 = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if done == 0 {
            return Ok(None);
        }
        self.webhook_secrets(owner, id).await
    }

    async fn enable_webhook(
        &self,
        owner: &UserId,
        id: &WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Option<Webhook>, StoreError> {
        let mut inv = self.webhook_op(
            "enable",
            &[
                self.keys.webhook(owner, id),
                self.keys.active_webhooks_of(owner),
            ],
        );
        inv.arg(id.as_str()).arg(owner.as_str()).arg(micros(now));
        let done: i64 = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if done == 0 {
            return Ok(None);
        }
        self.webhook(owner, id).await
    }

    async fn list_deliveries(
        &self,
        owner: &UserId,
        webhook: &WebhookId,
        query: DeliveryQuery,
    ) -> Result<Page<DeliveryLog>, StoreError> {
        let empty = Page {
            items: Vec::new(),
            next_cursor: None,
        };
        if self.owned_webhook(owner, webhook).await?.is_none() {
            return Ok(empty);
        }
        let index = self.keys.deliveries_log(owner, webhook);
        let mut max = match query.cursor.as_deref().and_then(|c| c.parse::<i64>().ok()) {
            Some(c) => format!("({c}"),
            None => "+inf".to_owned(),
        };
        let mut rows: Vec<(i64, Delivery)> = Vec::new();
        loop {
            let ids: Vec<String> = self
                .conn()
                .zrevrangebyscore_limit(&index, &max, "-inf", 0, DELIVERY_CHUNK)
                .await
                .map_err(unavailable)?;
            let exhausted = (ids.len() as isize) < DELIVERY_CHUNK;
            let found = self.delivery_hashes(owner, &ids).await?;
            let last = found.last().map(|(seq, _)| *seq);
            rows.extend(
                found
                    .into_iter()
                    .filter(|(_, d)| query.status.is_none_or(|s| s == d.status)),
            );
            match last {
                Some(last) if rows.len() <= query.limit && !exhausted => max = format!("({last}"),
                _ => break,
            }
        }
        let next_cursor = if rows.len() > query.limit {
            rows.truncate(query.limit);
            rows.last().map(|(seq, _)| seq.to_string())
        } else {
            None
        };
        let mut items = Vec::with_capacity(rows.len());
        for (_, d) in rows {
            let attempts: Vec<String> = self
                .conn()
                .lrange(self.keys.attempts(owner, d.id.as_str()), 0, -1)
                .await
                .map_err(unavailable)?;
            items.push(DeliveryLog {
                id: d.id,
                event_type: d.event_type,
                status: d.status,
                attempt_count: d.attempts,
                next_attempt_at: d
                    .next_attempt_at
                    .filter(|_| d.status == DeliveryStatus::Pending),
                created_at: d.created_at,
                updated_at: d.updated_at,
                body: d.payload,
                attempts: attempts
                    .iter()
                    .filter_map(|a| attempt_from_json(a))
                    .collect(),
            });
        }
        Ok(Page { items, next_cursor })
    }

    async fn retry_delivery(
        &self,
        owner: &UserId,
        webhook: &WebhookId,
        delivery: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>, StoreError> {
        let mut inv = self.webhook_op(
            "retry",
            &[
                self.keys.webhook(owner, webhook),
                self.keys.delivery(owner, delivery.as_str()),
                self.keys.pending_deliveries(owner, webhook),
            ],
        );
        inv.arg(webhook.as_str())
            .arg(owner.as_str())
            .arg(delivery.as_str())
            .arg(micros(now));
        let done: i64 = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if done == 0 {
            return Ok(None);
        }
        Ok(self
            .delivery_hashes(owner, std::slice::from_ref(&delivery.0))
            .await?
            .pop()
            .map(|(_, d)| d))
    }

    async fn webhook_record(&self, id: &WebhookId) -> Result<Option<WebhookRecord>, StoreError> {
        match self.webhook_owner(id).await? {
            Some(owner) => self.webhook_hash(&owner, id).await,
            None => Ok(None),
        }
    }

    async fn active_webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError> {
        let owners: Vec<(String, String)> = self
            .conn()
            .hgetall(self.keys.webhook_owners())
            .await
            .map_err(unavailable)?;
        let mut out = Vec::with_capacity(owners.len());
        for (id, owner) in owners {
            let id = WebhookId(id);
            let owner = UserId(owner);
            self.webhook_owners.put(id.as_str(), &owner);
            match self.webhook_hash(&owner, &id).await? {
                Some(r) if r.webhook.status == WebhookStatus::Active => out.push(r),
                Some(_) => {}
                None => {
                    // Left by a creation cut short (or a deletion after its
                    // endpoint went): it leads nowhere.
                    self.conn()
                        .hdel::<_, _, ()>(self.keys.webhook_owners(), id.as_str())
                        .await
                        .map_err(unavailable)?;
                }
            }
        }
        out.sort_by_key(|r| r.webhook.created_at);
        Ok(out)
    }

    async fn pending_deliveries(
        &self,
        webhook: &WebhookId,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<Delivery>, StoreError> {
        let min = match cursor.and_then(|c| c.parse::<i64>().ok()) {
            Some(c) => format!("({c}"),
            None => "-inf".to_owned(),
        };
        let Some(owner) = self.webhook_owner(webhook).await? else {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        let ids: Vec<String> = self
            .conn()
            .zrangebyscore_limit(
                self.keys.pending_deliveries(&owner, webhook),
                min,
                "+inf",
                0,
                limit as isize + 1,
            )
            .await
            .map_err(unavailable)?;
        let mut rows: Vec<(i64, Delivery)> = self
            .delivery_hashes(&owner, &ids)
            .await?
            .into_iter()
            .filter(|(_, d)| d.status == DeliveryStatus::Pending)
            .collect();
        let more = ids.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|(seq, _)| seq.to_string())
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(|(_, d)| d).collect(),
            next_cursor,
        })
    }

    async fn record_attempt(&self, record: AttemptRecord) -> Result<(), StoreError> {
        let a = &record.attempt;
        let Some(owner) = self.webhook_owner(&record.webhook_id).await? else {
            // Deleted with its endpoint.
            return Ok(());
        };
        let (did, webhook) = (record.delivery_id.as_str(), &record.webhook_id);
        let mut inv = self.webhook_op(
            "attempt",
            &[
                self.keys.delivery(&owner, did),
                self.keys.attempts(&owner, did),
                self.keys.pending_deliveries(&owner, webhook),
                self.keys.webhook(&owner, webhook),
                self.keys.active_webhooks_of(&owner),
            ],
        );
        inv.arg(record.webhook_id.as_str())
            .arg(record.delivery_id.as_str())
            .arg(a.attempt)
            .arg(attempt_json(a)?)
            .arg(record.status.as_str())
            .arg(
                a.next_attempt_at
                    .map(|t| micros(t).to_string())
                    .unwrap_or_default(),
            )
            .arg(micros(a.attempted_at));
        endpoint_args(&mut inv, a, &record.endpoint);
        let _: i64 = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn enqueue_event(
        &self,
        user: &UserId,
        event: EventType,
        payload: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut flat: Option<Vec<String>> = None;
        for _ in 0..super::activities::APPEND_ATTEMPTS {
            let hooks = self.hooks_for(user, event.as_str(), false).await?;
            let mut keys = vec![
                self.keys.active_webhooks_of(user),
                self.keys.delivery_order(user),
            ];
            for (webhook, did) in &hooks {
                let webhook = WebhookId(webhook.clone());
                keys.push(self.keys.delivery(user, did));
                keys.push(self.keys.deliveries_log(user, &webhook));
                keys.push(self.keys.pending_deliveries(user, &webhook));
            }
            let mut inv = self.webhook_op("event", &keys);
            inv.arg(user.as_str())
                .arg(event.as_str())
                .arg(&payload)
                .arg(micros(at))
                .arg(&self.node_id)
                .arg(self.keys.webhook_channel());
            Self::hook_args(&mut inv, &hooks);
            let reply: redis::Value = inv
                .invoke_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            if let redis::Value::Array(_) = reply {
                flat = Some(redis::from_redis_value(&reply).map_err(unavailable)?);
                break;
            }
        }
        let flat = flat.ok_or_else(super::activities::busy)?;
        let deliveries = pending_from_script(&flat, user, event.as_str(), &payload, at);
        if !deliveries.is_empty() {
            self.sink.deliveries_committed(&deliveries);
        }
        Ok(deliveries)
    }

    async fn record_test_delivery(
        &self,
        delivery: Delivery,
        attempt: DeliveryAttempt,
        endpoint: EndpointUpdate,
    ) -> Result<(), StoreError> {
        let (owner, webhook, did) = (
            &delivery.user_id,
            &delivery.webhook_id,
            delivery.id.as_str(),
        );
        let mut inv = self.webhook_op(
            "test",
            &[
                self.keys.webhook(owner, webhook),
                self.keys.delivery_order(owner),
                self.keys.delivery(owner, did),
                self.keys.deliveries_log(owner, webhook),
                self.keys.attempts(owner, did),
                self.keys.active_webhooks_of(owner),
            ],
        );
        inv.arg(delivery.webhook_id.as_str())
            .arg(delivery.id.as_str())
            .arg(attempt_json(&attempt)?);
        endpoint_args(&mut inv, &attempt, &endpoint);
        for (field, value) in delivery_fields(&delivery) {
            inv.arg(field).arg(value);
        }
        let _: i64 = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

/// The pending deliveries a script stored, from its flat answer
/// (`delivery, webhook, ...`), all carrying the same body.
pub(crate) fn pending_from_script(
    flat: &[String],
    user: &UserId,
    kind: &str,
    payload: &str,
    at: DateTime<Utc>,
) -> Vec<Delivery> {
    flat.chunks_exact(2)
        .map(|pair| {
            Delivery::pending(
                DeliveryId(pair[0].clone()),
                WebhookId(pair[1].clone()),
                user.clone(),
                kind,
                payload.to_owned(),
                at,
            )
        })
        .collect()
}

/// The endpoint part of an attempt's script arguments: last time, last
/// status code, failure count ('' leaves it) and disabling reason ('').
pub(crate) fn endpoint_args(
    inv: &mut redis::ScriptInvocation<'_>,
    a: &DeliveryAttempt,
    e: &EndpointUpdate,
) {
    inv.arg(micros(a.attempted_at))
        .arg(a.status_code.map(|c| c.to_string()).unwrap_or_default())
        .arg(
            e.consecutive_failures
                .map(|f| f.to_string())
                .unwrap_or_default(),
        )
        .arg(e.disable_reason.clone().unwrap_or_default());
}
