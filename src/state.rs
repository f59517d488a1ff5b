//! What every handler can reach: settings, the store, the authenticator, the
//! password hasher and the actor addresses. Built once in `startup` and shared
//! as `web::Data<AppState>`; handlers never hold locks shared with actors.
//!
//! The middlewares and the `Caller` extractor do not use it: they read the
//! few pieces they need (`Authenticator`, `RateLimiting`, `Metrics`), each
//! registered as its own `web::Data`, so `auth` and `ratelimit` do not depend
//! on this module and this module can depend on them.

use std::sync::Arc;

use actix::Addr;
use hub_actors::bus::Bus;
use hub_actors::registry::SessionRegistry;
use hub_actors::session::SessionDeps;
use hub_actors::webhooks::registry::WebhookRegistry;
use hub_core::metrics::Metrics;
use hub_core::store::ClusterView;
use hub_core::{Settings, Store};

use crate::auth::passwords::Passwords;
use crate::auth::Authenticator;

pub struct AppState {
    /// The settings the hub started with.
    pub settings: Arc<Settings>,
    /// The durable store (SQLite in embedded mode).
    pub store: Arc<dyn Store>,
    /// Who is calling, and the JWTs and personal-token cache behind it; the
    /// same value the `Caller` extractor reads as `web::Data<Authenticator>`.
    pub auth: Arc<Authenticator>,
    /// Argon2id off the async workers.
    pub passwords: Passwords,
    /// This node's sessions.
    pub registry: Addr<SessionRegistry>,
    /// Where committed events go (the store feeds it); REST uses it directly
    /// only for broadcasts, which are not stored.
    pub bus: Arc<dyn Bus>,
    /// This node's webhook endpoint actors; told when an endpoint changes.
    pub webhooks: Addr<WebhookRegistry>,
    /// What every WebSocket session shares.
    pub session_deps: Arc<SessionDeps>,
    /// Cluster-wide session counts (cluster mode only).
    pub cluster: Option<Arc<dyn ClusterView>>,
    /// Prometheus counters, shared with the actors.
    pub metrics: Arc<Metrics>,
    /// Identifies this process in `/health`, welcome frames and logs.
    pub node_id: String,
}

impl AppState {
    /// "embedded" or "cluster", as `/health` reports it.
    pub fn mode(&self) -> &'static str {
        if self.settings.is_cluster() {
            "cluster"
        } else {
            "embedded"
        }
    }
}
