//! Activities and the resume history: the ordered append (one script that
//! stores, indexes, counts, enqueues deliveries and publishes), lists,
//! export scans and replays.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::analytics::CountedMetric;
use hub_core::ids::{ActivityId, UserId};
use hub_core::model::{Activity, IdempotencyKey, NewActivity};
use hub_core::store::ActivityScan;
use hub_core::store::{ActivityQuery, AppendOutcome, HistoryWindow, Page, Replay, StoreError};
use hub_core::time::micros;

use redis::{AsyncCommands, Value};

use hub_core::store::ActivityStore;

use super::analytics::counter_args;
use super::webhooks::pending_from_script;
use super::{unavailable, RedisStore, IDEMPOTENCY_TTL_SECS, SCAN_CHUNK};

pub(crate) fn parse_activity(json: &str) -> Result<Activity, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Internal(format!("bad activity JSON: {e}")))
}

/// The activity's JSON after its id value: the script prepends `{"id":"<id>`.
pub(crate) fn activity_tail(a: &NewActivity) -> Result<String, StoreError> {
    let template = Activity {
        id: ActivityId(String::new()),
        user_id: a.user_id.clone(),
        kind: a.kind,
        title: a.title.clone(),
        message: a.message.clone(),
        metadata: a.metadata.clone(),
        link: a.link.clone(),
        created_at: a.created_at,
    };
    let json = serde_json::to_string(&template).map_err(|e| StoreError::Internal(e.to_string()))?;
    json.strip_prefix("{\"id\":\"")
        .map(str::to_owned)
        .ok_or_else(|| StoreError::Internal("activity JSON does not start with its id".into()))
}

impl RedisStore {
    /// The deliveries an append created, rebuilt from the script's answer
    /// (`delivery, webhook, ...`) to be announced to the local registry.
    ///
    /// `json` is the activity exactly as the script stored it: the payload
    /// is built around those bytes, as the script built the stored one, so
    /// the first attempt and every retry after a restart sign the same body.
    pub(crate) fn announce(&self, stored: &Activity, json: &str, flat: &[String]) {
        if let Some(seq) = stored.id.seq() {
            self.ids_seen.fetch_max(seq, Ordering::Relaxed);
        }
        if flat.len() < 2 {
            return;
        }
        let kind = stored.kind.as_str();
        let payload = hub_core::webhook::envelope_raw(kind, stored.created_at, json);
        let deliveries =
            pending_from_script(flat, &stored.user_id, kind, &payload, stored.created_at);
        self.sink.deliveries_committed(&deliveries);
    }

    pub(crate) async fn activities_by_seq(
        &self,
        seqs: &[i64],
    ) -> Result<Vec<Activity>, StoreError> {
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = seqs.iter().map(|s| self.keys.activity(*s)).collect();
        let jsons: Vec<Option<String>> = self.conn().mget(keys).await.map_err(unavailable)?;
        jsons
            .into_iter()
            .flatten()
            .map(|j| parse_activity(&j))
            .collect()
    }
}

#[async_trait]
impl ActivityStore for RedisStore {
    async fn append_activity(
        &self,
        activity: NewActivity,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<AppendOutcome, StoreError> {
        let tail = activity_tail(&activity)?;
        let (hour, metrics) = counter_args(&activity);
        let (key, fingerprint) = idempotency
            .map(|i| (i.key, i.fingerprint))
            .unwrap_or_default();
        let reply: Vec<String> = self
            .scripts
            .append
            .arg(self.keys.prefix())
            .arg(activity.user_id.as_str())
            .arg(activity.kind.as_str())
            .arg(tail)
            .arg(self.history_size)
            .arg(key)
            .arg(fingerprint)
            .arg(IDEMPOTENCY_TTL_SECS)
            .arg(hub_core::time::format(&activity.created_at))
            .arg(micros(activity.created_at))
            .arg(Self::delivery_base())
            .arg(&self.node_id)
            .arg(hour)
            .arg(metrics)
            .arg(CountedMetric::COUNT)
            .arg(self.highest_seen())
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        match (reply.first().map(String::as_str), reply.get(1)) {
            (Some("created"), Some(json)) => {
                let stored = parse_activity(json)?;
                self.sink.activity_committed(&stored);
                self.announce(&stored, json, &reply[2..]);
                Ok(AppendOutcome::Created(stored))
            }
            (Some("replayed"), Some(json)) => Ok(AppendOutcome::Replayed(parse_activity(json)?)),
            (Some("reused"), _) => Ok(AppendOutcome::KeyReused),
            other => Err(StoreError::Internal(format!(
                "append script answered {other:?}"
            ))),
        }
    }

    async fn append_activities(
        &self,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<Activity>, StoreError> {
        if activities.is_empty() {
            return Ok(Vec::new());
        }
        let mut inv = self.scripts.append_many.prepare_invoke();
        inv.arg(self.keys.prefix())
            .arg(self.history_size)
            .arg(&self.node_id)
            .arg(CountedMetric::COUNT)
            .arg(self.highest_seen());
        for a in &activities {
            let (hour, metrics) = counter_args(a);
            inv.arg(a.user_id.as_str())
                .arg(a.kind.as_str())
                .arg(activity_tail(a)?)
                .arg(hub_core::time::format(&a.created_at))
                .arg(micros(a.created_at))
                .arg(Self::delivery_base())
                .arg(hour)
                .arg(metrics);
        }
        let reply: Vec<String> = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let mut stored = Vec::with_capacity(activities.len());
        for pair in reply.chunks(2) {
            let activity = parse_activity(&pair[0])?;
            self.sink.activity_committed(&activity);
            let deliveries: Vec<String> = pair
                .get(1)
                .filter(|d| !d.is_empty())
                .map(|d| d.split(',').map(str::to_owned).collect())
                .unwrap_or_default();
            self.announce(&activity, &pair[0], &deliveries);
            stored.push(activity);
        }
        Ok(stored)
    }

    async fn scan_activities(
        &self,
        user: &UserId,
        scan: ActivityScan,
    ) -> Result<Vec<Activity>, StoreError> {
        let index = self.keys.activities_of(user);
        let mut min = match scan.after.as_ref().and_then(ActivityId::seq) {
            Some(after) => format!("({after}"),
            None => "-inf".to_owned(),
        };
        let mut items = Vec::new();
        while items.len() < scan.limit {
            let seqs: Vec<i64> = self
                .conn()
                .zrangebyscore_limit(&index, &min, "+inf", 0, SCAN_CHUNK)
                .await
                .map_err(unavailable)?;
            let Some(last) = seqs.last().copied() else {
                break;
            };
            for a in self.activities_by_seq(&seqs).await? {
                let kind_ok = scan.kinds.is_empty() || scan.kinds.contains(&a.kind);
                let since_ok = scan.since.is_none_or(|s| a.created_at >= s);
                let until_ok = scan.until.is_none_or(|u| a.created_at < u);
                if kind_ok && since_ok && until_ok && items.len() < scan.limit {
                    items.push(a);
                }
            }
            if (seqs.len() as isize) < SCAN_CHUNK {
                break;
            }
            min = format!("({last}");
        }
        Ok(items)
    }

    async fn activity(&self, id: &ActivityId) -> Result<Option<Activity>, StoreError> {
        let Some(seq) = id.seq() else { return Ok(None) };
        let json: Option<String> = self
            .conn()
            .get(self.keys.activity(seq))
            .await
            .map_err(unavailable)?;
        json.map(|j| parse_activity(&j)).transpose()
    }

    async fn list_activities(
        &self,
        user: &UserId,
        query: ActivityQuery,
    ) -> Result<Page<Activity>, StoreError> {
        let index = match query.kind {
            Some(kind) => self.keys.activities_of_type(user, kind.as_str()),
            None => self.keys.activities_of(user),
        };
        let mut max = match query.before.as_ref().and_then(ActivityId::seq) {
            Some(before) => format!("({before}"),
            None => "+inf".to_owned(),
        };
        let mut items = Vec::new();
        let filtered = query.since.is_some() || query.until.is_some();
        loop {
            let chunk = if filtered {
                SCAN_CHUNK
            } else {
                query.limit as isize + 1
            };
            let seqs: Vec<i64> = self
                .conn()
                .zrevrangebyscore_limit(&index, &max, "-inf", 0, chunk)
                .await
                .map_err(unavailable)?;
            let exhausted = (seqs.len() as isize) < chunk;
            let Some(last) = seqs.last().copied() else {
                break;
            };
            for a in self.activities_by_seq(&seqs).await? {
                let after_since = query.since.is_none_or(|s| a.created_at >= s);
                let before_until = query.until.is_none_or(|u| a.created_at < u);
                if after_since && before_until {
                    items.push(a);
                }
            }
            if items.len() > query.limit || exhausted {
                break;
            }
            max = format!("({last}");
        }
        let next_cursor = if items.len() > query.limit {
            items.truncate(query.limit);
            items.last().map(|a| a.id.0.clone())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn replay_after(
        &self,
        user: &UserId,
        after: &ActivityId,
        window: HistoryWindow,
        now: DateTime<Utc>,
    ) -> Result<Replay, StoreError> {
        let after = after.seq().unwrap_or(0);
        let stream = self.keys.history(user);
        let entries: Value = redis::cmd("XRANGE")
            .arg(&stream)
            .arg(format!("(0-{after}"))
            .arg("+")
            .arg("COUNT")
            .arg(window.max_events)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let mut events = Vec::new();
        if let Value::Array(entries) = entries {
            for entry in entries {
                // [id, [field, value]]
                if let Value::Array(parts) = entry {
                    if let Some(Value::Array(fields)) = parts.get(1) {
                        if let Some(Value::BulkString(json)) = fields.get(1) {
                            events.push(parse_activity(&String::from_utf8_lossy(json))?);
                        }
                    }
                }
            }
        }
        let cutoff = now - window.max_age;
        let before_age = events.len();
        events.retain(|a| a.created_at >= cutoff);
        let aged_out = events.len() < before_age;
        // Events between `after` and the oldest one the stream still holds
        // have been trimmed away.
        let first_held = match events.first() {
            Some(a) => a.id.seq().unwrap_or(0),
            None => i64::MAX,
        };
        let missing: i64 = if first_held > after + 1 {
            let upper = if first_held == i64::MAX {
                "+inf".to_owned()
            } else {
                format!("({first_held}")
            };
            self.conn()
                .zcount(self.keys.activities_of(user), format!("({after}"), upper)
                .await
                .map_err(unavailable)?
        } else {
            0
        };
        Ok(Replay {
            events,
            complete: missing == 0 && !aged_out,
        })
    }
}
