//! `WebhookEndpoint`: one actor per active webhook endpoint.
//!
//! It keeps the endpoint's deliveries in memory (up to
//! `webhooks.max_queued_per_endpoint`; the rest wait in the store), runs at
//! most `max_in_flight` attempts at once, holds a timer per delivery waiting
//! for a retry, and counts failures in a row. Every attempt is recorded in the
//! store before its delivery is retried or forgotten, so a restart resumes
//! from the store with nothing lost: at worst an attempt whose outcome was not
//! yet recorded is made again, with the same `webhook-id`.
//!
//! An attempt is a future spawned on the actor's context, so a receiver that
//! hangs for the whole timeout holds one of this endpoint's in-flight slots and
//! nothing else: other endpoints have their own actors, clients and pools.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::Utc;
use hub_core::frames::{Outbound, ServerFrame};
use hub_core::model::{ActivityType, NewActivity};
use hub_core::webhook::{
    AttemptRecord, Delivery, DeliveryAttempt, DeliveryStatus, EndpointUpdate, SigningSecrets,
    WebhookFormat, WebhookRecord,
};
use hub_core::{DeliveryId, StoreError, UserId, WebhookId};
use tracing::{debug, error, info, warn};
use url::Url;

use super::send::{self, Attempt, AttemptResult, DeliveryConfig, Verdict};
use super::{signing, ssrf, WebhookDeps};

/// Messages the registry may queue for one endpoint before it falls back to
/// leaving deliveries in the store (the endpoint then reads them back).
pub const ENDPOINT_MAILBOX_CAPACITY: usize = 1_024;
/// Pending deliveries read from the store per query.
const LOAD_PAGE: usize = 500;
/// How often an endpoint checks whether deliveries wait for it in the store
/// (after an overflow or a failed read).
const OVERFLOW_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// New deliveries for this endpoint.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Enqueue(pub Vec<Delivery>);

/// The endpoint's URL or secrets changed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Reconfigure(pub WebhookRecord);

/// A manual retry: the store has put the delivery back to pending.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RetryNow(pub Delivery);

/// Send a `webhook.test` delivery now, outside the queue, and report it.
#[derive(Message)]
#[rtype(result = "Result<DeliveryAttempt, StoreError>")]
pub struct SendTest(pub Delivery);

/// Stop now (the endpoint was disabled, deleted or changed hands).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

/// Sent to the registry when an endpoint actor has stopped.
#[derive(Message)]
#[rtype(result = "()")]
pub struct EndpointStopped {
    pub id: WebhookId,
    /// Tells this actor from a newer one started for the same endpoint.
    pub generation: u64,
}

/// Where one tracked delivery is.
enum Slot {
    /// In the ready queue.
    Ready,
    /// Waiting for its retry time.
    Waiting {
        timer: SpawnHandle,
        delivery: Box<Delivery>,
    },
    /// An attempt is running.
    InFlight,
    /// The attempt finished; its record is being written.
    Recording,
}

/// The endpoint's target as attempts need it.
struct Target {
    /// Parsed once; every attempt resolves and checks its host again.
    url: Url,
    /// Current and (during a rotation) previous secret.
    secrets: SigningSecrets,
    /// The body the endpoint receives.
    format: WebhookFormat,
    /// Version of the configuration in force.
    version: i64,
}

pub struct WebhookEndpoint {
    /// The endpoint this actor delivers to (logs, records).
    id: WebhookId,
    /// Whose endpoint: the `notification` on disabling goes to them.
    owner: UserId,
    /// URL and secrets in force.
    target: Target,
    /// Store and settings shared by every endpoint.
    deps: Arc<WebhookDeps>,
    /// This endpoint's own client and connection pool.
    client: awc::Client,
    /// Told when this actor stops.
    registry: Recipient<EndpointStopped>,
    /// Tells this actor from a later one of the same endpoint.
    generation: u64,
    /// Deliveries due now, oldest first.
    ready: VecDeque<Delivery>,
    /// Every delivery this actor is responsible for right now.
    slots: HashMap<DeliveryId, Slot>,
    /// Attempts running.
    in_flight: usize,
    /// Failed attempts since the last success.
    consecutive_failures: u32,
    /// Set (by the registry or by this actor) when deliveries were left in
    /// the store because the mailbox or the queue was full.
    overflow: Arc<AtomicBool>,
    /// A read of pending deliveries from the store is under way.
    loading: bool,
    /// Deliveries finished while a read was under way: the read may have seen
    /// them still pending, and must not bring them back.
    finished_while_loading: HashSet<DeliveryId>,
    /// Manual retries asked for while the delivery's attempt was running.
    retry_requested: HashSet<DeliveryId>,
    /// The endpoint is being disabled: no new attempts.
    disabling: bool,
    /// Shutdown: start no new attempt; tell these once the running ones are
    /// over and recorded.
    draining: Option<Vec<tokio::sync::oneshot::Sender<()>>>,
}

impl WebhookEndpoint {
    pub fn new(
        record: WebhookRecord,
        deps: Arc<WebhookDeps>,
        registry: Recipient<EndpointStopped>,
        generation: u64,
        overflow: Arc<AtomicBool>,
    ) -> Result<Self, String> {
        let url = ssrf::parse_stored(&record.webhook.url).map_err(|e| e.to_string())?;
        Ok(Self {
            id: record.webhook.id.clone(),
            owner: record.webhook.user_id.clone(),
            target: Target {
                url,
                secrets: record.secrets,
                format: record.webhook.format,
                version: record.webhook.version,
            },
            client: send::client(deps.tls.clone(), &deps.config),
            consecutive_failures: record.webhook.consecutive_failures,
            deps,
            registry,
            generation,
            ready: VecDeque::new(),
            slots: HashMap::new(),
            in_flight: 0,
            overflow,
            loading: false,
            finished_while_loading: HashSet::new(),
            retry_requested: HashSet::new(),
            disabling: false,
            draining: None,
        })
    }

    fn config(&self) -> &DeliveryConfig {
        &self.deps.config
    }

    /// Takes charge of a delivery: ready now, or a timer until it is due.
    fn admit(&mut self, delivery: Delivery, ctx: &mut Context<Self>) {
        if self.slots.contains_key(&delivery.id) {
            return;
        }
        if self.slots.len() >= self.config().max_queued {
            // It stays pending in the store; read back when the queue drains.
            self.overflow.store(true, Ordering::Relaxed);
            return;
        }
        let mut due = delivery.next_attempt_at.unwrap_or_else(Utc::now);
        if delivery.attempts == delivery.retry_base {
            // The first attempt of a round waits the schedule's first delay.
            let first = self.config().retry_schedule.first().copied();
            if let Some(delay) = first.filter(|d| !d.is_zero()) {
                due += chrono::Duration::from_std(send::jittered(delay)).unwrap_or_default();
            }
        }
        self.schedule(delivery, due, ctx);
    }

    fn schedule(
        &mut self,
        delivery: Delivery,
        due: chrono::DateTime<Utc>,
        ctx: &mut Context<Self>,
    ) {
        let wait = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        if wait.is_zero() {
            self.slots.insert(delivery.id.clone(), Slot::Ready);
            self.ready.push_back(delivery);
            return;
        }
        let id = delivery.id.clone();
        let timer = ctx.run_later(wait, move |act, ctx| act.due(&id, ctx));
        self.slots.insert(
            delivery.id.clone(),
            Slot::Waiting {
                timer,
                delivery: Box::new(delivery),
            },
        );
    }

    /// A retry timer fired.
    fn due(&mut self, id: &DeliveryId, ctx: &mut Context<Self>) {
        if let Some(Slot::Waiting { delivery, .. }) = self.slots.remove(id) {
            self.slots.insert(id.clone(), Slot::Ready);
            self.ready.push_back(*delivery);
            self.pump(ctx);
        }
    }

    /// Starts attempts while slots are free, and refills from the store after
    /// an overflow once the queue has room again.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.disabling {
            return;
        }
        if self.draining.is_some() {
            self.check_drained();
            return;
        }
        while self.in_flight < self.config().max_in_flight {
            let Some(delivery) = self.ready.pop_front() else {
                break;
            };
            self.start_attempt(delivery, ctx);
        }
        if !self.loading
            && self.slots.len() <= self.config().max_queued / 2
            && self.overflow.swap(false, Ordering::Relaxed)
        {
            self.load(None, ctx);
        }
    }

    /// The keys that sign at this moment, newest first.
    fn signing_keys(&self) -> Vec<Vec<u8>> {
        self.target
            .secrets
            .signing_at(Utc::now())
            .into_iter()
            .filter_map(|secret| match signing::decode_secret(secret) {
                Ok(key) => Some(key),
                Err(e) => {
                    error!(webhook_id = %self.id, cause = %e, "stored webhook secret is unusable");
                    None
                }
            })
            .collect()
    }

    fn start_attempt(&mut self, delivery: Delivery, ctx: &mut Context<Self>) {
        self.in_flight += 1;
        self.slots.insert(delivery.id.clone(), Slot::InFlight);
        let attempt = Attempt::new(
            self.target.url.clone(),
            &delivery,
            self.target.format,
            self.signing_keys(),
        );
        let sending = send::send(self.client.clone(), attempt, self.deps.config.clone());
        ctx.spawn(
            sending
                .into_actor(self)
                .map(move |result, act, ctx| act.finished(delivery, result, ctx)),
        );
    }

    /// An attempt is over: decide what it means, record it, then retry,
    /// finish, or disable the endpoint.
    fn finished(&mut self, mut delivery: Delivery, result: AttemptResult, ctx: &mut Context<Self>) {
        self.in_flight -= 1;
        let number = delivery.attempts + 1;
        let made = number.saturating_sub(delivery.retry_base) as usize;
        let max_failures = self.config().max_consecutive_failures;
        let mut endpoint = EndpointUpdate::default();
        let (status, next_attempt_at) = match result.verdict() {
            Verdict::Success => {
                self.consecutive_failures = 0;
                (DeliveryStatus::Succeeded, None)
            }
            Verdict::Gone => {
                self.consecutive_failures += 1;
                if !self.disabling {
                    endpoint.disable_reason =
                        Some("the endpoint answered 410 Gone, so it was disabled at once".into());
                }
                (DeliveryStatus::Failed, None)
            }
            Verdict::Failure { not_before } => {
                self.consecutive_failures += 1;
                if self.consecutive_failures >= max_failures && !self.disabling {
                    endpoint.disable_reason = Some(format!(
                        "{} delivery attempts in a row failed (last: {})",
                        self.consecutive_failures,
                        result.summary()
                    ));
                }
                match send::next_delay(&self.config().retry_schedule, made, not_before) {
                    Some(delay) => (
                        DeliveryStatus::Pending,
                        Some(
                            result.attempted_at
                                + chrono::Duration::from_std(result.duration + delay)
                                    .unwrap_or_default(),
                        ),
                    ),
                    None => (DeliveryStatus::Failed, None),
                }
            }
        };
        endpoint.consecutive_failures = Some(self.consecutive_failures);
        let disable_reason = endpoint.disable_reason.clone();
        if disable_reason.is_some() {
            self.disabling = true;
        }
        if status == DeliveryStatus::Succeeded {
            debug!(webhook_id = %self.id, delivery_id = %delivery.id, attempt = number,
                   ms = result.duration.as_millis() as u64, "webhook delivered");
        } else {
            info!(webhook_id = %self.id, delivery_id = %delivery.id, attempt = number,
                  outcome = %result.summary(), status = status.as_str(), "webhook attempt failed");
        }
        let record = AttemptRecord {
            webhook_id: self.id.clone(),
            delivery_id: delivery.id.clone(),
            attempt: DeliveryAttempt {
                attempt: number,
                attempted_at: result.attempted_at,
                duration_ms: result.duration.as_millis() as u64,
                status_code: result.status,
                error: result.error,
                response_body: result.response_body,
                next_attempt_at,
            },
            status,
            endpoint,
        };
        delivery.attempts = number;
        delivery.status = status;
        delivery.next_attempt_at = next_attempt_at;
        let notice = attempt_frame(&delivery, &record.attempt);
        self.slots.insert(delivery.id.clone(), Slot::Recording);
        let store = self.deps.store.clone();
        ctx.spawn(
            async move { store.record_attempt(record).await }
                .into_actor(self)
                .map(move |written, act, ctx| {
                    if written.is_ok() {
                        act.deps.bus.webhook_attempted(&act.owner, notice);
                    }
                    act.recorded(delivery, written, disable_reason, ctx)
                }),
        );
        self.pump(ctx);
    }

    fn recorded(
        &mut self,
        delivery: Delivery,
        written: Result<(), StoreError>,
        disable_reason: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        if let Err(e) = written {
            // The delivery stays as the store last knew it (pending): it is
            // attempted again after a restart, which at-least-once allows.
            error!(webhook_id = %self.id, delivery_id = %delivery.id, cause = %e,
                   "cannot record a webhook attempt");
        }
        if let Some(reason) = disable_reason {
            self.disable(reason, ctx);
            return;
        }
        if self.retry_requested.remove(&delivery.id) {
            self.forget(&delivery.id);
            self.retry_from_store(delivery.id, ctx);
            return;
        }
        match (delivery.status, delivery.next_attempt_at) {
            (DeliveryStatus::Pending, Some(due)) => {
                self.slots.remove(&delivery.id);
                self.schedule(delivery, due, ctx);
            }
            _ => self.forget(&delivery.id),
        }
        self.pump(ctx);
    }

    /// When draining: once no attempt runs or awaits its record, tells the
    /// waiters.
    fn check_drained(&mut self) {
        let busy = self.in_flight > 0 || self.slots.values().any(|s| matches!(s, Slot::Recording));
        if busy {
            return;
        }
        if let Some(waiters) = self.draining.as_mut() {
            for waiter in waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
    }

    fn forget(&mut self, id: &DeliveryId) {
        self.slots.remove(id);
        if self.loading {
            self.finished_while_loading.insert(id.clone());
        }
    }

    /// A manual retry arrived while the attempt ran; its record may have
    /// overwritten the retry's reset, so reset again now.
    fn retry_from_store(&mut self, id: DeliveryId, ctx: &mut Context<Self>) {
        let store = self.deps.store.clone();
        let (owner, webhook) = (self.owner.clone(), self.id.clone());
        ctx.spawn(
            async move {
                store
                    .retry_delivery(&owner, &webhook, &id, hub_core::time::now())
                    .await
            }
            .into_actor(self)
            .map(|reset, act, ctx| {
                match reset {
                    Ok(Some(delivery)) => act.admit(delivery, ctx),
                    Ok(None) => {}
                    Err(e) => {
                        error!(webhook_id = %act.id, cause = %e, "cannot reset a retried delivery")
                    }
                }
                act.pump(ctx);
            }),
        );
    }

    /// The endpoint is disabled in the store: tell its owner, then stop.
    /// Deliveries still pending stay so, and go out if it is re-enabled.
    fn disable(&mut self, reason: String, ctx: &mut Context<Self>) {
        warn!(webhook_id = %self.id, user_id = %self.owner, reason = %reason, "webhook endpoint disabled");
        let url = self.target.url.to_string();
        let notification = NewActivity {
            user_id: self.owner.clone(),
            kind: ActivityType::Notification,
            title: "Webhook disabled".into(),
            message: Some(format!(
                "Your webhook {url} was disabled: {reason}. Fix the receiver, then re-enable \
                 it with POST /api/webhooks/{}/enable.",
                self.id
            )),
            metadata: serde_json::json!({
                "webhook_id": self.id,
                "url": url,
                "reason": reason,
            }),
            link: Some(format!("/api/webhooks/{}", self.id)),
            created_at: hub_core::time::now(),
        };
        let store = self.deps.store.clone();
        ctx.spawn(
            async move { store.append_activity(notification, None).await }
                .into_actor(self)
                .map(|stored, act, ctx| {
                    if let Err(e) = stored {
                        error!(webhook_id = %act.id, cause = %e, "cannot store the webhook-disabled notification");
                    }
                    ctx.stop();
                }),
        );
    }

    /// Reads pending deliveries from the store, page by page, until they are
    /// all here or the queue is full.
    fn load(&mut self, cursor: Option<String>, ctx: &mut Context<Self>) {
        self.loading = true;
        let store = self.deps.store.clone();
        let id = self.id.clone();
        ctx.spawn(
            async move { store.pending_deliveries(&id, cursor, LOAD_PAGE).await }
                .into_actor(self)
                .map(|page, act, ctx| {
                    let page = match page {
                        Ok(page) => page,
                        Err(e) => {
                            error!(webhook_id = %act.id, cause = %e, "cannot read pending deliveries");
                            act.loading = false;
                            act.finished_while_loading.clear();
                            // Try again on the next check.
                            act.overflow.store(true, Ordering::Relaxed);
                            return;
                        }
                    };
                    let mut full = false;
                    for delivery in page.items {
                        if act.finished_while_loading.contains(&delivery.id)
                            || act.slots.contains_key(&delivery.id)
                        {
                            continue;
                        }
                        if act.slots.len() >= act.config().max_queued {
                            act.overflow.store(true, Ordering::Relaxed);
                            full = true;
                            break;
                        }
                        act.admit(delivery, ctx);
                    }
                    match page.next_cursor {
                        Some(next) if !full => act.load(Some(next), ctx),
                        _ => {
                            act.loading = false;
                            act.finished_while_loading.clear();
                        }
                    }
                    act.pump(ctx);
                }),
        );
    }
}

impl Actor for WebhookEndpoint {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(ENDPOINT_MAILBOX_CAPACITY);
        debug!(webhook_id = %self.id, "webhook endpoint started");
        ctx.run_interval(OVERFLOW_CHECK_INTERVAL, |act, ctx| act.pump(ctx));
        self.load(None, ctx);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        debug!(webhook_id = %self.id, "webhook endpoint stopped");
        self.registry.do_send(EndpointStopped {
            id: self.id.clone(),
            generation: self.generation,
        });
    }
}

impl Handler<Enqueue> for WebhookEndpoint {
    type Result = ();

    fn handle(&mut self, msg: Enqueue, ctx: &mut Context<Self>) {
        for delivery in msg.0 {
            self.admit(delivery, ctx);
        }
        self.pump(ctx);
    }
}

impl Handler<Reconfigure> for WebhookEndpoint {
    type Result = ();

    fn handle(&mut self, msg: Reconfigure, _: &mut Context<Self>) {
        let record = msg.0;
        if record.webhook.version < self.target.version {
            return;
        }
        match ssrf::parse_stored(&record.webhook.url) {
            Ok(url) => {
                self.target = Target {
                    url,
                    secrets: record.secrets,
                    format: record.webhook.format,
                    version: record.webhook.version,
                }
            }
            Err(e) => error!(webhook_id = %self.id, cause = %e, "stored webhook URL is unusable"),
        }
    }
}

impl Handler<RetryNow> for WebhookEndpoint {
    type Result = ();

    fn handle(&mut self, msg: RetryNow, ctx: &mut Context<Self>) {
        let delivery = msg.0;
        match self.slots.get(&delivery.id) {
            Some(Slot::Waiting { timer, .. }) => {
                ctx.cancel_future(*timer);
                self.slots.remove(&delivery.id);
                self.admit(delivery, ctx);
            }
            Some(Slot::Ready) => {
                if let Some(queued) = self.ready.iter_mut().find(|d| d.id == delivery.id) {
                    *queued = delivery;
                }
            }
            Some(Slot::InFlight | Slot::Recording) => {
                self.retry_requested.insert(delivery.id);
            }
            None => self.admit(delivery, ctx),
        }
        self.pump(ctx);
    }
}

impl Handler<SendTest> for WebhookEndpoint {
    type Result = ResponseActFuture<Self, Result<DeliveryAttempt, StoreError>>;

    fn handle(&mut self, msg: SendTest, _: &mut Context<Self>) -> Self::Result {
        let probe = probe(
            self.client.clone(),
            self.target.url.clone(),
            self.target.format,
            self.signing_keys(),
            msg.0,
            self.deps.clone(),
            true,
        );
        Box::pin(probe.into_actor(self).map(|outcome, act, _| {
            if let Ok((attempt, true)) = &outcome {
                debug!(webhook_id = %act.id, attempt = attempt.attempt, "test delivery succeeded");
                act.consecutive_failures = 0;
            }
            outcome.map(|(attempt, _)| attempt)
        }))
    }
}

/// Shutdown: finish the attempts running (and record them), start no more.
/// Answers when that is done; what is still pending stays in the store.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Drain;

impl Handler<Drain> for WebhookEndpoint {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: Drain, _: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.draining.get_or_insert_with(Vec::new).push(tx);
        self.check_drained();
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}

impl Handler<Stop> for WebhookEndpoint {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Sends a `webhook.test` delivery once and stores it with its attempt. On an
/// active endpoint (`reset_on_success`) a success resets the failure count; a
/// failure never counts towards disabling (it is a manual probe, not a lost
/// event). Returns the attempt and whether it succeeded.
pub async fn probe(
    client: awc::Client,
    url: Url,
    format: WebhookFormat,
    keys: Vec<Vec<u8>>,
    mut delivery: Delivery,
    deps: Arc<WebhookDeps>,
    reset_on_success: bool,
) -> Result<(DeliveryAttempt, bool), StoreError> {
    let attempt = Attempt::new(url, &delivery, format, keys);
    let result = send::send(client, attempt, deps.config.clone()).await;
    let success = result.verdict() == Verdict::Success;
    let attempt = DeliveryAttempt {
        attempt: 1,
        attempted_at: result.attempted_at,
        duration_ms: result.duration.as_millis() as u64,
        status_code: result.status,
        error: result.error,
        response_body: result.response_body,
        next_attempt_at: None,
    };
    delivery.attempts = 1;
    delivery.status = if success {
        DeliveryStatus::Succeeded
    } else {
        DeliveryStatus::Failed
    };
    delivery.next_attempt_at = None;
    delivery.updated_at = result.attempted_at;
    let endpoint = EndpointUpdate {
        consecutive_failures: (success && reset_on_success).then_some(0),
        disable_reason: None,
    };
    let notice = attempt_frame(&delivery, &attempt);
    let owner = delivery.user_id.clone();
    deps.store
        .record_test_delivery(delivery, attempt.clone(), endpoint)
        .await?;
    deps.bus.webhook_attempted(&owner, notice);
    Ok((attempt, success))
}

/// The `webhook_delivery` frame that shows `attempt` of `delivery` (already
/// updated to its status after the attempt) in the owner's open logs.
fn attempt_frame(delivery: &Delivery, attempt: &DeliveryAttempt) -> Outbound {
    Outbound::control(&ServerFrame::WebhookDelivery {
        webhook_id: delivery.webhook_id.as_str(),
        delivery_id: delivery.id.as_str(),
        event_type: &delivery.event_type,
        status: delivery.status,
        attempt,
    })
}
