//! `PresenceTracker`: decides, every `presence.check_interval`, who came
//! online and who has been gone for `presence.offline_after`, and stores a
//! webhook delivery of `presence.online` / `presence.offline` for every
//! endpoint of that user that lists the event.
//!
//! The decision itself is the [`PresenceLedger`]'s: in embedded mode the
//! tracker feeds a [`LocalLedger`] with the registry's [`Presence`] messages;
//! in cluster mode the ledger lives in Redis (built from every live node's
//! set of users) and one node at a time decides. A change is committed to
//! the ledger only after its deliveries are stored: a crash in between sends
//! it again (receivers deduplicate by meaning), it never loses it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use hub_core::metrics::Metrics;
use hub_core::presence::{LocalLedger, PresenceLedger, PresenceStatus};
use hub_core::Store;
use tracing::{debug, warn};

use crate::registry::Presence;

pub struct PresenceTracker {
    ledger: Arc<dyn PresenceLedger>,
    /// Embedded mode: the same ledger, to feed with the registry's messages.
    local: Option<Arc<LocalLedger>>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    offline_after: Duration,
    interval: Duration,
    /// A check is running; the next tick is skipped rather than overlapped.
    busy: bool,
}

impl PresenceTracker {
    /// Embedded mode: one node, decided from its own registry.
    pub fn local(
        ledger: Arc<LocalLedger>,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        offline_after: Duration,
        interval: Duration,
    ) -> Self {
        let mut tracker = Self::shared(ledger.clone(), store, metrics, offline_after, interval);
        tracker.local = Some(ledger);
        tracker
    }

    /// Cluster mode: decided from a shared ledger.
    pub fn shared(
        ledger: Arc<dyn PresenceLedger>,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        offline_after: Duration,
        interval: Duration,
    ) -> Self {
        Self {
            ledger,
            local: None,
            store,
            metrics,
            offline_after,
            interval,
            busy: false,
        }
    }

    fn check(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            return;
        }
        self.busy = true;
        let ledger = self.ledger.clone();
        let store = self.store.clone();
        let metrics = self.metrics.clone();
        let offline_after = self.offline_after;
        let fut = async move {
            let now = hub_core::time::now();
            let tick = ledger.due(now, offline_after).await?;
            metrics
                .presence_online
                .store(tick.online as i64, Ordering::Relaxed);
            if tick.changes.is_empty() {
                return Ok(());
            }
            let mut delivered = Vec::with_capacity(tick.changes.len());
            let mut failure = None;
            for change in tick.changes {
                let event = change.status.event();
                match store
                    .enqueue_event(&change.user_id, event, change.envelope(now), now)
                    .await
                {
                    Ok(deliveries) => {
                        debug!(user_id = %change.user_id, event = event.as_str(), deliveries = deliveries.len(), "presence changed");
                        let slot = usize::from(change.status == PresenceStatus::Offline);
                        metrics.presence_changes[slot].fetch_add(1, Ordering::Relaxed);
                        delivered.push(change);
                    }
                    Err(err) => {
                        // The rest wait for the next check, in order.
                        failure = Some(err);
                        break;
                    }
                }
            }
            let online = ledger.commit(&delivered).await?;
            metrics
                .presence_online
                .store(online as i64, Ordering::Relaxed);
            match failure {
                Some(err) => Err(err),
                None => Ok(()),
            }
        };
        ctx.spawn(
            fut.into_actor(self)
                .map(|result: Result<(), hub_core::StoreError>, act, _| {
                    act.busy = false;
                    if let Err(err) = result {
                        warn!(cause = %err, "presence check failed; retrying at the next one");
                    }
                }),
        );
    }
}

impl Actor for PresenceTracker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.interval, |act, ctx| act.check(ctx));
    }
}

/// Embedded mode: the registry's view of this node is the whole picture.
impl Handler<Presence> for PresenceTracker {
    type Result = ();

    fn handle(&mut self, msg: Presence, _: &mut Context<Self>) {
        if let Some(local) = &self.local {
            local.observe(msg.user, msg.online, hub_core::time::now());
        }
    }
}
