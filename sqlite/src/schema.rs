//! The schema and its migrations.

use rusqlite::Connection;

use hub_core::store::StoreError;

use crate::internal;

/// The schema, one entry per version. A database at version N gets entries
/// N.. applied in order at start; `PRAGMA user_version` records progress.
pub(crate) const MIGRATIONS: &[&str] = &[
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

pub(crate) fn migrate(conn: &Connection) -> Result<(), StoreError> {
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
