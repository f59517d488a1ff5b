//! The cluster-wide rate limit: GCRA in one Lua script against Redis' clock,
//! so N nodes together allow the configured limit, not N times it.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::Script;

/// One decision, as the script returns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcraReply {
    pub allowed: bool,
    pub remaining: u32,
    pub reset: Duration,
    pub retry_after: Duration,
}

/// Checks one request of `key` (already prefixed) against `limit` per `window`.
pub struct RedisGcra {
    conn: ConnectionManager,
    prefix: String,
    script: Script,
}

impl RedisGcra {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: format!("{prefix}rl:"),
            script: Script::new(include_str!("../scripts/gcra.lua")),
        }
    }

    pub async fn check(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<GcraReply, redis::RedisError> {
        let (allowed, remaining, reset, retry): (i64, i64, i64, i64) = self
            .script
            .arg(format!("{}{key}", self.prefix))
            .arg(limit)
            .arg(window.as_micros() as u64)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(GcraReply {
            allowed: allowed == 1,
            remaining: remaining.max(0) as u32,
            reset: Duration::from_micros(reset.max(0) as u64),
            retry_after: Duration::from_micros(retry.max(0) as u64),
        })
    }
}
