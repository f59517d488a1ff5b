//! Activities and the resume history: the ordered append (an id from the
//! global counter, then one script in the user's slot that checks the order,
//! stores, indexes, counts, enqueues deliveries and publishes), lists,
//! export scans and replays.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::analytics::CountedMetric;
use hub_core::ids::{ActivityId, UserId, WebhookId};
use hub_core::model::{Activity, IdempotencyKey, NewActivity};
use hub_core::store::ActivityScan;
use hub_core::store::{ActivityQuery, AppendOutcome, HistoryWindow, Page, Replay, StoreError};
use hub_core::time::micros;

use redis::{AsyncCommands, Value};

use hub_core::store::ActivityStore;

use super::analytics::counter_args;
use super::webhooks::pending_from_script;
use super::{unavailable, RedisStore, IDEMPOTENCY_TTL_SECS, SCAN_CHUNK, USER_PUBLISH};
use crate::keys::OWNER_BUCKET;

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

/// How many times an append takes a new id or re-reads the user's endpoints
/// before it gives up (each retry means another node appended for the same
/// user, or an endpoint changed, in between).
pub(crate) const APPEND_ATTEMPTS: usize = 64;

/// What the append function needs besides its keys: one activity's
/// arguments, in the order the scripts take them.
pub(crate) struct Prepared {
    pub seq: i64,
    pub kind: &'static str,
    pub tail: String,
    pub ts: String,
    pub created: i64,
    pub hour: i64,
    pub metrics: String,
    /// The endpoints it goes to and the id of each delivery.
    pub hooks: Vec<(String, String)>,
    /// acts, acts_type, hist, an, whactive, dseq, act, then dl, dlw, dlp
    /// per delivery.
    pub keys: Vec<String>,
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

    /// Takes one activity id per owner from the global counter (ascending,
    /// in `owners` order) and records each id's owner. Returns the first.
    pub(crate) async fn take_ids(&self, owners: &[&UserId]) -> Result<i64, StoreError> {
        let n = owners.len() as i64;
        let floor = self.highest_seen();
        // The buckets the ids will most likely fall in: declared, so the
        // script touches nothing it did not name.
        let b0 = (floor + 1).div_euclid(OWNER_BUCKET);
        let b1 = (floor + n + 64).div_euclid(OWNER_BUCKET);
        let mut inv = self.scripts.alloc.prepare_invoke();
        inv.key(self.keys.sequence());
        for b in b0..=b1 {
            inv.key(self.keys.activity_owners(b));
        }
        inv.arg(n).arg(floor).arg(OWNER_BUCKET).arg(b0);
        for owner in owners {
            inv.arg(owner.as_str());
        }
        // Not waited for on its own: the append's own wait for replicas
        // covers every write before it, this one included.
        let (last, all): (i64, i64) = inv
            .invoke_async(&mut self.conn().plain())
            .await
            .map_err(unavailable)?;
        let first = last - n + 1;
        if all == 0 {
            // Another node took many ids meanwhile: record the owners with
            // one command per bucket.
            let mut by_bucket: std::collections::BTreeMap<i64, Vec<(i64, &str)>> =
                Default::default();
            for (i, owner) in owners.iter().enumerate() {
                let seq = first + i as i64;
                by_bucket
                    .entry(seq.div_euclid(OWNER_BUCKET))
                    .or_default()
                    .push((seq, owner.as_str()));
            }
            for (bucket, pairs) in by_bucket {
                self.conn()
                    .hset_multiple::<_, _, _, ()>(self.keys.activity_owners(bucket), &pairs)
                    .await
                    .map_err(unavailable)?;
            }
        }
        self.ids_seen.fetch_max(last, Ordering::Relaxed);
        Ok(first)
    }

    /// A user already holds id `top`: the next ids taken start above it
    /// (a counter that lost writes jumps past it in one step).
    pub(crate) fn raise_seen(&self, top: Option<&String>) {
        if let Some(top) = top.and_then(|t| t.parse::<i64>().ok()) {
            self.ids_seen.fetch_max(top, Ordering::Relaxed);
        }
    }

    /// The user's active endpoints that want events of `kind`, each with a
    /// fresh delivery id. `activity`: an activity (an endpoint with no list
    /// takes every activity) or another event (only endpoints naming it).
    pub(crate) async fn hooks_for(
        &self,
        user: &UserId,
        kind: &str,
        activity: bool,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let active: Vec<(String, String)> = self
            .conn()
            .hgetall(self.keys.active_webhooks_of(user))
            .await
            .map_err(unavailable)?;
        Ok(active
            .into_iter()
            .filter(|(_, events)| {
                (activity && events.is_empty()) || events.split(',').any(|e| e == kind)
            })
            .map(|(webhook, _)| (webhook, Self::delivery_id()))
            .collect())
    }

    /// The append function's arguments and keys for `a` with id `seq`.
    pub(crate) fn prepare(
        &self,
        a: &NewActivity,
        seq: i64,
        hooks: Vec<(String, String)>,
    ) -> Result<Prepared, StoreError> {
        let u = &a.user_id;
        let (hour, metrics) = counter_args(a);
        let mut keys = vec![
            self.keys.activities_of(u),
            self.keys.activities_of_type(u, a.kind.as_str()),
            self.keys.history(u),
            self.keys.counters(u, hour.div_euclid(512)),
            self.keys.active_webhooks_of(u),
            self.keys.delivery_order(u),
            self.keys.activity(u, seq),
        ];
        for (webhook, did) in &hooks {
            let webhook = WebhookId(webhook.clone());
            keys.push(self.keys.delivery(u, did));
            keys.push(self.keys.deliveries_log(u, &webhook));
            keys.push(self.keys.pending_deliveries(u, &webhook));
        }
        Ok(Prepared {
            seq,
            kind: a.kind.as_str(),
            tail: activity_tail(a)?,
            ts: hub_core::time::format(&a.created_at),
            created: micros(a.created_at),
            hour,
            metrics,
            hooks,
            keys,
        })
    }

    /// On a cluster, an activity id for `user` and the endpoints that want
    /// `kind` (one round trip); off a cluster the script finds both itself.
    pub(crate) async fn id_and_hooks(
        &self,
        user: &UserId,
        kind: &str,
    ) -> Result<(i64, Vec<(String, String)>), StoreError> {
        if self.inline {
            return Ok((0, Vec::new()));
        }
        futures_util::try_join!(
            self.take_ids(std::slice::from_ref(&user)),
            self.hooks_for(user, kind, true)
        )
    }

    /// The end of an append's arguments: off a cluster, what the script
    /// needs to take the id and find the endpoints itself; else the
    /// endpoints found.
    pub(crate) fn id_and_hook_args(
        &self,
        inv: &mut redis::ScriptInvocation<'_>,
        user: &UserId,
        hooks: &[(String, String)],
    ) {
        if self.inline {
            inv.arg(-1)
                .arg(self.keys.prefix())
                .arg(self.keys.user_base(user))
                .arg(&uuid::Uuid::new_v4().simple().to_string()[..14])
                .arg(self.highest_seen());
        } else {
            Self::hook_args(inv, hooks);
        }
    }

    /// The hooks as the scripts take them: count, then webhook, id pairs.
    pub(crate) fn hook_args(inv: &mut redis::ScriptInvocation<'_>, hooks: &[(String, String)]) {
        inv.arg(hooks.len());
        for (webhook, did) in hooks {
            inv.arg(webhook).arg(did);
        }
    }

    pub(crate) async fn activities_by_seq(
        &self,
        user: &UserId,
        seqs: &[i64],
    ) -> Result<Vec<Activity>, StoreError> {
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = seqs.iter().map(|s| self.keys.activity(user, *s)).collect();
        let jsons: Vec<Option<String>> = self.conn().mget(keys).await.map_err(unavailable)?;
        jsons
            .into_iter()
            .flatten()
            .map(|j| parse_activity(&j))
            .collect()
    }

    /// Bulk appends of one user, as one step.
    async fn append_user_batch(
        &self,
        user: &UserId,
        batch: &[&NewActivity],
    ) -> Result<Vec<Activity>, StoreError> {
        for _ in 0..APPEND_ATTEMPTS {
            let owners = vec![user; batch.len()];
            let first = self.take_ids(&owners).await?;
            let mut inv = self.scripts.append_many.prepare_invoke();
            inv.arg(user.as_str())
                .arg(self.history_size)
                .arg(&self.node_id)
                .arg(CountedMetric::COUNT)
                .arg(self.keys.user_channel(user))
                .arg(USER_PUBLISH)
                .arg(self.keys.webhook_channel());
            let mut hooks_by_kind: std::collections::HashMap<&str, Vec<String>> =
                Default::default();
            let mut requested = Vec::with_capacity(batch.len());
            for (i, a) in batch.iter().enumerate() {
                let kind = a.kind.as_str();
                if !hooks_by_kind.contains_key(kind) {
                    let hooks = self.hooks_for(user, kind, true).await?;
                    hooks_by_kind.insert(kind, hooks.into_iter().map(|(w, _)| w).collect());
                }
                let hooks = hooks_by_kind[kind]
                    .iter()
                    .map(|w| (w.clone(), Self::delivery_id()))
                    .collect();
                let p = self.prepare(a, first + i as i64, hooks)?;
                requested.push(p.hooks.clone());
                for key in &p.keys {
                    inv.key(key);
                }
                inv.arg(p.seq)
                    .arg(p.kind)
                    .arg(&p.tail)
                    .arg(&p.ts)
                    .arg(p.created)
                    .arg(p.hour)
                    .arg(&p.metrics);
                Self::hook_args(&mut inv, &p.hooks);
            }
            let reply: Vec<String> = inv
                .invoke_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            match reply.first().map(String::as_str) {
                Some("created") => {}
                Some("done") => {
                    // Sent twice; the first run stored them all with the
                    // deliveries asked for.
                    let mut stored = Vec::with_capacity(batch.len());
                    for (json, hooks) in reply[1..].iter().zip(&requested) {
                        let activity = parse_activity(json)?;
                        self.sink.activity_committed(&activity);
                        self.announce(&activity, json, &flat_hooks(hooks));
                        stored.push(activity);
                    }
                    return Ok(stored);
                }
                Some("stale") => {
                    self.raise_seen(reply.get(1));
                    continue;
                }
                Some("again") => continue,
                other => {
                    return Err(StoreError::Internal(format!(
                        "bulk append script answered {other:?}"
                    )))
                }
            }
            let mut stored = Vec::with_capacity(batch.len());
            for pair in reply[1..].chunks(2) {
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
            return Ok(stored);
        }
        Err(busy())
    }
}

/// `(webhook, delivery)` pairs as the scripts answer them: delivery, webhook.
pub(crate) fn flat_hooks(hooks: &[(String, String)]) -> Vec<String> {
    hooks
        .iter()
        .flat_map(|(webhook, did)| [did.clone(), webhook.clone()])
        .collect()
}

/// Too many nodes appended for the same user at once: 503, nothing stored.
pub(crate) fn busy() -> StoreError {
    StoreError::Unavailable("the append kept meeting concurrent changes".into())
}

#[async_trait]
impl ActivityStore for RedisStore {
    async fn append_activity(
        &self,
        activity: NewActivity,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<AppendOutcome, StoreError> {
        let user = &activity.user_id;
        let (idem, key, fingerprint) = match idempotency {
            Some(i) => (1, i.key, i.fingerprint),
            None => (0, String::new(), String::new()),
        };
        let idem_key = self.keys.idempotency(user, &key);
        for _ in 0..APPEND_ATTEMPTS {
            let (seq, hooks) = self.id_and_hooks(user, activity.kind.as_str()).await?;
            let p = self.prepare(&activity, seq, hooks)?;
            let mut inv = self.scripts.append.prepare_invoke();
            for key in &p.keys[..7] {
                inv.key(key);
            }
            inv.key(&idem_key);
            for key in &p.keys[7..] {
                inv.key(key);
            }
            inv.arg(p.seq)
                .arg(user.as_str())
                .arg(p.kind)
                .arg(&p.tail)
                .arg(self.history_size)
                .arg(idem)
                .arg(&fingerprint)
                .arg(IDEMPOTENCY_TTL_SECS)
                .arg(&p.ts)
                .arg(p.created)
                .arg(&self.node_id)
                .arg(p.hour)
                .arg(&p.metrics)
                .arg(CountedMetric::COUNT)
                .arg(self.keys.user_channel(user))
                .arg(USER_PUBLISH)
                .arg(self.keys.webhook_channel());
            self.id_and_hook_args(&mut inv, user, &p.hooks);
            let reply: Vec<String> = inv
                .invoke_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            return match (reply.first().map(String::as_str), reply.get(1)) {
                (Some("created"), Some(json)) => {
                    let stored = parse_activity(json)?;
                    self.sink.activity_committed(&stored);
                    self.announce(&stored, json, &reply[2..]);
                    Ok(AppendOutcome::Created(stored))
                }
                (Some("replayed"), Some(json)) => {
                    Ok(AppendOutcome::Replayed(parse_activity(json)?))
                }
                (Some("done"), Some(json)) => {
                    // Sent twice; the first run stored it with the
                    // deliveries asked for.
                    let stored = parse_activity(json)?;
                    self.sink.activity_committed(&stored);
                    self.announce(&stored, json, &flat_hooks(&p.hooks));
                    Ok(AppendOutcome::Created(stored))
                }
                (Some("reused"), _) => Ok(AppendOutcome::KeyReused),
                (Some("stale"), top) => {
                    self.raise_seen(top);
                    continue;
                }
                (Some("again"), _) => continue,
                other => Err(StoreError::Internal(format!(
                    "append script answered {other:?}"
                ))),
            };
        }
        Err(busy())
    }

    /// Each user's part is one atomic step, in the order given; on Redis
    /// Cluster the users' parts are separate steps (their slots differ).
    async fn append_activities(
        &self,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<Activity>, StoreError> {
        // Consecutive runs of one user keep the overall order of ids.
        let mut stored = Vec::with_capacity(activities.len());
        let mut start = 0;
        while start < activities.len() {
            let user = &activities[start].user_id;
            let end = activities[start..]
                .iter()
                .position(|a| a.user_id != *user)
                .map_or(activities.len(), |n| start + n);
            let batch: Vec<&NewActivity> = activities[start..end].iter().collect();
            stored.extend(self.append_user_batch(user, &batch).await?);
            start = end;
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
            for a in self.activities_by_seq(user, &seqs).await? {
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
        let owner: Option<String> = self
            .conn()
            .hget(self.keys.activity_owners(seq.div_euclid(OWNER_BUCKET)), seq)
            .await
            .map_err(unavailable)?;
        let Some(owner) = owner else { return Ok(None) };
        let json: Option<String> = self
            .conn()
            .get(self.keys.activity(&UserId(owner), seq))
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
            for a in self.activities_by_seq(user, &seqs).await? {
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
