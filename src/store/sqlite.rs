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
use chrono::{DateTime, TimeZone, Utc};
use hub_core::analytics::{CountedMetric, HourlyCounts, MetricCounts};
use hub_core::ids::{ActivityId, TaskId, UserId};
use hub_core::model::{
    Activity, ActivityType, IdempotencyKey, NewActivity, Task, TaskKind, TaskStatus, User,
    UserRecord,
};
use hub_core::settings::Synchronous;
use hub_core::store::{
    ActivityQuery, ActivityScan, AppendOutcome, HistoryWindow, NewUser, Page, RefreshTokenRecord,
    Replay, RotateOutcome, Store, StoreError, TaskChange, TaskQuery,
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

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> DateTime<Utc> {
    // Every stored value was written by `micros`, so it is in range.
    Utc.timestamp_micros(us).single().unwrap_or_default()
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
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON;"
        ))
        .map_err(internal)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(internal)?;
        migrate(&conn)?;

        let (tx, rx) = mpsc::channel::<Job>(WRITE_QUEUE_CAPACITY);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, max_batch))
            .map_err(|e| StoreError::Internal(format!("cannot start writer thread: {e}")))?;

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

fn writer_loop(conn: Connection, mut rx: mpsc::Receiver<Job>, max_batch: usize) {
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    let mut completions: Vec<Completion> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
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
                    Err(StoreError::Conflict("email_taken"))
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
                            return Ok(AppendOutcome::KeyReused);
                        }
                        if let Some(existing) =
                            activity_by_seq(conn, activity.user_id.as_str(), seq)?
                        {
                            return Ok(AppendOutcome::Replayed(existing));
                        }
                    }
                }
            }
            let stored = insert_activity(conn, &activity)?;
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
            Ok(AppendOutcome::Created(stored))
        }, |sink, outcome| {
            if let AppendOutcome::Created(activity) = outcome {
                sink.activity_committed(activity);
            }
        })
        .await
    }

    async fn append_activities(
        &self,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<Activity>, StoreError> {
        self.write_announcing(
            move |conn| {
                activities
                    .iter()
                    .map(|a| insert_activity(conn, a))
                    .collect::<Result<Vec<_>, _>>()
            },
            |sink, stored| {
                for activity in stored {
                    sink.activity_committed(activity);
                }
            },
        )
        .await
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
            if let Some(since) = query.since {
                sql.push_str(" AND created_at >= ?");
                args.push(Box::new(micros(since)));
            }
            if let Some(until) = query.until {
                sql.push_str(" AND created_at < ?");
                args.push(Box::new(micros(until)));
            }
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
            if let Some(since) = scan.since {
                sql.push_str(" AND created_at >= ?");
                args.push(Box::new(micros(since)));
            }
            if let Some(until) = scan.until {
                sql.push_str(" AND created_at < ?");
                args.push(Box::new(micros(until)));
            }
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
                    return Err(StoreError::Conflict("task_changed"));
                }
                change
                    .activity
                    .as_ref()
                    .map(|a| insert_activity(conn, a))
                    .transpose()
            },
            move |sink, activity| {
                sink.task_committed(&announced);
                if let Some(activity) = activity {
                    sink.activity_committed(activity);
                }
            },
        )
        .await
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

#[cfg(test)]
mod tests {
    use super::*;
    use hub_core::model::Task;

    struct NoSink;

    impl EventSink for NoSink {
        fn activity_committed(&self, _: &Activity) {}
        fn task_committed(&self, _: &Task) {}
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
