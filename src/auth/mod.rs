//! Identity: who is calling. Users present an access token; backend workers
//! present a service API key (`X-API-Key` or `Authorization: Bearer`); an
//! embedded webhook portal presents a portal session's token, which acts as
//! its user on that user's webhooks only.
//!
//! What it takes to tell who is calling is one value, [`Authenticator`],
//! registered on its own as `web::Data<Authenticator>`: the `Caller`
//! extractor and the rate limiter read it without knowing the rest of the
//! hub's state.

pub mod passwords;
pub mod tokens;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use futures_util::future::LocalBoxFuture;
use hub_core::store::{PersonalTokenRecord, TokenScope};
use hub_core::tokens::PersonalTokenCache;

use actix_web::http::{header, Method};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use base64::Engine;
use hub_core::{Store, UserId};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorCode};
use tokens::TokenService;

/// Prefix of generated service keys; makes them recognisable in secret scanners.
pub const API_KEY_PREFIX: &str = "hubk_";
/// Prefix of personal access tokens, for the same reason.
pub const PAT_PREFIX: &str = "hub_pat_";

/// The hex SHA-256 under which a secret (personal access token) is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The accepted service keys, as SHA-256 digests (the config never holds a key).
#[derive(Default)]
pub struct ApiKeys {
    digests: HashSet<[u8; 32]>,
}

impl ApiKeys {
    /// From validated `sha256:<hex>` entries.
    pub fn from_config(entries: &[String]) -> Self {
        let digests = entries
            .iter()
            .filter_map(|e| e.strip_prefix("sha256:"))
            .filter_map(|h| hex::decode(h).ok())
            .filter_map(|d| <[u8; 32]>::try_from(d.as_slice()).ok())
            .collect();
        Self { digests }
    }

    pub fn accepts(&self, key: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        self.digests.contains(&digest)
    }
}

/// A new random service key and its config entry.
pub fn generate_api_key() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let key = format!(
        "{API_KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let entry = format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())));
    (key, entry)
}

/// The signing key: the configured one, else the one kept in the data dir,
/// else a new one written there (owner-readable only).
pub fn load_or_create_secret(
    configured: Option<&str>,
    data_dir: &Path,
) -> std::io::Result<Vec<u8>> {
    if let Some(secret) = configured {
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join("jwt_secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= hub_core::settings::MIN_JWT_SECRET_LEN => {
            return Ok(text.trim().as_bytes().to_vec())
        }
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} holds a key shorter than 32 bytes", path.display()),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "generated a new token signing key");
    Ok(secret.into_bytes())
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub enum Caller {
    /// A user with a valid access token.
    User(UserId),
    /// A backend worker with a service key; acts on behalf of any user.
    Service,
}

impl Caller {
    pub fn is_service(&self) -> bool {
        matches!(self, Caller::Service)
    }
}

fn unauthenticated(message: &'static str) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, message)
}

/// What a request's headers say of its caller, before any store lookup:
/// a known caller (service key, access token, portal session), or a
/// personal access token still to be looked up.
pub enum Credential {
    /// A caller the headers alone prove (service key, access token, portal
    /// session).
    Known(Caller),
    /// The hex SHA-256 of a `hub_pat_…` token.
    PersonalToken(String),
}

/// Everything needed to tell who is calling, built once at start and
/// registered as `web::Data<Authenticator>`.
pub struct Authenticator {
    /// Verifies access tokens and portal sessions' tokens (and issues them,
    /// for the routes that sign callers in).
    pub tokens: Arc<TokenService>,
    /// Accepted service keys.
    pub api_keys: ApiKeys,
    /// Personal access tokens recently read from the store; a revocation
    /// clears it on every node.
    pub personal_tokens: Arc<PersonalTokenCache>,
    /// Where a personal access token missing from the cache is looked up,
    /// and its use recorded.
    pub store: Arc<dyn Store>,
}

impl Authenticator {
    /// Reads the caller's credential from `X-API-Key` and the bearer token.
    ///
    /// A request may carry both only if both are valid and name the same caller
    /// (the same service key twice, say): one invalid credential is a 401 even
    /// beside a valid one, so a broken token is never masked, and a user token
    /// beside a service key is refused as ambiguous.
    pub fn credential(&self, req: &HttpRequest) -> Result<Credential, ApiError> {
        let key = req.headers().get("x-api-key").map(|key| {
            if self.api_keys.accepts(key.to_str().unwrap_or("")) {
                Ok(Credential::Known(Caller::Service))
            } else {
                Err(unauthenticated("The API key is not valid."))
            }
        });
        let bearer = req.headers().get(header::AUTHORIZATION).map(|value| {
            let value = value.to_str().unwrap_or("");
            match value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .map(str::trim)
            {
                Some(token) => self.credential_from_bearer(req, token),
                None => Err(unauthenticated("Use the Bearer authentication scheme.")),
            }
        });
        match (key, bearer) {
            (None, None) => Err(unauthenticated(
                "Authentication is required: send a bearer token.",
            )),
            (Some(one), None) | (None, Some(one)) => one,
            (Some(Err(e)), _) | (_, Some(Err(e))) => Err(e),
            (
                Some(Ok(Credential::Known(Caller::Service))),
                Some(Ok(Credential::Known(Caller::Service))),
            ) => Ok(Credential::Known(Caller::Service)),
            (Some(Ok(_)), Some(Ok(_))) => Err(ApiError::new(
                ErrorCode::AmbiguousCredentials,
                "Send one credential: an X-API-Key and a user's bearer token name different callers.",
            )),
        }
    }

    /// Finds the caller of a request: [`Self::credential`], then, for a
    /// personal access token, the token cache or the store (a revocation
    /// clears the token from every node's cache, so it fails at once
    /// everywhere) and the scope the route needs.
    pub async fn authenticate(&self, req: &HttpRequest) -> Result<Caller, ApiError> {
        match self.credential(req)? {
            Credential::Known(caller) => Ok(caller),
            Credential::PersonalToken(hash) => {
                let record = self.personal_token(&hash).await?;
                token_allows(req, &record.token.scopes)?;
                Ok(Caller::User(record.user_id))
            }
        }
    }

    /// The live token whose secret hashes to `hash`, its use recorded (to the
    /// minute); 401 if it was revoked, never issued, or has expired.
    pub async fn personal_token(&self, hash: &str) -> Result<PersonalTokenRecord, ApiError> {
        let now = hub_core::time::now();
        let record = match self.personal_tokens.get(hash) {
            Some(record) => record,
            None => {
                let record = self
                    .store
                    .personal_token_by_hash(hash)
                    .await?
                    .ok_or_else(|| {
                        unauthenticated(
                            "The personal access token is not valid (revoked or never issued).",
                        )
                    })?;
                self.personal_tokens.put(record.clone());
                record
            }
        };
        if record.token.expires_at.is_some_and(|at| at <= now) {
            return Err(unauthenticated("The personal access token has expired."));
        }
        let stale = record
            .token
            .last_used_at
            .is_none_or(|at| now - at >= chrono::Duration::minutes(1));
        if stale {
            self.store
                .touch_personal_token(&record.user_id, &record.token.id, now)
                .await?;
            self.personal_tokens.touched(hash, now);
        }
        Ok(record)
    }

    /// A bearer credential is a JWT access token, a portal session's token
    /// (webhook routes only), a personal access token or a service key.
    fn credential_from_bearer(
        &self,
        req: &HttpRequest,
        token: &str,
    ) -> Result<Credential, ApiError> {
        if token.starts_with(PAT_PREFIX) {
            return Ok(Credential::PersonalToken(token_hash(token)));
        }
        if token.starts_with(API_KEY_PREFIX) {
            return if self.api_keys.accepts(token) {
                Ok(Credential::Known(Caller::Service))
            } else {
                Err(unauthenticated("The API key is not valid."))
            };
        }
        match self.tokens.verify_bearer(token) {
            Ok(claims) if claims.typ == tokens::TYP_PORTAL => {
                portal_allows(req, claims.ro.unwrap_or(true))?;
                Ok(Credential::Known(Caller::User(UserId(claims.sub))))
            }
            Ok(claims) => Ok(Credential::Known(Caller::User(UserId(claims.sub)))),
            Err(tokens::TokenError::Expired) => Err(ApiError::new(
                ErrorCode::TokenExpired,
                "The access token has expired; refresh it.",
            )),
            Err(_) => Err(unauthenticated("The access token is not valid.")),
        }
    }
}

/// The scope a route needs of a personal access token, or why no scope will
/// do: webhook and REST hook routes need `webhooks`; other reads (GET, HEAD,
/// the WebSocket) `read`; other writes `write`. Tokens cannot manage tokens.
pub fn required_scope(method: &Method, path: &str) -> Result<TokenScope, &'static str> {
    let under = |root: &str| path == root || path.starts_with(&format!("{root}/"));
    if under("/api/auth/tokens") {
        return Err("A personal access token cannot manage tokens; sign in to do that.");
    }
    if under("/api/webhooks") || under("/api/hooks") {
        return Ok(TokenScope::Webhooks);
    }
    if matches!(*method, Method::GET | Method::HEAD) {
        Ok(TokenScope::Read)
    } else {
        Ok(TokenScope::Write)
    }
}

/// 403 `insufficient_scope` unless the token's scopes cover this request.
fn token_allows(req: &HttpRequest, scopes: &[TokenScope]) -> Result<(), ApiError> {
    match required_scope(req.method(), req.path()) {
        Ok(needed) if scopes.contains(&needed) => Ok(()),
        Ok(needed) => Err(ApiError::new(
            ErrorCode::InsufficientScope,
            format!(
                "This personal access token lacks the {:?} scope this route needs.",
                needed.as_str()
            ),
        )),
        Err(why) => Err(ApiError::new(ErrorCode::InsufficientScope, why)),
    }
}

/// Whether a portal session may make this request. It acts as its user, but
/// only on that user's webhooks: everything else is 403 `portal_scope`. A
/// read-only session may look (GET), but neither change anything nor read a
/// signing secret (403 `portal_read_only`).
fn portal_allows(req: &HttpRequest, read_only: bool) -> Result<(), ApiError> {
    let path = req.path();
    let webhooks = path == "/api/webhooks" || path.starts_with("/api/webhooks/");
    if !webhooks {
        return Err(ApiError::new(
            ErrorCode::PortalScope,
            "A portal session can only manage webhooks.",
        ));
    }
    let looks = matches!(*req.method(), Method::GET | Method::HEAD);
    if read_only && (!looks || path.ends_with("/secret")) {
        return Err(ApiError::new(
            ErrorCode::PortalReadOnly,
            "This portal session is read-only: it can list and view webhooks, not change them.",
        ));
    }
    Ok(())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let Some(auth) = req.app_data::<web::Data<Authenticator>>().cloned() else {
                return Err(ApiError::internal("Authenticator is not registered"));
            };
            auth.authenticate(&req).await
        })
    }
}

/// A caller that must be a user (not a service key).
pub struct UserCaller(pub UserId);

impl FromRequest for UserCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            match caller.await {
                Ok(Caller::User(id)) => Ok(UserCaller(id)),
                Ok(Caller::Service) => Err(ApiError::new(
                    ErrorCode::UserTokenRequired,
                    "This route acts on the caller's own account; use a user access token.",
                )),
                Err(e) => Err(e),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_match_their_entry() {
        let (key, entry) = generate_api_key();
        assert!(key.starts_with(API_KEY_PREFIX));
        let keys = ApiKeys::from_config(&[entry]);
        assert!(keys.accepts(&key));
        assert!(!keys.accepts("hubk_other"));
    }

    #[test]
    fn secret_is_generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_secret(None, dir.path()).unwrap();
        let second = load_or_create_secret(None, dir.path()).unwrap();
        assert_eq!(first, second);
        assert!(first.len() >= 32);
        let configured = load_or_create_secret(Some("x".repeat(40).as_str()), dir.path()).unwrap();
        assert_eq!(configured, "x".repeat(40).into_bytes());
    }
}
