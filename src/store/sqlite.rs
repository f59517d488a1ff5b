//! The embedded store: one SQLite file in WAL mode.
//!
//! Writes go to a single writer thread that folds whatever is waiting into one
//! transaction (group commit): under load a single fsync covers hundreds of
//! writes, which is how an embedded hub reaches ≥ 10,000 durable activities/s.
//! Each write runs inside its own savepoint, so one failing write (a duplicate
//! e-mail) does not undo its neighbours. A caller is answered only after the
//! commit that holds its write has returned.
//!
//! Reads run on tokio's blocking pool with connections taken from a small pool;
//! WAL lets them proceed while the writer commits.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::analytics::{CountedMetric, HourlyCounts, MetricCounts};
use hub_core::ids::{ActivityId, DeliveryId, TaskId, TokenId, UserId, WebhookId};
use hub_core::model::{
    Activity, ActivityType, IdempotencyKey, NewActivity, Task, TaskKind, TaskStatus, User,
    UserRecord,
};
use hub_core::settings::Synchronous;
use hub_core::store::{
    ActivityQuery, ActivityScan, AppendOutcome, Conflict, HistoryWindow, NewUser, Page,
    PersonalToken, PersonalTokenRecord, PortalGrant, RefreshTokenRecord, Replay, RotateOutcome,
    Store, StoreError, TaskChange, TaskQuery, TokenScope,
};
use hub_core::time::{from_micros, micros};
use hub_core::webhook::{
    self, AttemptRecord, Delivery, DeliveryAttempt, DeliveryLog, DeliveryQuery, DeliveryStatus,
    EndpointUpdate, EventType, SigningSecrets, Webhook, WebhookChange, WebhookFormat,
    WebhookRecord, WebhookStatus,
};
use hub_core::EventSink;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, ToSql};
use tokio::sync::{mpsc, oneshot};
use tracing::error;

/// Writes waiting for the writer thread. A full queue makes callers wait
/// (back-pressure) instead of growing memory.
const WRITE_QUEUE_CAPACITY: usize = 16_384;
/// Read connections kept open between reads.
const MAX_IDLE_READERS: usize = 8;
/// How long an idempotency key is remembered.
const IDEMPOTENCY_TTL_MICROS: i64 = 24 * 3600 * 1_000_000;
/// How often the writer deletes expired idempotency keys and refresh tokens.
const PURGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);
/// Prepared statements kept per connection. rusqlite's default (16) is below
/// the number of statements the writer uses, which would re-prepare them.
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// The schema, one entry per version. A database at version N gets entries
/// N.. applied in order at start; `PRAGMA user_version` records progress.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    email_lower   TEXT NOT NULL UNIQUE,
    full_name     TEXT,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE TABLE refresh_tokens (
    jti        TEXT PRIMARY KEY,
    family     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family);
CREATE TABLE revoked_families (
    family     TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL
);
CREATE TABLE activities (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    message    TEXT,
    metadata   TEXT NOT NULL,
    link       TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX activities_user_seq ON activities(user_id, seq);
CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    activity_seq INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE TABLE tasks (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    status      TEXT NOT NULL,
    progress    INTEGER NOT NULL,
    message     TEXT,
    eta_seconds INTEGER,
    metadata    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    version     INTEGER NOT NULL
);
CREATE INDEX tasks_user_seq ON tasks(user_id, seq);
"#,
    r#"
CREATE TABLE webhooks (
    seq                        INTEGER PRIMARY KEY AUTOINCREMENT,
    id                         TEXT NOT NULL UNIQUE,
    user_id                    TEXT NOT NULL,
    url                        TEXT NOT NULL,
    events                     TEXT NOT NULL,
    description                TEXT,
    status                     TEXT NOT NULL,
    disabled_reason            TEXT,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL,
    last_delivery_at           INTEGER,
    last_status_code           INTEGER,
    consecutive_failures       INTEGER NOT NULL DEFAULT 0,
    version                    INTEGER NOT NULL DEFAULT 0,
    secret                     TEXT NOT NULL,
    previous_secret            TEXT,
    previous_secret_expires_at INTEGER
);
CREATE INDEX webhooks_user_status ON webhooks(user_id, status);
CREATE TABLE webhook_deliveries (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    webhook_id      TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    activity_seq    INTEGER,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    retry_base      INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_webhook_seq ON webhook_deliveries(webhook_id, seq);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(webhook_id, seq)
    WHERE status = 'pending';
CREATE TABLE webhook_attempts (
    delivery_id     TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    webhook_id      TEXT NOT NULL,
    attempted_at    INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    status_code     INTEGER,
    error           TEXT,
    response_body   TEXT,
    next_attempt_at INTEGER,
    PRIMARY KEY (delivery_id, attempt)
) WITHOUT ROWID;
CREATE INDEX webhook_attempts_webhook ON webhook_attempts(webhook_id);
"#,
    // Analytics counters: one row per user and UTC hour, one column per counted
    // metric (named as `CountedMetric::as_str`). A wide row rather than one row
    // per metric: a year summary reads two years of hours (this one and the
    // previous) and must answer in milliseconds, so 17,520 rows, not 140,160.
    // `hour` is hours since the Unix epoch. Existing activities are counted once
    // here; from then on `insert_activity` keeps the counters in step.
    r#"
CREATE TABLE metric_hours (
    user_id                  TEXT NOT NULL,
    hour                     INTEGER NOT NULL,
    prospects_added          INTEGER NOT NULL DEFAULT 0,
    prospects_analyzed       INTEGER NOT NULL DEFAULT 0,
    research_tasks_completed INTEGER NOT NULL DEFAULT 0,
    outreach_sent            INTEGER NOT NULL DEFAULT 0,
    meetings_booked          INTEGER NOT NULL DEFAULT 0,
    content_published        INTEGER NOT NULL DEFAULT 0,
    automations_triggered    INTEGER NOT NULL DEFAULT 0,
    tasks_completed          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, hour)
) WITHOUT ROWID;
INSERT INTO metric_hours
SELECT user_id,
       (created_at - (((created_at % 3600000000) + 3600000000) % 3600000000)) / 3600000000,
       SUM(kind = 'prospect_added'),
       SUM(kind = 'research_completed'),
       SUM(kind = 'task_completed' AND json_extract(metadata, '$.kind') = 'research'),
       SUM(kind = 'outreach_sent'),
       SUM(kind = 'meeting_booked'),
       SUM(kind = 'content_published'),
       SUM(kind = 'automation_triggered'),
       SUM(kind = 'task_completed')
FROM activities
WHERE kind <> 'notification'
GROUP BY 1, 2;
"#,
    // One-time portal links: the hash of the link's token, redeemed (deleted)
    // once for a webhooks-only session.
    r#"
CREATE TABLE portal_grants (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    read_only  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // The body an endpoint receives: standard, slack or discord.
    r#"
ALTER TABLE webhooks ADD COLUMN format TEXT NOT NULL DEFAULT 'standard';
"#,
    // Personal access tokens: the SHA-256 of the secret, never the secret.
    r#"
CREATE TABLE personal_tokens (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX personal_tokens_user ON personal_tokens(user_id);
"#,
];

/// Microseconds in an hour: the width of an analytics counter bucket.
const MICROS_PER_HOUR: i64 = 3_600 * 1_000_000;

/// The counter upsert, built once from the metric names.
fn count_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let names: Vec<&str> = CountedMetric::ALL.iter().map(|m| m.as_str()).collect();
        let placeholders: Vec<String> = (3..3 + names.len()).map(|i| format!("?{i}")).collect();
        let updates: Vec<String> = names
            .iter()
            .map(|n| format!("{n} = {n} + excluded.{n}"))
            .collect();
        format!(
            "INSERT INTO metric_hours (user_id, hour, {}) VALUES (?1, ?2, {}) \
             ON CONFLICT (user_id, hour) DO UPDATE SET {}",
            names.join(", "),
            placeholders.join(", "),
            updates.join(", ")
        )
    })
}

/// The counter read, built once from the metric names.
fn hourly_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let names: Vec<&str> = CountedMetric::ALL.iter().map(|m| m.as_str()).collect();
        format!(
            "SELECT hour, {} FROM metric_hours WHERE user_id = ?1 AND hour >= ?2 AND hour < ?3 \
             ORDER BY hour",
            names.join(", ")
        )
    })
}

/// The first whole hour (as hours since the epoch) starting at or after `t`.
fn hour_at_or_after(t: DateTime<Utc>) -> i64 {
    let us = micros(t);
    us.div_euclid(MICROS_PER_HOUR) + i64::from(us.rem_euclid(MICROS_PER_HOUR) != 0)
}

/// The result a write reports once its transaction's fate is known.
type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A write: runs on the writer's connection, says whether it succeeded (so
/// its savepoint is kept or rolled back) and how to answer its caller.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    /// Queue into the writer thread.
    writer: mpsc::Sender<Job>,
    /// Idle read-only connections.
    readers: Arc<ReaderPool>,
    /// Told about every committed activity and task change, in commit order.
    sink: Arc<dyn EventSink>,
}

struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    fn take(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(internal)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(internal)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
    }
}

fn internal(err: rusqlite::Error) -> StoreError {
    StoreError::Internal(err.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) `<data_dir>/hub.db`, applies migrations and
    /// starts the writer thread.
    pub fn open(
        data_dir: &Path,
        synchronous: Synchronous,
        max_batch: usize,
        sink: Arc<dyn EventSink>,
    ) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let path = data_dir.join("hub.db");
        let conn = Connection::open(&path).map_err(internal)?;
        let sync = match synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        // The writer never checkpoints itself (`wal_autocheckpoint = 0`): a
        // checkpoint copies the WAL into the database and fsyncs, tens of ms
        // during which every publish would wait. A thread of its own does it.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; \
             PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {WAL_SIZE_LIMIT};"
        ))
        .map_err(internal)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(internal)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        migrate(&conn)?;

        let (tx, rx) = mpsc::channel::<Job>(WRITE_QUEUE_CAPACITY);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, max_batch))
            .map_err(|e| StoreError::Internal(format!("cannot start writer thread: {e}")))?;
        let checkpoint_conn = Connection::open(&path).map_err(internal)?;
        let writer_alive = tx.downgrade();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpoint_conn, writer_alive))
            .map_err(|e| StoreError::Internal(format!("cannot start checkpoint thread: {e}")))?;

        Ok(Self {
            writer: tx,
            readers: Arc::new(ReaderPool {
                path,
                idle: Mutex::new(Vec::new()),
            }),
            sink,
        })
    }

    /// Runs `f` inside the next group commit and answers after the commit.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_announcing(f, |_, _| {}).await
    }

    /// Like [`Self::write`], and once committed, `announce` runs on the writer
    /// thread in commit order: that is how the sink sees events in id order.
    async fn write_announcing<T, F, A>(&self, f: F, announce: A) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        A: FnOnce(&dyn EventSink, &T) + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let sink = self.sink.clone();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let complete: Completion = Box::new(move |commit| {
                let result = commit.and(result);
                if let Ok(value) = &result {
                    announce(sink.as_ref(), value);
                }
                // The caller may have given up (request cancelled): nothing to do.
                let _ = tx.send(result);
            });
            (ok, complete)
        });
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Internal("the SQLite writer dropped a write".into()))?
    }

    /// Runs a read on the blocking pool.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.take()?;
            let result = f(&conn);
            pool.give_back(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
    }
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(internal)? as usize;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.unchecked_transaction().map_err(internal)?;
        tx.execute_batch(sql).map_err(internal)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", index + 1))
            .map_err(internal)?;
        tx.commit().map_err(internal)?;
    }
    Ok(())
}

/// How often the checkpoint thread moves the WAL into the database.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(200);
/// How often the writer itself checkpoints, between two batches. The
/// background thread's checkpoints never finish while writes keep coming, so
/// the WAL would never start over and would grow without end (15 GB in a
/// 10-minute soak, and its index with it in RSS). The writer's checkpoint
/// finishes (nothing writes meanwhile) and copies little (the background
/// thread has copied almost every frame), but it syncs the database file
/// and restarts the WAL: tens of ms during which publishes wait (measured at
/// 2,000 events/s: every 2 s, fan-out p99 7.2 ms; every 5 s, 5.4 ms; every
/// 15 s, 4.4 ms with a p99.9 of 112 ms). 5 s keeps the WAL near 64 MB.
const WRITER_CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);
/// Size the WAL file is truncated back to when it starts over, in bytes.
const WAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// Checkpoints the WAL in the background (`PASSIVE`: never blocks the writer
/// or readers) until the store is dropped.
fn checkpoint_loop(conn: Connection, writer: mpsc::WeakSender<Job>) {
    while writer.upgrade().is_some() {
        std::thread::sleep(CHECKPOINT_INTERVAL);
        if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            error!(cause = %err, "WAL checkpoint failed");
        }
    }
}

/// Deletes what has expired: idempotency keys past 24 h, refresh tokens and
/// portal links past their expiry. Keeps the tables from growing without
/// bound.
fn purge_expired(conn: &Connection) {
    let now = micros(Utc::now());
    let result = conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         DELETE FROM idempotency_keys WHERE created_at < {};
         DELETE FROM refresh_tokens WHERE expires_at < {now};
         DELETE FROM portal_grants WHERE expires_at < {now};
         COMMIT;",
        now - IDEMPOTENCY_TTL_MICROS
    ));
    if let Err(err) = result {
        let _ = conn.execute_batch("ROLLBACK");
        error!(cause = %err, "purging expired rows failed");
    }
}

fn writer_loop(conn: Connection, mut rx: mpsc::Receiver<Job>, max_batch: usize) {
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    let mut completions: Vec<Completion> = Vec::with_capacity(max_batch);
    let mut last_purge = std::time::Instant::now();
    let mut last_checkpoint = std::time::Instant::now();
    purge_expired(&conn);
    while let Some(first) = rx.blocking_recv() {
        if last_purge.elapsed() > PURGE_INTERVAL {
            purge_expired(&conn);
            last_purge = std::time::Instant::now();
        }
        if last_checkpoint.elapsed() > WRITER_CHECKPOINT_INTERVAL {
            if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                error!(cause = %err, "WAL checkpoint failed");
            }
            last_checkpoint = std::time::Instant::now();
        }
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
            error!(cause = %err, "cannot begin a write transaction");
            for job in batch.drain(..) {
                let (_, complete) = job(&conn);
                complete(Err(StoreError::Internal(err.to_string())));
            }
            continue;
        }
        for job in batch.drain(..) {
            // Savepoint statements only fail if the connection is unusable,
            // which the COMMIT below reports for the whole batch.
            let _ = conn.execute_batch("SAVEPOINT job");
            let (ok, complete) = job(&conn);
            if !ok {
                let _ = conn.execute_batch("ROLLBACK TO job");
            }
            let _ = conn.execute_batch("RELEASE job");
            completions.push(complete);
        }
        match conn.execute_batch("COMMIT") {
            Ok(()) => {
                for complete in completions.drain(..) {
                    complete(Ok(()));
                }
            }
            Err(err) => {
                error!(cause = %err, "group commit failed; the batch was rolled back");
                let _ = conn.execute_batch("ROLLBACK");
                for complete in completions.drain(..) {
                    complete(Err(StoreError::Internal(err.to_string())));
                }
            }
        }
    }
}

/// Adds `created_at` bounds (since inclusive, until exclusive) to a query
/// being built.
fn time_filters(
    sql: &mut String,
    args: &mut Vec<Box<dyn ToSql>>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) {
    if let Some(since) = since {
        sql.push_str(" AND created_at >= ?");
        args.push(Box::new(micros(since)));
    }
    if let Some(until) = until {
        sql.push_str(" AND created_at < ?");
        args.push(Box::new(micros(until)));
    }
}

const ACTIVITY_COLUMNS: &str = "seq, user_id, kind, title, message, metadata, link, created_at";

fn activity_from_row(row: &Row<'_>) -> rusqlite::Result<Activity> {
    let kind: String = row.get(2)?;
    let metadata: String = row.get(5)?;
    Ok(Activity {
        id: ActivityId::from_seq(row.get(0)?),
        user_id: UserId(row.get(1)?),
        // Only `ActivityType::as_str` values are ever written.
        kind: ActivityType::parse(&kind).unwrap_or(ActivityType::Notification),
        title: row.get(3)?,
        message: row.get(4)?,
        metadata: serde_json::from_str(&metadata).unwrap_or(serde_json::Value::Null),
        link: row.get(6)?,
        created_at: from_micros(row.get(7)?),
    })
}

const TASK_COLUMNS: &str =
    "seq, id, user_id, kind, title, status, progress, message, eta_seconds, \
     metadata, created_at, updated_at, started_at, finished_at, version";

fn task_from_row(row: &Row<'_>) -> rusqlite::Result<(i64, Task)> {
    let kind: String = row.get(3)?;
    let status: String = row.get(5)?;
    let metadata: String = row.get(9)?;
    let eta: Option<i64> = row.get(8)?;
    Ok((
        row.get(0)?,
        Task {
            id: TaskId(row.get(1)?),
            user_id: UserId(row.get(2)?),
            kind: TaskKind::parse(&kind).unwrap_or(TaskKind::Automation),
            title: row.get(4)?,
            status: TaskStatus::parse(&status).unwrap_or(TaskStatus::Failed),
            progress: row.get::<_, i64>(6)?.clamp(0, 100) as u8,
            message: row.get(7)?,
            eta_seconds: eta.map(|e| e.max(0) as u64),
            metadata: serde_json::from_str(&metadata).unwrap_or(serde_json::Value::Null),
            created_at: from_micros(row.get(10)?),
            updated_at: from_micros(row.get(11)?),
            started_at: row.get::<_, Option<i64>>(12)?.map(from_micros),
            finished_at: row.get::<_, Option<i64>>(13)?.map(from_micros),
            version: row.get(14)?,
        },
    ))
}

fn insert_activity(conn: &Connection, a: &NewActivity) -> Result<Activity, StoreError> {
    let metadata = a.metadata.to_string();
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO activities (user_id, kind, title, message, metadata, link, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(internal)?;
    stmt.execute(params![
        a.user_id.as_str(),
        a.kind.as_str(),
        a.title,
        a.message,
        metadata,
        a.link,
        micros(a.created_at)
    ])
    .map_err(internal)?;
    let seq = conn.last_insert_rowid();
    count_activity(conn, a)?;
    Ok(Activity {
        id: ActivityId::from_seq(seq),
        user_id: a.user_id.clone(),
        kind: a.kind,
        title: a.title.clone(),
        message: a.message.clone(),
        metadata: a.metadata.clone(),
        link: a.link.clone(),
        created_at: a.created_at,
    })
}

/// Increments the analytics counters of the activity's hour. Runs in the
/// activity's own savepoint, so the counters and the activities never disagree.
fn count_activity(conn: &Connection, a: &NewActivity) -> Result<(), StoreError> {
    let counts = MetricCounts::of_activity(a.kind, &a.metadata);
    if counts.is_zero() {
        return Ok(());
    }
    let hour = micros(a.created_at).div_euclid(MICROS_PER_HOUR);
    // On the publish path: fixed parameters, no boxing per activity.
    let c = counts.0.map(|n| n as i64);
    conn.prepare_cached(count_sql())
        .map_err(internal)?
        .execute(params![
            a.user_id.as_str(),
            hour,
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            c[5],
            c[6],
            c[7]
        ])
        .map_err(internal)?;
    Ok(())
}

// `count_activity` binds exactly one parameter per counted metric.
const _: () = assert!(CountedMetric::COUNT == 8);

fn activity_by_seq(
    conn: &Connection,
    user: &str,
    seq: i64,
) -> Result<Option<Activity>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {ACTIVITY_COLUMNS} FROM activities WHERE user_id = ?1 AND seq = ?2"
    ))
    .map_err(internal)?
    .query_row(params![user, seq], activity_from_row)
    .optional()
    .map_err(internal)
}

const TOKEN_COLUMNS: &str =
    "id, user_id, name, token_hash, scopes, created_at, expires_at, last_used_at";

fn scopes_to_text(scopes: &[TokenScope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn scopes_from_text(text: &str) -> Vec<TokenScope> {
    text.split(',').filter_map(TokenScope::parse).collect()
}

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<PersonalTokenRecord> {
    Ok(PersonalTokenRecord {
        token: PersonalToken {
            id: TokenId(row.get(0)?),
            name: row.get(2)?,
            scopes: scopes_from_text(&row.get::<_, String>(4)?),
            created_at: from_micros(row.get(5)?),
            expires_at: row.get::<_, Option<i64>>(6)?.map(from_micros),
            last_used_at: row.get::<_, Option<i64>>(7)?.map(from_micros),
        },
        user_id: UserId(row.get(1)?),
        token_hash: row.get(3)?,
    })
}

const WEBHOOK_COLUMNS: &str =
    "id, user_id, url, events, description, status, disabled_reason, created_at, updated_at, \
     last_delivery_at, last_status_code, consecutive_failures, version, \
     secret, previous_secret, previous_secret_expires_at, format";

fn events_to_text(events: &[EventType]) -> String {
    // A list of plain enum values always serialises.
    serde_json::to_string(events).unwrap_or_else(|_| "[]".into())
}

fn events_from_text(text: &str) -> Vec<EventType> {
    serde_json::from_str(text).unwrap_or_default()
}

fn webhook_from_row(row: &Row<'_>) -> rusqlite::Result<WebhookRecord> {
    let events: String = row.get(3)?;
    let status: String = row.get(5)?;
    Ok(WebhookRecord {
        webhook: Webhook {
            id: WebhookId(row.get(0)?),
            user_id: UserId(row.get(1)?),
            url: row.get(2)?,
            events: events_from_text(&events),
            description: row.get(4)?,
            // Only `WebhookFormat::as_str` values are ever written.
            format: WebhookFormat::parse(&row.get::<_, String>(16)?).unwrap_or_default(),
            // Only `WebhookStatus::as_str` values are ever written.
            status: WebhookStatus::parse(&status).unwrap_or(WebhookStatus::Disabled),
            disabled_reason: row.get(6)?,
            created_at: from_micros(row.get(7)?),
            updated_at: from_micros(row.get(8)?),
            last_delivery_at: row.get::<_, Option<i64>>(9)?.map(from_micros),
            last_status_code: row
                .get::<_, Option<i64>>(10)?
                .and_then(|c| u16::try_from(c).ok()),
            consecutive_failures: row.get::<_, i64>(11)?.clamp(0, u32::MAX as i64) as u32,
            version: row.get(12)?,
        },
        secrets: SigningSecrets {
            current: row.get(13)?,
            previous: row.get(14)?,
            previous_expires_at: row.get::<_, Option<i64>>(15)?.map(from_micros),
        },
    })
}

fn webhook_by_id(
    conn: &Connection,
    id: &str,
    owner: Option<&str>,
) -> Result<Option<WebhookRecord>, StoreError> {
    let record = conn
        .prepare_cached(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1"
        ))
        .map_err(internal)?
        .query_row([id], webhook_from_row)
        .optional()
        .map_err(internal)?;
    Ok(record.filter(|r| owner.is_none_or(|o| r.webhook.user_id.as_str() == o)))
}

fn owns_webhook(conn: &Connection, owner: &str, id: &str) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS(SELECT 1 FROM webhooks WHERE id = ?1 AND user_id = ?2)")
        .map_err(internal)?
        .query_row(params![id, owner], |r| r.get(0))
        .map_err(internal)
}

const DELIVERY_COLUMNS: &str = "seq, id, webhook_id, user_id, event_type, payload, status, \
     attempts, retry_base, next_attempt_at, created_at, updated_at";

fn delivery_from_row(row: &Row<'_>) -> rusqlite::Result<(i64, Delivery)> {
    let status: String = row.get(6)?;
    Ok((
        row.get(0)?,
        Delivery {
            id: DeliveryId(row.get(1)?),
            webhook_id: WebhookId(row.get(2)?),
            user_id: UserId(row.get(3)?),
            event_type: row.get(4)?,
            payload: row.get(5)?,
            // Only `DeliveryStatus::as_str` values are ever written.
            status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Failed),
            attempts: row.get::<_, i64>(7)?.clamp(0, u32::MAX as i64) as u32,
            retry_base: row.get::<_, i64>(8)?.clamp(0, u32::MAX as i64) as u32,
            next_attempt_at: row.get::<_, Option<i64>>(9)?.map(from_micros),
            created_at: from_micros(row.get(10)?),
            updated_at: from_micros(row.get(11)?),
        },
    ))
}

fn insert_delivery(
    conn: &Connection,
    d: &Delivery,
    activity_seq: Option<i64>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO webhook_deliveries (id, webhook_id, user_id, event_type, activity_seq, \
         payload, status, attempts, retry_base, next_attempt_at, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .map_err(internal)?
    .execute(params![
        d.id.as_str(),
        d.webhook_id.as_str(),
        d.user_id.as_str(),
        d.event_type,
        activity_seq,
        d.payload,
        d.status.as_str(),
        d.attempts,
        d.retry_base,
        d.next_attempt_at.map(micros),
        micros(d.created_at),
        micros(d.updated_at)
    ])
    .map_err(internal)?;
    Ok(())
}

/// The active webhooks of `user` with their event lists (as stored).
fn active_webhooks_of(
    conn: &Connection,
    user: &UserId,
) -> Result<Vec<(String, String)>, StoreError> {
    conn.prepare_cached("SELECT id, events FROM webhooks WHERE user_id = ?1 AND status = 'active'")
        .map_err(internal)?
        .query_map([user.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(internal)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(internal)
}

/// Stores a pending delivery of `activity` for every active webhook of its
/// user that subscribes to its type: part of the activity's own transaction.
fn enqueue_deliveries(conn: &Connection, activity: &Activity) -> Result<Vec<Delivery>, StoreError> {
    let targets = active_webhooks_of(conn, &activity.user_id)?;
    let mut deliveries = Vec::new();
    let mut payload: Option<String> = None;
    for (webhook_id, events) in targets {
        if !webhook::subscribes(&events_from_text(&events), activity.kind.into()) {
            continue;
        }
        let body = payload
            .get_or_insert_with(|| {
                webhook::envelope(activity.kind.as_str(), activity.created_at, activity)
            })
            .clone();
        let delivery = Delivery::pending(
            DeliveryId::generate(),
            WebhookId(webhook_id),
            activity.user_id.clone(),
            activity.kind.as_str(),
            body,
            activity.created_at,
        );
        insert_delivery(conn, &delivery, activity.id.seq())?;
        deliveries.push(delivery);
    }
    Ok(deliveries)
}

fn insert_attempt(
    conn: &Connection,
    webhook_id: &WebhookId,
    delivery_id: &DeliveryId,
    a: &DeliveryAttempt,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO webhook_attempts (delivery_id, attempt, webhook_id, attempted_at, \
         duration_ms, status_code, error, response_body, next_attempt_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .map_err(internal)?
    .execute(params![
        delivery_id.as_str(),
        a.attempt,
        webhook_id.as_str(),
        micros(a.attempted_at),
        a.duration_ms.min(i64::MAX as u64) as i64,
        a.status_code,
        a.error,
        a.response_body,
        a.next_attempt_at.map(micros)
    ])
    .map_err(internal)?;
    Ok(())
}

/// What an attempt changes on its endpoint: last outcome, failure count, and
/// possibly disabling it.
fn update_endpoint_after(
    conn: &Connection,
    webhook_id: &WebhookId,
    attempt: &DeliveryAttempt,
    update: &EndpointUpdate,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE webhooks SET last_delivery_at = ?1, last_status_code = ?2, \
         consecutive_failures = COALESCE(?3, consecutive_failures) WHERE id = ?4",
    )
    .map_err(internal)?
    .execute(params![
        micros(attempt.attempted_at),
        attempt.status_code,
        update.consecutive_failures,
        webhook_id.as_str()
    ])
    .map_err(internal)?;
    if let Some(reason) = &update.disable_reason {
        conn.prepare_cached(
            "UPDATE webhooks SET status = 'disabled', disabled_reason = ?1, updated_at = ?2, \
             version = version + 1 WHERE id = ?3 AND status = 'active'",
        )
        .map_err(internal)?
        .execute(params![
            reason,
            micros(attempt.attempted_at),
            webhook_id.as_str()
        ])
        .map_err(internal)?;
    }
    Ok(())
}

fn attempts_of(conn: &Connection, delivery: &str) -> Result<Vec<DeliveryAttempt>, StoreError> {
    conn.prepare_cached(
        "SELECT attempt, attempted_at, duration_ms, status_code, error, response_body, \
         next_attempt_at FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY attempt ASC",
    )
    .map_err(internal)?
    .query_map([delivery], |r| {
        Ok(DeliveryAttempt {
            attempt: r.get::<_, i64>(0)?.clamp(0, u32::MAX as i64) as u32,
            attempted_at: from_micros(r.get(1)?),
            duration_ms: r.get::<_, i64>(2)?.max(0) as u64,
            status_code: r
                .get::<_, Option<i64>>(3)?
                .and_then(|c| u16::try_from(c).ok()),
            error: r.get(4)?,
            response_body: r.get(5)?,
            next_attempt_at: r.get::<_, Option<i64>>(6)?.map(from_micros),
        })
    })
    .map_err(internal)?
    .collect::<Result<Vec<_>, _>>()
    .map_err(internal)
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(internal))
            .await
    }

    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        self.write(move |conn| {
            let user = User {
                id: UserId::generate(),
                email: new.email.clone(),
                full_name: new.full_name.clone(),
                created_at: new.created_at,
            };
            let result = conn.execute(
                "INSERT INTO users (id, email, email_lower, full_name, password_hash, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    user.id.as_str(),
                    user.email,
                    user.email.to_lowercase(),
                    user.full_name,
                    new.password_hash,
                    micros(user.created_at)
                ],
            );
            match result {
                Ok(_) => Ok(user),
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Err(StoreError::Conflict(Conflict::EmailTaken))
                }
                Err(e) => Err(internal(e)),
            }
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let email = email.to_lowercase();
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT id, email, full_name, created_at, password_hash FROM users WHERE email_lower = ?1",
            )
            .map_err(internal)?
            .query_row([email], |r| {
                Ok(UserRecord {
                    user: User {
                        id: UserId(r.get(0)?),
                        email: r.get(1)?,
                        full_name: r.get(2)?,
                        created_at: from_micros(r.get(3)?),
                    },
                    password_hash: r.get(4)?,
                })
            })
            .optional()
            .map_err(internal)
        })
        .await
    }

    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let id = id.clone();
        self.read(move |conn| {
            conn.prepare_cached("SELECT id, email, full_name, created_at FROM users WHERE id = ?1")
                .map_err(internal)?
                .query_row([id.as_str()], |r| {
                    Ok(User {
                        id: UserId(r.get(0)?),
                        email: r.get(1)?,
                        full_name: r.get(2)?,
                        created_at: from_micros(r.get(3)?),
                    })
                })
                .optional()
                .map_err(internal)
        })
        .await
    }

    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO refresh_tokens (jti, family, user_id, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![token.jti, token.family, token.user_id.as_str(), micros(token.expires_at)],
            )
            .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn rotate_refresh_token(
        &self,
        old_jti: &str,
        new: RefreshTokenRecord,
        now: DateTime<Utc>,
    ) -> Result<RotateOutcome, StoreError> {
        let old_jti = old_jti.to_owned();
        self.write(move |conn| {
            let row: Option<(String, String, i64, bool)> = conn
                .query_row(
                    "SELECT family, user_id, expires_at, used FROM refresh_tokens WHERE jti = ?1",
                    [&old_jti],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .map_err(internal)?;
            let Some((family, user_id, expires_at, used)) = row else {
                return Ok(RotateOutcome::Invalid);
            };
            let revoked: bool = conn
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM revoked_families WHERE family = ?1)",
                    [&family],
                    |r| r.get(0),
                )
                .map_err(internal)?;
            if revoked || expires_at <= micros(now) || user_id != new.user_id.as_str() {
                return Ok(RotateOutcome::Invalid);
            }
            if used {
                conn.execute(
                    "INSERT OR IGNORE INTO revoked_families (family, revoked_at) VALUES (?1, ?2)",
                    params![family, micros(now)],
                )
                .map_err(internal)?;
                return Ok(RotateOutcome::ReuseDetected);
            }
            conn.execute("UPDATE refresh_tokens SET used = 1 WHERE jti = ?1", [&old_jti])
                .map_err(internal)?;
            conn.execute(
                "INSERT INTO refresh_tokens (jti, family, user_id, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![new.jti, family, new.user_id.as_str(), micros(new.expires_at)],
            )
            .map_err(internal)?;
            Ok(RotateOutcome::Rotated)
        })
        .await
    }

    async fn create_personal_token(
        &self,
        record: PersonalTokenRecord,
        max_per_user: usize,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            let count: i64 = conn
                .prepare_cached("SELECT COUNT(*) FROM personal_tokens WHERE user_id = ?1")
                .map_err(internal)?
                .query_row([record.user_id.as_str()], |r| r.get(0))
                .map_err(internal)?;
            if count as usize >= max_per_user {
                return Err(StoreError::Conflict(Conflict::TokenLimit));
            }
            let t = &record.token;
            conn.prepare_cached(
                "INSERT INTO personal_tokens (id, user_id, name, token_hash, scopes, created_at, \
                 expires_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)",
            )
            .map_err(internal)?
            .execute(params![
                t.id.as_str(),
                record.user_id.as_str(),
                t.name,
                record.token_hash,
                scopes_to_text(&t.scopes),
                micros(t.created_at),
                t.expires_at.map(micros),
            ])
            .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn list_personal_tokens(&self, user: &UserId) -> Result<Vec<PersonalToken>, StoreError> {
        let user = user.clone();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM personal_tokens WHERE user_id = ?1 ORDER BY seq ASC"
            ))
            .map_err(internal)?
            .query_map([user.as_str()], token_from_row)
            .map_err(internal)?
            .map(|r| r.map(|record| record.token))
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)
        })
        .await
    }

    async fn revoke_personal_token(&self, user: &UserId, id: &TokenId) -> Result<bool, StoreError> {
        let (user, id) = (user.clone(), id.clone());
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM personal_tokens WHERE id = ?1 AND user_id = ?2")
                .map_err(internal)?
                .execute([id.as_str(), user.as_str()])
                .map_err(internal)?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn personal_token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<PersonalTokenRecord>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM personal_tokens WHERE token_hash = ?1"
            ))
            .map_err(internal)?
            .query_row([token_hash.as_str()], token_from_row)
            .optional()
            .map_err(internal)
        })
        .await
    }

    async fn touch_personal_token(
        &self,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            conn.prepare_cached("UPDATE personal_tokens SET last_used_at = ?1 WHERE id = ?2")
                .map_err(internal)?
                .execute(params![micros(at), id.as_str()])
                .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn create_portal_grant(&self, grant: PortalGrant) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO portal_grants (token_hash, user_id, read_only, expires_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    grant.token_hash,
                    grant.user_id.as_str(),
                    grant.read_only,
                    micros(grant.expires_at)
                ],
            )
            .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn redeem_portal_grant(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PortalGrant>, StoreError> {
        let token_hash = token_hash.to_owned();
        // One writer thread: the delete is the redemption, so a second
        // caller finds nothing.
        self.write(move |conn| {
            let row: Option<(String, bool, i64)> = conn
                .query_row(
                    "DELETE FROM portal_grants WHERE token_hash = ?1 \
                     RETURNING user_id, read_only, expires_at",
                    [&token_hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(internal)?;
            Ok(row
                .filter(|(_, _, expires_at)| *expires_at > micros(now))
                .map(|(user_id, read_only, expires_at)| PortalGrant {
                    token_hash,
                    user_id: UserId(user_id),
                    read_only,
                    expires_at: from_micros(expires_at),
                }))
        })
        .await
    }

    async fn revoke_refresh_family(&self, family: &str) -> Result<(), StoreError> {
        let family = family.to_owned();
        self.write(move |conn| {
            conn.execute(
                "INSERT OR IGNORE INTO revoked_families (family, revoked_at) VALUES (?1, ?2)",
                params![family, micros(Utc::now())],
            )
            .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn append_activity(
        &self,
        activity: NewActivity,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<AppendOutcome, StoreError> {
        self.write_announcing(move |conn| {
            let now = micros(activity.created_at);
            if let Some(idem) = &idempotency {
                let seen: Option<(String, i64, i64)> = conn
                    .prepare_cached(
                        "SELECT fingerprint, activity_seq, created_at FROM idempotency_keys \
                         WHERE user_id = ?1 AND key = ?2",
                    )
                    .map_err(internal)?
                    .query_row(params![activity.user_id.as_str(), idem.key], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .optional()
                    .map_err(internal)?;
                if let Some((fingerprint, seq, created)) = seen {
                    if now - created < IDEMPOTENCY_TTL_MICROS {
                        if fingerprint != idem.fingerprint {
                            return Ok((AppendOutcome::KeyReused, Vec::new()));
                        }
                        if let Some(existing) =
                            activity_by_seq(conn, activity.user_id.as_str(), seq)?
                        {
                            return Ok((AppendOutcome::Replayed(existing), Vec::new()));
                        }
                    }
                }
            }
            let stored = insert_activity(conn, &activity)?;
            let deliveries = enqueue_deliveries(conn, &stored)?;
            if let Some(idem) = &idempotency {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO idempotency_keys (user_id, key, fingerprint, activity_seq, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(internal)?
                .execute(params![
                    activity.user_id.as_str(),
                    idem.key,
                    idem.fingerprint,
                    stored.id.seq(),
                    now
                ])
                .map_err(internal)?;
            }
            Ok((AppendOutcome::Created(stored), deliveries))
        }, |sink, (outcome, deliveries)| {
            if let AppendOutcome::Created(activity) = outcome {
                sink.activity_committed(activity);
            }
            if !deliveries.is_empty() {
                sink.deliveries_committed(deliveries);
            }
        })
        .await
        .map(|(outcome, _)| outcome)
    }

    async fn append_activities(
        &self,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<Activity>, StoreError> {
        self.write_announcing(
            move |conn| {
                let mut stored = Vec::with_capacity(activities.len());
                let mut deliveries = Vec::new();
                for a in &activities {
                    let activity = insert_activity(conn, a)?;
                    // Imported activities reach webhooks like any other.
                    deliveries.extend(enqueue_deliveries(conn, &activity)?);
                    stored.push(activity);
                }
                Ok((stored, deliveries))
            },
            |sink, (stored, deliveries)| {
                for activity in stored {
                    sink.activity_committed(activity);
                }
                if !deliveries.is_empty() {
                    sink.deliveries_committed(deliveries);
                }
            },
        )
        .await
        .map(|(stored, _)| stored)
    }

    async fn activity(&self, id: &ActivityId) -> Result<Option<Activity>, StoreError> {
        let Some(seq) = id.seq() else {
            return Ok(None);
        };
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {ACTIVITY_COLUMNS} FROM activities WHERE seq = ?1"
            ))
            .map_err(internal)?
            .query_row([seq], activity_from_row)
            .optional()
            .map_err(internal)
        })
        .await
    }

    async fn list_activities(
        &self,
        user: &UserId,
        query: ActivityQuery,
    ) -> Result<Page<Activity>, StoreError> {
        let user = user.clone();
        self.read(move |conn| {
            let mut sql = format!("SELECT {ACTIVITY_COLUMNS} FROM activities WHERE user_id = ?");
            let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(user.0.clone())];
            if let Some(kind) = query.kind {
                sql.push_str(" AND kind = ?");
                args.push(Box::new(kind.as_str()));
            }
            time_filters(&mut sql, &mut args, query.since, query.until);
            if let Some(before) = query.before.as_ref().and_then(ActivityId::seq) {
                sql.push_str(" AND seq < ?");
                args.push(Box::new(before));
            }
            sql.push_str(" ORDER BY seq DESC LIMIT ?");
            args.push(Box::new(query.limit as i64 + 1));
            let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
            let mut items = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), activity_from_row)
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            let next_cursor = if items.len() > query.limit {
                items.truncate(query.limit);
                items.last().map(|a| a.id.0.clone())
            } else {
                None
            };
            Ok(Page { items, next_cursor })
        })
        .await
    }

    async fn scan_activities(
        &self,
        user: &UserId,
        scan: ActivityScan,
    ) -> Result<Vec<Activity>, StoreError> {
        let user = user.clone();
        self.read(move |conn| {
            let mut sql = format!("SELECT {ACTIVITY_COLUMNS} FROM activities WHERE user_id = ?");
            let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(user.0.clone())];
            if !scan.kinds.is_empty() {
                let marks = vec!["?"; scan.kinds.len()].join(", ");
                sql.push_str(&format!(" AND kind IN ({marks})"));
                for kind in &scan.kinds {
                    args.push(Box::new(kind.as_str()));
                }
            }
            time_filters(&mut sql, &mut args, scan.since, scan.until);
            if let Some(after) = scan.after.as_ref().and_then(ActivityId::seq) {
                sql.push_str(" AND seq > ?");
                args.push(Box::new(after));
            }
            sql.push_str(" ORDER BY seq ASC LIMIT ?");
            args.push(Box::new(scan.limit as i64));
            let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
            let items = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), activity_from_row)
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            Ok(items)
        })
        .await
    }

    async fn replay_after(
        &self,
        user: &UserId,
        after: &ActivityId,
        window: HistoryWindow,
        now: DateTime<Utc>,
    ) -> Result<Replay, StoreError> {
        let after = after.seq().unwrap_or(0);
        let user = user.clone();
        self.read(move |conn| {
            // The oldest sequence number still inside the count bound.
            let floor: i64 = conn
                .prepare_cached(
                    "SELECT seq FROM activities WHERE user_id = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2",
                )
                .map_err(internal)?
                .query_row(params![user.as_str(), window.max_events as i64 - 1], |r| r.get(0))
                .optional()
                .map_err(internal)?
                .unwrap_or(0);
            let cutoff = micros(now - window.max_age);
            let events = conn
                .prepare_cached(&format!(
                    "SELECT {ACTIVITY_COLUMNS} FROM activities \
                     WHERE user_id = ?1 AND seq > ?2 AND seq >= ?3 AND created_at >= ?4 \
                     ORDER BY seq ASC LIMIT ?5"
                ))
                .map_err(internal)?
                .query_map(
                    params![user.as_str(), after, floor, cutoff, window.max_events as i64],
                    activity_from_row,
                )
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            let missing: bool = conn
                .prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM activities WHERE user_id = ?1 AND seq > ?2 \
                     AND (seq < ?3 OR created_at < ?4))",
                )
                .map_err(internal)?
                .query_row(params![user.as_str(), after, floor, cutoff], |r| r.get(0))
                .map_err(internal)?;
            Ok(Replay {
                events,
                complete: !missing,
            })
        })
        .await
    }

    async fn create_task(&self, task: Task) -> Result<(), StoreError> {
        let announced = task.clone();
        self.write_announcing(move |conn| {
            conn.prepare_cached(
                "INSERT INTO tasks (id, user_id, kind, title, status, progress, message, eta_seconds, \
                 metadata, created_at, updated_at, started_at, finished_at, version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .map_err(internal)?
            .execute(params![
                task.id.as_str(),
                task.user_id.as_str(),
                task.kind.as_str(),
                task.title,
                task.status.as_str(),
                task.progress,
                task.message,
                task.eta_seconds.map(|e| e as i64),
                task.metadata.to_string(),
                micros(task.created_at),
                micros(task.updated_at),
                task.started_at.map(micros),
                task.finished_at.map(micros),
                task.version
            ])
            .map_err(internal)?;
            Ok(())
        }, move |sink, _| sink.task_committed(&announced))
        .await
    }

    async fn task(&self, id: &TaskId) -> Result<Option<Task>, StoreError> {
        let id = id.clone();
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1"))
                .map_err(internal)?
                .query_row(params![id.as_str()], task_from_row)
                .optional()
                .map(|found| found.map(|(_, task)| task))
                .map_err(internal)
        })
        .await
    }

    async fn update_task(&self, change: TaskChange) -> Result<Option<Activity>, StoreError> {
        let announced = change.task.clone();
        self.write_announcing(
            move |conn| {
                let task = &change.task;
                let updated = conn
                .prepare_cached(
                    "UPDATE tasks SET status = ?1, progress = ?2, message = ?3, eta_seconds = ?4, \
                     updated_at = ?5, started_at = ?6, finished_at = ?7, version = ?8 \
                     WHERE id = ?9 AND user_id = ?10 AND version = ?11",
                )
                .map_err(internal)?
                .execute(params![
                    task.status.as_str(),
                    task.progress,
                    task.message,
                    task.eta_seconds.map(|e| e as i64),
                    micros(task.updated_at),
                    task.started_at.map(micros),
                    task.finished_at.map(micros),
                    task.version,
                    task.id.as_str(),
                    task.user_id.as_str(),
                    change.expected_version
                ])
                .map_err(internal)?;
                if updated == 0 {
                    return Err(StoreError::Conflict(Conflict::TaskChanged));
                }
                match &change.activity {
                    Some(new) => {
                        let stored = insert_activity(conn, new)?;
                        let deliveries = enqueue_deliveries(conn, &stored)?;
                        Ok((Some(stored), deliveries))
                    }
                    None => Ok((None, Vec::new())),
                }
            },
            move |sink, (activity, deliveries)| {
                sink.task_committed(&announced);
                if let Some(activity) = activity {
                    sink.activity_committed(activity);
                }
                if !deliveries.is_empty() {
                    sink.deliveries_committed(deliveries);
                }
            },
        )
        .await
        .map(|(activity, _)| activity)
    }

    async fn list_tasks(&self, user: &UserId, query: TaskQuery) -> Result<Page<Task>, StoreError> {
        let user = user.clone();
        self.read(move |conn| {
            let mut sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = ?");
            let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(user.0.clone())];
            if let Some(status) = query.status {
                sql.push_str(" AND status = ?");
                args.push(Box::new(status.as_str()));
            }
            if let Some(kind) = query.kind {
                sql.push_str(" AND kind = ?");
                args.push(Box::new(kind.as_str()));
            }
            if let Some(before) = query.cursor.as_deref().and_then(|c| c.parse::<i64>().ok()) {
                sql.push_str(" AND seq < ?");
                args.push(Box::new(before));
            }
            sql.push_str(" ORDER BY seq DESC LIMIT ?");
            args.push(Box::new(query.limit as i64 + 1));
            let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
            let mut rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), task_from_row)
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            let next_cursor = if rows.len() > query.limit {
                rows.truncate(query.limit);
                rows.last().map(|(seq, _)| seq.to_string())
            } else {
                None
            };
            Ok(Page {
                items: rows.into_iter().map(|(_, t)| t).collect(),
                next_cursor,
            })
        })
        .await
    }

    async fn create_webhook(
        &self,
        webhook: Webhook,
        secret: String,
        max_per_user: usize,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            let count: i64 = conn
                .prepare_cached("SELECT COUNT(*) FROM webhooks WHERE user_id = ?1")
                .map_err(internal)?
                .query_row([webhook.user_id.as_str()], |r| r.get(0))
                .map_err(internal)?;
            if count as usize >= max_per_user {
                return Err(StoreError::Conflict(Conflict::WebhookLimit));
            }
            conn.prepare_cached(
                "INSERT INTO webhooks (id, user_id, url, events, description, status, \
                 disabled_reason, created_at, updated_at, consecutive_failures, version, secret, \
                 format) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .map_err(internal)?
            .execute(params![
                webhook.id.as_str(),
                webhook.user_id.as_str(),
                webhook.url,
                events_to_text(&webhook.events),
                webhook.description,
                webhook.status.as_str(),
                webhook.disabled_reason,
                micros(webhook.created_at),
                micros(webhook.updated_at),
                webhook.consecutive_failures,
                webhook.version,
                secret,
                webhook.format.as_str()
            ])
            .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn webhook(&self, owner: &UserId, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        let (owner, id) = (owner.clone(), id.clone());
        self.read(move |conn| {
            Ok(webhook_by_id(conn, id.as_str(), Some(owner.as_str()))?.map(|r| r.webhook))
        })
        .await
    }

    async fn list_webhooks(&self, owner: &UserId) -> Result<Vec<Webhook>, StoreError> {
        let owner = owner.clone();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = ?1 ORDER BY seq ASC"
            ))
            .map_err(internal)?
            .query_map([owner.as_str()], webhook_from_row)
            .map_err(internal)?
            .map(|r| r.map(|record| record.webhook))
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)
        })
        .await
    }

    async fn update_webhook(
        &self,
        owner: &UserId,
        id: &WebhookId,
        change: WebhookChange,
    ) -> Result<Option<Webhook>, StoreError> {
        let (owner, id) = (owner.clone(), id.clone());
        self.write(move |conn| {
            let updated = conn
                .prepare_cached(
                    "UPDATE webhooks SET url = ?1, events = ?2, description = ?3, updated_at = ?4, \
                     format = ?7, version = version + 1 WHERE id = ?5 AND user_id = ?6",
                )
                .map_err(internal)?
                .execute(params![
                    change.url,
                    events_to_text(&change.events),
                    change.description,
                    micros(change.updated_at),
                    id.as_str(),
                    owner.as_str(),
                    change.format.as_str()
                ])
                .map_err(internal)?;
            if updated == 0 {
                return Ok(None);
            }
            Ok(webhook_by_id(conn, id.as_str(), Some(owner.as_str()))?.map(|r| r.webhook))
        })
        .await
    }

    async fn delete_webhook(&self, owner: &UserId, id: &WebhookId) -> Result<bool, StoreError> {
        let (owner, id) = (owner.clone(), id.clone());
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM webhooks WHERE id = ?1 AND user_id = ?2")
                .map_err(internal)?
                .execute(params![id.as_str(), owner.as_str()])
                .map_err(internal)?;
            if deleted == 0 {
                return Ok(false);
            }
            conn.prepare_cached("DELETE FROM webhook_attempts WHERE webhook_id = ?1")
                .map_err(internal)?
                .execute([id.as_str()])
                .map_err(internal)?;
            conn.prepare_cached("DELETE FROM webhook_deliveries WHERE webhook_id = ?1")
                .map_err(internal)?
                .execute([id.as_str()])
                .map_err(internal)?;
            Ok(true)
        })
        .await
    }

    async fn webhook_secrets(
        &self,
        owner: &UserId,
        id: &WebhookId,
    ) -> Result<Option<SigningSecrets>, StoreError> {
        let (owner, id) = (owner.clone(), id.clone());
        self.read(move |conn| {
            Ok(webhook_by_id(conn, id.as_str(), Some(owner.as_str()))?.map(|r| r.secrets))
        })
        .await
    }

    async fn rotate_webhook_secret(
        &self,
        owner: &UserId,
        id: &WebhookId,
        new_secret: String,
        previous_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<SigningSecrets>, StoreError> {
        let (owner, id) = (owner.clone(), id.clone());
        self.write(move |conn| {
            let updated = conn
                .prepare_cached(
                    "UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = ?1, \
                     secret = ?2, updated_at = ?3, version = version + 1 \
                     WHERE id = ?4 AND user_id = ?5",
                )
                .map_err(internal)?
                .execute(params![
                    micros(previous_expires_at),
                    new_secret,
                    micros(now),
                    id.as_str(),
                    owner.as_str()
                ])
                .map_err(internal)?;
            if updated == 0 {
                return Ok(None);
            }
            Ok(webhook_by_id(conn, id.as_str(), Some(owner.as_str()))?.map(|r| r.secrets))
        })
        .await
    }

    async fn enable_webhook(
        &self,
        owner: &UserId,
        id: &WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Option<Webhook>, StoreError> {
        let (owner, id) = (owner.clone(), id.clone());
        self.write(move |conn| {
            let updated = conn
                .prepare_cached(
                    "UPDATE webhooks SET status = 'active', disabled_reason = NULL, \
                     consecutive_failures = 0, updated_at = ?1, version = version + 1 \
                     WHERE id = ?2 AND user_id = ?3",
                )
                .map_err(internal)?
                .execute(params![micros(now), id.as_str(), owner.as_str()])
                .map_err(internal)?;
            if updated == 0 {
                return Ok(None);
            }
            Ok(webhook_by_id(conn, id.as_str(), Some(owner.as_str()))?.map(|r| r.webhook))
        })
        .await
    }

    async fn list_deliveries(
        &self,
        owner: &UserId,
        webhook: &WebhookId,
        query: DeliveryQuery,
    ) -> Result<Page<DeliveryLog>, StoreError> {
        let (owner, webhook) = (owner.clone(), webhook.clone());
        self.read(move |conn| {
            if !owns_webhook(conn, owner.as_str(), webhook.as_str())? {
                return Ok(Page {
                    items: Vec::new(),
                    next_cursor: None,
                });
            }
            let mut sql = "SELECT seq, id, event_type, status, attempts, next_attempt_at, \
                           created_at, updated_at, payload FROM webhook_deliveries \
                           WHERE webhook_id = ?"
                .to_owned();
            let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(webhook.0.clone())];
            if let Some(status) = query.status {
                sql.push_str(" AND status = ?");
                args.push(Box::new(status.as_str()));
            }
            if let Some(before) = query.cursor.as_deref().and_then(|c| c.parse::<i64>().ok()) {
                sql.push_str(" AND seq < ?");
                args.push(Box::new(before));
            }
            sql.push_str(" ORDER BY seq DESC LIMIT ?");
            args.push(Box::new(query.limit as i64 + 1));
            let mut rows = conn
                .prepare_cached(&sql)
                .map_err(internal)?
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    let status: String = r.get(3)?;
                    Ok((
                        r.get::<_, i64>(0)?,
                        DeliveryLog {
                            id: DeliveryId(r.get(1)?),
                            event_type: r.get(2)?,
                            status: DeliveryStatus::parse(&status)
                                .unwrap_or(DeliveryStatus::Failed),
                            attempt_count: r.get::<_, i64>(4)?.clamp(0, u32::MAX as i64) as u32,
                            next_attempt_at: r.get::<_, Option<i64>>(5)?.map(from_micros),
                            created_at: from_micros(r.get(6)?),
                            updated_at: from_micros(r.get(7)?),
                            body: r.get(8)?,
                            attempts: Vec::new(),
                        },
                    ))
                })
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            let next_cursor = if rows.len() > query.limit {
                rows.truncate(query.limit);
                rows.last().map(|(seq, _)| seq.to_string())
            } else {
                None
            };
            let mut items = Vec::with_capacity(rows.len());
            for (_, mut log) in rows {
                log.attempts = attempts_of(conn, log.id.as_str())?;
                items.push(log);
            }
            Ok(Page { items, next_cursor })
        })
        .await
    }

    async fn retry_delivery(
        &self,
        owner: &UserId,
        webhook: &WebhookId,
        delivery: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>, StoreError> {
        let (owner, webhook, delivery) = (owner.clone(), webhook.clone(), delivery.clone());
        self.write(move |conn| {
            if !owns_webhook(conn, owner.as_str(), webhook.as_str())? {
                return Ok(None);
            }
            let updated = conn
                .prepare_cached(
                    "UPDATE webhook_deliveries SET status = 'pending', retry_base = attempts, \
                     next_attempt_at = ?1, updated_at = ?1 WHERE id = ?2 AND webhook_id = ?3",
                )
                .map_err(internal)?
                .execute(params![micros(now), delivery.as_str(), webhook.as_str()])
                .map_err(internal)?;
            if updated == 0 {
                return Ok(None);
            }
            conn.prepare_cached(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?1"
            ))
            .map_err(internal)?
            .query_row([delivery.as_str()], delivery_from_row)
            .optional()
            .map(|found| found.map(|(_, d)| d))
            .map_err(internal)
        })
        .await
    }

    async fn webhook_record(&self, id: &WebhookId) -> Result<Option<WebhookRecord>, StoreError> {
        let id = id.clone();
        self.read(move |conn| webhook_by_id(conn, id.as_str(), None))
            .await
    }

    async fn active_webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE status = 'active' ORDER BY seq ASC"
            ))
            .map_err(internal)?
            .query_map([], webhook_from_row)
            .map_err(internal)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)
        })
        .await
    }

    async fn pending_deliveries(
        &self,
        webhook: &WebhookId,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<Delivery>, StoreError> {
        let webhook = webhook.clone();
        let after = cursor.and_then(|c| c.parse::<i64>().ok()).unwrap_or(0);
        self.read(move |conn| {
            let mut rows = conn
                .prepare_cached(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
                     WHERE webhook_id = ?1 AND status = 'pending' AND seq > ?2 \
                     ORDER BY seq ASC LIMIT ?3"
                ))
                .map_err(internal)?
                .query_map(
                    params![webhook.as_str(), after, limit as i64 + 1],
                    delivery_from_row,
                )
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            let next_cursor = if rows.len() > limit {
                rows.truncate(limit);
                rows.last().map(|(seq, _)| seq.to_string())
            } else {
                None
            };
            Ok(Page {
                items: rows.into_iter().map(|(_, d)| d).collect(),
                next_cursor,
            })
        })
        .await
    }

    async fn record_attempt(&self, record: AttemptRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            let attempt = &record.attempt;
            let updated = conn
                .prepare_cached(
                    "UPDATE webhook_deliveries SET status = ?1, attempts = ?2, next_attempt_at = ?3, \
                     updated_at = ?4 WHERE id = ?5 AND attempts < ?2",
                )
                .map_err(internal)?
                .execute(params![
                    record.status.as_str(),
                    attempt.attempt,
                    attempt.next_attempt_at.map(micros),
                    micros(attempt.attempted_at),
                    record.delivery_id.as_str()
                ])
                .map_err(internal)?;
            if updated == 0 {
                // Deleted with its webhook, or a newer attempt is stored already.
                return Ok(());
            }
            insert_attempt(conn, &record.webhook_id, &record.delivery_id, attempt)?;
            update_endpoint_after(conn, &record.webhook_id, attempt, &record.endpoint)
        })
        .await
    }

    async fn enqueue_event(
        &self,
        user: &UserId,
        event: EventType,
        payload: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<Delivery>, StoreError> {
        let user = user.clone();
        self.write_announcing(
            move |conn| {
                let targets = active_webhooks_of(conn, &user)?;
                let mut deliveries = Vec::new();
                for (webhook_id, events) in targets {
                    if !webhook::subscribes(&events_from_text(&events), event) {
                        continue;
                    }
                    let delivery = Delivery::pending(
                        DeliveryId::generate(),
                        WebhookId(webhook_id),
                        user.clone(),
                        event.as_str(),
                        payload.clone(),
                        at,
                    );
                    insert_delivery(conn, &delivery, None)?;
                    deliveries.push(delivery);
                }
                Ok(deliveries)
            },
            |sink, deliveries| {
                if !deliveries.is_empty() {
                    sink.deliveries_committed(deliveries);
                }
            },
        )
        .await
    }

    async fn record_test_delivery(
        &self,
        delivery: Delivery,
        attempt: DeliveryAttempt,
        endpoint: EndpointUpdate,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            if webhook_by_id(conn, delivery.webhook_id.as_str(), None)?.is_none() {
                return Ok(());
            }
            insert_delivery(conn, &delivery, None)?;
            insert_attempt(conn, &delivery.webhook_id, &delivery.id, &attempt)?;
            update_endpoint_after(conn, &delivery.webhook_id, &attempt, &endpoint)
        })
        .await
    }

    async fn hourly_counts(
        &self,
        user: &UserId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HourlyCounts>, StoreError> {
        let user = user.clone();
        let (first, end) = (hour_at_or_after(from), hour_at_or_after(to));
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(hourly_sql()).map_err(internal)?;
            let rows = stmt
                .query_map(params![user.as_str(), first, end], |row| {
                    let hour: i64 = row.get(0)?;
                    let mut counts = MetricCounts::default();
                    for (i, slot) in counts.0.iter_mut().enumerate() {
                        *slot = row.get::<_, i64>(i + 1)?.max(0) as u64;
                    }
                    Ok(HourlyCounts {
                        hour_start: from_micros(hour * MICROS_PER_HOUR),
                        counts,
                    })
                })
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            Ok(rows)
        })
        .await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        // The writer handles jobs in order: once this empty one is committed,
        // so is everything queued before it.
        self.write(|_| Ok(())).await
    }
}

/// Analytics counters and exports against the real SQLite store.
#[cfg(test)]
mod analytics_tests {
    use super::*;
    use hub_core::model::Task;

    struct NoSink;

    impl EventSink for NoSink {
        fn activity_committed(&self, _: &Activity) {}
        fn task_committed(&self, _: &Task) {}
        fn deliveries_committed(&self, _: &[Delivery]) {}
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn new_activity(
        user: &str,
        kind: ActivityType,
        metadata: serde_json::Value,
        t: &str,
    ) -> NewActivity {
        NewActivity {
            user_id: UserId(user.into()),
            kind,
            title: "t".into(),
            message: None,
            metadata,
            link: None,
            created_at: at(t),
        }
    }

    #[tokio::test]
    async fn the_migration_counts_activities_stored_before_it() {
        let dir = tempfile::tempdir().unwrap();
        {
            // A database as the first schema version left it, with history.
            let conn = Connection::open(dir.path().join("hub.db")).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch("PRAGMA user_version = 1").unwrap();
            for (kind, metadata, t) in [
                ("outreach_sent", "{}", "2025-01-01T10:15:00Z"),
                ("outreach_sent", "{}", "2025-01-01T10:45:00Z"),
                (
                    "task_completed",
                    r#"{"kind":"research"}"#,
                    "2025-01-01T10:50:00Z",
                ),
                (
                    "task_completed",
                    r#"{"kind":"content"}"#,
                    "2025-01-01T11:00:00Z",
                ),
                ("notification", "{}", "2025-01-01T11:00:00Z"),
            ] {
                conn.execute(
                    "INSERT INTO activities (user_id, kind, title, metadata, created_at) \
                     VALUES ('usr_a', ?1, 't', ?2, ?3)",
                    params![kind, metadata, micros(at(t))],
                )
                .unwrap();
            }
        }
        let store =
            SqliteStore::open(dir.path(), Synchronous::Normal, 64, Arc::new(NoSink)).unwrap();
        // And new activities keep counting from there.
        store
            .append_activity(
                new_activity(
                    "usr_a",
                    ActivityType::MeetingBooked,
                    serde_json::json!({}),
                    "2025-01-01T10:59:59Z",
                ),
                None,
            )
            .await
            .unwrap();
        let hours = store
            .hourly_counts(
                &UserId("usr_a".into()),
                at("2025-01-01T00:00:00Z"),
                at("2025-01-02T00:00:00Z"),
            )
            .await
            .unwrap();
        assert_eq!(hours.len(), 2);
        assert_eq!(hours[0].hour_start, at("2025-01-01T10:00:00Z"));
        let ten = &hours[0].counts;
        assert_eq!(ten.get(CountedMetric::OutreachSent), 2);
        assert_eq!(ten.get(CountedMetric::TasksCompleted), 1);
        assert_eq!(ten.get(CountedMetric::ResearchTasksCompleted), 1);
        assert_eq!(ten.get(CountedMetric::MeetingsBooked), 1);
        let eleven = &hours[1].counts;
        assert_eq!(eleven.get(CountedMetric::TasksCompleted), 1);
        assert_eq!(eleven.get(CountedMetric::ResearchTasksCompleted), 0);
        assert_eq!(
            eleven.0.iter().sum::<u64>(),
            1,
            "notifications count nowhere"
        );
    }

    #[tokio::test]
    async fn hourly_counts_cover_hours_starting_in_the_range() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            SqliteStore::open(dir.path(), Synchronous::Normal, 64, Arc::new(NoSink)).unwrap();
        let stored = store
            .append_activities(vec![
                new_activity(
                    "usr_b",
                    ActivityType::OutreachSent,
                    serde_json::json!({}),
                    "2025-01-01T09:59:59.999Z",
                ),
                new_activity(
                    "usr_b",
                    ActivityType::OutreachSent,
                    serde_json::json!({}),
                    "2025-01-01T10:00:00Z",
                ),
                new_activity(
                    "usr_c",
                    ActivityType::OutreachSent,
                    serde_json::json!({}),
                    "2025-01-01T10:00:00Z",
                ),
            ])
            .await
            .unwrap();
        assert_eq!(stored.len(), 3);
        let user = UserId("usr_b".into());
        // 09:30 is inside the 09:00 hour: that hour does not start in range.
        let hours = store
            .hourly_counts(
                &user,
                at("2025-01-01T09:30:00Z"),
                at("2025-01-01T10:00:00.001Z"),
            )
            .await
            .unwrap();
        assert_eq!(hours.len(), 1);
        assert_eq!(hours[0].hour_start, at("2025-01-01T10:00:00Z"));
        assert_eq!(
            hours[0].counts.get(CountedMetric::OutreachSent),
            1,
            "usr_c is not counted"
        );
        let scan = store
            .scan_activities(
                &user,
                ActivityScan {
                    kinds: vec![ActivityType::OutreachSent],
                    limit: 1,
                    ..ActivityScan::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(scan[0].id, stored[0].id);
        let next = store
            .scan_activities(
                &user,
                ActivityScan {
                    after: Some(scan[0].id.clone()),
                    limit: 10,
                    ..ActivityScan::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].id, stored[1].id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what the store announces.
    #[derive(Default)]
    struct Recorder {
        deliveries: Mutex<Vec<Delivery>>,
        activities: Mutex<Vec<Activity>>,
    }

    impl EventSink for Recorder {
        fn activity_committed(&self, activity: &Activity) {
            self.activities.lock().unwrap().push(activity.clone());
        }
        fn task_committed(&self, _: &Task) {}
        fn deliveries_committed(&self, deliveries: &[Delivery]) {
            // Announced after their activity, in the same commit order
            // (presence deliveries have none).
            let of_activity = deliveries
                .iter()
                .any(|d| EventType::parse(&d.event_type).is_some_and(|e| !e.is_presence()));
            assert!(!of_activity || !self.activities.lock().unwrap().is_empty());
            self.deliveries
                .lock()
                .unwrap()
                .extend_from_slice(deliveries);
        }
    }

    fn open(dir: &Path) -> (SqliteStore, Arc<Recorder>) {
        let sink = Arc::new(Recorder::default());
        let store = SqliteStore::open(dir, Synchronous::Normal, 64, sink.clone()).unwrap();
        (store, sink)
    }

    fn webhook(user: &UserId, events: Vec<EventType>) -> Webhook {
        let now = hub_core::time::now();
        Webhook {
            id: WebhookId::generate(),
            user_id: user.clone(),
            url: "https://hooks.example.com/in".into(),
            events,
            description: None,
            format: WebhookFormat::Standard,
            status: WebhookStatus::Active,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
            last_delivery_at: None,
            last_status_code: None,
            consecutive_failures: 0,
            version: 0,
        }
    }

    fn activity(user: &UserId, kind: ActivityType) -> NewActivity {
        NewActivity {
            user_id: user.clone(),
            kind,
            title: "t".into(),
            message: None,
            metadata: serde_json::json!({}),
            link: None,
            created_at: hub_core::time::now(),
        }
    }

    #[tokio::test]
    async fn appending_an_activity_enqueues_matching_deliveries_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let (store, sink) = open(dir.path());
        let alice = UserId::generate();
        let bob = UserId::generate();
        let all = webhook(&alice, vec![]);
        let meetings = webhook(&alice, vec![EventType::MeetingBooked]);
        let bobs = webhook(&bob, vec![]);
        for w in [&all, &meetings, &bobs] {
            store
                .create_webhook(w.clone(), "whsec_AAAA".into(), 10)
                .await
                .unwrap();
        }
        store
            .append_activity(activity(&alice, ActivityType::OutreachSent), None)
            .await
            .unwrap();
        let announced = sink.deliveries.lock().unwrap().clone();
        assert_eq!(announced.len(), 1);
        assert_eq!(announced[0].webhook_id, all.id);
        assert_eq!(announced[0].status, DeliveryStatus::Pending);
        let body: serde_json::Value = serde_json::from_str(&announced[0].payload).unwrap();
        assert_eq!(body["type"], "outreach_sent");
        assert_eq!(body["data"]["user_id"], alice.as_str());

        store
            .append_activity(activity(&alice, ActivityType::MeetingBooked), None)
            .await
            .unwrap();
        assert_eq!(sink.deliveries.lock().unwrap().len(), 3);
        let pending = store.pending_deliveries(&all.id, None, 1).await.unwrap();
        assert_eq!(pending.items.len(), 1);
        let rest = store
            .pending_deliveries(&all.id, pending.next_cursor, 10)
            .await
            .unwrap();
        assert_eq!(rest.items.len(), 1);
        assert!(rest.next_cursor.is_none());
        assert_ne!(pending.items[0].id, rest.items[0].id);
    }

    #[tokio::test]
    async fn presence_events_go_only_to_endpoints_that_list_them() {
        let dir = tempfile::tempdir().unwrap();
        let (store, sink) = open(dir.path());
        let alice = UserId::generate();
        let all = webhook(&alice, vec![]);
        let online = webhook(&alice, vec![EventType::PresenceOnline]);
        let both = webhook(
            &alice,
            vec![
                EventType::MeetingBooked,
                EventType::PresenceOffline,
                EventType::PresenceOnline,
            ],
        );
        for w in [&all, &online, &both] {
            store
                .create_webhook(w.clone(), "whsec_AAAA".into(), 10)
                .await
                .unwrap();
        }
        let at = hub_core::time::now();
        let body = webhook::envelope(
            "presence.online",
            at,
            &serde_json::json!({"user_id": alice.as_str()}),
        );
        let stored = store
            .enqueue_event(&alice, EventType::PresenceOnline, body.clone(), at)
            .await
            .unwrap();
        let mut targets: Vec<_> = stored.iter().map(|d| d.webhook_id.clone()).collect();
        targets.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        let mut expected = vec![online.id.clone(), both.id.clone()];
        expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        assert_eq!(targets, expected);
        assert_eq!(
            sink.deliveries.lock().unwrap().len(),
            2,
            "announced after commit"
        );
        let pending = store.pending_deliveries(&both.id, None, 10).await.unwrap();
        assert_eq!(pending.items.len(), 1);
        assert_eq!(pending.items[0].payload, body);
        assert_eq!(pending.items[0].event_type, "presence.online");
        // Not history: nothing to replay, nothing counted.
        let listed = store
            .list_activities(
                &alice,
                ActivityQuery {
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(listed.items.is_empty());
        assert!(store
            .enqueue_event(&UserId::generate(), EventType::PresenceOffline, body, at)
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn attempts_are_recorded_once_and_can_disable() {
        let dir = tempfile::tempdir().unwrap();
        let (store, sink) = open(dir.path());
        let user = UserId::generate();
        let w = webhook(&user, vec![]);
        store
            .create_webhook(w.clone(), "whsec_AAAA".into(), 10)
            .await
            .unwrap();
        store
            .append_activity(activity(&user, ActivityType::ProspectAdded), None)
            .await
            .unwrap();
        let delivery = sink.deliveries.lock().unwrap()[0].clone();
        let attempt = |n: u32| DeliveryAttempt {
            attempt: n,
            attempted_at: hub_core::time::now(),
            duration_ms: 3,
            status_code: Some(500),
            error: None,
            response_body: Some("nope".into()),
            next_attempt_at: None,
        };
        let record = |n: u32, reason: Option<&str>| AttemptRecord {
            webhook_id: w.id.clone(),
            delivery_id: delivery.id.clone(),
            attempt: attempt(n),
            status: DeliveryStatus::Failed,
            endpoint: EndpointUpdate {
                consecutive_failures: Some(n),
                disable_reason: reason.map(str::to_owned),
            },
        };
        store
            .record_attempt(record(2, Some("too many")))
            .await
            .unwrap();
        // A stale write of an earlier attempt changes nothing.
        store.record_attempt(record(1, None)).await.unwrap();
        let page = store
            .list_deliveries(
                &user,
                &w.id,
                DeliveryQuery {
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.items[0].attempt_count, 2);
        assert_eq!(page.items[0].attempts.len(), 1);
        assert_eq!(page.items[0].status, DeliveryStatus::Failed);
        let stored = store.webhook(&user, &w.id).await.unwrap().unwrap();
        assert_eq!(stored.status, WebhookStatus::Disabled);
        assert_eq!(stored.disabled_reason.as_deref(), Some("too many"));
        assert_eq!(stored.consecutive_failures, 2);
        assert_eq!(stored.last_status_code, Some(500));
        // Disabled endpoints get no new deliveries.
        store
            .append_activity(activity(&user, ActivityType::ProspectAdded), None)
            .await
            .unwrap();
        assert_eq!(sink.deliveries.lock().unwrap().len(), 1);
        // Another user sees nothing of it.
        let stranger = UserId::generate();
        assert!(store.webhook(&stranger, &w.id).await.unwrap().is_none());
        assert!(!store.delete_webhook(&stranger, &w.id).await.unwrap());
        assert!(store
            .retry_delivery(&stranger, &w.id, &delivery.id, hub_core::time::now())
            .await
            .unwrap()
            .is_none());
        // A manual retry starts a new round after the attempts made.
        let retried = store
            .retry_delivery(&user, &w.id, &delivery.id, hub_core::time::now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(retried.status, DeliveryStatus::Pending);
        assert_eq!((retried.attempts, retried.retry_base), (2, 2));
        assert!(store.delete_webhook(&user, &w.id).await.unwrap());
        assert!(store
            .pending_deliveries(&w.id, None, 10)
            .await
            .unwrap()
            .items
            .is_empty());
    }

    #[tokio::test]
    async fn per_user_limit_and_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = open(dir.path());
        let user = UserId::generate();
        let w = webhook(&user, vec![]);
        store
            .create_webhook(w.clone(), "whsec_old".into(), 1)
            .await
            .unwrap();
        assert!(matches!(
            store
                .create_webhook(webhook(&user, vec![]), "whsec_x".into(), 1)
                .await,
            Err(StoreError::Conflict(Conflict::WebhookLimit))
        ));
        let now = hub_core::time::now();
        let secrets = store
            .rotate_webhook_secret(&user, &w.id, "whsec_new".into(), now, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(secrets.current, "whsec_new");
        assert_eq!(secrets.previous.as_deref(), Some("whsec_old"));
        let record = store.webhook_record(&w.id).await.unwrap().unwrap();
        assert_eq!(record.webhook.version, 1);
    }
}
