//! Argon2id password hashing at the OWASP parameters (m = 19 MiB, t = 2,
//! p = 1), run on tokio's blocking pool behind a semaphore: a login storm gets
//! at most `max_concurrent_hashes` cores and the async workers keep serving
//! WebSocket traffic.

use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use tokio::sync::Semaphore;

/// OWASP's recommended Argon2id memory cost, in KiB.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn argon2() -> Argon2<'static> {
    // The parameters are constants within Argon2's accepted ranges.
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes and verifies passwords off the async workers.
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the user does not
    /// exist, so both failures take the same time.
    dummy_hash: String,
}

impl Passwords {
    pub fn new(max_concurrent: usize) -> Self {
        let max = if max_concurrent == 0 {
            (std::thread::available_parallelism().map_or(1, |n| n.get()) / 2).max(1)
        } else {
            max_concurrent
        };
        let dummy = uuid::Uuid::new_v4().to_string();
        Self {
            permits: Arc::new(Semaphore::new(max)),
            dummy_hash: hash_blocking(&dummy).unwrap_or_default(),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, String> {
        let _permit = self.permits.acquire().await.map_err(|e| e.to_string())?;
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(|e| e.to_string())?
    }

    /// Verifies `password` against `hash`, or against the dummy hash when
    /// there is no user, always doing the same work.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let exists = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.clone());
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let ok = tokio::task::spawn_blocking(move || {
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
