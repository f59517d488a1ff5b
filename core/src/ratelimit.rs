//! What a rate limiter is, to the HTTP layer: a quota, a decision, and the
//! [`RateLimiter`] trait. Each back-end implements it in its own crate: one
//! bucket actor per key in embedded mode (`hub-actors`), one GCRA script call
//! in Redis in cluster mode (`hub-redis`). The middleware that classifies
//! requests and writes the headers knows only this trait.

use std::time::Duration;

use async_trait::async_trait;

/// A policy as the limiter sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Requests per window.
    pub limit: u32,
    /// How long the whole quota takes to refill.
    pub window: Duration,
}

impl Quota {
    /// Time between two requests at the sustained rate.
    pub fn interval(&self) -> Duration {
        self.window / self.limit
    }
}

/// The answer for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may pass.
    pub allowed: bool,
    /// Requests left right now.
    pub remaining: u32,
    /// Until the quota is whole again.
    pub reset: Duration,
    /// When refused: until one request is allowed.
    pub retry_after: Duration,
}

/// Decides one request against one quota. An error means the limiter could
/// not decide (Redis unreachable, an actor gone); the caller chooses what to
/// do then (the middleware lets the request through).
#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Takes one request of `key` (policy group and client, e.g.
    /// `api|ip:203.0.113.9`) against `quota`.
    async fn check(&self, key: String, quota: Quota) -> Result<Decision, String>;

    /// The same decision at once, if the limiter can take it without
    /// waiting (embedded mode, a bucket this thread has used before);
    /// `None` means "call [`check`](Self::check)", and took nothing.
    fn check_now(&self, _key: &str, _quota: Quota) -> Option<Decision> {
        None
    }
}
