//! Webhook delivery: the `WebhookRegistry` actor starts and stops one
//! `WebhookEndpoint` actor per active endpoint; each endpoint owns its queue,
//! its retry timers, its in-flight limit and its failure count, and sends with
//! its own `awc` client.
//!
//! Deliveries are created by the store in the same transaction as their
//! activity (so one exists before the activity's 201) and announced after the
//! commit through the bus, which hands them to the registry, which hands them
//! to the endpoint with `try_send`. Nothing is lost when a hand-over fails:
//! the delivery is pending in the store, and the endpoint reads it back. At
//! start the registry loads every active endpoint, and each endpoint its
//! pending deliveries, so deliveries survive a restart or a `kill -9`.
//!
//! - [`ssrf`]: which addresses a webhook may reach.
//! - [`signing`]: secrets and Standard Webhooks signatures.
//! - [`send`]: one HTTP attempt and what its outcome means.
//! - [`endpoint`], [`registry`]: the actors.

pub mod endpoint;
pub mod registry;
pub mod send;
pub mod signing;
pub mod ssrf;

use std::sync::Arc;

use hub_core::store::Leases;
use hub_core::Store;

pub use send::DeliveryConfig;

/// What every webhook actor shares.
pub struct WebhookDeps {
    /// Where deliveries, attempts and endpoint state live.
    pub store: Arc<dyn Store>,
    /// Timeouts, schedule and limits from the settings.
    pub config: Arc<DeliveryConfig>,
    /// TLS for https receivers, built once.
    pub tls: Arc<rustls::ClientConfig>,
    /// Cluster mode: who runs which endpoint. `None` (embedded): this node
    /// runs them all.
    pub leases: Option<Arc<dyn Leases>>,
    /// Tells the owner's sessions, on every node, of each recorded attempt.
    pub bus: Arc<dyn crate::bus::Bus>,
}
