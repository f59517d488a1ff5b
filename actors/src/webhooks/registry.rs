//! `WebhookRegistry`: starts, finds and stops the `WebhookEndpoint` actors.
//!
//! It knows one endpoint actor per active webhook of this node. Committed
//! deliveries arrive from the bus and are handed to their endpoint with
//! `try_send` into its bounded mailbox; when the mailbox is full the endpoint
//! is flagged to read them back from the store, so the registry never waits on
//! a slow endpoint. A delivery for an endpoint without an actor makes the
//! registry read the endpoint from the store and start it; the new actor reads
//! its pending deliveries itself.
//!
//! The REST layer tells the registry when an endpoint changed
//! ([`WebhookChanged`], [`WebhookRemoved`]). Configurations carry a version,
//! so changes that race each other converge on the newest; actors start only
//! from a fresh read of the store. A periodic resync catches anything missed.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use hub_core::store::Leases;
use hub_core::webhook::{Delivery, DeliveryAttempt, WebhookRecord, WebhookStatus};
use hub_core::{StoreError, WebhookId};
use tracing::{debug, error, info, warn};

use super::endpoint::{
    self, EndpointStopped, Enqueue, Reconfigure, RetryNow, SendTest, Stop, WebhookEndpoint,
};
use super::{send, ssrf, WebhookDeps};

/// How often the registry compares its endpoints with the store.
const RESYNC_INTERVAL: Duration = Duration::from_secs(60);

/// Deliveries just committed (from the bus), in commit order.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeliveriesCommitted(pub Vec<Delivery>);

/// An endpoint was created, edited, rotated or enabled: its stored state
/// right after the change. A running actor takes it at once (so a delivery
/// committed after a rotation's 200 is signed with the new secret); an actor
/// is only ever started from a fresh read of the store.
#[derive(Message)]
#[rtype(result = "()")]
pub struct WebhookChanged(pub WebhookRecord);

/// Another node stored deliveries for this endpoint (cluster mode): if it
/// runs here, it reads them from the store.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PendingAvailable(pub WebhookId);

/// Leases this node holds were renewed or lost.
#[derive(Message)]
#[rtype(result = "()")]
struct LeasesLost(Vec<WebhookId>);

/// Shutdown: every endpoint finishes the attempts it has running and starts
/// no new one. Answers when all are done (the caller bounds the wait).
#[derive(Message)]
#[rtype(result = "()")]
pub struct DrainAll;

/// An endpoint was deleted.
#[derive(Message)]
#[rtype(result = "()")]
pub struct WebhookRemoved(pub WebhookId);

/// A delivery was put back to pending by a manual retry.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RetryDelivery(pub Delivery);

/// Send a `webhook.test` delivery to this endpoint now.
#[derive(Message)]
#[rtype(result = "Result<DeliveryAttempt, StoreError>")]
pub struct TestWebhook {
    /// The endpoint, read by the handler (it may be disabled: no actor).
    pub record: WebhookRecord,
    /// The `webhook.test` delivery to send.
    pub delivery: Delivery,
}

/// The registry's handle on one endpoint actor.
struct Handle {
    addr: Addr<WebhookEndpoint>,
    /// Version of the configuration the actor has.
    version: i64,
    /// Shared with the actor: set when a hand-over failed.
    overflow: Arc<AtomicBool>,
    generation: u64,
}

pub struct WebhookRegistry {
    /// Handed to every endpoint actor it starts.
    deps: Arc<WebhookDeps>,
    /// Running endpoint actors.
    endpoints: HashMap<WebhookId, Handle>,
    /// Endpoints being read from the store, and whether another read was
    /// asked for meanwhile (the running one may have seen older state).
    reading: HashMap<WebhookId, bool>,
    /// Numbers actors, so a stop notice from an old actor is not mistaken for
    /// one from its replacement.
    next_generation: u64,
    /// Sends probes to endpoints that have no actor (disabled ones).
    probe_client: Option<awc::Client>,
    /// Cluster mode: endpoints whose lease another node held when last
    /// tried, and when; not tried again before half a lease TTL has passed.
    foreign: HashMap<WebhookId, std::time::Instant>,
}

impl WebhookRegistry {
    pub fn new(deps: Arc<WebhookDeps>) -> Self {
        Self {
            deps,
            endpoints: HashMap::new(),
            reading: HashMap::new(),
            next_generation: 0,
            probe_client: None,
            foreign: HashMap::new(),
        }
    }

    /// How often the registry compares its endpoints with the store: in
    /// cluster mode often enough to take over a dead node's endpoints within
    /// the lease TTL.
    fn resync_interval(&self) -> Duration {
        match &self.deps.leases {
            Some(leases) => leases.ttl() / 3,
            None => RESYNC_INTERVAL,
        }
    }

    /// Renews the leases of every running endpoint; stops those lost.
    fn renew_leases(&mut self, ctx: &mut Context<Self>) {
        let Some(leases) = self.deps.leases.clone() else {
            return;
        };
        let ids: Vec<WebhookId> = self.endpoints.keys().cloned().collect();
        if ids.is_empty() {
            return;
        }
        let me = ctx.address();
        ctx.spawn(
            async move {
                match leases.renew(&ids).await {
                    Ok(lost) if !lost.is_empty() => me.do_send(LeasesLost(lost)),
                    Ok(_) => {}
                    // Redis unreachable: keep running; if the lease lapses,
                    // the next successful renewal reports it lost.
                    Err(e) => warn!(cause = %e, "cannot renew webhook leases"),
                }
            }
            .into_actor(self),
        );
    }

    fn hand_over(&mut self, id: WebhookId, deliveries: Vec<Delivery>, ctx: &mut Context<Self>) {
        let Some(handle) = self.endpoints.get(&id) else {
            // Its actor, once started, reads these from the store.
            self.read_endpoint(id, ctx);
            return;
        };
        match handle.addr.try_send(Enqueue(deliveries)) {
            Ok(()) => {}
            Err(SendError::Full(_)) => {
                debug!(webhook_id = %id, "endpoint mailbox full; deliveries wait in the store");
                handle.overflow.store(true, Ordering::Relaxed);
            }
            Err(SendError::Closed(_)) => {
                self.endpoints.remove(&id);
                self.read_endpoint(id, ctx);
            }
        }
    }

    /// Reads an endpoint from the store and starts, reconfigures or stops its
    /// actor accordingly.
    fn read_endpoint(&mut self, id: WebhookId, ctx: &mut Context<Self>) {
        if let Some(again) = self.reading.get_mut(&id) {
            *again = true;
            return;
        }
        self.reading.insert(id.clone(), false);
        let store = self.deps.store.clone();
        let key = id.clone();
        ctx.spawn(
            async move { store.webhook_record(&key).await }
                .into_actor(self)
                .map(move |record, act, ctx| {
                    let again = act.reading.remove(&id).unwrap_or(false);
                    match record {
                        Ok(record) => act.apply(&id, record, ctx),
                        Err(e) => error!(webhook_id = %id, cause = %e, "cannot read a webhook"),
                    }
                    if again {
                        act.read_endpoint(id, ctx);
                    }
                }),
        );
    }

    fn apply(&mut self, id: &WebhookId, record: Option<WebhookRecord>, ctx: &mut Context<Self>) {
        let record = match record {
            Some(r) if r.webhook.status == WebhookStatus::Active => r,
            _ => {
                self.stop(id);
                return;
            }
        };
        match self.endpoints.get_mut(id) {
            Some(handle) if handle.version >= record.webhook.version => {}
            Some(handle) => {
                handle.version = record.webhook.version;
                // Rare and small: a control message may exceed the mailbox bound.
                handle.addr.do_send(Reconfigure(record));
            }
            None => match self.deps.leases.clone() {
                None => self.start(record, ctx),
                Some(leases) => self.start_if_leased(leases, record, ctx),
            },
        }
    }

    /// Cluster mode: starts the endpoint only if this node gets its lease.
    fn start_if_leased(
        &mut self,
        leases: Arc<dyn Leases>,
        record: WebhookRecord,
        ctx: &mut Context<Self>,
    ) {
        let id = record.webhook.id.clone();
        if let Some(at) = self.foreign.get(&id) {
            if at.elapsed() < leases.ttl() / 2 {
                return;
            }
        }
        ctx.spawn(
            async move { leases.acquire(&id).await.map(|ok| (id, ok)) }
                .into_actor(self)
                .map(move |result, act, ctx| match result {
                    Ok((id, true)) => {
                        act.foreign.remove(&id);
                        if act.endpoints.contains_key(&id) {
                            // Started meanwhile (two reads raced to the lease):
                            // keep the newer configuration of the two.
                            act.apply(&id, Some(record), ctx);
                        } else {
                            info!(webhook_id = %id, "took the webhook endpoint's lease");
                            act.start(record, ctx);
                        }
                    }
                    Ok((id, false)) => {
                        act.foreign.insert(id, std::time::Instant::now());
                    }
                    Err(e) => warn!(cause = %e, "cannot acquire a webhook lease"),
                }),
        );
    }

    fn start(&mut self, record: WebhookRecord, ctx: &mut Context<Self>) {
        self.next_generation += 1;
        let id = record.webhook.id.clone();
        let version = record.webhook.version;
        let overflow = Arc::new(AtomicBool::new(false));
        match WebhookEndpoint::new(
            record,
            self.deps.clone(),
            ctx.address().recipient(),
            self.next_generation,
            overflow.clone(),
        ) {
            Ok(endpoint) => {
                self.endpoints.insert(
                    id,
                    Handle {
                        addr: endpoint.start(),
                        version,
                        overflow,
                        generation: self.next_generation,
                    },
                );
            }
            Err(e) => error!(webhook_id = %id, cause = %e, "cannot start a webhook endpoint"),
        }
    }

    fn stop(&mut self, id: &WebhookId) {
        if let Some(handle) = self.endpoints.remove(id) {
            handle.addr.do_send(Stop);
            if let Some(leases) = self.deps.leases.clone() {
                let id = id.clone();
                actix::spawn(async move {
                    let _ = leases.release(&id).await;
                });
            }
        }
    }

    /// Compares running actors with the active endpoints in the store. At
    /// start it starts them all; later it re-reads each endpoint where the two
    /// disagree (the snapshot may be older than a change handled meanwhile).
    fn resync(&mut self, first: bool, ctx: &mut Context<Self>) {
        let store = self.deps.store.clone();
        let generation_before = self.next_generation;
        ctx.spawn(
            async move { store.active_webhooks().await }
                .into_actor(self)
                .map(move |active, act, ctx| {
                    let active = match active {
                        Ok(active) => active,
                        Err(e) => {
                            error!(cause = %e, "cannot read the active webhooks");
                            return;
                        }
                    };
                    if first {
                        info!(endpoints = active.len(), "webhook endpoints loaded");
                        for record in active {
                            let id = record.webhook.id.clone();
                            act.apply(&id, Some(record), ctx);
                        }
                        return;
                    }
                    let ids: HashSet<WebhookId> =
                        active.iter().map(|r| r.webhook.id.clone()).collect();
                    let missing = ids.iter().filter(|id| !act.endpoints.contains_key(*id));
                    let extra = act
                        .endpoints
                        .iter()
                        .filter(|(id, h)| h.generation <= generation_before && !ids.contains(*id));
                    let recheck: Vec<WebhookId> =
                        missing.chain(extra.map(|(id, _)| id)).cloned().collect();
                    for id in recheck {
                        act.read_endpoint(id, ctx);
                    }
                }),
        );
    }
}

impl Actor for WebhookRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.resync(true, ctx);
        ctx.run_interval(self.resync_interval(), |act, ctx| act.resync(false, ctx));
        if let Some(leases) = &self.deps.leases {
            ctx.run_interval(leases.ttl() / 3, |act, ctx| act.renew_leases(ctx));
        }
    }
}

impl Handler<DeliveriesCommitted> for WebhookRegistry {
    type Result = ();

    fn handle(&mut self, msg: DeliveriesCommitted, ctx: &mut Context<Self>) {
        // Usually one or two endpoints per activity: group in commit order.
        let mut groups: Vec<(WebhookId, Vec<Delivery>)> = Vec::new();
        for delivery in msg.0 {
            match groups.iter_mut().find(|(id, _)| *id == delivery.webhook_id) {
                Some((_, group)) => group.push(delivery),
                None => groups.push((delivery.webhook_id.clone(), vec![delivery])),
            }
        }
        for (id, deliveries) in groups {
            self.hand_over(id, deliveries, ctx);
        }
    }
}

impl Handler<WebhookChanged> for WebhookRegistry {
    type Result = ();

    fn handle(&mut self, msg: WebhookChanged, ctx: &mut Context<Self>) {
        let id = msg.0.webhook.id.clone();
        if self.endpoints.contains_key(&id) {
            self.apply(&id, Some(msg.0), ctx);
        } else {
            self.read_endpoint(id, ctx);
        }
    }
}

impl Handler<DrainAll> for WebhookRegistry {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: DrainAll, _: &mut Context<Self>) -> Self::Result {
        let drains: Vec<_> = self
            .endpoints
            .values()
            .map(|h| h.addr.send(endpoint::Drain))
            .collect();
        Box::pin(async move {
            futures_util::future::join_all(drains).await;
        })
    }
}

impl Handler<PendingAvailable> for WebhookRegistry {
    type Result = ();

    fn handle(&mut self, msg: PendingAvailable, ctx: &mut Context<Self>) {
        match self.endpoints.get(&msg.0) {
            Some(handle) => {
                // The endpoint reads pending deliveries back on its next pump;
                // an empty hand-over pumps it now.
                handle.overflow.store(true, Ordering::Relaxed);
                let _ = handle.addr.try_send(Enqueue(Vec::new()));
            }
            // Not running here: maybe nobody runs it (its owner died).
            None => self.read_endpoint(msg.0, ctx),
        }
    }
}

impl Handler<LeasesLost> for WebhookRegistry {
    type Result = ();

    fn handle(&mut self, msg: LeasesLost, _: &mut Context<Self>) {
        for id in msg.0 {
            warn!(webhook_id = %id, "lost the webhook endpoint's lease; stopping it here");
            if let Some(handle) = self.endpoints.remove(&id) {
                handle.addr.do_send(Stop);
            }
            self.foreign.insert(id, std::time::Instant::now());
        }
    }
}

impl Handler<WebhookRemoved> for WebhookRegistry {
    type Result = ();

    fn handle(&mut self, msg: WebhookRemoved, _: &mut Context<Self>) {
        self.stop(&msg.0);
        // A read under way may predate the deletion: have it read again.
        if let Some(again) = self.reading.get_mut(&msg.0) {
            *again = true;
        }
    }
}

impl Handler<RetryDelivery> for WebhookRegistry {
    type Result = ();

    fn handle(&mut self, msg: RetryDelivery, ctx: &mut Context<Self>) {
        let id = msg.0.webhook_id.clone();
        let Some(handle) = self.endpoints.get(&id) else {
            self.read_endpoint(id, ctx);
            return;
        };
        if let Err(SendError::Full(_)) = handle.addr.try_send(RetryNow(msg.0)) {
            // Pending and due in the store: read back with the overflow.
            handle.overflow.store(true, Ordering::Relaxed);
        }
    }
}

impl Handler<TestWebhook> for WebhookRegistry {
    type Result = ResponseFuture<Result<DeliveryAttempt, StoreError>>;

    fn handle(&mut self, msg: TestWebhook, _: &mut Context<Self>) -> Self::Result {
        // Without an endpoint actor (a disabled endpoint, or one that is
        // stopping as the test arrives) the registry sends the test itself.
        let deps = self.deps.clone();
        let client = self
            .probe_client
            .get_or_insert_with(|| send::client(deps.tls.clone(), &deps.config))
            .clone();
        let record = msg.record.clone();
        let delivery = msg.delivery.clone();
        let direct = async move {
            let url = ssrf::parse_stored(&record.webhook.url)
                .map_err(|e| StoreError::Internal(format!("stored webhook URL: {e}")))?;
            let keys = record
                .secrets
                .signing_at(chrono::Utc::now())
                .into_iter()
                .filter_map(|s| super::signing::decode_secret(s).ok())
                .collect();
            let format = record.webhook.format;
            endpoint::probe(client, url, format, keys, delivery, deps, false)
                .await
                .map(|(attempt, _)| attempt)
        };
        match self.endpoints.get(&msg.record.webhook.id) {
            Some(handle) => {
                let sent = handle.addr.send(SendTest(msg.delivery));
                Box::pin(async move {
                    match sent.await {
                        Ok(outcome) => outcome,
                        Err(_) => direct.await,
                    }
                })
            }
            None => Box::pin(direct),
        }
    }
}

impl Handler<EndpointStopped> for WebhookRegistry {
    type Result = ();

    fn handle(&mut self, msg: EndpointStopped, _: &mut Context<Self>) {
        if self
            .endpoints
            .get(&msg.id)
            .is_some_and(|h| h.generation == msg.generation)
        {
            self.endpoints.remove(&msg.id);
        }
    }
}
