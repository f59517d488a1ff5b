//! The event bus: how committed events reach the sessions of every node.
//!
//! Embedded mode has one node, so [`LocalBus`] hands frames straight to the
//! registry. In cluster mode `hub_redis::bridge::ClusterBus` implements [`Bus`] over Redis pub/sub.
//! Frames are serialised here, once per event, on the store's writer thread;
//! the registry only fans out shared bytes.

use std::sync::{Arc, OnceLock};

use actix::Addr;
use futures_util::future::BoxFuture;
use hub_core::frames::{Outbound, ServerFrame};
use hub_core::metrics::Metrics;
use hub_core::model::{Activity, Task};
use hub_core::webhook::Delivery;
use hub_core::{EventSink, TokenId, UserId};
use tracing::warn;

use crate::registry::{BroadcastFrame, SessionDirectory, SessionRegistry, TokenRevoked};
use crate::webhooks::registry::{DeliveriesCommitted, WebhookRegistry};

/// Carries events to sessions. The store feeds it (as an [`EventSink`]) in
/// commit order; `broadcast` comes straight from the REST layer.
pub trait Bus: EventSink {
    /// A `broadcast` frame for every session of every node. Not stored.
    fn broadcast(&self, data: &serde_json::Value);
    /// Connects the webhook registry, which starts after the store (it needs
    /// it) and so after the bus. Once only.
    fn attach_webhooks(&self, registry: Addr<WebhookRegistry>);
    /// A `webhook_delivery` frame for every session of the endpoint's owner,
    /// on every node. Sent after the attempt is stored; not stored itself.
    fn webhook_attempted(&self, owner: &UserId, frame: Outbound);
    /// A personal access token of `owner` was revoked: sessions opened with
    /// it close, on every node (and, in cluster mode, every other node drops
    /// it from its token cache). The future ends once the news is out (in
    /// cluster mode: published), so the revocation can answer after it.
    fn token_revoked(&self, owner: &UserId, token: &TokenId) -> BoxFuture<'static, ()>;
}

/// The in-process bus of embedded mode.
pub struct LocalBus {
    registry: Addr<SessionRegistry>,
    /// The registry's sessions: frames for one user are handed to their
    /// mailboxes from the calling thread (for events, the writer's).
    sessions: Arc<SessionDirectory>,
    metrics: Arc<Metrics>,
    /// Where committed deliveries go. Set once the webhook registry runs; it
    /// needs the store, which needs this bus, so it cannot be given to `new`.
    /// Deliveries committed before it is set are read from the store by the
    /// registry when it starts.
    webhooks: OnceLock<Addr<WebhookRegistry>>,
}

impl LocalBus {
    pub fn new(
        registry: Addr<SessionRegistry>,
        sessions: Arc<SessionDirectory>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            registry,
            sessions,
            metrics,
            webhooks: OnceLock::new(),
        }
    }
}

impl EventSink for LocalBus {
    fn activity_committed(&self, activity: &Activity) {
        self.metrics.event_published(activity.kind);
        // `deliver` never waits on a session (it uses `try_send`), so the
        // store's writer thread hands the frame to each mailbox itself, in
        // commit order, with no hop through the registry's thread.
        self.sessions
            .deliver(&activity.user_id, &Arc::new(Outbound::event(activity)));
    }

    fn task_committed(&self, task: &Task) {
        self.sessions
            .deliver(&task.user_id, &Arc::new(Outbound::task(task)));
    }

    fn deliveries_committed(&self, deliveries: &[Delivery]) {
        // The webhook registry only routes (`try_send` to each endpoint), so
        // like the session registry it drains as fast as commits arrive.
        if let Some(webhooks) = self.webhooks.get() {
            webhooks.do_send(DeliveriesCommitted(deliveries.to_vec()));
        }
    }
}

impl Bus for LocalBus {
    fn attach_webhooks(&self, registry: Addr<WebhookRegistry>) {
        if self.webhooks.set(registry).is_err() {
            warn!("a webhook registry was already attached to the bus");
        }
    }

    fn broadcast(&self, data: &serde_json::Value) {
        self.registry
            .do_send(BroadcastFrame(Arc::new(Outbound::control(
                &ServerFrame::Broadcast { data },
            ))));
    }

    fn webhook_attempted(&self, owner: &UserId, frame: Outbound) {
        self.sessions.deliver(owner, &Arc::new(frame));
    }

    fn token_revoked(&self, owner: &UserId, token: &TokenId) -> BoxFuture<'static, ()> {
        self.registry.do_send(TokenRevoked {
            user: owner.clone(),
            token: token.clone(),
        });
        Box::pin(std::future::ready(()))
    }
}
