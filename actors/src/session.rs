//! `WsSession`: one actor per WebSocket connection.
//!
//! This file is the only one that knows the transport (`actix-web-actors`,
//! deprecated upstream in favour of `actix-ws`): moving transports touches
//! nothing else.
//!
//! A session joins the registry's [`SessionDirectory`], greets the client, replays
//! history when asked to resume, then writes whatever the registry hands it,
//! in id order and through its filter. It pings every `heartbeat_interval`,
//! closes after `client_timeout` of silence (1001), at token expiry unless a
//! `refresh` frame extended it (4001), when it falls behind (4008), when its
//! user has too many sessions (4029), and on frames over the size limit (1009).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web_actors::ws::{self, CloseReason, ProtocolError, WebsocketContext};
use chrono::Utc;
use hub_core::frames::{self, ClientFrame, Close, EventFilter, Outbound, ServerFrame, WsErrorCode};
use hub_core::store::HistoryWindow;
use hub_core::{ActivityId, SessionId, Store, TokenId, UserId};
use tracing::{debug, info, warn, Span};

use crate::registry::{Connect, ConnectRefused, Deliver, QueueGauge, SessionDirectory};
use hub_core::metrics::Metrics;

/// Checks an access token presented in a `refresh` frame: its user and `exp`.
pub trait TokenCheck: Send + Sync + 'static {
    fn check(&self, token: &str) -> Result<(UserId, i64), String>;
}

/// Settings shared by every session of the node (one allocation, not one per
/// session).
pub struct SessionConfig {
    pub node_id: String,
    pub heartbeat_interval: Duration,
    pub client_timeout: Duration,
    pub history: HistoryWindow,
    /// Mailbox bound; the registry's gauge bound is the same number.
    pub max_queued_frames: usize,
}

/// Everything a session needs from the hub, shared by all sessions.
pub struct SessionDeps {
    /// The registry's directory, which sessions join and leave.
    pub sessions: Arc<SessionDirectory>,
    pub store: Arc<dyn Store>,
    pub tokens: Arc<dyn TokenCheck>,
    pub config: SessionConfig,
    pub metrics: Arc<Metrics>,
}

pub struct WsSession {
    id: SessionId,
    user: UserId,
    deps: Arc<SessionDeps>,
    /// Outbound queue accounting shared with the registry.
    gauge: Arc<QueueGauge>,
    /// Activity types this session wants.
    filter: EventFilter,
    /// Sequence number of the last event frame handled (sent or filtered):
    /// later frames with a smaller or equal one are duplicates of a replay.
    last_seq: i64,
    /// Last time the client sent anything.
    last_seen: Instant,
    /// `exp` of the access token that opened the session.
    token_exp: i64,
    /// The personal access token that opened the session, if one did: its
    /// revocation closes the session (4001) until a `refresh` frame moves
    /// the session onto an access token.
    personal_token: Option<TokenId>,
    /// Closes the session at token expiry; replaced by a `refresh` frame.
    expiry: Option<SpawnHandle>,
    /// `last_event_id` from the query string, replayed once registered.
    initial_resume: Option<ActivityId>,
    /// True once the registry accepted the session.
    registered: bool,
    /// A portal session: it gets `webhook_delivery` frames and nothing else
    /// of its user's (no events, task updates, broadcasts or replays).
    webhooks_only: bool,
    span: Span,
}

impl WsSession {
    pub fn new(
        user: UserId,
        token_exp: i64,
        filter: EventFilter,
        resume_from: Option<ActivityId>,
        deps: Arc<SessionDeps>,
    ) -> Self {
        let id = SessionId::generate();
        let span = tracing::info_span!("ws_session", session_id = %id, user_id = %user);
        Self {
            id,
            user,
            deps,
            gauge: Arc::new(QueueGauge::default()),
            filter,
            last_seq: 0,
            last_seen: Instant::now(),
            token_exp,
            personal_token: None,
            expiry: None,
            initial_resume: resume_from,
            registered: false,
            webhooks_only: false,
            span,
        }
    }

    /// Makes this a webhooks-only (portal) session.
    /// The session was opened with this personal access token.
    pub fn opened_with(mut self, token: TokenId) -> Self {
        self.personal_token = Some(token);
        self
    }

    pub fn webhooks_only(mut self) -> Self {
        self.webhooks_only = true;
        self.initial_resume = None;
        self
    }

    fn send(&self, ctx: &mut WebsocketContext<Self>, frame: &ServerFrame<'_>) {
        ctx.text(Outbound::control(frame).text);
    }

    fn error(&self, ctx: &mut WebsocketContext<Self>, code: WsErrorCode, message: &str) {
        self.send(ctx, &ServerFrame::Error { code, message });
    }

    fn close(&self, ctx: &mut WebsocketContext<Self>, why: Close, reason: &str) {
        let _guard = self.span.enter();
        info!(code = why.code(), reason, "closing session");
        ctx.close(Some(CloseReason {
            code: ws::CloseCode::from(why.code()),
            description: Some(reason.to_owned()),
        }));
        ctx.stop();
    }

    /// Closes at `exp` (Unix seconds) unless rescheduled.
    fn schedule_expiry(&mut self, exp: i64, ctx: &mut WebsocketContext<Self>) {
        if let Some(handle) = self.expiry.take() {
            ctx.cancel_future(handle);
        }
        let wait = Duration::from_secs((exp - Utc::now().timestamp()).max(0) as u64);
        self.expiry = Some(ctx.run_later(wait, |act, ctx| {
            act.close(ctx, Close::TokenExpired, "token expired");
        }));
    }

    fn heartbeat(&self, ctx: &mut WebsocketContext<Self>) {
        if self.gauge.evicted.load(Ordering::Relaxed) {
            self.close(ctx, Close::SlowConsumer, "slow consumer");
            return;
        }
        if self.last_seen.elapsed() > self.deps.config.client_timeout {
            self.close(ctx, Close::GoingAway, "client timeout");
            return;
        }
        ctx.ping(b"");
    }

    /// Replays history after `from`, holding the mailbox (live frames wait in
    /// it, in order) until the replay is written.
    fn resume(&mut self, from: ActivityId, ctx: &mut WebsocketContext<Self>) {
        if self.webhooks_only {
            self.error(
                ctx,
                WsErrorCode::NotAvailable,
                "A portal session sees webhook deliveries only; it has no events to resume.",
            );
            return;
        }
        let Some(seq) = from.seq() else {
            self.error(
                ctx,
                WsErrorCode::InvalidLastEventId,
                "last_event_id is not an event id of this hub",
            );
            return;
        };
        // The client says what it has: everything after it is owed again.
        self.last_seq = seq;
        let store = self.deps.store.clone();
        let user = self.user.clone();
        let window = self.deps.config.history;
        let fut = async move {
            store
                .replay_after(&user, &from, window, Utc::now())
                .await
                .map(|r| (from, r))
        };
        ctx.wait(fut.into_actor(self).map(|result, act, ctx| match result {
            Ok((from, replay)) => {
                let mut replayed = 0;
                for activity in &replay.events {
                    let seq = activity.id.seq().unwrap_or(0);
                    if seq <= act.last_seq {
                        continue;
                    }
                    act.last_seq = seq;
                    if act.filter.allows(activity.kind) {
                        ctx.text(Outbound::event(activity).text);
                        replayed += 1;
                    }
                }
                act.send(
                    ctx,
                    &ServerFrame::Resumed {
                        from: from.as_str(),
                        replayed,
                        complete: replay.complete,
                    },
                );
            }
            Err(err) => {
                let _guard = act.span.enter();
                warn!(cause = %err, "resume failed");
                act.error(
                    ctx,
                    WsErrorCode::ResumeFailed,
                    "History is unavailable; refetch over REST.",
                );
            }
        }));
    }

    /// Registered (and, in cluster mode, subscribed): every event after the
    /// welcome reaches the session.
    fn opened(&mut self, ctx: &mut WebsocketContext<Self>) {
        let config = &self.deps.config;
        self.send(
            ctx,
            &ServerFrame::Welcome {
                session_id: self.id.as_str(),
                user_id: self.user.as_str(),
                node_id: &config.node_id,
                heartbeat_interval_ms: config.heartbeat_interval.as_millis() as u64,
                server_time: frames::rfc3339(Utc::now()),
            },
        );
        {
            let _guard = self.span.enter();
            info!("session opened");
        }
        if let Some(from) = self.initial_resume.take() {
            self.resume(from, ctx);
        }
    }

    fn on_text(&mut self, text: &str, ctx: &mut WebsocketContext<Self>) {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(e) if e.is_syntax() || e.is_eof() => {
                self.error(
                    ctx,
                    WsErrorCode::InvalidJson,
                    "The frame is not valid JSON.",
                );
                return;
            }
            Err(e) => {
                self.error(ctx, WsErrorCode::InvalidFrame, &e.to_string());
                return;
            }
        };
        match frame {
            ClientFrame::Ping { timestamp } => self.send(
                ctx,
                &ServerFrame::Pong {
                    timestamp: &timestamp,
                },
            ),
            ClientFrame::Subscribe { events } => {
                match EventFilter::parse(events.iter().map(String::as_str)) {
                    Ok((filter, events)) => {
                        self.filter = filter;
                        self.send(ctx, &ServerFrame::Subscribed { events });
                    }
                    Err(name) => self.error(
                        ctx,
                        WsErrorCode::UnknownEventType,
                        &format!("{name:?} is not an activity type"),
                    ),
                }
            }
            ClientFrame::Resume { last_event_id } => self.resume(ActivityId(last_event_id), ctx),
            ClientFrame::Refresh { token } => match self.deps.tokens.check(&token) {
                Ok((user, exp)) if user == self.user => {
                    // Now held by an access token, not by the personal one.
                    self.personal_token = None;
                    self.schedule_expiry(exp, ctx)
                }
                Ok(_) => self.error(
                    ctx,
                    WsErrorCode::WrongUser,
                    "The token belongs to another user.",
                ),
                Err(_) => self.error(
                    ctx,
                    WsErrorCode::InvalidToken,
                    "The token is not a valid access token.",
                ),
            },
        }
    }
}

/// Starts a session's actor and returns its HTTP response (the upgrade).
pub fn start(
    session: WsSession,
    max_frame_size: usize,
    req: &actix_web::HttpRequest,
    payload: actix_web::web::Payload,
) -> Result<actix_web::HttpResponse, actix_web::Error> {
    ws::WsResponseBuilder::new(session, req, payload)
        .frame_size(max_frame_size)
        .start()
}

impl Actor for WsSession {
    type Context = WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // A little slack over the registry's frame bound: the registry's gauge
        // trips first, so a full mailbox only ever means "evict".
        ctx.set_mailbox_capacity(self.deps.config.max_queued_frames + 8);
        let config = &self.deps.config;
        ctx.run_interval(config.heartbeat_interval, |act, ctx| act.heartbeat(ctx));
        self.schedule_expiry(self.token_exp, ctx);
        let connect = Connect {
            user: self.user.clone(),
            session: self.id.clone(),
            recipient: ctx.address().recipient(),
            gauge: self.gauge.clone(),
        };
        match self.deps.sessions.connect(connect) {
            Ok(ack) => {
                self.registered = true;
                match ack {
                    None => self.opened(ctx),
                    // Cluster mode, the user's first session here: welcome
                    // once the bridge has subscribed (or noted the user for
                    // when Redis is back); frames wait in the mailbox.
                    Some(ack) => ctx.wait(ack.into_actor(self).map(|_, act, ctx| act.opened(ctx))),
                }
            }
            Err(ConnectRefused::TooManySessions) => {
                self.close(ctx, Close::TooManySessions, "too many sessions")
            }
            Err(ConnectRefused::ShuttingDown) => {
                self.close(ctx, Close::ServiceRestart, "service restart")
            }
        }
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        if self.registered {
            self.deps.sessions.disconnect(&self.user, &self.id);
        }
        let _guard = self.span.enter();
        debug!("session stopped");
    }
}

impl Handler<Deliver> for WsSession {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        let frame = match msg {
            Deliver::Frame(frame) => frame,
            Deliver::Close(code) => {
                self.close(ctx, code, "service restart");
                return;
            }
            Deliver::TokenRevoked(id) => {
                if self.personal_token.as_ref() == Some(&id) {
                    self.close(ctx, Close::TokenExpired, "token revoked");
                }
                return;
            }
            Deliver::Resync => {
                // Only a session that has seen an event knows where to resume
                // from; one that has not would replay history it never missed.
                if self.last_seq > 0 {
                    self.resume(ActivityId::from_seq(self.last_seq), ctx);
                }
                return;
            }
        };
        self.gauge.written(frame.len());
        if self.gauge.evicted.load(Ordering::Relaxed) {
            self.close(ctx, Close::SlowConsumer, "slow consumer");
            return;
        }
        if self.webhooks_only && !frame.webhook_log {
            return;
        }
        if let Some((kind, seq)) = frame.event {
            if seq <= self.last_seq {
                return;
            }
            self.last_seq = seq;
            if !self.filter.allows(kind) {
                return;
            }
        }
        ctx.text(frame.text.clone());
        if let Some(at) = frame.committed_at {
            self.deps.metrics.delivery_latency.observe(at.elapsed());
        }
    }
}

impl StreamHandler<Result<ws::Message, ProtocolError>> for WsSession {
    fn handle(&mut self, msg: Result<ws::Message, ProtocolError>, ctx: &mut Self::Context) {
        self.last_seen = Instant::now();
        match msg {
            Ok(ws::Message::Text(text)) => self.on_text(&text, ctx),
            Ok(ws::Message::Ping(payload)) => ctx.pong(&payload),
            Ok(ws::Message::Pong(_)) | Ok(ws::Message::Nop) => {}
            Ok(ws::Message::Binary(_)) | Ok(ws::Message::Continuation(_)) => self.error(
                ctx,
                WsErrorCode::BinaryNotSupported,
                "Only JSON text frames are accepted.",
            ),
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Err(ProtocolError::Overflow) => self.close(ctx, Close::MessageTooBig, "frame too big"),
            Err(err) => {
                let reason = err.to_string();
                self.close(ctx, Close::PolicyViolation, &reason);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
