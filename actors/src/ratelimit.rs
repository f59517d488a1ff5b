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
//!
//! The TAT is one atomic word ([`BucketCell`]) that the bucket actor owns and
//! shares with the HTTP workers: the actor decides when the bucket's life
//! ends (it retires the cell once the quota is whole, and the registry drops
//! it), while a request's check is a compare-and-swap on the worker's own
//! thread. Only the first request of a key on a worker (or the first after
//! its bucket retired) sends a message, to the registry.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix::prelude::*;
use async_trait::async_trait;
use hub_core::ratelimit::{Decision, Quota, RateLimiter};
use tracing::warn;

/// GCRA on one theoretical arrival time: the decision for a request at
/// `now`, and the new TAT if it passes.
pub fn gcra(tat: Instant, quota: Quota, now: Instant) -> (Decision, Option<Instant>) {
    let interval = quota.interval();
    let tat = tat.max(now);
    let new_tat = tat + interval;
    // The earliest time this request may pass: the bucket holds `window`.
    let allow_at = new_tat.checked_sub(quota.window).unwrap_or(now);
    if now < allow_at {
        let refused = Decision {
            allowed: false,
            remaining: 0,
            reset: tat - now,
            retry_after: allow_at - now,
        };
        return (refused, None);
    }
    let used = new_tat - now;
    let free = quota.window.saturating_sub(used);
    let allowed = Decision {
        allowed: true,
        remaining: (free.as_nanos() / interval.as_nanos().max(1)) as u32,
        reset: used,
        retry_after: Duration::ZERO,
    };
    (allowed, Some(new_tat))
}

/// The instant bucket times count from (nanoseconds in a `u64`: 584 years).
/// A minute before its first use, so that an instant read just before that
/// use (a request's `now`) is not clamped to it.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(|| {
        let now = Instant::now();
        now.checked_sub(Duration::from_secs(60)).unwrap_or(now)
    })
}

fn to_nanos(t: Instant) -> u64 {
    t.saturating_duration_since(epoch()).as_nanos() as u64
}

fn from_nanos(n: u64) -> Instant {
    epoch() + Duration::from_nanos(n)
}

/// A bucket's TAT, shared by its actor and every worker that checks it: a
/// check is one compare-and-swap on the worker's own thread. A retired cell
/// (its bucket went idle or was evicted) answers nothing; the worker then
/// asks the registry for the key's live bucket, so there is never more than
/// one live cell per key.
#[derive(Debug)]
pub struct BucketCell {
    /// Nanoseconds since [`epoch`], or [`RETIRED`].
    tat: AtomicU64,
}

const RETIRED: u64 = u64::MAX;

impl BucketCell {
    fn new(now: Instant) -> Self {
        Self {
            tat: AtomicU64::new(to_nanos(now)),
        }
    }

    /// Takes one request at `now`; `None` if the cell is retired.
    pub fn take(&self, quota: Quota, now: Instant) -> Option<Decision> {
        let mut current = self.tat.load(Ordering::Acquire);
        loop {
            if current == RETIRED {
                return None;
            }
            let (decision, new_tat) = gcra(from_nanos(current), quota, now);
            let Some(new_tat) = new_tat else {
                return Some(decision);
            };
            match self.tat.compare_exchange_weak(
                current,
                to_nanos(new_tat),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(decision),
                Err(seen) => current = seen,
            }
        }
    }

    /// When the quota is whole again, or `None` once retired.
    fn idle_at(&self) -> Option<Instant> {
        match self.tat.load(Ordering::Acquire) {
            RETIRED => None,
            n => Some(from_nanos(n)),
        }
    }

    /// Retires the cell if its quota is whole at `now` (no request can have
    /// taken from it after that without the retirement failing).
    fn retire_if_idle(&self, now: Instant) -> bool {
        let current = self.tat.load(Ordering::Acquire);
        current != RETIRED
            && from_nanos(current) <= now
            && self
                .tat
                .compare_exchange(current, RETIRED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    fn retire(&self) {
        self.tat.store(RETIRED, Ordering::Release);
    }

    pub fn is_retired(&self) -> bool {
        self.tat.load(Ordering::Acquire) == RETIRED
    }
}

/// One key's bucket: owns the key's [`BucketCell`] for its life, watches it,
/// and retires it once the quota is whole again, so the registry can drop
/// the bucket (a bucket whose quota is whole is indistinguishable from a new
/// one, so nothing a client sees changes).
pub struct RateLimitBucket {
    key: String,
    cell: Arc<BucketCell>,
    /// Told when the bucket has retired its cell.
    registry: Recipient<BucketIdle>,
}

impl RateLimitBucket {
    /// Checks again at the time the quota is whole; if no request came
    /// meanwhile, retires the cell and reports the bucket idle.
    fn watch(&self, ctx: &mut Context<Self>) {
        let Some(idle_at) = self.cell.idle_at() else {
            return;
        };
        let wait = idle_at
            .saturating_duration_since(Instant::now())
            .max(MIN_IDLE_CHECK);
        ctx.run_later(wait, |act, ctx| {
            if act.cell.retire_if_idle(Instant::now()) {
                act.registry.do_send(BucketIdle {
                    key: act.key.clone(),
                    cell: act.cell.clone(),
                });
            } else if !act.cell.is_retired() {
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

    fn stopped(&mut self, _: &mut Self::Context) {
        // Evicted at the cap, or the registry is gone: no worker may go on
        // counting against this cell.
        self.cell.retire();
    }
}

/// A bucket retired its cell: the registry may drop it (if it is still the
/// key's bucket).
#[derive(Message)]
#[rtype(result = "()")]
pub struct BucketIdle {
    pub key: String,
    pub cell: Arc<BucketCell>,
}

/// The live cell of `key`'s bucket, created if there is none.
#[derive(Message)]
#[rtype(result = "Arc<BucketCell>")]
pub struct Lookup {
    /// Policy group and client key, e.g. `api|ip:203.0.113.9`.
    pub key: String,
}

/// How many buckets are live (tests and metrics).
#[derive(Message)]
#[rtype(result = "usize")]
pub struct LiveBuckets;

struct Live {
    /// The only strong address: dropping it stops the bucket.
    _bucket: Addr<RateLimitBucket>,
    cell: Arc<BucketCell>,
}

/// Owns every bucket and bounds how many live at once.
pub struct RateLimitRegistry {
    buckets: HashMap<String, Live>,
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
            if let Some(gone) = self.buckets.remove(&key) {
                gone.cell.retire();
            }
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
        match self.buckets.get(&msg.key) {
            Some(live) if !live.cell.is_retired() => return MessageResult(live.cell.clone()),
            // Retired, its `BucketIdle` still on the way: replaced below.
            Some(_) => {
                self.buckets.remove(&msg.key);
            }
            None => {}
        }
        if self.buckets.len() >= self.max_buckets {
            self.make_room();
        }
        let cell = Arc::new(BucketCell::new(Instant::now()));
        let bucket = RateLimitBucket {
            key: msg.key.clone(),
            cell: cell.clone(),
            registry: ctx.address().recipient(),
        }
        .start();
        self.buckets.insert(
            msg.key.clone(),
            Live {
                _bucket: bucket,
                cell: cell.clone(),
            },
        );
        self.created.push_back(msg.key);
        if self.created.len() > 2 * self.max_buckets {
            // Forget keys already gone so the order list stays bounded.
            let live = &self.buckets;
            self.created.retain(|k| live.contains_key(k));
        }
        MessageResult(cell)
    }
}

impl Handler<BucketIdle> for RateLimitRegistry {
    type Result = ();

    fn handle(&mut self, msg: BucketIdle, _: &mut Context<Self>) {
        // Only if it is still the key's bucket: a retired one may already
        // have been replaced by a fresh one.
        if self
            .buckets
            .get(&msg.key)
            .is_some_and(|live| Arc::ptr_eq(&live.cell, &msg.cell))
        {
            self.buckets.remove(&msg.key);
        }
    }
}

impl Handler<LiveBuckets> for RateLimitRegistry {
    type Result = usize;

    fn handle(&mut self, _: LiveBuckets, _: &mut Context<Self>) -> usize {
        self.buckets.len()
    }
}

/// The embedded limiter: one bucket actor per key, per node. Each worker
/// thread remembers the cells it has used, so a check is a hash lookup and
/// a compare-and-swap, with no message and no allocation; only a key the
/// thread has not seen (or whose bucket retired) costs a registry round trip.
pub struct ActorRateLimiter(pub Addr<RateLimitRegistry>);

/// Most cells a worker thread remembers; past it the cache starts over (it
/// only saves a registry lookup).
const MAX_CACHED_BUCKETS: usize = 4096;

thread_local! {
    /// This worker's cells, by key.
    static CELLS: RefCell<HashMap<String, Arc<BucketCell>>> = RefCell::new(HashMap::new());
}

fn cached_take(key: &str, quota: Quota) -> Option<Decision> {
    CELLS.with(|cells| {
        let mut cells = cells.borrow_mut();
        let decision = cells.get(key)?.take(quota, Instant::now());
        if decision.is_none() {
            cells.remove(key);
        }
        decision
    })
}

fn remember(key: String, cell: Arc<BucketCell>) {
    CELLS.with(|cells| {
        let mut cells = cells.borrow_mut();
        if cells.len() >= MAX_CACHED_BUCKETS {
            cells.clear();
        }
        cells.insert(key, cell);
    });
}

#[async_trait]
impl RateLimiter for ActorRateLimiter {
    fn check_now(&self, key: &str, quota: Quota) -> Option<Decision> {
        cached_take(key, quota)
    }

    /// The slow path, for a key [`check_now`](Self::check_now) could not
    /// answer: it asks the registry (callers try `check_now` first).
    async fn check(&self, key: String, quota: Quota) -> Result<Decision, String> {
        // A cell just handed out can retire only once its quota is whole,
        // after at least `MIN_IDLE_CHECK`; a few tries cover that race.
        for _ in 0..3 {
            let cell = self
                .0
                .send(Lookup { key: key.clone() })
                .await
                .map_err(|e| e.to_string())?;
            if let Some(decision) = cell.take(quota, Instant::now()) {
                remember(key, cell);
                return Ok(decision);
            }
        }
        Err("no live rate-limit bucket after three lookups".into())
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
        let g = BucketCell::new(t0);
        let take = |now| g.take(QUOTA, now).unwrap();
        let d = take(t0);
        assert!(d.allowed);
        assert_eq!(d.remaining, 2);
        assert_eq!(d.reset, Duration::from_secs(1));
        assert_eq!(take(t0).remaining, 1);
        let d = take(t0);
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.reset, Duration::from_secs(3));
        let refused = take(t0);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        // One interval later exactly one more passes.
        let t1 = t0 + Duration::from_secs(1);
        assert!(take(t1).allowed);
        assert!(!take(t1).allowed);
        // After a whole window the quota is whole again.
        let t2 = t1 + Duration::from_secs(3);
        assert_eq!(take(t2).remaining, 2);
    }

    #[test]
    fn refusals_do_not_consume() {
        let t0 = Instant::now();
        let g = BucketCell::new(t0);
        for _ in 0..3 {
            g.take(QUOTA, t0);
        }
        for _ in 0..100 {
            assert!(!g.take(QUOTA, t0).unwrap().allowed);
        }
        assert!(g.take(QUOTA, t0 + Duration::from_secs(1)).unwrap().allowed);
    }

    #[test]
    fn a_cell_shared_by_threads_allows_exactly_the_burst() {
        let quota = Quota {
            limit: 1000,
            window: Duration::from_secs(3600),
        };
        let cell = Arc::new(BucketCell::new(Instant::now()));
        let allowed: usize = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    let cell = cell.clone();
                    s.spawn(move || {
                        (0..1000)
                            .filter(|_| cell.take(quota, Instant::now()).unwrap().allowed)
                            .count()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).sum()
        });
        assert_eq!(allowed, 1000);
    }

    #[test]
    fn a_retired_cell_answers_nothing_and_only_an_idle_one_retires() {
        // Times before the epoch count as the epoch: start it first.
        epoch();
        let t0 = Instant::now();
        let cell = BucketCell::new(t0);
        assert!(cell.take(QUOTA, t0).unwrap().allowed);
        // The quota is not whole until a second later.
        assert!(!cell.retire_if_idle(t0));
        assert!(cell.retire_if_idle(t0 + Duration::from_secs(1)));
        assert!(cell.take(QUOTA, t0).is_none());
        assert!(cell.idle_at().is_none());
    }

    #[actix::test]
    async fn buckets_go_when_idle_and_the_registry_caps_live_ones() {
        let registry = RateLimitRegistry::new(100).start();
        let quota = Quota {
            limit: 10,
            window: Duration::from_millis(50),
        };
        let mut cells = Vec::new();
        for i in 0..1000 {
            let cell = registry
                .send(Lookup {
                    key: format!("ip:10.0.{}.{}", i / 256, i % 256),
                })
                .await
                .unwrap();
            assert!(cell.take(quota, Instant::now()).unwrap().allowed);
            assert!(registry.send(LiveBuckets).await.unwrap() <= 100);
            cells.push(cell);
        }
        // Evicted buckets' cells are retired: nobody counts against them.
        assert!(cells[0].is_retired());
        assert!(!cells[999].is_retired());
        // The same key finds the same cell while it is busy.
        let a = registry.send(Lookup { key: "k".into() }).await.unwrap();
        for _ in 0..10 {
            assert!(a.take(quota, Instant::now()).unwrap().allowed);
        }
        let again = registry.send(Lookup { key: "k".into() }).await.unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        assert!(!again.take(quota, Instant::now()).unwrap().allowed);
        // Once their quota is whole, buckets retire their cells and go.
        let end = Instant::now() + Duration::from_secs(5);
        while registry.send(LiveBuckets).await.unwrap() > 0 {
            assert!(Instant::now() < end, "idle buckets were not dropped");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(a.is_retired());
        // A new lookup gets a fresh, whole quota.
        let fresh = registry.send(Lookup { key: "k".into() }).await.unwrap();
        assert!(!Arc::ptr_eq(&a, &fresh));
        assert_eq!(fresh.take(quota, Instant::now()).unwrap().remaining, 9);
    }

    #[actix::test]
    async fn the_limiter_answers_from_the_threads_cell_after_the_first_check() {
        let limiter = ActorRateLimiter(RateLimitRegistry::new(100).start());
        let quota = Quota {
            limit: 3,
            window: Duration::from_secs(60),
        };
        let key = "api|ip:192.0.2.7";
        assert!(limiter.check_now(key, quota).is_none());
        assert_eq!(limiter.check(key.into(), quota).await.unwrap().remaining, 2);
        assert_eq!(limiter.check_now(key, quota).unwrap().remaining, 1);
        assert!(limiter.check_now(key, quota).unwrap().allowed);
        assert!(!limiter.check(key.into(), quota).await.unwrap().allowed);
        assert!(!limiter.check_now(key, quota).unwrap().allowed);
    }
}
