//! Rate limiting: one `RateLimitBucket` actor per key, owned by a
//! `RateLimitRegistry` that creates them on first use and evicts idle ones.
//!
//! The algorithm is GCRA (the generic cell rate algorithm, a token bucket
//! written as one timestamp): a bucket stores only its "theoretical arrival
//! time" (TAT). It allows `limit` requests at once and then one every
//! `window / limit`, gives exact `remaining` and `reset` figures for the
//! headers, and a bucket whose TAT has passed is indistinguishable from a new
//! one — so evicting idle buckets changes no decision.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tracing::warn;

/// How often the registry drops buckets whose quota is whole again.
const SWEEP_INTERVAL: Duration = Duration::from_secs(5);

/// A policy as the limiter sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Requests per window.
    pub limit: u32,
    pub window: Duration,
}

impl Quota {
    /// Time between two requests at the sustained rate.
    fn interval(&self) -> Duration {
        self.window / self.limit
    }
}

/// The answer for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Requests left right now.
    pub remaining: u32,
    /// Until the quota is whole again.
    pub reset: Duration,
    /// When refused: until one request is allowed.
    pub retry_after: Duration,
}

/// GCRA state of one key: the theoretical arrival time.
#[derive(Clone, Copy, Debug)]
pub struct Gcra {
    tat: Instant,
}

impl Gcra {
    pub fn new(now: Instant) -> Self {
        Self { tat: now }
    }

    /// Takes one request at `now`.
    pub fn take(&mut self, quota: Quota, now: Instant) -> Decision {
        let interval = quota.interval();
        let tat = self.tat.max(now);
        let new_tat = tat + interval;
        // The earliest time this request may pass: the bucket holds `window`.
        let allow_at = new_tat.checked_sub(quota.window).unwrap_or(now);
        if now < allow_at {
            return Decision {
                allowed: false,
                remaining: 0,
                reset: tat - now,
                retry_after: allow_at - now,
            };
        }
        self.tat = new_tat;
        let used = new_tat - now;
        let free = quota.window.saturating_sub(used);
        Decision {
            allowed: true,
            remaining: (free.as_nanos() / interval.as_nanos().max(1)) as u32,
            reset: used,
            retry_after: Duration::ZERO,
        }
    }

    /// When the quota is whole again (the bucket can be forgotten).
    pub fn idle_at(&self) -> Instant {
        self.tat
    }
}

/// One key's bucket.
pub struct RateLimitBucket {
    state: Gcra,
}

impl Actor for RateLimitBucket {
    type Context = Context<Self>;
}

/// Take one request from a bucket.
#[derive(Message)]
#[rtype(result = "Decision")]
pub struct Take {
    pub quota: Quota,
    pub now: Instant,
}

impl Handler<Take> for RateLimitBucket {
    type Result = MessageResult<Take>;

    fn handle(&mut self, msg: Take, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.state.take(msg.quota, msg.now))
    }
}

/// Check one request of `key` against `quota`.
#[derive(Message)]
#[rtype(result = "Decision")]
pub struct Check {
    /// Policy group and client key, e.g. `api` + `ip:203.0.113.9`.
    pub key: String,
    pub quota: Quota,
}

/// How many buckets are live (tests and metrics).
#[derive(Message)]
#[rtype(result = "usize")]
pub struct LiveBuckets;

struct Entry {
    addr: Addr<RateLimitBucket>,
    /// When the bucket's quota is whole: past it, the entry can go.
    idle_at: Instant,
}

pub struct RateLimitRegistry {
    buckets: HashMap<String, Entry>,
    /// Cap on live buckets, so a spray of distinct keys cannot grow memory
    /// without bound.
    max_buckets: usize,
}

impl RateLimitRegistry {
    pub fn new(max_buckets: usize) -> Self {
        Self {
            buckets: HashMap::new(),
            max_buckets: max_buckets.max(1),
        }
    }

    /// Drops buckets whose quota is whole again. Dropping the last address
    /// stops the bucket actor.
    fn sweep(&mut self, now: Instant) {
        self.buckets.retain(|_, e| e.idle_at > now);
    }

    /// Makes room for one more bucket: idle ones first, then the tenth of the
    /// buckets closest to idle (their keys get a fresh quota: under a spray
    /// of distinct keys this fails open for the keys nearest to whole).
    fn make_room(&mut self, now: Instant) {
        self.sweep(now);
        if self.buckets.len() < self.max_buckets {
            return;
        }
        let mut idle_times: Vec<Instant> = self.buckets.values().map(|e| e.idle_at).collect();
        let cut = (self.max_buckets / 10).max(1).min(idle_times.len() - 1);
        let (_, threshold, _) = idle_times.select_nth_unstable(cut);
        let threshold = *threshold;
        self.buckets.retain(|_, e| e.idle_at > threshold);
        warn!(
            live = self.buckets.len(),
            cap = self.max_buckets,
            "rate-limit bucket cap reached; evicted the buckets nearest to idle"
        );
    }
}

impl Actor for RateLimitRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(SWEEP_INTERVAL, |act, _| act.sweep(Instant::now()));
    }
}

impl Handler<Check> for RateLimitRegistry {
    type Result = ResponseActFuture<Self, Decision>;

    fn handle(&mut self, msg: Check, _: &mut Context<Self>) -> Self::Result {
        let now = Instant::now();
        if !self.buckets.contains_key(&msg.key) && self.buckets.len() >= self.max_buckets {
            self.make_room(now);
        }
        let addr = self
            .buckets
            .entry(msg.key.clone())
            .or_insert_with(|| Entry {
                addr: RateLimitBucket {
                    state: Gcra::new(now),
                }
                .start(),
                idle_at: now,
            })
            .addr
            .clone();
        let quota = msg.quota;
        let key = msg.key;
        Box::pin(
            addr.send(Take { quota, now }).into_actor(self).map(
                move |result, act, _| match result {
                    Ok(decision) => {
                        if let Some(entry) = act.buckets.get_mut(&key) {
                            entry.idle_at = now + decision.reset;
                        }
                        decision
                    }
                    // The bucket stopped under us (evicted mid-flight): a
                    // fresh quota is what an evicted key gets anyway.
                    Err(_) => Gcra::new(now).take(quota, now),
                },
            ),
        )
    }
}

impl Handler<LiveBuckets> for RateLimitRegistry {
    type Result = usize;

    fn handle(&mut self, _: LiveBuckets, _: &mut Context<Self>) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUOTA: Quota = Quota {
        limit: 3,
        window: Duration::from_secs(3),
    };

    #[test]
    fn gcra_allows_the_burst_then_one_per_interval() {
        let t0 = Instant::now();
        let mut g = Gcra::new(t0);
        let d = g.take(QUOTA, t0);
        assert!(d.allowed);
        assert_eq!(d.remaining, 2);
        assert_eq!(d.reset, Duration::from_secs(1));
        assert_eq!(g.take(QUOTA, t0).remaining, 1);
        let d = g.take(QUOTA, t0);
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.reset, Duration::from_secs(3));
        let refused = g.take(QUOTA, t0);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        // One interval later exactly one more passes.
        let t1 = t0 + Duration::from_secs(1);
        assert!(g.take(QUOTA, t1).allowed);
        assert!(!g.take(QUOTA, t1).allowed);
        // After a whole window the quota is whole again.
        let t2 = t1 + Duration::from_secs(3);
        assert_eq!(g.take(QUOTA, t2).remaining, 2);
    }

    #[test]
    fn refusals_do_not_consume() {
        let t0 = Instant::now();
        let mut g = Gcra::new(t0);
        for _ in 0..3 {
            g.take(QUOTA, t0);
        }
        for _ in 0..100 {
            assert!(!g.take(QUOTA, t0).allowed);
        }
        assert!(g.take(QUOTA, t0 + Duration::from_secs(1)).allowed);
    }

    #[actix::test]
    async fn registry_evicts_idle_buckets_and_caps_live_ones() {
        let registry = RateLimitRegistry::new(100).start();
        let quota = Quota {
            limit: 10,
            window: Duration::from_millis(50),
        };
        for i in 0..1000 {
            let d = registry
                .send(Check {
                    key: format!("ip:10.0.{}.{}", i / 256, i % 256),
                    quota,
                })
                .await
                .unwrap();
            assert!(d.allowed);
            assert!(registry.send(LiveBuckets).await.unwrap() <= 100);
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
        // A check after the window sweeps on demand when full; idle ones go.
        let mut reg = RateLimitRegistry::new(100);
        let now = Instant::now();
        reg.buckets.insert(
            "a".into(),
            Entry {
                addr: RateLimitBucket {
                    state: Gcra::new(now),
                }
                .start(),
                idle_at: now,
            },
        );
        reg.sweep(now + Duration::from_millis(1));
        assert!(reg.buckets.is_empty());
    }
}
