//! Argon2id password hashing at the OWASP parameters (m = 19 MiB, t = 2,
//! p = 1), on a small pool of dedicated threads at the lowest CPU priority
//! (`SCHED_BATCH`, nice 19): when the WebSocket and HTTP workers want a core,
//! the scheduler gives it to them, so a login storm cannot delay event
//! delivery; when they idle, logins get the whole core. (Unlike `SCHED_IDLE`,
//! a busy machine slows logins down but never starves them.) The pool has
//! `max_concurrent_hashes` threads and a bounded queue; a full queue makes
//! callers wait (back-pressure) rather than grow memory.

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Mutex;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use tokio::sync::oneshot;

/// OWASP's recommended Argon2id memory cost, in KiB.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
/// Hash jobs waiting for a thread, per thread.
const QUEUE_PER_THREAD: usize = 64;

fn argon2() -> Argon2<'static> {
    // The parameters are constants within Argon2's accepted ranges.
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// One unit of work for the pool.
type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords off the async workers.
pub struct Passwords {
    /// Queue into the hashing threads. A `Mutex` only because `SyncSender` is
    /// not `Sync` on every toolchain; sending never blocks while holding it.
    jobs: Mutex<SyncSender<Job>>,
    /// A hash of a random password, verified against when the user does not
    /// exist, so both failures take the same time.
    dummy_hash: String,
}

/// Lowers the calling thread to `SCHED_BATCH` at nice 19. Failing (a
/// sandbox that forbids it) leaves the thread at normal priority, logged.
fn lower_priority() {
    use thread_priority::{
        set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
        ThreadPriority, ThreadSchedulePolicy,
    };
    if let Err(e) = set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch),
    ) {
        tracing::warn!(cause = ?e, "cannot lower the password hashing thread's priority");
    }
}

impl Passwords {
    pub fn new(max_concurrent: usize) -> Self {
        let threads = if max_concurrent == 0 {
            (std::thread::available_parallelism().map_or(1, |n| n.get()) / 2).max(1)
        } else {
            max_concurrent
        };
        let (tx, rx) = sync_channel::<Job>(threads * QUEUE_PER_THREAD);
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // One waiter takes the next job; the lock is released
                        // before the job runs.
                        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(cause = %e, "cannot start a password hashing thread");
            }
        }
        let dummy = uuid::Uuid::new_v4().to_string();
        Self {
            jobs: Mutex::new(tx),
            dummy_hash: hash_blocking(&dummy).unwrap_or_default(),
        }
    }

    /// Runs `work` on the pool and waits for its answer without blocking the
    /// async worker.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(work());
        });
        let sender = self.jobs.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match sender.try_send(job) {
            Ok(()) => {}
            // A full queue: wait for room on the blocking pool, not here.
            Err(TrySendError::Full(job)) => tokio::task::spawn_blocking(move || sender.send(job))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|_| "the password hashing threads stopped".to_owned())?,
            Err(TrySendError::Disconnected(_)) => {
                return Err("the password hashing threads stopped".to_owned())
            }
        }
        rx.await
            .map_err(|_| "a password hashing job was dropped".to_owned())
    }

    pub async fn hash(&self, password: String) -> Result<String, String> {
        self.run(move || hash_blocking(&password)).await?
    }

    /// Verifies `password` against `hash`, or against the dummy hash when
    /// there is no user, always doing the same work.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let exists = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.clone());
        let ok = self
            .run(move || {
                PasswordHash::new(&hash)
                    .map(|parsed| {
                        argon2()
                            .verify_password(password.as_bytes(), &parsed)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await
            .unwrap_or(false);
        ok && exists
    }
}

fn hash_blocking(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn hashes_are_argon2id_with_owasp_parameters() {
        let p = Passwords::new(1);
        let hash = p.hash("correct horse".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(p.verify("correct horse".into(), Some(hash.clone())).await);
        assert!(!p.verify("wrong horse".into(), Some(hash)).await);
        assert!(!p.verify("anything".into(), None).await);
    }
}
