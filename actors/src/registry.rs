//! `SessionRegistry`: knows every WebSocket session of this node, by user, and
//! fans frames out to them.
//!
//! Sessions register a `Recipient<Deliver>` (the registry never names the
//! session type) and a [`QueueGauge`] they share with it. Fan-out uses
//! `try_send` into each session's bounded mailbox; a session whose mailbox or
//! gauge is past its bound is evicted on the spot (it then closes with 4008)
//! instead of making the registry, or anyone else, wait for it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use hub_core::frames::Outbound;
use hub_core::metrics::Metrics;
use hub_core::{SessionId, TokenId, UserId};
use tracing::{debug, warn};

/// What the registry hands one session.
#[derive(Message)]
#[rtype(result = "()")]
pub enum Deliver {
    /// A frame to write (shared by every session that gets it).
    Frame(Arc<Outbound>),
    /// Close for this reason (shutdown: 1012).
    Close(hub_core::frames::Close),
    /// The bus may have missed events (a Redis reconnect): replay from the
    /// last event id.
    Resync,
    /// A personal access token of the session's user was revoked: a session
    /// opened with it closes.
    TokenRevoked(TokenId),
}

/// What a session shares with the registry about its outbound queue.
#[derive(Debug, Default)]
pub struct QueueGauge {
    /// Frames sent to the session and not yet written by it.
    pub frames: AtomicUsize,
    /// Bytes of those frames.
    pub bytes: AtomicUsize,
    /// Set by the registry when it drops a slow session; the session closes
    /// with 4008 as soon as it runs.
    pub evicted: AtomicBool,
}

impl QueueGauge {
    /// Called by the session when it has written a frame.
    pub fn written(&self, bytes: usize) {
        self.frames.fetch_sub(1, Ordering::Relaxed);
        self.bytes.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// A session asks to join. Fails when its user already has the maximum.
#[derive(Message)]
#[rtype(result = "Result<(), ConnectRefused>")]
pub struct Connect {
    pub user: UserId,
    pub session: SessionId,
    pub recipient: Recipient<Deliver>,
    pub gauge: Arc<QueueGauge>,
}

#[derive(Debug)]
pub enum ConnectRefused {
    /// The user holds `max_sessions_per_user` already (4029).
    TooManySessions,
    /// The node is shutting down (1012).
    ShuttingDown,
}

/// Shutdown: every session closes with 1012 and new ones are refused.
/// Answers with the number of sessions told to close.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CloseAll;

/// A session has ended.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub user: UserId,
    pub session: SessionId,
}

/// A frame for every session of one user.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeliverToUser {
    pub user: UserId,
    pub frame: Arc<Outbound>,
}

/// A frame for every session of this node.
#[derive(Message)]
#[rtype(result = "()")]
pub struct BroadcastFrame(pub Arc<Outbound>);

/// A user's first session arrived on this node (`online`) or the last one
/// left. Cluster mode subscribes to the user's channel on it; answering means
/// the subscription is in place, so no event published after the session's
/// welcome frame can be missed.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Presence {
    pub user: UserId,
    pub online: bool,
}

/// Registers who wants [`Presence`] (the Redis bridge).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetPresence(pub Recipient<Presence>);

/// One of `user`'s personal access tokens was revoked: every session of that
/// user on this node hears of it, and those opened with it close.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct TokenRevoked {
    pub user: UserId,
    pub token: TokenId,
}

/// The bus lost events it could not deliver (a Redis reconnect): every
/// session replays from its last event id.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ResyncAll;

/// Session counts, as `/api/ws/status` shows them.
#[derive(Message)]
#[rtype(result = "SessionCounts")]
pub struct Counts {
    pub user: UserId,
}

#[derive(Debug, Clone, Copy)]
pub struct SessionCounts {
    pub node_sessions: usize,
    pub users_online: usize,
    pub your_sessions: usize,
}

/// The limits the registry enforces.
#[derive(Clone, Copy, Debug)]
pub struct RegistryLimits {
    pub max_sessions_per_user: usize,
    pub max_queued_frames: usize,
    pub max_queued_bytes: usize,
}

struct Entry {
    session: SessionId,
    recipient: Recipient<Deliver>,
    gauge: Arc<QueueGauge>,
}

pub struct SessionRegistry {
    /// Sessions by user; most users hold a handful, so a Vec beats a map.
    users: HashMap<UserId, Vec<Entry>>,
    /// Total sessions, kept so counts need no walk.
    total: usize,
    limits: RegistryLimits,
    /// Set by `CloseAll`: refuse new sessions.
    closing: bool,
    /// Told when a user comes online or goes offline on this node.
    presence: Option<Recipient<Presence>>,
    metrics: Arc<Metrics>,
}

impl SessionRegistry {
    pub fn new(limits: RegistryLimits, metrics: Arc<Metrics>) -> Self {
        Self {
            users: HashMap::new(),
            total: 0,
            limits,
            closing: false,
            presence: None,
            metrics,
        }
    }

    fn offline(&self, user: &UserId) {
        if let Some(p) = &self.presence {
            p.do_send(Presence {
                user: user.clone(),
                online: false,
            });
        }
    }

    fn publish_count(&self) {
        self.metrics
            .sessions
            .store(self.total as i64, Ordering::Relaxed);
    }

    /// Removes `dropped` sessions from the total and counts the evictions.
    fn dropped(&mut self, dropped: usize, evicted: usize) {
        self.total -= dropped;
        self.metrics
            .slow_consumers
            .fetch_add(evicted as u64, Ordering::Relaxed);
        self.publish_count();
    }

    /// Tries to hand `frame` to one session; false means drop the session.
    /// `evicted` counts sessions dropped for being slow.
    fn offer(
        limits: &RegistryLimits,
        entry: &Entry,
        frame: &Arc<Outbound>,
        evicted: &mut usize,
    ) -> bool {
        let gauge = &entry.gauge;
        let frames = gauge.frames.load(Ordering::Relaxed);
        let bytes = gauge.bytes.load(Ordering::Relaxed);
        if frames >= limits.max_queued_frames || bytes + frame.len() > limits.max_queued_bytes {
            warn!(session_id = %entry.session, frames, bytes, "slow consumer: session evicted");
            gauge.evicted.store(true, Ordering::Relaxed);
            *evicted += 1;
            return false;
        }
        gauge.frames.fetch_add(1, Ordering::Relaxed);
        gauge.bytes.fetch_add(frame.len(), Ordering::Relaxed);
        match entry.recipient.try_send(Deliver::Frame(frame.clone())) {
            Ok(()) => true,
            Err(SendError::Full(_)) => {
                warn!(session_id = %entry.session, "slow consumer: mailbox full, session evicted");
                gauge.evicted.store(true, Ordering::Relaxed);
                *evicted += 1;
                false
            }
            Err(SendError::Closed(_)) => false,
        }
    }
}

impl Actor for SessionRegistry {
    type Context = Context<Self>;
}

impl Handler<Connect> for SessionRegistry {
    type Result = ResponseFuture<Result<(), ConnectRefused>>;

    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) -> Self::Result {
        if self.closing {
            return Box::pin(async { Err(ConnectRefused::ShuttingDown) });
        }
        let sessions = self.users.entry(msg.user.clone()).or_default();
        if sessions.len() >= self.limits.max_sessions_per_user {
            return Box::pin(async { Err(ConnectRefused::TooManySessions) });
        }
        let first = sessions.is_empty();
        sessions.push(Entry {
            session: msg.session,
            recipient: msg.recipient,
            gauge: msg.gauge,
        });
        self.total += 1;
        self.publish_count();
        match (&self.presence, first) {
            (Some(presence), true) => {
                let ask = presence.send(Presence {
                    user: msg.user,
                    online: true,
                });
                Box::pin(async move {
                    // The bridge answers once subscribed, or once it has noted
                    // the user for when Redis is back.
                    let _ = ask.await;
                    Ok(())
                })
            }
            _ => Box::pin(async { Ok(()) }),
        }
    }
}

impl Handler<SetPresence> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, msg: SetPresence, _: &mut Context<Self>) {
        self.presence = Some(msg.0);
    }
}

impl Handler<ResyncAll> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, _: ResyncAll, _: &mut Context<Self>) {
        for entry in self.users.values().flatten() {
            let _ = entry.recipient.try_send(Deliver::Resync);
        }
    }
}

impl Handler<TokenRevoked> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, msg: TokenRevoked, _: &mut Context<Self>) {
        for entry in self.users.get(&msg.user).into_iter().flatten() {
            // A full mailbox means a slow session, evicted soon anyway.
            let _ = entry
                .recipient
                .try_send(Deliver::TokenRevoked(msg.token.clone()));
        }
    }
}

impl Handler<Disconnect> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, _: &mut Context<Self>) {
        if let Some(sessions) = self.users.get_mut(&msg.user) {
            let before = sessions.len();
            sessions.retain(|e| e.session != msg.session);
            self.total -= before - sessions.len();
            if sessions.is_empty() {
                self.users.remove(&msg.user);
                self.offline(&msg.user);
            }
            self.publish_count();
        }
    }
}

impl Handler<DeliverToUser> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, msg: DeliverToUser, _: &mut Context<Self>) {
        let Some(sessions) = self.users.get_mut(&msg.user) else {
            return;
        };
        let limits = self.limits;
        let before = sessions.len();
        let mut evicted = 0;
        sessions.retain(|entry| Self::offer(&limits, entry, &msg.frame, &mut evicted));
        let dropped = before - sessions.len();
        let sent = sessions.len();
        if sessions.is_empty() {
            self.users.remove(&msg.user);
            self.offline(&msg.user);
        }
        self.metrics
            .frames_sent
            .fetch_add(sent as u64, Ordering::Relaxed);
        if dropped > 0 {
            self.dropped(dropped, evicted);
        }
    }
}

impl Handler<BroadcastFrame> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, msg: BroadcastFrame, _: &mut Context<Self>) {
        let limits = self.limits;
        let mut dropped = 0;
        let mut evicted = 0;
        let mut gone = Vec::new();
        self.users.retain(|user, sessions| {
            let before = sessions.len();
            sessions.retain(|entry| Self::offer(&limits, entry, &msg.0, &mut evicted));
            dropped += before - sessions.len();
            if sessions.is_empty() {
                gone.push(user.clone());
            }
            !sessions.is_empty()
        });
        for user in &gone {
            self.offline(user);
        }
        self.dropped(dropped, evicted);
        self.metrics
            .frames_sent
            .fetch_add(self.total as u64, Ordering::Relaxed);
        debug!(sessions = self.total, "broadcast fanned out");
    }
}

impl Handler<CloseAll> for SessionRegistry {
    type Result = usize;

    fn handle(&mut self, _: CloseAll, _: &mut Context<Self>) -> usize {
        self.closing = true;
        let mut told = 0;
        for entry in self.users.values().flatten() {
            // A full mailbox means the session is stuck anyway; the server's
            // shutdown timeout ends its connection.
            let close = Deliver::Close(hub_core::frames::Close::ServiceRestart);
            if entry.recipient.try_send(close).is_ok() {
                told += 1;
            }
        }
        told
    }
}

impl Handler<Counts> for SessionRegistry {
    type Result = MessageResult<Counts>;

    fn handle(&mut self, msg: Counts, _: &mut Context<Self>) -> Self::Result {
        MessageResult(SessionCounts {
            node_sessions: self.total,
            users_online: self.users.len(),
            your_sessions: self.users.get(&msg.user).map_or(0, Vec::len),
        })
    }
}
