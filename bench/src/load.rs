//! The building blocks every scenario shares: opening many sessions, an
//! open-loop REST publisher, closed-loop request workers, and the fan-out run
//! (sessions + publisher + drain) that `fanout`, `login-storm`, `soak` and
//! `cross-node` are made of.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::http::{Client, Response};
use crate::stats::{now_ns, Recorder, Summary};
use crate::users::BenchUser;
use crate::ws::{read_session, Counting, Dialer, Tally};

/// Open sessions and their readers.
pub struct Sessions {
    pub readers: Vec<JoinHandle<()>>,
    /// Wall time to open them all (TCP + upgrade + welcome).
    pub connect_time: Duration,
    pub failed: usize,
    pub first_error: Option<String>,
}

impl Sessions {
    pub fn opened(&self) -> usize {
        self.readers.len()
    }

    pub fn connects_per_sec(&self) -> f64 {
        let s = self.connect_time.as_secs_f64();
        if s > 0.0 {
            (self.opened() as f64 / s).round()
        } else {
            0.0
        }
    }

    /// Drops every session (the hub sees the sockets close).
    pub fn close_all(&mut self) {
        for r in self.readers.drain(..) {
            r.abort();
        }
    }
}

impl Drop for Sessions {
    fn drop(&mut self) {
        self.close_all();
    }
}

/// Opens `count` sessions, session `j` for user `j % users.len()`, at most
/// `concurrency` handshakes at a time.
pub async fn open_sessions(
    dialer: Arc<Dialer>,
    users: &[BenchUser],
    count: usize,
    concurrency: usize,
    counting: Counting,
    marker: Arc<str>,
    tally: Arc<Tally>,
) -> anyhow::Result<Sessions> {
    if users.is_empty() {
        bail!("no users to open sessions for");
    }
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut pending = Vec::with_capacity(count);
    for j in 0..count {
        // A closed semaphore is impossible here: nobody closes it.
        let permit = gate.clone().acquire_owned().await?;
        let token = users[j % users.len()].token.clone();
        let dialer = dialer.clone();
        let marker = marker.clone();
        let tally = tally.clone();
        pending.push(tokio::spawn(async move {
            let result = dialer.connect(&token, "").await;
            drop(permit);
            result.map(|ws| tokio::spawn(read_session(ws, j, counting, marker, tally)))
        }));
    }
    let mut sessions = Sessions {
        readers: Vec::with_capacity(count),
        connect_time: Duration::ZERO,
        failed: 0,
        first_error: None,
    };
    for p in pending {
        match p.await {
            Ok(Ok(reader)) => sessions.readers.push(reader),
            Ok(Err(e)) => {
                sessions.failed += 1;
                sessions.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
            Err(e) => {
                sessions.failed += 1;
                sessions.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    sessions.connect_time = started.elapsed();
    Ok(sessions)
}

/// Counters of a publisher.
#[derive(Default)]
pub struct PublishTally {
    /// Requests answered with the expected status.
    pub ok: AtomicU64,
    pub errors: AtomicU64,
    pub first_error: Mutex<Option<String>>,
    /// Deliveries owed: the sessions of the user of every acknowledged event.
    pub expected: AtomicU64,
    /// Request round trips.
    pub latency: Recorder,
    /// How far the open-loop schedule fell behind, at worst (ns).
    pub max_lag_ns: AtomicU64,
}

impl PublishTally {
    pub fn error(&self, message: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(message);
    }

    pub fn first_error(&self) -> Option<String> {
        self.first_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Called with each acknowledged activity and the `now_ns` of its 201.
pub type OnCreated = Arc<dyn Fn(&Response, u64) + Send + Sync>;

/// What a [`Publisher`] sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublishKind {
    /// `POST /api/activities` for a user (201).
    Activities,
    /// `POST /api/broadcast` (202).
    Broadcasts,
}

/// An open-loop publisher of activities over REST with the service key.
#[derive(Clone)]
pub struct Publisher {
    pub hub: SocketAddr,
    pub api_key: String,
    /// Ids of the users events go to, round-robin.
    pub user_ids: Arc<Vec<String>>,
    /// Deliveries owed per acknowledged request: the sessions of the user
    /// (activities), or every session (broadcasts).
    pub deliveries: u64,
    /// What is published.
    pub kind: PublishKind,
    /// Stop after this many requests (else after `duration`).
    pub limit: Option<u64>,
    /// Events per second; 0 publishes as fast as the connections allow.
    pub rate: f64,
    pub duration: Duration,
    /// Connections (tasks) publishing at once.
    pub connections: usize,
    /// Marks this run's events (other traffic on the hub is ignored).
    pub marker: Arc<str>,
    pub on_created: Option<OnCreated>,
}

impl Publisher {
    /// Publishes until `duration` has passed; returns the wall time used.
    pub async fn run(&self, tally: Arc<PublishTally>) -> Duration {
        let started = Instant::now();
        let next = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for worker in 0..self.connections.max(1) {
            let me = self.clone();
            let next = next.clone();
            let tally = tally.clone();
            tasks.push(tokio::spawn(async move {
                me.worker(worker, started, next, tally).await;
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        started.elapsed()
    }

    async fn worker(
        &self,
        worker: usize,
        started: Instant,
        next: Arc<AtomicU64>,
        tally: Arc<PublishTally>,
    ) {
        let mut client = Client::new(self.hub);
        let headers = [("X-API-Key", self.api_key.as_str())];
        let end = started + self.duration;
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if self.limit.is_some_and(|limit| i >= limit) {
                return;
            }
            if self.rate > 0.0 {
                let due = started + Duration::from_secs_f64(i as f64 / self.rate);
                if due >= end {
                    return;
                }
                let now = Instant::now();
                if due > now {
                    tokio::time::sleep_until(due.into()).await;
                } else {
                    tally
                        .max_lag_ns
                        .fetch_max((now - due).as_nanos() as u64, Ordering::Relaxed);
                }
            } else if Instant::now() >= end {
                return;
            }
            let t = now_ns();
            let (path, body, ok_status) = match self.kind {
                PublishKind::Activities => {
                    let user = &self.user_ids[i as usize % self.user_ids.len()];
                    (
                        "/api/activities",
                        format!(
                            r#"{{"type":"notification","title":"bench {i}","user_id":"{user}","metadata":{{"run":"{}","seq":{i},"t_ns":{t}}}}}"#,
                            self.marker
                        ),
                        201,
                    )
                }
                PublishKind::Broadcasts => (
                    "/api/broadcast",
                    format!(
                        r#"{{"title":"bench {i}","data":{{"run":"{}","seq":{i},"t_ns":{t}}}}}"#,
                        self.marker
                    ),
                    202,
                ),
            };
            match client.post_json(path, &headers, body.as_bytes()).await {
                Ok(r) if r.status == ok_status => {
                    let done = now_ns();
                    tally.latency.record(worker, done.saturating_sub(t));
                    tally.ok.fetch_add(1, Ordering::Relaxed);
                    tally.expected.fetch_add(self.deliveries, Ordering::Relaxed);
                    if let Some(f) = &self.on_created {
                        f(&r, done);
                    }
                }
                Ok(r) => tally.error(format!(
                    "POST {path} answered {}: {}",
                    r.status,
                    r.snippet()
                )),
                Err(e) => tally.error(format!("POST {path}: {e:#}")),
            }
        }
    }
}

/// Waits until `received()` reaches `expected()` or `limit` passes; returns
/// how long it waited.
pub async fn drain(
    limit: Duration,
    expected: impl Fn() -> u64,
    received: impl Fn() -> u64,
) -> Duration {
    let started = Instant::now();
    while received() < expected() && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

/// Runs `workers` closed-loop tasks for `duration`. `make(worker, end,
/// tally)` is each task's whole loop (so it can own its connection); it
/// records each call with [`record_call`].
pub async fn closed_loop<F, Fut>(
    workers: usize,
    duration: Duration,
    make: F,
) -> (Arc<PublishTally>, Duration)
where
    F: Fn(usize, Instant, Arc<PublishTally>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let tally = Arc::new(PublishTally::default());
    let started = Instant::now();
    let end = started + duration;
    let tasks: Vec<_> = (0..workers.max(1))
        .map(|w| tokio::spawn(make(w, end, tally.clone())))
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    (tally, started.elapsed())
}

/// Counts one call of a closed-loop worker started at `t0` (`now_ns`).
pub fn record_call(tally: &PublishTally, worker: usize, t0: u64, result: Result<(), String>) {
    match result {
        Ok(()) => {
            tally.latency.record(worker, now_ns().saturating_sub(t0));
            tally.ok.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => tally.error(e),
    }
}

/// Knobs of a fan-out run.
#[derive(Clone, Debug)]
pub struct FanoutPlan {
    pub users: usize,
    pub sessions_per_user: usize,
    pub rate: f64,
    pub duration: Duration,
    /// Latencies of the first `warmup` are dropped (counts still cover it).
    pub warmup: Duration,
    pub publishers: usize,
    pub connect_concurrency: usize,
    /// How long to wait after the last publish for deliveries to arrive.
    pub drain: Duration,
}

impl FanoutPlan {
    pub fn json(&self) -> Value {
        json!({
            "users": self.users,
            "sessions_per_user": self.sessions_per_user,
            "sessions": self.users * self.sessions_per_user,
            "rate_per_s": self.rate,
            "duration_s": self.duration.as_secs_f64(),
            "warmup_s": self.warmup.as_secs_f64(),
            "publishers": self.publishers,
            "connect_concurrency": self.connect_concurrency,
        })
    }
}

/// What a fan-out run measured.
pub struct FanoutOutcome {
    pub sessions_opened: usize,
    pub sessions_failed: usize,
    pub connects_per_sec: f64,
    pub published: u64,
    pub publish_errors: u64,
    pub first_error: Option<String>,
    pub publish_rate: f64,
    pub max_lag_ms: f64,
    pub expected: u64,
    pub received: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub closed_early: u64,
    pub close_codes: std::collections::BTreeMap<u16, u64>,
    pub latency: Summary,
    pub publish_latency: Summary,
    pub drain_wait: Duration,
    pub source_addresses: usize,
}

impl FanoutOutcome {
    pub fn lost(&self) -> u64 {
        self.expected
            .saturating_sub(self.received.saturating_sub(self.duplicates))
    }

    pub fn print(&self) {
        println!(
            "sessions: {} open ({} failed) at {} connects/s over {} source address(es)",
            self.sessions_opened,
            self.sessions_failed,
            self.connects_per_sec,
            self.source_addresses
        );
        println!(
            "published: {} ({} errors) at {:.0}/s; schedule lag max {:.1} ms",
            self.published, self.publish_errors, self.publish_rate, self.max_lag_ms
        );
        println!(
            "deliveries: expected {}  received {}  lost {}  duplicates {}  out of order {}  sessions closed early {} {:?}",
            self.expected,
            self.received,
            self.lost(),
            self.duplicates,
            self.out_of_order,
            self.closed_early,
            self.close_codes
        );
        println!("{}", self.latency.line("publish→receive"));
        println!("{}", self.publish_latency.line("POST /api/activities"));
        if let Some(e) = &self.first_error {
            println!("first publish error: {e}");
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "sessions_opened": self.sessions_opened,
            "sessions_failed": self.sessions_failed,
            "connects_per_s": self.connects_per_sec,
            "published": self.published,
            "publish_errors": self.publish_errors,
            "publish_rate_per_s": self.publish_rate,
            "schedule_lag_max_ms": self.max_lag_ms,
            "expected": self.expected,
            "received": self.received,
            "lost": self.lost(),
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "sessions_closed_early": self.closed_early,
            "close_codes": self.close_codes,
            "latency": self.latency.json(),
            "publish_latency": self.publish_latency.json(),
            "drain_wait_s": self.drain_wait.as_secs_f64(),
            "source_addresses": self.source_addresses,
        })
    }

    /// Lost, failed or disordered work, as messages.
    pub fn integrity_errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        if self.sessions_failed > 0 {
            errors.push(format!("{} sessions failed to open", self.sessions_failed));
        }
        if self.publish_errors > 0 {
            errors.push(format!(
                "{} publish errors (first: {})",
                self.publish_errors,
                self.first_error.as_deref().unwrap_or("?")
            ));
        }
        if self.lost() > 0 {
            errors.push(format!("{} deliveries lost", self.lost()));
        }
        if self.out_of_order > 0 || self.duplicates > 0 {
            errors.push(format!(
                "{} out of order, {} duplicates",
                self.out_of_order, self.duplicates
            ));
        }
        if self.closed_early > 0 {
            errors.push(format!(
                "{} sessions closed during the run: {:?}",
                self.closed_early, self.close_codes
            ));
        }
        errors
    }
}

/// Sessions on `ws_hub`, events published through `publish_hub` (the same
/// hub, or another node of a cluster). `phase` is told `true` when
/// publishing starts and `false` when it ends, for side loads and samplers.
pub async fn fanout(
    ws_hub: SocketAddr,
    publish_hub: SocketAddr,
    api_key: &str,
    users: &[BenchUser],
    plan: &FanoutPlan,
    source_addrs: usize,
    phase: Option<tokio::sync::watch::Sender<bool>>,
) -> anyhow::Result<FanoutOutcome> {
    let marker: Arc<str> = Arc::from(format!(
        "run-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    ));
    let dialer = Arc::new(Dialer::new(ws_hub, source_addrs));
    let tally = Arc::new(Tally::default());
    let users = &users[..plan.users.min(users.len())];
    let count = users.len() * plan.sessions_per_user;
    let mut sessions = open_sessions(
        dialer.clone(),
        users,
        count,
        plan.connect_concurrency,
        Counting::Events,
        marker.clone(),
        tally.clone(),
    )
    .await?;
    if sessions.failed > 0 {
        bail!(
            "{} of {count} sessions failed to open; first: {}",
            sessions.failed,
            sessions.first_error.as_deref().unwrap_or("?")
        );
    }
    // Let the hub finish registering the last sessions.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let publisher = Publisher {
        hub: publish_hub,
        api_key: api_key.to_owned(),
        user_ids: Arc::new(users.iter().map(|u| u.id.clone()).collect()),
        deliveries: plan.sessions_per_user as u64,
        kind: PublishKind::Activities,
        limit: None,
        rate: plan.rate,
        duration: plan.duration,
        connections: plan.publishers,
        marker,
        on_created: None,
    };
    let ptally = Arc::new(PublishTally::default());
    if let Some(p) = &phase {
        let _ = p.send(true);
    }
    let warmup = {
        let tally = tally.clone();
        let ptally = ptally.clone();
        let wait = plan.warmup;
        tokio::spawn(async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
                tally.latency.reset();
                ptally.latency.reset();
            }
        })
    };
    let elapsed = publisher.run(ptally.clone()).await;
    warmup.abort();
    if let Some(p) = &phase {
        let _ = p.send(false);
    }
    let drain_wait = drain(
        plan.drain,
        || ptally.expected.load(Ordering::Relaxed),
        || tally.received.load(Ordering::Relaxed),
    )
    .await;
    let published = ptally.ok.load(Ordering::Relaxed);
    let outcome = FanoutOutcome {
        sessions_opened: sessions.opened(),
        sessions_failed: sessions.failed,
        connects_per_sec: sessions.connects_per_sec(),
        published,
        publish_errors: ptally.errors.load(Ordering::Relaxed),
        first_error: ptally.first_error(),
        publish_rate: (published as f64 / elapsed.as_secs_f64()).round(),
        max_lag_ms: ptally.max_lag_ns.load(Ordering::Relaxed) as f64 / 1e6,
        expected: ptally.expected.load(Ordering::Relaxed),
        received: tally.received.load(Ordering::Relaxed),
        duplicates: tally.duplicates.load(Ordering::Relaxed),
        out_of_order: tally.out_of_order.load(Ordering::Relaxed),
        closed_early: tally.closed.load(Ordering::Relaxed),
        close_codes: tally.closed_with(),
        latency: Summary::of(&tally.latency.merged()),
        publish_latency: Summary::of(&ptally.latency.merged()),
        drain_wait,
        source_addresses: dialer.source_addresses_used(),
    };
    sessions.close_all();
    Ok(outcome)
}
