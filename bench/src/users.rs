//! Users for the load: registered through `POST /api/auth/register` (so the
//! hub knows them when a service publishes with their `user_id`), then given
//! access tokens minted with the hub's signing key instead of thousands of
//! argon2 logins.
//!
//! Registering costs one argon2 hash each (tens of milliseconds, one at a
//! time by default), so 2,000 users take a minute or two. With `--data-dir`
//! (or `--users-cache`) the registered users are listed in a JSON file and
//! reused by the next run against the same data.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::http::Client;

/// Password of every bench user (the login storm logs in with it).
pub const BENCH_PASSWORD: &str = "hub-bench password 0001";
/// Lifetime of minted access tokens: longer than any run (a 10-minute soak),
/// still short enough to be an ordinary token.
const TOKEN_TTL_SECS: i64 = 3_600;
/// Registrations in flight at once.
const REGISTER_CONCURRENCY: usize = 8;
/// Name of the users list kept in a persistent data dir.
pub const CACHE_FILE: &str = "hub-bench-users.json";

/// A user the bench acts for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchUser {
    pub id: String,
    pub email: String,
    /// A minted access token (not cached: minted again each run).
    #[serde(skip)]
    pub token: String,
}

impl BenchUser {
    /// A user known only by id, with a freshly minted token.
    pub fn minted(secret: &str, id: String) -> Self {
        Self {
            token: mint_access_token(secret, &id),
            email: String::new(),
            id,
        }
    }
}

/// The claims the hub checks in an access token.
#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    iss: &'a str,
    aud: &'a str,
    typ: &'a str,
}

/// An HS256 access token for `user_id`, as the hub itself would issue.
pub fn mint_access_token(secret: &str, user_id: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: user_id,
        iat: now,
        exp: now + TOKEN_TTL_SECS,
        jti: uuid::Uuid::new_v4().simple().to_string(),
        iss: "aiclone-hub",
        aud: "aiclone-hub",
        typ: "access",
    };
    // HS256 over a plain struct cannot fail.
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

/// Where registered users are remembered, if anywhere.
pub fn cache_path(explicit: Option<PathBuf>, data_dir: Option<&Path>) -> Option<PathBuf> {
    explicit.or_else(|| data_dir.map(|d| d.join(CACHE_FILE)))
}

fn load_cache(path: &Path) -> Vec<BenchUser> {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// `n` users known to the hub at `addr`, with fresh tokens.
pub async fn ensure_users(
    addr: SocketAddr,
    secret: &str,
    n: usize,
    cache: Option<&Path>,
) -> anyhow::Result<Vec<BenchUser>> {
    let mut users = cache.map(load_cache).unwrap_or_default();
    users.truncate(n);
    let missing = n - users.len();
    if missing > 0 {
        let started = Instant::now();
        if missing >= 50 {
            let hint = if cache.is_some() {
                "they are kept for later runs"
            } else {
                "pass --data-dir to keep them for later runs"
            };
            eprintln!("registering {missing} users (one argon2 hash each; {hint})…");
        }
        let run = uuid::Uuid::new_v4().simple().to_string();
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..REGISTER_CONCURRENCY.min(missing) {
            let next = next.clone();
            let run = run[..10].to_owned();
            tasks.push(tokio::spawn(async move {
                let mut client = Client::new(addr);
                let mut made = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= missing {
                        return Ok::<_, anyhow::Error>(made);
                    }
                    made.push(
                        register(&mut client, &format!("bench-{run}-{i}@bench.example")).await?,
                    );
                }
            }));
        }
        for t in tasks {
            users.extend(t.await.context("register task")??);
        }
        if missing >= 50 {
            eprintln!(
                "registered {missing} users in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        if let Some(path) = cache {
            let mut all = load_cache(path);
            let known: std::collections::HashSet<String> =
                all.iter().map(|u| u.id.clone()).collect();
            all.extend(users.iter().filter(|u| !known.contains(&u.id)).cloned());
            std::fs::write(path, serde_json::to_vec(&all)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    for u in &mut users {
        u.token = mint_access_token(secret, &u.id);
    }
    Ok(users)
}

/// Registers one user; returns it without a token.
pub async fn register(client: &mut Client, email: &str) -> anyhow::Result<BenchUser> {
    let body = json!({"email": email, "password": BENCH_PASSWORD, "full_name": "Bench User"});
    let r = client
        .post_json("/api/auth/register", &[], body.to_string().as_bytes())
        .await?;
    if r.status != 201 {
        bail!(
            "POST /api/auth/register answered {}: {} (is rate limiting on? spawned hubs turn it off)",
            r.status,
            r.snippet()
        );
    }
    let v = r.json()?;
    let id = v["user"]["id"]
        .as_str()
        .context("register response without user.id")?
        .to_owned();
    Ok(BenchUser {
        id,
        email: email.to_owned(),
        token: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_carry_the_hub_claims() {
        let token = mint_access_token("k".repeat(32).as_str(), "usr_1");
        let mut v = jsonwebtoken::Validation::new(Algorithm::HS256);
        v.set_audience(&["aiclone-hub"]);
        v.set_issuer(&["aiclone-hub"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret("k".repeat(32).as_bytes()),
            &v,
        )
        .unwrap();
        assert_eq!(data.claims["sub"], "usr_1");
        assert_eq!(data.claims["typ"], "access");
        assert!(data.claims["jti"].as_str().unwrap().len() >= 16);
    }
}
