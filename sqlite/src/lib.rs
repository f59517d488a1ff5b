//! The embedded store: one SQLite file in WAL mode.
//!
//! Writes go to a single writer thread that folds whatever is waiting into one
//! transaction (group commit): under load a single fsync covers hundreds of
//! writes, which is how an embedded hub reaches ≥ 10,000 durable activities/s.
//! Each write runs inside its own savepoint, so one failing write (a duplicate
//! e-mail) does not undo its neighbours. A caller is answered only after the
//! commit that holds its write has returned.
//!
//! Reads run on a fixed set of reader threads, each with its own read-only
//! connection, fed by one bounded queue; WAL lets them proceed while the
//! writer commits. (Not tokio's blocking pool: under a burst of reads it
//! starts up to 512 threads per runtime, and the memory each one leaves
//! behind made the process grow.)

mod activities;
mod analytics;
mod schema;
mod tasks;
mod users;
mod webhooks;
mod writer;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hub_core::settings::Synchronous;
use hub_core::store::{Store, StoreError};
use hub_core::EventSink;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

use schema::migrate;
use writer::{checkpoint_loop, writer_loop, CheckpointClock, WAL_SIZE_LIMIT};

/// Writes waiting for the writer thread. A full queue makes callers wait
/// (back-pressure) instead of growing memory.
pub(crate) const WRITE_QUEUE_CAPACITY: usize = 16_384;
/// Reader threads, each with its own read-only connection. A fixed number:
/// reads never start threads (which would each keep a stack, an allocator
/// heap and a page cache after the load that made them had passed).
pub(crate) const READER_THREADS: usize = 4;
/// Reads waiting for a reader thread; a full queue makes callers wait.
pub(crate) const READ_QUEUE_CAPACITY: usize = 4_096;
/// How long an idempotency key is remembered.
pub(crate) const IDEMPOTENCY_TTL_MICROS: i64 = 24 * 3600 * 1_000_000;
/// How often the writer deletes expired idempotency keys and refresh tokens.
pub(crate) const PURGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);
/// Prepared statements kept per connection. rusqlite's default (16) is below
/// the number of statements the writer uses, which would re-prepare them.
pub(crate) const STATEMENT_CACHE_CAPACITY: usize = 64;

/// The result a write reports once its transaction's fate is known.
pub(crate) type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A write: runs on the writer's connection, says whether it succeeded (so
/// its savepoint is kept or rolled back) and how to answer its caller.
pub(crate) type Job = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    /// Queue into the writer thread.
    writer: mpsc::Sender<Job>,
    /// Idle read-only connections.
    readers: Arc<ReaderPool>,
    /// Told about every committed activity and task change, in commit order.
    sink: Arc<dyn EventSink>,
}

/// A read waiting for a reader thread.
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// The reader threads' queue.
pub(crate) struct ReaderPool {
    jobs: mpsc::Sender<ReadJob>,
}

impl ReaderPool {
    /// Opens [`READER_THREADS`] read-only connections and a thread for each.
    fn start(path: &Path) -> Result<Self, StoreError> {
        let (jobs, rx) = mpsc::channel::<ReadJob>(READ_QUEUE_CAPACITY);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..READER_THREADS {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(internal)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(internal)?;
            conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{i}"))
                .spawn(move || reader_loop(conn, rx))
                .map_err(|e| StoreError::Internal(format!("cannot start reader thread: {e}")))?;
        }
        Ok(Self { jobs })
    }
}

/// Runs reads until the store (every sender) is gone. One thread at a time
/// waits on the queue; the others wait for the lock.
fn reader_loop(conn: Connection, rx: Arc<Mutex<mpsc::Receiver<ReadJob>>>) {
    loop {
        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).blocking_recv();
        let Some(job) = job else { return };
        // A panicking read fails that read (its answer is dropped), not the
        // thread.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&conn)));
    }
}

pub(crate) fn internal(err: rusqlite::Error) -> StoreError {
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
        // The writer never checkpoints inside a commit
        // (`wal_autocheckpoint = 0`): a checkpoint copies the WAL into the
        // database and syncs it, during which every publish would wait. A
        // thread of its own does it; the writer checkpoints only to let the WAL
        // start over (see `writer.rs`).
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
        let clock = Arc::new(CheckpointClock::default());
        let writer_clock = clock.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, max_batch, writer_clock))
            .map_err(|e| StoreError::Internal(format!("cannot start writer thread: {e}")))?;
        let checkpoint_conn = Connection::open(&path).map_err(internal)?;
        // Syncing needs a handle, not write access: fsync flushes the file.
        let db_file = std::fs::File::open(&path)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
        let writer_alive = tx.downgrade();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpoint_conn, db_file, writer_alive, clock))
            .map_err(|e| StoreError::Internal(format!("cannot start checkpoint thread: {e}")))?;

        Ok(Self {
            writer: tx,
            readers: Arc::new(ReaderPool::start(&path)?),
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

    /// Runs a read on one of the reader threads.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        self.readers
            .jobs
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite readers have stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Internal("a SQLite read failed".into()))?
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(internal))
            .await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        // The writer handles jobs in order: once this empty one is committed,
        // so is everything queued before it.
        self.write(|_| Ok(())).await
    }
}
