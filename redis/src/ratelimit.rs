//! The cluster-wide rate limit: GCRA in one Lua script against Redis' clock,
//! so N nodes together allow the configured limit, not N times it.

use std::time::Duration;

use crate::conn::RedisConn;
use async_trait::async_trait;
use hub_core::ratelimit::{Decision, Quota, RateLimiter};
use redis::Script;

use crate::keys::Keys;

/// Checks one request of `key` against `limit` per `window`.
pub struct RedisGcra {
    /// Shared, reconnecting.
    conn: RedisConn,
    /// Names each bucket's key (`rl:<key>` under the deployment's prefix).
    keys: Keys,
    /// `scripts/gcra.lua`, loaded once and then called by its SHA.
    script: Script,
}

impl RedisGcra {
    pub fn new(conn: RedisConn, prefix: &str) -> Self {
        Self {
            conn,
            keys: Keys::new(prefix),
            script: Script::new(include_str!("../scripts/gcra.lua")),
        }
    }

    pub async fn check(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<Decision, redis::RedisError> {
        let (allowed, remaining, reset, retry): (i64, i64, i64, i64) = self
            .script
            .key(self.keys.rate_limit(key))
            .arg(limit)
            .arg(window.as_micros() as u64)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(Decision {
            allowed: allowed == 1,
            remaining: remaining.max(0) as u32,
            reset: Duration::from_micros(reset.max(0) as u64),
            retry_after: Duration::from_micros(retry.max(0) as u64),
        })
    }
}

/// The cluster limiter: one GCRA script call in Redis per request, so all
/// nodes share each quota.
pub struct RedisRateLimiter(pub RedisGcra);

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(&self, key: String, quota: Quota) -> Result<Decision, String> {
        self.0
            .check(&key, quota.limit, quota.window)
            .await
            .map_err(|e| e.to_string())
    }
}
