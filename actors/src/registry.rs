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
use hub_core::{SessionId, UserId};
use tracing::{debug, warn};

use crate::frames::Outbound;

/// One frame for one session.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Deliver(pub Arc<Outbound>);

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
#[rtype(result = "Result<(), TooManySessions>")]
pub struct Connect {
    pub user: UserId,
    pub session: SessionId,
    pub recipient: Recipient<Deliver>,
    pub gauge: Arc<QueueGauge>,
}

#[derive(Debug)]
pub struct TooManySessions;

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
}

impl SessionRegistry {
    pub fn new(limits: RegistryLimits) -> Self {
        Self {
            users: HashMap::new(),
            total: 0,
            limits,
        }
    }

    /// Tries to hand `frame` to one session; false means drop the session.
    fn offer(limits: &RegistryLimits, entry: &Entry, frame: &Arc<Outbound>) -> bool {
        let gauge = &entry.gauge;
        let frames = gauge.frames.load(Ordering::Relaxed);
        let bytes = gauge.bytes.load(Ordering::Relaxed);
        if frames >= limits.max_queued_frames || bytes + frame.len() > limits.max_queued_bytes {
            warn!(session_id = %entry.session, frames, bytes, "slow consumer: session evicted");
            gauge.evicted.store(true, Ordering::Relaxed);
            return false;
        }
        gauge.frames.fetch_add(1, Ordering::Relaxed);
        gauge.bytes.fetch_add(frame.len(), Ordering::Relaxed);
        match entry.recipient.try_send(Deliver(frame.clone())) {
            Ok(()) => true,
            Err(SendError::Full(_)) => {
                warn!(session_id = %entry.session, "slow consumer: mailbox full, session evicted");
                gauge.evicted.store(true, Ordering::Relaxed);
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
    type Result = Result<(), TooManySessions>;

    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) -> Self::Result {
        let sessions = self.users.entry(msg.user.clone()).or_default();
        if sessions.len() >= self.limits.max_sessions_per_user {
            if sessions.is_empty() {
                self.users.remove(&msg.user);
            }
            return Err(TooManySessions);
        }
        sessions.push(Entry {
            session: msg.session,
            recipient: msg.recipient,
            gauge: msg.gauge,
        });
        self.total += 1;
        Ok(())
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
            }
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
        sessions.retain(|entry| Self::offer(&limits, entry, &msg.frame));
        let dropped = before - sessions.len();
        if dropped > 0 {
            self.total -= dropped;
            if sessions.is_empty() {
                self.users.remove(&msg.user);
            }
        }
    }
}

impl Handler<BroadcastFrame> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, msg: BroadcastFrame, _: &mut Context<Self>) {
        let limits = self.limits;
        let mut dropped = 0;
        self.users.retain(|_, sessions| {
            let before = sessions.len();
            sessions.retain(|entry| Self::offer(&limits, entry, &msg.0));
            dropped += before - sessions.len();
            !sessions.is_empty()
        });
        self.total -= dropped;
        debug!(sessions = self.total, "broadcast fanned out");
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
