//! `SessionRegistry`: knows every WebSocket session of this node, by user, and
//! fans frames out to them.
//!
//! Sessions register a `Recipient<Deliver>` (the registry never names the
//! session type) and a [`QueueGauge`] they share with it. Fan-out uses
//! `try_send` into each session's bounded mailbox; a session whose mailbox or
//! gauge is past its bound is evicted on the spot (it then closes with 4008)
//! instead of making the registry, or anyone else, wait for it.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

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

/// A session asks to join ([`SessionDirectory::connect`]). Fails when its
/// user already has the maximum.
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

/// Users per shard lock of the [`SessionDirectory`]: enough that the writer
/// thread, the registry and the webhook arbiter rarely meet on one.
const SHARDS: usize = 16;

type Shard = HashMap<UserId, Vec<Entry>>;

/// This node's sessions by user. The registry owns it and shares it with the
/// sessions, which join and leave it from their own threads, and with whoever
/// hands out a user's frames: in embedded mode the store's writer thread puts
/// each committed event into the user's sessions' mailboxes itself. No
/// message crosses to the registry's thread on a connect, a disconnect or an
/// event.
///
/// Presence (`online` when a user's first session joins, `offline` when the
/// last one leaves or is evicted) is sent while holding the user's shard
/// lock, so for one user the presence actor gets the changes in the order
/// they happened, whichever threads made them.
pub struct SessionDirectory {
    shards: Box<[Mutex<Shard>]>,
    /// Sessions in the directory, kept so counts need no walk.
    total: AtomicUsize,
    limits: RegistryLimits,
    metrics: Arc<Metrics>,
    /// Set by `CloseAll`: refuse new sessions.
    closing: AtomicBool,
    /// Told when a user comes online or goes offline on this node.
    presence: OnceLock<Recipient<Presence>>,
}

/// What a session waits for after joining: in cluster mode, the bridge's
/// answer that it has subscribed to the user's channel (or noted the user for
/// when Redis is back). It resolves however the session fares meanwhile.
pub type PresenceAck = tokio::sync::oneshot::Receiver<()>;

impl SessionDirectory {
    fn new(limits: RegistryLimits, metrics: Arc<Metrics>) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            total: AtomicUsize::new(0),
            limits,
            metrics,
            closing: AtomicBool::new(false),
            presence: OnceLock::new(),
        }
    }

    fn shard(&self, user: &UserId) -> MutexGuard<'_, Shard> {
        let mut h = std::hash::DefaultHasher::new();
        user.hash(&mut h);
        let i = h.finish() as usize % SHARDS;
        // A panic while holding a shard leaves plain data behind: go on.
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    fn each_shard(&self, mut f: impl FnMut(&mut Shard)) {
        for shard in self.shards.iter() {
            f(&mut shard.lock().unwrap_or_else(|p| p.into_inner()));
        }
    }

    /// Who hears of [`Presence`] changes: the Redis bridge, or in embedded
    /// mode the presence tracker. Set once, before the server accepts
    /// connections (a direct call, so no session can join before it).
    pub fn set_presence(&self, recipient: Recipient<Presence>) {
        if self.presence.set(recipient).is_err() {
            warn!("a presence recipient was already set");
        }
    }

    /// Tells the presence actor; called with the user's shard locked.
    fn offline(&self, user: &UserId) {
        if let Some(p) = self.presence.get() {
            p.do_send(Presence {
                user: user.clone(),
                online: false,
            });
        }
    }

    /// Adds a session. When it is its user's first, the presence actor is
    /// told, and the session should wait for the returned answer before it
    /// counts as live (cluster mode subscribes to the user's channel first).
    /// Called from an actix thread (a session's).
    pub fn connect(&self, msg: Connect) -> Result<Option<PresenceAck>, ConnectRefused> {
        let ack = {
            let mut shard = self.shard(&msg.user);
            // Checked under the lock: `CloseAll` sets the flag, then walks
            // every shard, so a session either sees it or is seen by it.
            if self.closing.load(Ordering::Acquire) {
                return Err(ConnectRefused::ShuttingDown);
            }
            let held = shard.get(&msg.user).map_or(0, Vec::len);
            if held >= self.limits.max_sessions_per_user {
                return Err(ConnectRefused::TooManySessions);
            }
            let first = held == 0;
            let ack = match (self.presence.get(), first) {
                (Some(presence), true) => {
                    // Queued now, under the lock. actix skips a message whose
                    // asker has gone, so the asking is not left to the
                    // session, which may stop before the answer.
                    let ask = presence.send(Presence {
                        user: msg.user.clone(),
                        online: true,
                    });
                    let (answered, ack) = tokio::sync::oneshot::channel();
                    actix::spawn(async move {
                        let _ = ask.await;
                        let _ = answered.send(());
                    });
                    Some(ack)
                }
                _ => None,
            };
            shard.entry(msg.user).or_default().push(Entry {
                session: msg.session,
                recipient: msg.recipient,
                gauge: msg.gauge,
            });
            ack
        };
        self.total.fetch_add(1, Ordering::Relaxed);
        self.publish_count();
        Ok(ack)
    }

    /// Removes a session that has ended (it may be gone already, if a
    /// delivery evicted it).
    pub fn disconnect(&self, user: &UserId, session: &SessionId) {
        let removed = {
            let mut shard = self.shard(user);
            let Some(sessions) = shard.get_mut(user) else {
                return;
            };
            let before = sessions.len();
            sessions.retain(|e| &e.session != session);
            let removed = before - sessions.len();
            if sessions.is_empty() {
                shard.remove(user);
                self.offline(user);
            }
            removed
        };
        self.dropped(removed, 0);
    }

    /// Hands `frame` to every session of `user`, dropping (and counting) the
    /// ones past their bounds. Never waits on a session.
    pub fn deliver(&self, user: &UserId, frame: &Arc<Outbound>) {
        let (sent, dropped, evicted) = {
            let mut shard = self.shard(user);
            let Some(sessions) = shard.get_mut(user) else {
                return;
            };
            let before = sessions.len();
            let mut evicted = 0;
            sessions.retain(|entry| offer(&self.limits, entry, frame, &mut evicted));
            let dropped = before - sessions.len();
            let sent = sessions.len();
            if sessions.is_empty() {
                shard.remove(user);
                self.offline(user);
            }
            (sent, dropped, evicted)
        };
        self.metrics
            .frames_sent
            .fetch_add(sent as u64, Ordering::Relaxed);
        if dropped > 0 {
            self.dropped(dropped, evicted);
        }
    }

    fn publish_count(&self) {
        self.metrics
            .sessions
            .store(self.total.load(Ordering::Relaxed) as i64, Ordering::Relaxed);
    }

    /// Removes `dropped` sessions from the total and counts the evictions.
    fn dropped(&self, dropped: usize, evicted: usize) {
        self.total.fetch_sub(dropped, Ordering::Relaxed);
        self.metrics
            .slow_consumers
            .fetch_add(evicted as u64, Ordering::Relaxed);
        self.publish_count();
    }

    /// Sessions on this node.
    pub fn len(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
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

/// Supervises this node's sessions: owns their [`SessionDirectory`], and
/// runs what touches all of them (broadcasts, shutdown, resyncs, counts).
pub struct SessionRegistry {
    directory: Arc<SessionDirectory>,
}

impl SessionRegistry {
    pub fn new(limits: RegistryLimits, metrics: Arc<Metrics>) -> Self {
        Self {
            directory: Arc::new(SessionDirectory::new(limits, metrics)),
        }
    }

    /// The directory its sessions join, for them and for whoever delivers
    /// frames.
    pub fn directory(&self) -> Arc<SessionDirectory> {
        self.directory.clone()
    }
}

impl Actor for SessionRegistry {
    type Context = Context<Self>;
}

impl Handler<ResyncAll> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, _: ResyncAll, _: &mut Context<Self>) {
        self.directory.each_shard(|shard| {
            for entry in shard.values().flatten() {
                let _ = entry.recipient.try_send(Deliver::Resync);
            }
        });
    }
}

impl Handler<TokenRevoked> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, msg: TokenRevoked, _: &mut Context<Self>) {
        let shard = self.directory.shard(&msg.user);
        for entry in shard.get(&msg.user).into_iter().flatten() {
            // A full mailbox means a slow session, evicted soon anyway.
            let _ = entry
                .recipient
                .try_send(Deliver::TokenRevoked(msg.token.clone()));
        }
    }
}

impl Handler<DeliverToUser> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, msg: DeliverToUser, _: &mut Context<Self>) {
        self.directory.deliver(&msg.user, &msg.frame);
    }
}

impl Handler<BroadcastFrame> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, msg: BroadcastFrame, _: &mut Context<Self>) {
        let directory = &self.directory;
        let limits = directory.limits;
        let mut dropped = 0;
        let mut evicted = 0;
        directory.each_shard(|shard| {
            shard.retain(|user, sessions| {
                let before = sessions.len();
                sessions.retain(|entry| offer(&limits, entry, &msg.0, &mut evicted));
                dropped += before - sessions.len();
                if sessions.is_empty() {
                    directory.offline(user);
                }
                !sessions.is_empty()
            });
        });
        directory.dropped(dropped, evicted);
        let total = directory.len();
        directory
            .metrics
            .frames_sent
            .fetch_add(total as u64, Ordering::Relaxed);
        debug!(sessions = total, "broadcast fanned out");
    }
}

impl Handler<CloseAll> for SessionRegistry {
    type Result = usize;

    fn handle(&mut self, _: CloseAll, _: &mut Context<Self>) -> usize {
        self.directory.closing.store(true, Ordering::Release);
        let mut told = 0;
        self.directory.each_shard(|shard| {
            for entry in shard.values().flatten() {
                // A full mailbox means the session is stuck anyway; the
                // server's shutdown timeout ends its connection.
                let close = Deliver::Close(hub_core::frames::Close::ServiceRestart);
                if entry.recipient.try_send(close).is_ok() {
                    told += 1;
                }
            }
        });
        told
    }
}

impl Handler<Counts> for SessionRegistry {
    type Result = MessageResult<Counts>;

    fn handle(&mut self, msg: Counts, _: &mut Context<Self>) -> Self::Result {
        let mut users_online = 0;
        self.directory.each_shard(|shard| {
            users_online += shard.values().filter(|s| !s.is_empty()).count();
        });
        let your_sessions = self
            .directory
            .shard(&msg.user)
            .get(&msg.user)
            .map_or(0, Vec::len);
        MessageResult(SessionCounts {
            node_sessions: self.directory.len(),
            users_online,
            your_sessions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stands in for a session: keeps the text of every frame it is handed.
    struct Sink(Arc<Mutex<Vec<String>>>);

    impl Actor for Sink {
        type Context = Context<Self>;
    }

    impl Handler<Deliver> for Sink {
        type Result = ();
        fn handle(&mut self, msg: Deliver, _: &mut Context<Self>) {
            if let Deliver::Frame(frame) = msg {
                self.0.lock().unwrap().push(frame.text.to_string());
            }
        }
    }

    /// Stands in for the Redis bridge: keeps every presence change.
    struct Watcher(Arc<Mutex<Vec<bool>>>);

    impl Actor for Watcher {
        type Context = Context<Self>;
    }

    impl Handler<Presence> for Watcher {
        type Result = ();
        fn handle(&mut self, msg: Presence, _: &mut Context<Self>) {
            self.0.lock().unwrap().push(msg.online);
        }
    }

    fn frame(text: &str) -> Arc<Outbound> {
        Arc::new(Outbound::remote_control(text.to_owned().into()))
    }

    async fn settle() {
        actix::clock::sleep(std::time::Duration::from_millis(50)).await;
    }

    struct Setup {
        registry: Addr<SessionRegistry>,
        directory: Arc<SessionDirectory>,
        presence: Arc<Mutex<Vec<bool>>>,
    }

    fn setup() -> Setup {
        let limits = RegistryLimits {
            max_sessions_per_user: 5,
            max_queued_frames: 4,
            max_queued_bytes: 1 << 20,
        };
        let registry = SessionRegistry::new(limits, Arc::new(Metrics::default()));
        let directory = registry.directory();
        let registry = registry.start();
        let presence = Arc::new(Mutex::new(Vec::new()));
        let watcher = Watcher(presence.clone()).start();
        directory.set_presence(watcher.recipient());
        Setup {
            registry,
            directory,
            presence,
        }
    }

    fn connect(
        directory: &SessionDirectory,
        user: &UserId,
    ) -> (Arc<QueueGauge>, SessionId, Arc<Mutex<Vec<String>>>) {
        let got = Arc::new(Mutex::new(Vec::new()));
        let gauge = Arc::new(QueueGauge::default());
        let session = SessionId::generate();
        directory
            .connect(Connect {
                user: user.clone(),
                session: session.clone(),
                recipient: Sink(got.clone()).start().recipient(),
                gauge: gauge.clone(),
            })
            .unwrap();
        (gauge, session, got)
    }

    #[actix::test]
    async fn frames_from_another_thread_reach_every_session_in_order() {
        let s = setup();
        settle().await;
        let user = UserId("u1".into());
        let (_, _, a) = connect(&s.directory, &user);
        let (_, _, b) = connect(&s.directory, &user);
        let directory = s.directory.clone();
        let u = user.clone();
        std::thread::spawn(move || {
            for i in 0..3 {
                directory.deliver(&u, &frame(&i.to_string()));
            }
        })
        .join()
        .unwrap();
        settle().await;
        assert_eq!(*a.lock().unwrap(), ["0", "1", "2"]);
        assert_eq!(*b.lock().unwrap(), ["0", "1", "2"]);
        assert_eq!(s.directory.len(), 2);
        // Only the first session of the user announced it.
        assert_eq!(*s.presence.lock().unwrap(), [true]);
    }

    #[actix::test]
    async fn evicting_the_last_session_takes_the_user_offline_once() {
        let s = setup();
        settle().await;
        let user = UserId("u2".into());
        let (gauge, session, got) = connect(&s.directory, &user);
        // The session has four frames it has not written: the next one
        // evicts it.
        gauge.frames.store(4, Ordering::Relaxed);
        s.directory.deliver(&user, &frame("late"));
        assert!(gauge.evicted.load(Ordering::Relaxed));
        assert_eq!(s.directory.len(), 0);
        // The evicted session ends later; its disconnect changes nothing.
        s.directory.disconnect(&user, &session);
        assert_eq!(s.directory.len(), 0);
        settle().await;
        assert!(got.lock().unwrap().is_empty());
        assert_eq!(*s.presence.lock().unwrap(), [true, false]);
        let counts = s
            .registry
            .send(Counts { user: user.clone() })
            .await
            .unwrap();
        assert_eq!((counts.node_sessions, counts.users_online), (0, 0));
        // A new session of the user brings it back online, and gets frames.
        let (_, _, again) = connect(&s.directory, &user);
        s.directory.deliver(&user, &frame("back"));
        settle().await;
        assert_eq!(*again.lock().unwrap(), ["back"]);
        assert_eq!(*s.presence.lock().unwrap(), [true, false, true]);
    }

    #[actix::test]
    async fn disconnecting_the_last_session_takes_the_user_offline() {
        let s = setup();
        settle().await;
        let user = UserId("u4".into());
        let (_, first, _) = connect(&s.directory, &user);
        let (_, second, _) = connect(&s.directory, &user);
        s.directory.disconnect(&user, &first);
        settle().await;
        assert_eq!(*s.presence.lock().unwrap(), [true]);
        s.directory.disconnect(&user, &second);
        settle().await;
        assert_eq!(*s.presence.lock().unwrap(), [true, false]);
        assert_eq!(s.directory.len(), 0);
    }

    #[actix::test]
    async fn limits_and_shutdown_refuse_sessions() {
        let s = setup();
        settle().await;
        let user = UserId("u5".into());
        for _ in 0..5 {
            connect(&s.directory, &user);
        }
        let sixth = s.directory.connect(Connect {
            user: user.clone(),
            session: SessionId::generate(),
            recipient: Sink(Default::default()).start().recipient(),
            gauge: Arc::new(QueueGauge::default()),
        });
        assert!(matches!(sixth, Err(ConnectRefused::TooManySessions)));
        assert_eq!(s.registry.send(CloseAll).await.unwrap(), 5);
        let late = s.directory.connect(Connect {
            user: UserId("u6".into()),
            session: SessionId::generate(),
            recipient: Sink(Default::default()).start().recipient(),
            gauge: Arc::new(QueueGauge::default()),
        });
        assert!(matches!(late, Err(ConnectRefused::ShuttingDown)));
    }
}
