//! Typed settings. `config/default.toml` documents every key; this module is
//! its typed mirror. Loading and merging (embedded default, file, environment)
//! lives in the server crate; here are only the types and their validation,
//! so that every crate receives the settings as a plain value.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::Deserialize;

/// Everything the hub can be configured with.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub storage: StorageSettings,
    pub redis: RedisSettings,
    pub auth: AuthSettings,
    pub websocket: WebSocketSettings,
    pub webhooks: WebhookSettings,
    pub presence: PresenceSettings,
    pub rate_limit: RateLimitSettings,
    pub log: LogSettings,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Interface to bind.
    pub host: String,
    /// Port to bind; 0 lets the OS choose (tests).
    pub port: u16,
    /// Browser origins allowed to open WebSockets besides the hub's own.
    pub allowed_origins: Vec<String>,
    /// Proxies whose forwarding headers are trusted, as CIDRs.
    pub trusted_proxies: Vec<String>,
    /// Request body limit in bytes (413 past it).
    pub max_body_size: usize,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// Accept queue length of the listening socket.
    pub backlog: u32,
    /// Bound on graceful shutdown.
    pub shutdown_timeout: Dur,
    /// The hub's address as browsers reach it (`https://hub.example.com`),
    /// used in links the hub hands out (portal links). Unset: the address
    /// the request that asks for the link was sent to.
    #[serde(default)]
    pub public_url: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// Directory of the SQLite database and the generated signing key.
    pub data_dir: PathBuf,
    /// SQLite `synchronous` pragma.
    pub synchronous: Synchronous,
    /// Most writes folded into one transaction.
    pub max_batch: usize,
}

/// How hard SQLite pushes each commit to disk.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    Normal,
    Full,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// Presence selects cluster mode.
    #[serde(default)]
    pub url: Option<String>,
    /// Prefix of every Redis key.
    pub key_prefix: String,
    /// Replicas that must confirm each write of the store before it is
    /// acknowledged (`WAIT`); 0 acknowledges once the master has it.
    pub wait_replicas: u32,
    /// How long a write waits for those replicas.
    pub wait_timeout: Dur,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// HS256 key; generated in embedded mode when absent.
    #[serde(default)]
    pub jwt_secret: Option<String>,
    /// `iss` claim.
    pub issuer: String,
    /// `aud` claim.
    pub audience: String,
    /// Access token lifetime.
    pub access_token_ttl: Dur,
    /// Refresh token lifetime.
    pub refresh_token_ttl: Dur,
    /// `sha256:<hex>` entries of accepted service keys.
    pub api_keys: Vec<String>,
    /// Argon2 computations allowed at once; 0 = half the cores.
    pub max_concurrent_hashes: usize,
}

// Hand-written so the signing key can never reach a log line through `{:?}`.
impl fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSettings")
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("api_keys", &self.api_keys.len())
            .field("max_concurrent_hashes", &self.max_concurrent_hashes)
            .finish()
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSocketSettings {
    /// Server ping period.
    pub heartbeat_interval: Dur,
    /// Silence after which a session is closed.
    pub client_timeout: Dur,
    /// Sessions per user on one node (4029 past it).
    pub max_sessions_per_user: usize,
    /// Events kept per user for resume.
    pub history_size: usize,
    /// Age past which events leave the resume history.
    pub history_max_age: Dur,
    /// Largest inbound frame (1009 past it).
    pub max_frame_size: usize,
    /// Outbound queue bound in frames (4008 past it).
    pub max_queued_frames: usize,
    /// Outbound queue bound in bytes (4008 past it).
    pub max_queued_bytes: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Lets URLs reach loopback, private, link-local and similar addresses
    /// (SSRF guard off): tests and local development only.
    pub allow_private_targets: bool,
    /// When not empty, webhooks reach only addresses in these networks
    /// (CIDRs), whatever `allow_private_targets` says: an egress allowlist.
    #[serde(default)]
    pub allowed_networks: Vec<String>,
    /// An attempt without a response head by then has failed.
    pub timeout: Dur,
    /// Delay before each attempt (the first entry before the first attempt),
    /// each with ±10 % jitter; its length is the number of attempts.
    pub retry_schedule: Vec<Dur>,
    /// Failed attempts in a row that disable an endpoint.
    pub max_consecutive_failures: u32,
    /// Attempts running at once per endpoint.
    pub max_in_flight: usize,
    /// Deliveries one endpoint actor holds in memory; the rest wait in the
    /// store and are read back as the queue drains, so a dead receiver never
    /// grows the hub's memory without bound.
    pub max_queued_per_endpoint: usize,
    /// How long the previous secret keeps signing after a rotation.
    pub secret_rotation_overlap: Dur,
    /// Endpoints one user may create.
    pub max_per_user: usize,
    /// Cluster mode: how long a node's ownership of an endpoint lasts unless
    /// renewed; the fail-over time when a node dies.
    pub lease_ttl: Dur,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceSettings {
    /// How long a user's last session must have been gone before
    /// `presence.offline` (a reload or a move between nodes is no absence).
    pub offline_after: Dur,
    /// How often presence is checked: the delay before `presence.online`,
    /// and the precision of `offline_after`.
    pub check_interval: Dur,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Master switch.
    pub enabled: bool,
    /// Path prefixes never checked (health, metrics, docs).
    pub exempt_paths: Vec<String>,
    /// Cap on live buckets (memory bound under a spray of keys).
    pub max_buckets: usize,
    /// Limits by route group: `api`, `auth`, `ws_connect`.
    pub policies: BTreeMap<String, RateLimitPolicy>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitPolicy {
    /// Requests allowed per window.
    pub limit: u32,
    pub window: Dur,
    /// What a bucket belongs to.
    pub key: RateLimitKey,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RateLimitKey {
    Ip,
    User,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

/// A problem with one key, found after the file parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration value for `{key}`: {message}")]
pub struct InvalidSetting {
    pub key: &'static str,
    pub message: String,
}

/// Shortest signing key accepted (HS256 wants at least its output size).
pub const MIN_JWT_SECRET_LEN: usize = 32;

impl Settings {
    /// Cluster mode is selected by the presence of a Redis URL.
    pub fn is_cluster(&self) -> bool {
        self.redis.url.is_some()
    }

    /// Checks the rules serde cannot express. The first problem wins.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        fn bad(key: &'static str, message: impl Into<String>) -> Result<(), InvalidSetting> {
            Err(InvalidSetting {
                key,
                message: message.into(),
            })
        }
        // Redis' WAIT blocks forever with a timeout of 0, and a wait past
        // the command timeout (2 s) would be cut short by it.
        let wait = self.redis.wait_timeout.0;
        if wait < Duration::from_millis(1) || wait >= Duration::from_millis(1900) {
            return bad(
                "redis.wait_timeout",
                "must be at least 1ms and less than 1.9s",
            );
        }
        if self.server.max_body_size == 0 {
            return bad("server.max_body_size", "must be greater than 0");
        }
        for origin in &self.server.allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return bad(
                    "server.allowed_origins",
                    format!("{origin:?} is not an http(s) origin"),
                );
            }
        }
        if let Some(url) = &self.server.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return bad(
                    "server.public_url",
                    format!("{url:?} is not an http(s) URL"),
                );
            }
        }
        for network in &self.webhooks.allowed_networks {
            if let Err(message) = crate::net::Cidr::parse(network) {
                return bad("webhooks.allowed_networks", message);
            }
        }
        for proxy in &self.server.trusted_proxies {
            if let Err(message) = crate::net::Cidr::parse(proxy) {
                return bad("server.trusted_proxies", message);
            }
        }
        if self.storage.max_batch == 0 {
            return bad("storage.max_batch", "must be greater than 0");
        }
        if let Some(secret) = &self.auth.jwt_secret {
            if secret.len() < MIN_JWT_SECRET_LEN {
                return bad(
                    "auth.jwt_secret",
                    format!("must be at least {MIN_JWT_SECRET_LEN} bytes"),
                );
            }
        } else if self.is_cluster() {
            return bad(
                "auth.jwt_secret",
                "is required in cluster mode (every node must share it)",
            );
        }
        if self.auth.issuer.is_empty() {
            return bad("auth.issuer", "must not be empty");
        }
        if self.auth.audience.is_empty() {
            return bad("auth.audience", "must not be empty");
        }
        if self.auth.access_token_ttl.0.is_zero() {
            return bad("auth.access_token_ttl", "must be longer than 0s");
        }
        if self.auth.refresh_token_ttl.0 <= self.auth.access_token_ttl.0 {
            return bad(
                "auth.refresh_token_ttl",
                "must be longer than auth.access_token_ttl",
            );
        }
        for key in &self.auth.api_keys {
            let ok = key
                .strip_prefix("sha256:")
                .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
            if !ok {
                return bad(
                    "auth.api_keys",
                    "entries must look like \"sha256:<64 hex digits>\" (see `aiclone-hub api-key create`)",
                );
            }
        }
        let ws = &self.websocket;
        if ws.heartbeat_interval.0.is_zero() {
            return bad("websocket.heartbeat_interval", "must be longer than 0s");
        }
        if ws.client_timeout.0 <= ws.heartbeat_interval.0 {
            return bad(
                "websocket.client_timeout",
                "must be longer than websocket.heartbeat_interval",
            );
        }
        if ws.max_sessions_per_user == 0 {
            return bad("websocket.max_sessions_per_user", "must be at least 1");
        }
        if ws.history_size == 0 {
            return bad("websocket.history_size", "must be at least 1");
        }
        if ws.max_frame_size < 1024 {
            return bad("websocket.max_frame_size", "must be at least 1024 bytes");
        }
        if ws.max_queued_frames == 0 {
            return bad("websocket.max_queued_frames", "must be at least 1");
        }
        if ws.max_queued_bytes < 1024 {
            return bad("websocket.max_queued_bytes", "must be at least 1024 bytes");
        }
        if self.webhooks.retry_schedule.is_empty() {
            return bad("webhooks.retry_schedule", "must hold at least one delay");
        }
        if self.webhooks.max_in_flight == 0 {
            return bad("webhooks.max_in_flight", "must be at least 1");
        }
        if self.rate_limit.max_buckets == 0 {
            return bad("rate_limit.max_buckets", "must be at least 1");
        }
        if self.webhooks.timeout.0.is_zero() {
            return bad("webhooks.timeout", "must be longer than 0s");
        }
        if self.webhooks.max_consecutive_failures == 0 {
            return bad("webhooks.max_consecutive_failures", "must be at least 1");
        }
        if self.webhooks.max_queued_per_endpoint == 0 {
            return bad("webhooks.max_queued_per_endpoint", "must be at least 1");
        }
        if self.webhooks.max_per_user == 0 {
            return bad("webhooks.max_per_user", "must be at least 1");
        }
        if self.webhooks.lease_ttl.0 < std::time::Duration::from_millis(300) {
            return bad("webhooks.lease_ttl", "must be at least 300ms");
        }
        if self.presence.check_interval.0 < std::time::Duration::from_millis(50) {
            return bad("presence.check_interval", "must be at least 50ms");
        }
        for (group, policy) in &self.rate_limit.policies {
            if policy.limit == 0 || policy.window.0.is_zero() {
                // `group` is dynamic, so the key is named in the message.
                return bad(
                    "rate_limit.policies",
                    format!("policy {group:?} needs a limit and a window above zero"),
                );
            }
        }
        Ok(())
    }
}

/// A duration written as a string with a unit ("250ms", "15s", "5m", "2h", "30d").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub Duration);

impl Dur {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("{text:?} has no unit (use ms, s, m, h or d)"))?;
        let (number, unit) = text.split_at(split);
        let n: u64 = number
            .parse()
            .map_err(|_| format!("{text:?} does not start with a whole number"))?;
        let millis_per_unit = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(format!("{text:?} has an unknown unit {unit:?}")),
        };
        n.checked_mul(millis_per_unit)
            .map(|ms| Dur(Duration::from_millis(ms)))
            .ok_or_else(|| format!("{text:?} is too long"))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Dur::parse(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(Dur::parse("250ms").unwrap().0, Duration::from_millis(250));
        assert_eq!(Dur::parse("15s").unwrap().0, Duration::from_secs(15));
        assert_eq!(Dur::parse("5m").unwrap().0, Duration::from_secs(300));
        assert_eq!(Dur::parse("2h").unwrap().0, Duration::from_secs(7200));
        assert_eq!(
            Dur::parse("30d").unwrap().0,
            Duration::from_secs(30 * 86400)
        );
        assert!(Dur::parse("15").is_err());
        assert!(Dur::parse("s").is_err());
        assert!(Dur::parse("1.5s").is_err());
        assert!(Dur::parse("3w").is_err());
    }
}
