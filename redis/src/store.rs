//! The Redis implementation of [`Store`]: the store of record in cluster mode.
//!
//! Every operation that must be atomic is one Lua script (`redis/scripts/`).
//! Appending an activity assigns its id from one global counter, stores and
//! indexes it, adds it to the user's resume stream and PUBLISHes the frame in
//! the same script, so every node sees a user's events in id order.
//!
//! Key layout, under the configured prefix `p`:
//! - `p user:{id}` hash, `p email:{lower}` → id
//! - `p rt:{jti}` refresh token hash, `p rtrev:{family}` revoked marker
//! - `p seq` activity counter, `p act:{seq}` activity JSON,
//!   `p acts:{user}` and `p acts:{user}:{type}` sorted sets of seqs,
//!   `p hist:{user}` stream (ids `0-{seq}`), `p idem:{user}:{key}`
//! - `p task:{id}` hash, `p tasks:{user}` sorted set, `p tseq` counter
//! - `p pat:{id}` personal access token hash, `p pat_hash:{sha256}` → id,
//!   `p pats:{user}` sorted set of ids by creation time
//! - channels `p ch:user:{id}` and `p ch:broadcast`

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::analytics::{metrics_of, CountedMetric, HourlyCounts, MetricCounts};
use hub_core::ids::{ActivityId, TaskId, TokenId, UserId};
use hub_core::ids::{DeliveryId, WebhookId};
use hub_core::model::{Activity, IdempotencyKey, NewActivity, Task, User, UserRecord};
use hub_core::store::ActivityScan;
use hub_core::store::{
    ActivityQuery, AppendOutcome, Conflict, HistoryWindow, NewUser, Page, PersonalToken,
    PersonalTokenRecord, PortalGrant, RefreshTokenRecord, Replay, RotateOutcome, Store, StoreError,
    TaskChange, TaskQuery, TokenScope,
};
use hub_core::time::{from_micros, micros};
use hub_core::webhook::{
    AttemptRecord, Delivery, DeliveryAttempt, DeliveryLog, DeliveryQuery, DeliveryStatus,
    EndpointUpdate, EventType, SigningSecrets, Webhook, WebhookChange, WebhookRecord,
};
use hub_core::EventSink;
use std::collections::HashMap;

use crate::webhooks;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script, Value};

/// How long one Redis command may take before the call counts as failed.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Idempotency keys live this long.
const IDEMPOTENCY_TTL_SECS: u64 = 24 * 3600;
/// Activities read per round trip when a list filters by time.
const SCAN_CHUNK: isize = 200;

const APPEND_FN: &str = include_str!("../scripts/append_fn.lua");
const WEBHOOK_FN: &str = include_str!("../scripts/webhook_fn.lua");
/// Deliveries shown per page of the log at most, and read per round trip.
const DELIVERY_CHUNK: isize = 200;

/// The Lua scripts, loaded once (`EVALSHA` after the first call).
struct Scripts {
    append: Script,
    task_save: Script,
    create_user: Script,
    rotate_refresh: Script,
    webhook: Script,
    append_many: Script,
    personal_token: Script,
}

impl Scripts {
    fn new() -> Self {
        Self {
            append: Script::new(&format!(
                "{APPEND_FN}\n{}",
                include_str!("../scripts/append.lua")
            )),
            task_save: Script::new(&format!(
                "{APPEND_FN}\n{}",
                include_str!("../scripts/task_save.lua")
            )),
            create_user: Script::new(include_str!("../scripts/create_user.lua")),
            personal_token: Script::new(include_str!("../scripts/personal_token.lua")),
            rotate_refresh: Script::new(include_str!("../scripts/rotate_refresh.lua")),
            append_many: Script::new(&format!(
                "{APPEND_FN}\n{}",
                include_str!("../scripts/append_many.lua")
            )),
            webhook: Script::new(&format!(
                "{WEBHOOK_FN}\n{}",
                include_str!("../scripts/webhook.lua")
            )),
        }
    }
}

pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    scripts: Scripts,
    /// Length of each user's resume stream.
    history_size: usize,
    /// Told about committed activities and tasks (local metrics, webhooks).
    /// The sessions are fed by pub/sub, not by the sink.
    sink: Arc<dyn EventSink>,
    /// This node: written into webhook notifications so a node can tell its
    /// own (already handed over locally) from others'.
    node_id: String,
}

/// Opens a client and a self-reconnecting connection, failing if Redis does
/// not answer now (cluster mode cannot start without it). The error never
/// repeats the URL, which may hold a password.
pub async fn connect(url: &str) -> Result<(redis::Client, ConnectionManager), StoreError> {
    let client = redis::Client::open(url)
        .map_err(|e| StoreError::Unavailable(format!("redis.url is not a valid Redis URL: {e}")))?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(RESPONSE_TIMEOUT)
        .set_connection_timeout(CONNECT_TIMEOUT)
        .set_number_of_retries(2)
        .set_max_delay(500);
    let conn = ConnectionManager::new_with_config(client.clone(), config)
        .await
        .map_err(unavailable)?;
    Ok((client, conn))
}

fn unavailable(err: redis::RedisError) -> StoreError {
    if err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
    {
        StoreError::Unavailable(err.to_string())
    } else {
        StoreError::Internal(err.to_string())
    }
}

fn parse_activity(json: &str) -> Result<Activity, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Internal(format!("bad activity JSON: {e}")))
}

/// Hours per analytics counter hash (must match `append_fn.lua`).
const HOURS_PER_COUNTER_HASH: i64 = 512;
const MICROS_PER_HOUR: i64 = 3_600 * 1_000_000;

/// The UTC hour (since the epoch) an activity is counted in, and the indexes
/// of the metrics it counts for, as the append function takes them.
fn counter_args(a: &NewActivity) -> (i64, String) {
    let hour = micros(a.created_at).div_euclid(MICROS_PER_HOUR);
    let metrics = metrics_of(a.kind, &a.metadata)
        .iter()
        .map(|m| m.index().to_string())
        .collect::<Vec<_>>()
        .join(",");
    (hour, metrics)
}

/// The activity's JSON after its id value: the script prepends `{"id":"<id>`.
fn activity_tail(a: &NewActivity) -> Result<String, StoreError> {
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
    pub fn new(
        conn: ConnectionManager,
        prefix: &str,
        node_id: &str,
        history_size: usize,
        sink: Arc<dyn EventSink>,
    ) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            scripts: Scripts::new(),
            history_size,
            sink,
            node_id: node_id.to_owned(),
        }
    }

    /// A random suffix for the ids of the deliveries one append creates; the
    /// script puts the global delivery counter first, so ids sort by creation.
    fn delivery_base() -> String {
        uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
    }

    /// The deliveries an append created, rebuilt from the script's answer
    /// (`delivery, webhook, ...`) to be announced to the local registry.
    ///
    /// `json` is the activity exactly as the script stored it: the payload
    /// is built around those bytes, as the script built the stored one, so
    /// the first attempt and every retry after a restart sign the same body.
    fn announce(&self, stored: &Activity, json: &str, flat: &[String]) {
        if flat.len() < 2 {
            return;
        }
        let kind = stored.kind.as_str();
        let payload = hub_core::webhook::envelope_raw(kind, stored.created_at, json);
        let deliveries =
            pending_from_script(flat, &stored.user_id, kind, &payload, stored.created_at);
        self.sink.deliveries_committed(&deliveries);
    }

    fn webhook_op(&self, op: &str) -> redis::ScriptInvocation<'_> {
        let mut inv = self.scripts.webhook.prepare_invoke();
        inv.arg(op).arg(&self.prefix);
        inv
    }

    async fn webhook_hash(&self, id: &WebhookId) -> Result<Option<WebhookRecord>, StoreError> {
        let fields: HashMap<String, String> = self
            .conn()
            .hgetall(self.key(&format!("wh:{id}")))
            .await
            .map_err(unavailable)?;
        Ok(webhooks::record_from_hash(fields))
    }

    async fn owned_webhook(
        &self,
        owner: &UserId,
        id: &WebhookId,
    ) -> Result<Option<WebhookRecord>, StoreError> {
        Ok(self
            .webhook_hash(id)
            .await?
            .filter(|r| r.webhook.user_id == *owner))
    }

    async fn delivery_hashes(&self, ids: &[String]) -> Result<Vec<(i64, Delivery)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.hgetall(self.key(&format!("dl:{id}")));
        }
        let hashes: Vec<HashMap<String, String>> = pipe
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(ids
            .iter()
            .zip(hashes.iter())
            .filter_map(|(id, h)| webhooks::delivery_from_hash(id, h))
            .collect())
    }

    fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// A personal access token by id, from its hash.
    async fn personal_token(&self, id: &str) -> Result<Option<PersonalTokenRecord>, StoreError> {
        let fields: std::collections::HashMap<String, String> = self
            .conn()
            .hgetall(self.key(&format!("pat:{id}")))
            .await
            .map_err(unavailable)?;
        let (Some(user), Some(hash), Some(name)) =
            (fields.get("user"), fields.get("hash"), fields.get("name"))
        else {
            return Ok(None);
        };
        let time = |field: &str| {
            fields
                .get(field)
                .and_then(|v| v.parse::<i64>().ok())
                .map(from_micros)
        };
        Ok(Some(PersonalTokenRecord {
            token: PersonalToken {
                id: TokenId(id.to_owned()),
                name: name.clone(),
                scopes: fields
                    .get("scopes")
                    .map(|s| s.split(',').filter_map(TokenScope::parse).collect())
                    .unwrap_or_default(),
                created_at: time("created").unwrap_or_default(),
                expires_at: time("expires"),
                last_used_at: time("last"),
            },
            user_id: UserId(user.clone()),
            token_hash: hash.clone(),
        }))
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    async fn activities_by_seq(&self, seqs: &[i64]) -> Result<Vec<Activity>, StoreError> {
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = seqs.iter().map(|s| self.key(&format!("act:{s}"))).collect();
        let jsons: Vec<Option<String>> = self.conn().mget(keys).await.map_err(unavailable)?;
        jsons
            .into_iter()
            .flatten()
            .map(|j| parse_activity(&j))
            .collect()
    }

    async fn save_task(
        &self,
        task: &Task,
        expected: i64,
        activity: Option<&NewActivity>,
    ) -> Result<Option<Activity>, StoreError> {
        // The version lives beside the JSON (`Task` does not serialise it).
        let json = serde_json::to_string(task).map_err(|e| StoreError::Internal(e.to_string()))?;
        let frame = hub_core::frames::Outbound::task(task).text.to_string();
        let (kind, tail, ts, created) = match activity {
            Some(a) => (
                a.kind.as_str(),
                activity_tail(a)?,
                hub_core::time::format(&a.created_at),
                micros(a.created_at),
            ),
            None => ("", String::new(), String::new(), 0),
        };
        let (hour, metrics) = activity.map(counter_args).unwrap_or_default();
        let reply: Vec<String> = self
            .scripts
            .task_save
            .arg(&self.prefix)
            .arg(task.id.as_str())
            .arg(task.user_id.as_str())
            .arg(expected)
            .arg(task.version)
            .arg(json)
            .arg(frame)
            .arg(kind)
            .arg(tail)
            .arg(self.history_size)
            .arg(ts)
            .arg(created)
            .arg(Self::delivery_base())
            .arg(&self.node_id)
            .arg(hour)
            .arg(metrics)
            .arg(CountedMetric::COUNT)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        match reply.first().map(String::as_str) {
            Some("saved") => {
                self.sink.task_committed(task);
                match reply.get(1) {
                    Some(json) => {
                        let stored = parse_activity(json)?;
                        self.sink.activity_committed(&stored);
                        self.announce(&stored, json, &reply[2..]);
                        Ok(Some(stored))
                    }
                    None => Ok(None),
                }
            }
            Some("conflict") => Err(StoreError::Conflict(Conflict::TaskChanged)),
            other => Err(StoreError::Internal(format!(
                "task script answered {other:?}"
            ))),
        }
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let pong: String = redis::cmd("PING")
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!("PING answered {pong}")))
        }
    }

    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let user = User {
            id: UserId::generate(),
            email: new.email,
            full_name: new.full_name,
            created_at: new.created_at,
        };
        let created: i64 = self
            .scripts
            .create_user
            .arg(&self.prefix)
            .arg(user.email.to_lowercase())
            .arg(user.id.as_str())
            .arg(&user.email)
            .arg(user.full_name.clone().unwrap_or_default())
            .arg(&new.password_hash)
            .arg(micros(user.created_at))
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if created == 1 {
            Ok(user)
        } else {
            Err(StoreError::Conflict(Conflict::EmailTaken))
        }
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let id: Option<String> = self
            .conn()
            .get(self.key(&format!("email:{}", email.to_lowercase())))
            .await
            .map_err(unavailable)?;
        let Some(id) = id else { return Ok(None) };
        let fields: Vec<Option<String>> = self
            .conn()
            .hget(
                self.key(&format!("user:{id}")),
                &["email", "full_name", "hash", "created"],
            )
            .await
            .map_err(unavailable)?;
        let [Some(email), full_name, Some(hash), Some(created)] =
            <[Option<String>; 4]>::try_from(fields)
                .map_err(|_| StoreError::Internal("user hash shape".into()))?
        else {
            return Ok(None);
        };
        Ok(Some(UserRecord {
            user: User {
                id: UserId(id),
                email,
                full_name: full_name.filter(|n| !n.is_empty()),
                created_at: from_micros(created.parse().unwrap_or(0)),
            },
            password_hash: hash,
        }))
    }

    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let fields: Vec<Option<String>> = self
            .conn()
            .hget(
                self.key(&format!("user:{id}")),
                &["email", "full_name", "created"],
            )
            .await
            .map_err(unavailable)?;
        let [Some(email), full_name, Some(created)] = <[Option<String>; 3]>::try_from(fields)
            .map_err(|_| StoreError::Internal("user hash shape".into()))?
        else {
            return Ok(None);
        };
        Ok(Some(User {
            id: id.clone(),
            email,
            full_name: full_name.filter(|n| !n.is_empty()),
            created_at: from_micros(created.parse().unwrap_or(0)),
        }))
    }

    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError> {
        let key = self.key(&format!("rt:{}", token.jti));
        let ttl = (token.expires_at - Utc::now()).num_seconds().max(1);
        redis::pipe()
            .atomic()
            .hset_multiple(
                &key,
                &[
                    ("family", token.family.clone()),
                    ("user", token.user_id.0.clone()),
                    ("exp", micros(token.expires_at).to_string()),
                    ("used", "0".to_owned()),
                ],
            )
            .ignore()
            .expire(&key, ttl)
            .ignore()
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn create_personal_token(
        &self,
        record: PersonalTokenRecord,
        max_per_user: usize,
    ) -> Result<(), StoreError> {
        let t = &record.token;
        let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
        let done: i64 = self
            .scripts
            .personal_token
            .arg("create")
            .arg(&self.prefix)
            .arg(t.id.as_str())
            .arg(record.user_id.as_str())
            .arg(&record.token_hash)
            .arg(max_per_user)
            .arg(micros(t.created_at))
            .arg(&t.name)
            .arg(scopes.join(","))
            .arg(
                t.expires_at
                    .map(|e| micros(e).to_string())
                    .unwrap_or_default(),
            )
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if done == 0 {
            return Err(StoreError::Conflict(Conflict::TokenLimit));
        }
        Ok(())
    }

    async fn list_personal_tokens(&self, user: &UserId) -> Result<Vec<PersonalToken>, StoreError> {
        let ids: Vec<String> = self
            .conn()
            .zrange(self.key(&format!("pats:{user}")), 0, -1)
            .await
            .map_err(unavailable)?;
        let mut tokens = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(record) = self.personal_token(&id).await? {
                tokens.push(record.token);
            }
        }
        Ok(tokens)
    }

    async fn revoke_personal_token(&self, user: &UserId, id: &TokenId) -> Result<bool, StoreError> {
        let done: i64 = self
            .scripts
            .personal_token
            .arg("revoke")
            .arg(&self.prefix)
            .arg(id.as_str())
            .arg(user.as_str())
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(done == 1)
    }

    async fn personal_token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<PersonalTokenRecord>, StoreError> {
        let id: Option<String> = self
            .conn()
            .get(self.key(&format!("pat_hash:{token_hash}")))
            .await
            .map_err(unavailable)?;
        match id {
            Some(id) => self.personal_token(&id).await,
            None => Ok(None),
        }
    }

    async fn touch_personal_token(
        &self,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let _: i64 = self
            .scripts
            .personal_token
            .arg("touch")
            .arg(&self.prefix)
            .arg(id.as_str())
            .arg(micros(at))
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// `portal:<hash>` holds `user|read_only|expires_at micros` and expires
    /// with the link; redeeming is one `GETDEL`, atomic across nodes.
    async fn create_portal_grant(&self, grant: PortalGrant) -> Result<(), StoreError> {
        let key = self.key(&format!("portal:{}", grant.token_hash));
        let ttl_ms = (grant.expires_at - Utc::now()).num_milliseconds().max(1) as u64;
        let value = format!(
            "{}|{}|{}",
            grant.user_id.0,
            u8::from(grant.read_only),
            micros(grant.expires_at)
        );
        redis::cmd("SET")
            .arg(&key)
            .arg(value)
            .arg("PX")
            .arg(ttl_ms)
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn redeem_portal_grant(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PortalGrant>, StoreError> {
        let key = self.key(&format!("portal:{token_hash}"));
        let value: Option<String> = redis::cmd("GETDEL")
            .arg(&key)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let Some(value) = value else {
            return Ok(None);
        };
        let mut parts = value.splitn(3, '|');
        let (Some(user), Some(read_only), Some(expires)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(StoreError::Internal(format!(
                "malformed portal grant {key}"
            )));
        };
        let expires: i64 = expires
            .parse()
            .map_err(|_| StoreError::Internal(format!("malformed portal grant {key}")))?;
        let expires_at = from_micros(expires);
        Ok((expires_at > now).then(|| PortalGrant {
            token_hash: token_hash.to_owned(),
            user_id: UserId(user.to_owned()),
            read_only: read_only == "1",
            expires_at,
        }))
    }

    async fn rotate_refresh_token(
        &self,
        old_jti: &str,
        new: RefreshTokenRecord,
        now: DateTime<Utc>,
    ) -> Result<RotateOutcome, StoreError> {
        let ttl = (new.expires_at - now).num_seconds().max(1);
        let outcome: String = self
            .scripts
            .rotate_refresh
            .arg(&self.prefix)
            .arg(old_jti)
            .arg(&new.jti)
            .arg(new.user_id.as_str())
            .arg(micros(new.expires_at))
            .arg(micros(now))
            .arg(ttl)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(match outcome.as_str() {
            "rotated" => RotateOutcome::Rotated,
            "reused" => RotateOutcome::ReuseDetected,
            _ => RotateOutcome::Invalid,
        })
    }

    async fn revoke_refresh_family(&self, family: &str) -> Result<(), StoreError> {
        // Long enough to outlive every token of the family.
        let ttl = 400 * 24 * 3600;
        self.conn()
            .set_ex::<_, _, ()>(self.key(&format!("rtrev:{family}")), "1", ttl)
            .await
            .map_err(unavailable)
    }

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
            .arg(&self.prefix)
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
        inv.arg(&self.prefix)
            .arg(self.history_size)
            .arg(&self.node_id)
            .arg(CountedMetric::COUNT);
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
        let index = self.key(&format!("acts:{user}"));
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
            pipe.hgetall(self.key(&format!("an:{user}:{chunk}")));
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

    async fn activity(&self, id: &ActivityId) -> Result<Option<Activity>, StoreError> {
        let Some(seq) = id.seq() else { return Ok(None) };
        let json: Option<String> = self
            .conn()
            .get(self.key(&format!("act:{seq}")))
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
            Some(kind) => self.key(&format!("acts:{user}:{}", kind.as_str())),
            None => self.key(&format!("acts:{user}")),
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
        let stream = self.key(&format!("hist:{user}"));
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
                .zcount(
                    self.key(&format!("acts:{user}")),
                    format!("({after}"),
                    upper,
                )
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

    async fn create_task(&self, task: Task) -> Result<(), StoreError> {
        self.save_task(&task, -1, None).await.map(|_| ())
    }

    async fn task(&self, id: &TaskId) -> Result<Option<Task>, StoreError> {
        let fields: Vec<Option<String>> = self
            .conn()
            .hget(self.key(&format!("task:{id}")), &["json", "version"])
            .await
            .map_err(unavailable)?;
        let [Some(json), Some(version)] = <[Option<String>; 2]>::try_from(fields)
            .map_err(|_| StoreError::Internal("task hash shape".into()))?
        else {
            return Ok(None);
        };
        let mut task: Task = serde_json::from_str(&json)
            .map_err(|e| StoreError::Internal(format!("bad task JSON: {e}")))?;
        task.version = version.parse().unwrap_or(0);
        Ok(Some(task))
    }

    async fn update_task(&self, change: TaskChange) -> Result<Option<Activity>, StoreError> {
        self.save_task(
            &change.task,
            change.expected_version,
            change.activity.as_ref(),
        )
        .await
    }

    async fn list_tasks(&self, user: &UserId, query: TaskQuery) -> Result<Page<Task>, StoreError> {
        let index = self.key(&format!("tasks:{user}"));
        let mut max = match query.cursor.as_deref().and_then(|c| c.parse::<i64>().ok()) {
            Some(c) => format!("({c}"),
            None => "+inf".to_owned(),
        };
        let mut rows: Vec<(i64, Task)> = Vec::new();
        loop {
            let ids: Vec<(String, f64)> = self
                .conn()
                .zrevrangebyscore_limit_withscores(&index, &max, "-inf", 0, SCAN_CHUNK)
                .await
                .map_err(unavailable)?;
            let exhausted = (ids.len() as isize) < SCAN_CHUNK;
            let Some((_, last)) = ids.last().cloned() else {
                break;
            };
            for (id, score) in ids {
                if let Some(task) = self.task(&TaskId(id)).await? {
                    let status_ok = query.status.is_none_or(|s| s == task.status);
                    let kind_ok = query.kind.is_none_or(|k| k == task.kind);
                    if status_ok && kind_ok {
                        rows.push((score as i64, task));
                    }
                }
            }
            if rows.len() > query.limit || exhausted {
                break;
            }
            max = format!("({}", last as i64);
        }
        let next_cursor = if rows.len() > query.limit {
            rows.truncate(query.limit);
            rows.last().map(|(seq, _)| seq.to_string())
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(|(_, t)| t).collect(),
            next_cursor,
        })
    }

    async fn create_webhook(
        &self,
        webhook: Webhook,
        secret: String,
        max_per_user: usize,
    ) -> Result<(), StoreError> {
        let mut inv = self.webhook_op("create");
        inv.arg(webhook.id.as_str())
            .arg(webhook.user_id.as_str())
            .arg(max_per_user);
        for (field, value) in webhooks::webhook_fields(&webhook, &secret) {
            inv.arg(field).arg(value);
        }
        let outcome: String = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        match outcome.as_str() {
            "ok" => Ok(()),
            _ => Err(StoreError::Conflict(Conflict::WebhookLimit)),
        }
    }

    async fn webhook(&self, owner: &UserId, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        Ok(self.owned_webhook(owner, id).await?.map(|r| r.webhook))
    }

    async fn list_webhooks(&self, owner: &UserId) -> Result<Vec<Webhook>, StoreError> {
        let ids: Vec<String> = self
            .conn()
            .zrange(self.key(&format!("whs:{owner}")), 0, -1)
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
        let mut inv = self.webhook_op("update");
        inv.arg(id.as_str())
            .arg(owner.as_str())
            .arg(&change.url)
            .arg(webhooks::events_json(&change.events))
            .arg(webhooks::events_csv(&change.events))
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
        let mut inv = self.webhook_op("delete");
        inv.arg(id.as_str()).arg(owner.as_str());
        let done: i64 = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(done == 1)
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
        let mut inv = self.webhook_op("rotate");
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
        let mut inv = self.webhook_op("enable");
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
        let index = self.key(&format!("dlw:{webhook}"));
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
            let found = self.delivery_hashes(&ids).await?;
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
                .lrange(self.key(&format!("dla:{}", d.id)), 0, -1)
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
                    .filter_map(|a| webhooks::attempt_from_json(a))
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
        let mut inv = self.webhook_op("retry");
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
            .delivery_hashes(std::slice::from_ref(&delivery.0))
            .await?
            .pop()
            .map(|(_, d)| d))
    }

    async fn webhook_record(&self, id: &WebhookId) -> Result<Option<WebhookRecord>, StoreError> {
        self.webhook_hash(id).await
    }

    async fn active_webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError> {
        let ids: Vec<String> = self
            .conn()
            .smembers(self.key("whall"))
            .await
            .map_err(unavailable)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = self.webhook_hash(&WebhookId(id)).await? {
                out.push(r);
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
        let ids: Vec<String> = self
            .conn()
            .zrangebyscore_limit(
                self.key(&format!("dlp:{webhook}")),
                min,
                "+inf",
                0,
                limit as isize + 1,
            )
            .await
            .map_err(unavailable)?;
        let mut rows: Vec<(i64, Delivery)> = self
            .delivery_hashes(&ids)
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
        let mut inv = self.webhook_op("attempt");
        inv.arg(record.webhook_id.as_str())
            .arg(record.delivery_id.as_str())
            .arg(a.attempt)
            .arg(webhooks::attempt_json(a)?)
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
        let mut inv = self.webhook_op("event");
        inv.arg(user.as_str())
            .arg(event.as_str())
            .arg(&payload)
            .arg(micros(at))
            .arg(Self::delivery_base())
            .arg(&self.node_id);
        let flat: Vec<String> = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
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
        let mut inv = self.webhook_op("test");
        inv.arg(delivery.webhook_id.as_str())
            .arg(delivery.id.as_str())
            .arg(webhooks::attempt_json(&attempt)?);
        endpoint_args(&mut inv, &attempt, &endpoint);
        for (field, value) in webhooks::delivery_fields(&delivery) {
            inv.arg(field).arg(value);
        }
        let _: i64 = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn flush(&self) -> Result<(), StoreError> {
        // Every call was acknowledged by Redis before it returned; durability
        // past that is Redis' AOF (see redis/redis.conf).
        Ok(())
    }
}

/// The pending deliveries a script stored, from its flat answer
/// (`delivery, webhook, ...`), all carrying the same body.
fn pending_from_script(
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
fn endpoint_args(inv: &mut redis::ScriptInvocation<'_>, a: &DeliveryAttempt, e: &EndpointUpdate) {
    inv.arg(micros(a.attempted_at))
        .arg(a.status_code.map(|c| c.to_string()).unwrap_or_default())
        .arg(
            e.consecutive_failures
                .map(|f| f.to_string())
                .unwrap_or_default(),
        )
        .arg(e.disable_reason.clone().unwrap_or_default());
}
