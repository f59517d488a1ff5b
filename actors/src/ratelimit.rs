//! Rate limiting in embedded mode: one `RateLimitBucket` actor per key, owned
//! by a `RateLimitRegistry` that creates them on first use and evicts idle
//! ones, and [`ActorRateLimiter`], the `RateLimiter` the HTTP layer asks.
//!
//! The algorithm is GCRA (the generic cell rate algorithm, a token bucket
//! written as one timestamp): a bucket stores only its "theoretical arrival
//! time" (TAT). It allows `limit` requests at once and then one every
//! `window / limit`, gives exact `remaining` and `reset` figures for the
//! headers, and a bucket whose TAT has passed is indistinguishable from a new
//! one — so evicting idle buckets changes no decision.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix::{ArbiterHandle, WeakAddr};
use async_trait::async_trait;
use hub_core::ratelimit::{Decision, Quota, RateLimiter};
use tracing::warn;

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

/// One key's bucket. It lives on the arbiter of the HTTP worker that first
/// asked for it: a client's keep-alive connection stays on one worker, so
/// checking its quota is a message to an actor on the same thread (no
/// cross-thread wake-up on the request path).
pub struct RateLimitBucket {
    key: String,
    state: Gcra,
    /// Told when the quota is whole again, so the registry can drop the bucket.
    registry: Recipient<BucketIdle>,
}

impl RateLimitBucket {
    /// Checks again at the time the quota is whole; if no request came
    /// meanwhile, reports the bucket idle.
    fn watch(&self, ctx: &mut Context<Self>) {
        let wait = self
            .state
            .idle_at()
            .saturating_duration_since(Instant::now())
            .max(MIN_IDLE_CHECK);
        ctx.run_later(wait, |act, ctx| {
            if act.state.idle_at() <= Instant::now() {
                act.registry.do_send(BucketIdle(act.key.clone()));
            } else {
                act.watch(ctx);
            }
        });
    }
}

/// Shortest wait between two idle checks of a bucket.
const MIN_IDLE_CHECK: Duration = Duration::from_millis(50);

impl Actor for RateLimitBucket {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.watch(ctx);
    }
}

/// Take one request from a bucket.
#[derive(Message)]
#[rtype(result = "Decision")]
pub struct Take {
    pub quota: Quota,
}

impl Handler<Take> for RateLimitBucket {
    type Result = MessageResult<Take>;

    fn handle(&mut self, msg: Take, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.state.take(msg.quota, Instant::now()))
    }
}

/// A bucket's quota is whole again: it may go.
#[derive(Message)]
#[rtype(result = "()")]
pub struct BucketIdle(pub String);

/// The bucket of `key`, created on `arbiter` if there is none.
#[derive(Message)]
#[rtype(result = "Addr<RateLimitBucket>")]
pub struct Lookup {
    /// Policy group and client key, e.g. `api|ip:203.0.113.9`.
    pub key: String,
    /// Where to start a new bucket: the asking worker's arbiter.
    pub arbiter: ArbiterHandle,
}

/// How many buckets are live (tests and metrics).
#[derive(Message)]
#[rtype(result = "usize")]
pub struct LiveBuckets;

/// Owns every bucket (the only strong addresses: when it drops one, the
/// bucket stops) and bounds how many live at once.
pub struct RateLimitRegistry {
    buckets: HashMap<String, Addr<RateLimitBucket>>,
    /// Keys in creation order, for eviction at the cap. May hold keys already
    /// gone (skipped when met).
    created: VecDeque<String>,
    /// Cap on live buckets, so a spray of distinct keys cannot grow memory
    /// without bound.
    max_buckets: usize,
}

impl RateLimitRegistry {
    pub fn new(max_buckets: usize) -> Self {
        Self {
            buckets: HashMap::new(),
            created: VecDeque::new(),
            max_buckets: max_buckets.max(1),
        }
    }

    /// At the cap, drops the oldest tenth of the buckets. Their keys get a
    /// fresh quota: under a spray of distinct keys this fails open for the
    /// oldest ones rather than refusing new clients.
    fn make_room(&mut self) {
        let target = self.max_buckets - (self.max_buckets / 10).max(1);
        while self.buckets.len() > target {
            let Some(key) = self.created.pop_front() else {
                break;
            };
            self.buckets.remove(&key);
        }
        warn!(
            live = self.buckets.len(),
            cap = self.max_buckets,
            "rate-limit bucket cap reached; dropped the oldest buckets"
        );
    }
}

impl Actor for RateLimitRegistry {
    type Context = Context<Self>;
}

impl Handler<Lookup> for RateLimitRegistry {
    type Result = MessageResult<Lookup>;

    fn handle(&mut self, msg: Lookup, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(addr) = self.buckets.get(&msg.key) {
            return MessageResult(addr.clone());
        }
        if self.buckets.len() >= self.max_buckets {
            self.make_room();
        }
        let registry = ctx.address().recipient();
        let key = msg.key.clone();
        let addr = RateLimitBucket::start_in_arbiter(&msg.arbiter, move |_| RateLimitBucket {
            key,
            state: Gcra::new(Instant::now()),
            registry,
        });
        self.buckets.insert(msg.key.clone(), addr.clone());
        self.created.push_back(msg.key);
        if self.created.len() > 2 * self.max_buckets {
            // Forget keys already gone so the order list stays bounded.
            let live = &self.buckets;
            self.created.retain(|k| live.contains_key(k));
        }
        MessageResult(addr)
    }
}

impl Handler<BucketIdle> for RateLimitRegistry {
    type Result = ();

    fn handle(&mut self, msg: BucketIdle, _: &mut Context<Self>) {
        // Dropping the registry's address stops the bucket; callers hold
        // only weak ones.
        self.buckets.remove(&msg.0);
    }
}

impl Handler<LiveBuckets> for RateLimitRegistry {
    type Result = usize;

    fn handle(&mut self, _: LiveBuckets, _: &mut Context<Self>) -> usize {
        self.buckets.len()
    }
}

/// The embedded limiter: one bucket actor per key, per node.
pub struct ActorRateLimiter(pub Addr<RateLimitRegistry>);

/// Most buckets a worker thread remembers; past it the cache starts over
/// (it only saves a registry lookup).
const MAX_CACHED_BUCKETS: usize = 4096;

thread_local! {
    /// This worker's weak addresses of buckets: the fast path is a message
    /// to a bucket living on this very thread.
    static BUCKETS: RefCell<HashMap<String, WeakAddr<RateLimitBucket>>> =
        RefCell::new(HashMap::new());
}

impl ActorRateLimiter {
    async fn bucket(&self, key: &str) -> Result<Addr<RateLimitBucket>, String> {
        if let Some(addr) = BUCKETS.with(|b| b.borrow().get(key).and_then(WeakAddr::upgrade)) {
            return Ok(addr);
        }
        let addr = self
            .0
            .send(Lookup {
                key: key.to_owned(),
                arbiter: actix::Arbiter::current(),
            })
            .await
            .map_err(|e| e.to_string())?;
        BUCKETS.with(|b| {
            let mut b = b.borrow_mut();
            if b.len() >= MAX_CACHED_BUCKETS {
                b.clear();
            }
            b.insert(key.to_owned(), addr.downgrade());
        });
        Ok(addr)
    }
}

#[async_trait]
impl RateLimiter for ActorRateLimiter {
    async fn check(&self, key: String, quota: Quota) -> Result<Decision, String> {
        let bucket = self.bucket(&key).await?;
        match bucket.send(Take { quota }).await {
            Ok(decision) => Ok(decision),
            // The bucket went idle and stopped between lookup and send: its
            // quota was whole, so a fresh bucket gives the same answer.
            Err(_) => {
                BUCKETS.with(|b| b.borrow_mut().remove(&key));
                let bucket = self.bucket(&key).await?;
                bucket.send(Take { quota }).await.map_err(|e| e.to_string())
            }
        }
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
    async fn buckets_go_when_idle_and_the_registry_caps_live_ones() {
        let registry = RateLimitRegistry::new(100).start();
        let quota = Quota {
            limit: 10,
            window: Duration::from_millis(50),
        };
        let arbiter = Arbiter::current();
        let mut addrs = Vec::new();
        for i in 0..1000 {
            let addr = registry
                .send(Lookup {
                    key: format!("ip:10.0.{}.{}", i / 256, i % 256),
                    arbiter: arbiter.clone(),
                })
                .await
                .unwrap();
            assert!(addr.send(Take { quota }).await.unwrap().allowed);
            assert!(registry.send(LiveBuckets).await.unwrap() <= 100);
            addrs.push(addr.downgrade());
        }
        // The same key finds the same bucket while it is busy.
        let a = registry
            .send(Lookup {
                key: "k".into(),
                arbiter: arbiter.clone(),
            })
            .await
            .unwrap();
        for _ in 0..10 {
            assert!(a.send(Take { quota }).await.unwrap().allowed);
        }
        let again = registry
            .send(Lookup {
                key: "k".into(),
                arbiter: arbiter.clone(),
            })
            .await
            .unwrap();
        assert!(!again.send(Take { quota }).await.unwrap().allowed);
        drop((a, again));
        // Once their quota is whole, buckets report idle and are dropped.
        let end = Instant::now() + Duration::from_secs(5);
        while registry.send(LiveBuckets).await.unwrap() > 0 {
            assert!(Instant::now() < end, "idle buckets were not dropped");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
