//! The Redis implementation of [`Store`]: the store of record in cluster mode.
//!
//! Every operation that must be atomic is one Lua script (`redis/scripts/`)
//! that touches only the keys it declares, all in one slot: a user's keys
//! share the user's hash tag, so the same scripts run on one Redis and on
//! Redis Cluster. Appending an activity takes its id from one global counter
//! first (`alloc.lua`, which also records the id's owner), then stores and
//! indexes it, adds it to the user's resume stream and publishes the frame
//! on the user's shard channel in one script that refuses an id below the
//! user's last, so every node sees a user's events in id order. What a step
//! spans beyond one slot (an e-mail and its user, a token's hash and the
//! token, an id and its owner) is written pointer first and read back
//! through it, so a step cut in the middle leaves only a pointer to nothing.
//! The keys and channels are named in [`crate::keys`].

mod activities;
mod analytics;
mod tasks;
mod users;
mod webhooks;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use hub_core::store::{Store, StoreError};
use hub_core::{EventSink, UserId};

use redis::{ErrorKind, Script};

use crate::conn::{RedisConn, Target};
use crate::keys::Keys;

/// Idempotency keys live this long.
pub(crate) const IDEMPOTENCY_TTL_SECS: u64 = 24 * 3600;
/// Activities read per round trip when a list filters by time.
pub(crate) const SCAN_CHUNK: isize = 200;

pub(crate) const APPEND_FN: &str = include_str!("../../scripts/append_fn.lua");
pub(crate) const WEBHOOK_FN: &str = include_str!("../../scripts/webhook_fn.lua");
/// Deliveries shown per page of the log at most, and read per round trip.
pub(crate) const DELIVERY_CHUNK: isize = 200;

/// How a user's events are published: on the user's shard channel.
pub(crate) const USER_PUBLISH: &str = "SPUBLISH";

/// Owners remembered per kind of id before the memory is cleared (an id's
/// owner never changes, so a remembered one is never wrong).
const OWNER_CACHE: usize = 100_000;

/// The owner of ids that are looked up alone (tasks, endpoints).
#[derive(Default)]
pub(crate) struct Owners(std::sync::Mutex<std::collections::HashMap<String, UserId>>);

impl Owners {
    pub(crate) fn get(&self, id: &str) -> Option<UserId> {
        self.0.lock().ok()?.get(id).cloned()
    }

    pub(crate) fn put(&self, id: &str, owner: &UserId) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= OWNER_CACHE {
                map.clear();
            }
            map.insert(id.to_owned(), owner.clone());
        }
    }
}

/// The Lua scripts, loaded once (`EVALSHA` after the first call).
pub(crate) struct Scripts {
    /// Activity ids from the global counter, with their owners.
    alloc: Script,
    /// One activity: idempotency, order, indexes, history, counters,
    /// deliveries and the publish.
    append: Script,
    /// A task change checked against its version, with its activity.
    task_save: Script,
    /// A refresh-token rotation, or the family's revocation on reuse.
    rotate_refresh: Script,
    /// A new refresh token and its expiry.
    insert_refresh: Script,
    /// Every webhook and delivery operation, chosen by its first argument.
    webhook: Script,
    /// A bulk import: several activities of one user in one step.
    append_many: Script,
    /// Creating (within the limit), revoking and touching personal tokens.
    personal_token: Script,
}

impl Scripts {
    fn new() -> Self {
        Self {
            append: Script::new(&format!(
                "{APPEND_FN}\n{}",
                include_str!("../../scripts/append.lua")
            )),
            task_save: Script::new(&format!(
                "{APPEND_FN}\n{}",
                include_str!("../../scripts/task_save.lua")
            )),
            alloc: Script::new(include_str!("../../scripts/alloc.lua")),
            personal_token: Script::new(include_str!("../../scripts/personal_token.lua")),
            rotate_refresh: Script::new(include_str!("../../scripts/rotate_refresh.lua")),
            insert_refresh: Script::new(include_str!("../../scripts/insert_refresh.lua")),
            append_many: Script::new(&format!(
                "{APPEND_FN}\n{}",
                include_str!("../../scripts/append_many.lua")
            )),
            webhook: Script::new(&format!(
                "{WEBHOOK_FN}\n{}",
                include_str!("../../scripts/webhook.lua")
            )),
        }
    }
}

/// The Redis store: one connection (multiplexed, reconnecting) and the
/// scripts that make each operation atomic.
pub struct RedisStore {
    /// Shared by every call; cloning it is cheap.
    conn: RedisConn,
    /// The names of every key under the configured prefix.
    keys: Keys,
    /// Loaded once per Redis, then called by SHA.
    scripts: Scripts,
    /// Length of each user's resume stream.
    history_size: usize,
    /// Told about committed activities and tasks (local metrics, webhooks).
    /// The sessions are fed by pub/sub, not by the sink.
    sink: Arc<dyn EventSink>,
    /// This node: written into webhook notifications so a node can tell its
    /// own (already handed over locally) from others'.
    node_id: String,
    /// The highest activity id this node has assigned or received (shared
    /// with the bridge). Every append passes it to the script, which never
    /// assigns an id at or below it: after a failover to a replica that
    /// lacked the last writes, their ids are not handed out again.
    ids_seen: Arc<AtomicI64>,
    /// Task owners, as looked up in `{ids}:town`.
    task_owners: Owners,
    /// Endpoint owners, as looked up in `{ids}:wh`.
    webhook_owners: Owners,
    /// Not on a Redis Cluster: an append takes its id and finds the user's
    /// endpoints inside its script, in one round trip.
    inline: bool,
}

/// Connects to `url` (one Redis or a Sentinel group), failing if Redis does
/// not answer now (cluster mode cannot start without it). The error never
/// repeats the URL, which may hold a password.
pub async fn connect(url: &str, writers: usize) -> Result<RedisConn, StoreError> {
    let target = Target::parse(url)?;
    RedisConn::connect(target, writers)
        .await
        .map_err(unavailable)
}

/// Redis could not do it now (down, failing over, loading, refusing writes
/// without replicas, or a write not confirmed by enough replicas): 503.
/// Anything else is a bug or a corrupt key: 500.
pub(crate) fn unavailable(err: redis::RedisError) -> StoreError {
    if crate::conn::is_unconfirmed(&err) {
        return StoreError::Unconfirmed(err.to_string());
    }
    if err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_cluster_error()
        || matches!(
            err.kind(),
            ErrorKind::ReadOnly
                | ErrorKind::TryAgain
                | ErrorKind::BusyLoadingError
                | ErrorKind::MasterDown
                | ErrorKind::ClusterDown
                | ErrorKind::ClusterConnectionNotFound
        )
        || matches!(err.code(), Some("NOREPLICAS" | "MASTERDOWN" | "LOADING"))
    {
        StoreError::Unavailable(err.to_string())
    } else {
        StoreError::Internal(err.to_string())
    }
}

impl RedisStore {
    pub fn new(
        conn: RedisConn,
        prefix: &str,
        node_id: &str,
        history_size: usize,
        sink: Arc<dyn EventSink>,
    ) -> Self {
        let inline = conn.cluster().is_none();
        Self {
            conn,
            keys: Keys::new(prefix),
            scripts: Scripts::new(),
            history_size,
            sink,
            node_id: node_id.to_owned(),
            ids_seen: Arc::default(),
            task_owners: Owners::default(),
            webhook_owners: Owners::default(),
            inline,
        }
    }

    /// The id floor the bridge raises with every event it receives.
    pub fn ids_seen(&self) -> Arc<AtomicI64> {
        self.ids_seen.clone()
    }

    pub(crate) fn highest_seen(&self) -> i64 {
        self.ids_seen.load(Ordering::Relaxed)
    }

    pub(crate) fn conn(&self) -> RedisConn {
        self.conn.clone()
    }

    /// The owner of `id` in the owner index `index`, remembered in `cache`.
    pub(crate) async fn owner(
        &self,
        cache: &Owners,
        index: String,
        id: &str,
    ) -> Result<Option<UserId>, StoreError> {
        if let Some(owner) = cache.get(id) {
            return Ok(Some(owner));
        }
        let owner: Option<String> = redis::AsyncCommands::hget(&mut self.conn(), index, id)
            .await
            .map_err(unavailable)?;
        let owner = owner.map(UserId);
        if let Some(owner) = &owner {
            cache.put(id, owner);
        }
        Ok(owner)
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

    async fn flush(&self) -> Result<(), StoreError> {
        // Every call was acknowledged by Redis before it returned; durability
        // past that is Redis' AOF (see redis/redis.conf).
        Ok(())
    }
}
