//! The writer thread (group commit), the background checkpointer and the
//! purge of expired rows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hub_core::store::StoreError;
use hub_core::time::micros;
use rusqlite::Connection;
use tokio::sync::mpsc;
use tracing::{error, warn};

use crate::{Completion, Job, IDEMPOTENCY_TTL_MICROS, PURGE_INTERVAL};

/// How often the checkpoint thread moves the WAL into the database.
pub(crate) const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);
/// How often the WAL starts over. The background thread's checkpoints copy
/// every frame but never let the WAL restart: SQLite restarts it only for a
/// writer that begins while every frame is already copied, and under steady
/// writes the writer has always added frames since. Left alone, the WAL
/// grows without end (15 GB in a 10-minute soak, and its index with it in
/// RSS). So every 5 s the writer checkpoints too, between two batches, and
/// its next commit restarts the WAL.
pub(crate) const WRITER_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(5);
/// How long after a background checkpoint the writer's may follow it. The
/// writer's checkpoint is on the publish path: right behind the background
/// thread (which has copied every frame and synced the database file) it
/// copies the frames of a batch or two and syncs a few pages, about 1 ms;
/// at a random moment it would copy up to 200 ms of frames.
const FOLLOW_WINDOW: Duration = Duration::from_millis(20);
/// A writer's checkpoint slower than this is logged (about 1 ms is usual).
const SLOW_WRITER_CHECKPOINT: Duration = Duration::from_millis(10);
/// Size the WAL file is truncated back to when it starts over, in bytes.
/// Truncating is an `ftruncate` and a sync on the next commit's path
/// (measured 7–21 ms for 90 MB), so the limit sits above what 5 s of the
/// fan-out load writes (about 120 MB): the file is reused as it is, and
/// only a heavier load pays for truncation.
pub(crate) const WAL_SIZE_LIMIT: u64 = 256 * 1024 * 1024;

/// When the background thread last finished a checkpoint: what the writer
/// times its own checkpoint by.
#[derive(Default)]
pub(crate) struct CheckpointClock {
    /// The instant the clock was first read; times are µs since then.
    started: std::sync::OnceLock<Instant>,
    /// The last background checkpoint's end (0: none yet).
    last_done_us: AtomicU64,
}

impl CheckpointClock {
    fn now_us(&self) -> u64 {
        self.started.get_or_init(Instant::now).elapsed().as_micros() as u64
    }

    fn done(&self) {
        self.last_done_us.store(self.now_us(), Ordering::Relaxed);
    }

    /// A background checkpoint finished within [`FOLLOW_WINDOW`].
    fn just_done(&self) -> bool {
        let last = self.last_done_us.load(Ordering::Relaxed);
        last != 0 && self.now_us().saturating_sub(last) < FOLLOW_WINDOW.as_micros() as u64
    }
}

/// Checkpoints the WAL in the background (`PASSIVE`: never blocks the writer
/// or readers) until the store is dropped, and syncs the database file after
/// each checkpoint.
///
/// SQLite syncs the database file only after a checkpoint that catches up
/// with the very end of the WAL, which under steady writes only the writer's
/// own checkpoint does: that one then flushed 5 s of copied pages on the
/// publish path (an `fsync` of 15–26 ms, traced). Syncing here, off that
/// path, leaves it a few pages.
pub(crate) fn checkpoint_loop(
    conn: Connection,
    db: std::fs::File,
    writer: mpsc::WeakSender<Job>,
    clock: Arc<CheckpointClock>,
) {
    while writer.upgrade().is_some() {
        std::thread::sleep(CHECKPOINT_INTERVAL);
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            Ok(()) => {
                if let Err(err) = db.sync_data() {
                    error!(cause = %err, "syncing the database file failed");
                }
                clock.done();
            }
            Err(err) => error!(cause = %err, "WAL checkpoint failed"),
        }
    }
}

/// Deletes what has expired: idempotency keys past 24 h, refresh tokens and
/// portal links past their expiry. Keeps the tables from growing without
/// bound.
pub(crate) fn purge_expired(conn: &Connection) {
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

pub(crate) fn writer_loop(
    conn: Connection,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
    clock: Arc<CheckpointClock>,
) {
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
        let due = last_checkpoint.elapsed();
        // Right behind a background checkpoint, or regardless once it is
        // late (the background thread stalled, or writes are sparse).
        if (due > WRITER_CHECKPOINT_INTERVAL && clock.just_done())
            || due > 2 * WRITER_CHECKPOINT_INTERVAL
        {
            let started = Instant::now();
            if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                error!(cause = %err, "WAL checkpoint failed");
            }
            let took = started.elapsed();
            if took > SLOW_WRITER_CHECKPOINT {
                // Every publish queued meanwhile waited this long.
                warn!(
                    took_ms = took.as_millis() as u64,
                    "the writer's WAL checkpoint was slow"
                );
            }
            last_checkpoint = Instant::now();
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
