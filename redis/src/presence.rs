//! The cluster's presence ledger in Redis (`scripts/presence.lua`): built
//! from every live node's set of connected users (which each node's bridge
//! keeps, see [`crate::bridge`]), decided by whichever node holds the
//! `presence:leader` lease. Any node can take over when the leader dies: the
//! announced users and their absences are in Redis, not in the leader.
//!
//! A node killed without closing its sessions stops renewing its heartbeat;
//! once that is older than the node TTL, its users count as gone, and go
//! offline `presence.offline_after` later unless they reconnected elsewhere.

use std::time::Duration;

use crate::conn::RedisConn;
use crate::keys::Keys;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::presence::{PresenceChange, PresenceLedger, PresenceStatus, PresenceTick};
use hub_core::store::StoreError;
use hub_core::UserId;
use redis::Script;

use crate::bridge::NODE_TTL;

/// The cluster's presence ledger: who was announced online, who is gone.
pub struct RedisPresence {
    /// Shared, reconnecting.
    conn: RedisConn,
    /// The presence keys.
    keys: Keys,
    /// This node, as a candidate for the `presence:leader` lease.
    node_id: String,
    /// `scripts/presence.lua`: the leader's check and its commit.
    script: Script,
    /// How long the decision stays with a node that stops checking.
    lease: Duration,
}

impl RedisPresence {
    /// `check_interval`: how often this node checks (the lease lasts a few).
    pub fn new(conn: RedisConn, prefix: &str, node_id: &str, check_interval: Duration) -> Self {
        Self {
            conn,
            keys: Keys::new(prefix),
            node_id: node_id.to_owned(),
            script: Script::new(include_str!("../scripts/presence.lua")),
            lease: (check_interval * 3).max(Duration::from_secs(2)),
        }
    }
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

#[async_trait]
impl PresenceLedger for RedisPresence {
    async fn due(
        &self,
        now: DateTime<Utc>,
        offline_after: Duration,
    ) -> Result<PresenceTick, StoreError> {
        // The live nodes first: their user sets are the script's keys.
        let live: Vec<String> = redis::AsyncCommands::zrangebyscore(
            &mut self.conn.clone(),
            self.keys.nodes(),
            millis(now) - NODE_TTL.as_millis() as i64,
            "+inf",
        )
        .await
        .map_err(unavailable)?;
        let mut inv = self.script.prepare_invoke();
        inv.key(self.keys.presence_leader())
            .key(self.keys.presence_online())
            .key(self.keys.presence_gone());
        for node in &live {
            inv.key(self.keys.node_users(node));
        }
        let reply: Vec<redis::Value> = inv
            .arg("due")
            .arg("-")
            .arg(&self.node_id)
            .arg(self.lease.as_millis() as i64)
            .arg(millis(now))
            .arg(millis(now) - NODE_TTL.as_millis() as i64)
            .arg(offline_after.as_millis() as i64)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        let text = |v: &redis::Value| -> Result<String, StoreError> {
            redis::from_redis_value::<String>(v).map_err(|e| StoreError::Internal(e.to_string()))
        };
        let number = |v: Option<&redis::Value>| -> i64 {
            v.and_then(|v| redis::from_redis_value::<i64>(v).ok())
                .unwrap_or(0)
        };
        let online = number(reply.get(1)).max(0) as usize;
        let mut changes = Vec::new();
        for triple in reply.get(2..).unwrap_or_default().chunks_exact(3) {
            let status = match text(&triple[0])?.as_str() {
                "on" => PresenceStatus::Online,
                _ => PresenceStatus::Offline,
            };
            let at_ms: i64 = text(&triple[2])?
                .parse()
                .map_err(|_| StoreError::Internal("presence script: bad time".into()))?;
            changes.push(PresenceChange {
                user_id: UserId(text(&triple[1])?),
                status,
                at: DateTime::from_timestamp_millis(at_ms).unwrap_or(now),
            });
        }
        changes.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.user_id.0.cmp(&b.user_id.0)));
        Ok(PresenceTick { changes, online })
    }

    async fn commit(&self, changes: &[PresenceChange]) -> Result<usize, StoreError> {
        let mut inv = self.script.prepare_invoke();
        inv.key(self.keys.presence_leader())
            .key(self.keys.presence_online())
            .key(self.keys.presence_gone());
        inv.arg("commit").arg("-").arg(&self.node_id);
        for change in changes {
            let status = match change.status {
                PresenceStatus::Online => "on",
                PresenceStatus::Offline => "off",
            };
            inv.arg(status).arg(change.user_id.as_str());
        }
        let online: i64 = inv
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        Ok(online.max(0) as usize)
    }
}
