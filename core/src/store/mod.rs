//! The storage contract, one trait per aggregate (users and tokens,
//! activities and history, tasks, webhooks and deliveries, analytics) joined
//! by [`Store`]. The embedded SQLite store and the Redis store implement it.
//! Nothing here assumes SQL: every operation is one call that the back-end
//! makes atomic its own way (a transaction, a Lua script), and ids and
//! cursors are opaque strings.

mod activities;
mod analytics;
#[cfg(feature = "testing")]
pub mod contract;
mod tasks;
mod users;
mod webhooks;

pub use activities::{
    ActivityQuery, ActivityScan, ActivityStore, AppendOutcome, HistoryWindow, Replay,
};
pub use analytics::AnalyticsStore;
pub use tasks::{TaskChange, TaskQuery, TaskStore};
pub use users::{
    NewUser, PersonalToken, PersonalTokenRecord, PortalGrant, RefreshTokenRecord, RotateOutcome,
    TokenScope, UserStore,
};
pub use webhooks::WebhookStore;

use async_trait::async_trait;

use crate::ids::WebhookId;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule of the data would be broken; the call changed nothing.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The back-end cannot be reached; the call changed nothing.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The write was applied, but fewer replicas than required confirmed it
    /// in time: it may not survive a failover of the back-end.
    #[error("write not confirmed: {0}")]
    Unconfirmed(String),
    /// Anything else; logged, never shown to callers.
    #[error("store failure: {0}")]
    Internal(String),
}

/// Which rule a conflicting store call would have broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Another user has this e-mail (compared case-insensitively).
    #[error("the e-mail is taken")]
    EmailTaken,
    /// The task's stored version is not the one the change was computed from.
    #[error("the task changed since it was read")]
    TaskChanged,
    /// The owner already has the maximum number of webhooks.
    #[error("the owner has the maximum number of webhooks")]
    WebhookLimit,
    /// The user already has the maximum number of personal access tokens.
    #[error("the user has the maximum number of personal access tokens")]
    TokenLimit,
}

/// One page of a list.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Everything a back-end stores, plus its own health and shutdown.
#[async_trait]
pub trait Store:
    UserStore + ActivityStore + TaskStore + WebhookStore + AnalyticsStore + Send + Sync + 'static
{
    /// Answers when the back-end does (`/ready`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Flushes pending writes; called on shutdown.
    async fn flush(&self) -> Result<(), StoreError>;
}

/// Cluster-wide session figures (cluster mode).
#[derive(Clone, Copy, Debug)]
pub struct ClusterCounts {
    /// Sessions held by the other live nodes.
    pub sessions_elsewhere: usize,
    /// Distinct users with a session on any live node, this one included.
    pub users_online: usize,
}

/// Where `/api/ws/status` gets cluster-wide counts.
#[async_trait]
pub trait ClusterView: Send + Sync + 'static {
    async fn counts(&self) -> Result<ClusterCounts, StoreError>;
}

/// Ownership of webhook endpoints across nodes (cluster mode): exactly one
/// node runs an endpoint's delivery actor at a time. A lease has a TTL and is
/// renewed by its holder; when the holder dies, it lapses and another node
/// takes the endpoint over.
#[async_trait]
pub trait Leases: Send + Sync + 'static {
    /// Takes the lease of `id` if free (or already ours, renewing it).
    async fn acquire(&self, id: &WebhookId) -> Result<bool, StoreError>;
    /// Renews every lease in `ids`; returns those this node no longer holds.
    async fn renew(&self, ids: &[WebhookId]) -> Result<Vec<WebhookId>, StoreError>;
    /// Gives a lease up (the endpoint stopped here).
    async fn release(&self, id: &WebhookId) -> Result<(), StoreError>;
    /// How long a lease lasts unless renewed.
    fn ttl(&self) -> std::time::Duration;
}
