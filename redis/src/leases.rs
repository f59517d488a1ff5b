//! Endpoint leases in Redis: each webhook endpoint has exactly one owning
//! node, which renews its lease; when it dies the lease lapses and another
//! node takes the endpoint over.

use std::time::Duration;

use crate::conn::RedisConn;
use crate::keys::Keys;
use async_trait::async_trait;
use hub_core::ids::WebhookId;
use hub_core::store::{Leases, StoreError};
use redis::Script;

/// Leases in Redis: `{cluster}:lease:<id>` holds the owning node, with a TTL.
pub struct RedisLeases {
    /// Shared, reconnecting.
    conn: RedisConn,
    /// The lease keys.
    keys: Keys,
    /// What a lease held by this node contains.
    node: String,
    /// How long a lease lasts unless renewed (`webhooks.lease_ttl`).
    ttl: Duration,
    /// `scripts/lease.lua`: acquire, renew and release, each atomic.
    script: Script,
}

impl RedisLeases {
    pub fn new(conn: RedisConn, prefix: &str, node: &str, ttl: Duration) -> Self {
        Self {
            conn,
            keys: Keys::new(prefix),
            node: node.to_owned(),
            ttl,
            script: Script::new(include_str!("../scripts/lease.lua")),
        }
    }

    /// The lease script for `op` on `ids`.
    fn call(&self, op: &str, ids: &[&WebhookId]) -> redis::ScriptInvocation<'_> {
        let mut inv = self.script.prepare_invoke();
        for id in ids {
            inv.key(self.keys.lease(id.as_str()));
        }
        inv.arg(op).arg(&self.node).arg(self.ttl.as_millis() as u64);
        for id in ids {
            inv.arg(id.as_str());
        }
        inv
    }
}

fn down(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

#[async_trait]
impl Leases for RedisLeases {
    async fn acquire(&self, id: &WebhookId) -> Result<bool, StoreError> {
        let got: i64 = self
            .call("acquire", &[id])
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(down)?;
        Ok(got == 1)
    }

    async fn renew(&self, ids: &[WebhookId]) -> Result<Vec<WebhookId>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&WebhookId> = ids.iter().collect();
        let lost: Vec<String> = self
            .call("renew", &ids)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(down)?;
        Ok(lost.into_iter().map(WebhookId).collect())
    }

    async fn release(&self, id: &WebhookId) -> Result<(), StoreError> {
        let _: i64 = self
            .call("release", &[id])
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(down)?;
        Ok(())
    }

    fn ttl(&self) -> Duration {
        self.ttl
    }
}
