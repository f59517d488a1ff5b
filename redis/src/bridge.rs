//! The `RedisBridge` actor: carries events between nodes over Redis pub/sub.
//!
//! A node subscribes to a user's channel while it holds sessions of that user
//! (the registry tells it through [`Presence`]) and to one broadcast channel.
//! A user's channel is a shard channel (`SSUBSCRIBE`, on a RESP3 connection
//! of its own, since a sharded message comes as a RESP3 push); the broadcast
//! and webhook channels are ordinary ones.
//! Messages are forwarded to the local `SessionRegistry` unparsed, except for
//! the small header the publishing script puts in front of each frame:
//! `e|<seq>|<type>|<frame>` (events), `t|<frame>` (task updates),
//! `b|<frame>` (broadcasts), and `k|<user>|<token>|<nonce>` (a personal
//! access token was revoked: dropped from this node's cache, its sessions
//! closed, and the node's name pushed to `revacks:<nonce>`, which the
//! revoking node waits on before it answers).
//!
//! When the pub/sub connection drops (Redis restarted), the bridge reconnects
//! with backoff, subscribes again to every channel it needs, and asks every
//! session to replay from its last event id: whatever was published while the
//! node was deaf is in the users' history streams.
//!
//! The bridge also keeps this node's presence in Redis (its session count and
//! online users, with a TTL renewed by a heartbeat), from which any node
//! computes the cluster-wide counts of `/api/ws/status`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix::prelude::*;
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use hub_actors::bus::Bus;
use hub_actors::registry::{
    BroadcastFrame, DeliverToUser, Presence, ResyncAll, SessionRegistry, TokenRevoked,
};
use hub_actors::webhooks::registry::{DeliveriesCommitted, PendingAvailable, WebhookRegistry};
use hub_core::frames::{Outbound, ServerFrame};
use hub_core::metrics::Metrics;
use hub_core::model::{Activity, ActivityType, Task};
use hub_core::store::{ClusterCounts, ClusterView, StoreError};
use hub_core::tokens::PersonalTokenCache;
use hub_core::webhook::Delivery;
use hub_core::{EventSink, TokenId, UserId};
use redis::aio::PubSubSink;
use redis::AsyncCommands;
use tracing::{error, info, warn};

use crate::conn::RedisConn;
use crate::keys::Keys;

/// How often a node renews its presence in Redis.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// A node whose presence is older than this is considered gone.
pub const NODE_TTL: Duration = Duration::from_secs(15);
/// First and largest wait between reconnection attempts.
/// How long a revocation waits for every node to forget the token.
const REVOCATION_WAIT: Duration = Duration::from_secs(1);
/// How often the revoking node counts the acknowledgements.
const REVOCATION_POLL: Duration = Duration::from_millis(2);
/// How long an acknowledgement list outlives a revoker that stopped waiting.
const REVOCATION_ACK_TTL: Duration = Duration::from_secs(10);
const RECONNECT_MIN: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(2);

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// One per node: the pub/sub connection between this node's sessions and
/// every other node.
pub struct RedisBridge {
    /// Commands (presence bookkeeping), and the client for the pub/sub
    /// connection; reconnects by itself and follows failovers.
    conn: RedisConn,
    /// The channels and presence keys.
    keys: Keys,
    /// This node's name in the presence keys and acknowledgements.
    node_id: String,
    /// Where messages for this node's sessions go.
    registry: Addr<SessionRegistry>,
    /// The session count the heartbeat reports.
    metrics: Arc<Metrics>,
    /// Subscribes and unsubscribes the ordinary channels; `None` while
    /// disconnected.
    sink: Option<PubSubSink>,
    /// The users' shard channels; `None` while disconnected.
    shards: Option<Shards>,
    /// Counts connections, so only the loss of the current one reconnects.
    generation: u64,
    /// Users with sessions on this node: what must be subscribed.
    users: HashSet<UserId>,
    /// Next reconnection delay.
    backoff: Duration,
    /// The webhook registry, once it runs (shared with [`ClusterBus`]).
    webhooks: WebhookSlot,
    /// This node's personal access token cache: revocations published by
    /// any node (`k|<user>|<token>` on the broadcast channel) clear it.
    tokens: Arc<PersonalTokenCache>,
    /// The highest activity id this node has received. A Redis that comes
    /// back without its last writes (a replica promoted before it had them,
    /// a restart from an older file) would hand those ids out again, and a
    /// session that saw the lost event would take the new one for it; after
    /// each reconnect the id counter is raised past this first.
    highest_seen: Arc<AtomicI64>,
}

/// Raises the activity id counter to at least ARGV[1].
const RAISE_SEQ: &str = "local cur = tonumber(redis.call('GET', KEYS[1]) or '0') \
    if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end \
    return cur";

/// The webhook registry starts after the store and the bus; whoever needs it
/// shares this slot.
pub type WebhookSlot = Arc<OnceLock<Addr<WebhookRegistry>>>;

/// A pub/sub stream of connection `.0` ended: reconnect.
#[derive(Message)]
#[rtype(result = "()")]
struct Disconnected(u64);

/// The connections for the users' shard channels. One server, or a
/// Sentinel master, carries every shard channel on one connection; on a
/// Redis Cluster each channel lives on the shard owning its slot, so there
/// is one connection per shard, all handing their pushes to one receiver.
#[derive(Clone)]
enum Shards {
    One(redis::aio::MultiplexedConnection),
    Cluster(Arc<tokio::sync::Mutex<ClusterShards>>),
}

type Pushes = tokio::sync::mpsc::UnboundedReceiver<redis::PushInfo>;

/// A RESP3 connection (a shard message is a push) handing every push to `tx`.
async fn resp3(
    client: &redis::Client,
    tx: tokio::sync::mpsc::UnboundedSender<redis::PushInfo>,
) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let mut info = client.get_connection_info().clone();
    info.redis.protocol = redis::ProtocolVersion::RESP3;
    let config = redis::AsyncConnectionConfig::new()
        .set_push_sender(tx)
        .set_connection_timeout(crate::conn::CONNECT_TIMEOUT)
        .set_response_timeout(crate::conn::RESPONSE_TIMEOUT);
    redis::Client::open(info)?
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

impl Shards {
    async fn connect(
        conn: &RedisConn,
        client: &redis::Client,
    ) -> redis::RedisResult<(Self, Pushes)> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let shards = match conn.cluster() {
            None => Shards::One(resp3(client, tx).await?),
            Some(target) => {
                let mut cluster = ClusterShards {
                    target: target.clone(),
                    conn: conn.clone(),
                    tx,
                    slots: Vec::new(),
                    conns: HashMap::new(),
                };
                cluster.refresh().await?;
                Shards::Cluster(Arc::new(tokio::sync::Mutex::new(cluster)))
            }
        };
        Ok((shards, rx))
    }

    /// One channel per command: each channel's confirmation is a push of
    /// its own, and a connection matches one push to one command.
    async fn subscribe(&mut self, channel: &str) -> redis::RedisResult<()> {
        self.run("SSUBSCRIBE", channel).await
    }

    async fn unsubscribe(&mut self, channel: &str) -> redis::RedisResult<()> {
        self.run("SUNSUBSCRIBE", channel).await
    }

    async fn run(&mut self, command: &str, channel: &str) -> redis::RedisResult<()> {
        match self {
            Shards::One(conn) => confirm(command, channel, conn).await,
            Shards::Cluster(cluster) => cluster.lock().await.run(command, channel).await,
        }
    }

    /// Before following a channel whose slot moved: the slot map is stale.
    async fn refresh(&mut self) -> redis::RedisResult<()> {
        match self {
            Shards::One(_) => Ok(()),
            Shards::Cluster(cluster) => cluster.lock().await.refresh().await,
        }
    }
}

/// Sends `command channel` and checks that the answer is its own
/// confirmation. A connection pairs each confirmation push with the oldest
/// command in flight, so a push the server sent on its own (a `sunsubscribe`
/// when a slot leaves the shard) can stand in for another command's answer;
/// such a mismatch is an error, and the caller starts over on fresh
/// connections.
async fn confirm(
    command: &str,
    channel: &str,
    conn: &mut redis::aio::MultiplexedConnection,
) -> redis::RedisResult<()> {
    let answer: redis::Value = redis::cmd(command).arg(channel).query_async(conn).await?;
    let expected = if command == "SSUBSCRIBE" {
        redis::PushKind::SSubscribe
    } else {
        redis::PushKind::SUnsubscribe
    };
    match answer {
        redis::Value::Push { kind, data }
            if kind == expected
                && data
                    .first()
                    .and_then(|c| redis::from_redis_value::<String>(c).ok())
                    .as_deref()
                    == Some(channel) =>
        {
            Ok(())
        }
        other => Err(redis::RedisError::from((
            redis::ErrorKind::ResponseError,
            "a shard channel command got another command's answer",
            format!("{other:?}"),
        ))),
    }
}

/// The shard connections of a Redis Cluster, and which shard owns what.
struct ClusterShards {
    target: crate::conn::ClusterTarget,
    /// Asks the cluster for its slots.
    conn: RedisConn,
    /// Where every shard connection hands its pushes.
    tx: tokio::sync::mpsc::UnboundedSender<redis::PushInfo>,
    /// (first slot, last slot, `host:port` of its master)
    slots: Vec<(u16, u16, String)>,
    conns: HashMap<String, redis::aio::MultiplexedConnection>,
}

impl ClusterShards {
    /// Reads the slot map again (after a redirection or a slot moved).
    async fn refresh(&mut self) -> redis::RedisResult<()> {
        let reply: Vec<Vec<redis::Value>> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async(&mut self.conn)
            .await?;
        let mut slots = Vec::new();
        for range in reply {
            let (Some(first), Some(last), Some(redis::Value::Array(master))) =
                (range.first(), range.get(1), range.get(2))
            else {
                continue;
            };
            let (Ok(first), Ok(last)) = (
                redis::from_redis_value::<u16>(first),
                redis::from_redis_value::<u16>(last),
            ) else {
                continue;
            };
            let (Some(host), Some(port)) = (master.first(), master.get(1)) else {
                continue;
            };
            let (Ok(host), Ok(port)) = (
                redis::from_redis_value::<String>(host),
                redis::from_redis_value::<u16>(port),
            ) else {
                continue;
            };
            slots.push((first, last, format!("{host}:{port}")));
        }
        self.slots = slots;
        Ok(())
    }

    fn owner(&self, slot: u16) -> Option<String> {
        self.slots
            .iter()
            .find(|(first, last, _)| (*first..=*last).contains(&slot))
            .map(|(_, _, addr)| addr.clone())
    }

    async fn conn_for(
        &mut self,
        addr: &str,
    ) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        if let Some(conn) = self.conns.get(addr) {
            return Ok(conn.clone());
        }
        let conn = resp3(&self.target.node(addr)?, self.tx.clone()).await?;
        self.conns.insert(addr.to_owned(), conn.clone());
        Ok(conn)
    }

    async fn run(&mut self, command: &str, channel: &str) -> redis::RedisResult<()> {
        let slot = redis::cluster_routing::get_slot(channel.as_bytes());
        let mut last = None;
        for attempt in 0..4 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                self.refresh().await?;
            }
            let Some(addr) = self.owner(slot) else {
                last = Some(redis::RedisError::from((
                    redis::ErrorKind::ClusterDown,
                    "no shard owns the channel's slot",
                )));
                continue;
            };
            let mut conn = self.conn_for(&addr).await?;
            match confirm(command, channel, &mut conn).await {
                Ok(()) => return Ok(()),
                Err(err)
                    if matches!(
                        err.kind(),
                        redis::ErrorKind::Moved
                            | redis::ErrorKind::Ask
                            | redis::ErrorKind::TryAgain
                            | redis::ErrorKind::ClusterDown
                    ) =>
                {
                    last = Some(err);
                }
                Err(err) => return Err(err),
            }
        }
        Err(last.unwrap_or_else(|| {
            redis::RedisError::from((redis::ErrorKind::ClusterDown, "channel not subscribed"))
        }))
    }
}

/// A shard stopped carrying a user's channel (its slot moved to another
/// shard): subscribe where it is now, and replay what was missed.
#[derive(Message)]
#[rtype(result = "()")]
struct ShardLost(String);

/// What the bridge hands messages to on this node.
pub struct Local {
    /// This node's sessions.
    pub registry: Addr<SessionRegistry>,
    /// Counters shared with the rest of the node.
    pub metrics: Arc<Metrics>,
    /// The webhook registry, once it runs.
    pub webhooks: WebhookSlot,
    /// The personal access token cache revocations clear.
    pub tokens: Arc<PersonalTokenCache>,
    /// The highest activity id this node has seen, shared with the store.
    pub ids_seen: Arc<AtomicI64>,
}

impl RedisBridge {
    pub fn new(conn: RedisConn, prefix: &str, node_id: &str, local: Local) -> Self {
        let Local {
            registry,
            metrics,
            webhooks,
            tokens,
            ids_seen,
        } = local;
        Self {
            webhooks,
            tokens,
            conn,
            keys: Keys::new(prefix),
            node_id: node_id.to_owned(),
            registry,
            metrics,
            sink: None,
            shards: None,
            generation: 0,
            users: HashSet::new(),
            backoff: RECONNECT_MIN,
            highest_seen: ids_seen,
        }
    }

    /// Opens the pub/sub connection, subscribes to everything needed and
    /// starts forwarding; on failure schedules another try.
    fn connect(&mut self, ctx: &mut Context<Self>, resync: bool) {
        let keys = self.keys.clone();
        let registry = self.registry.clone();
        let me = ctx.address();
        let webhooks = self.webhooks.clone();
        let tokens = self.tokens.clone();
        let node = self.node_id.clone();
        let acks = self.conn.clone();
        let highest_seen = self.highest_seen.clone();
        let users: Vec<String> = self.users.iter().map(|u| keys.user_channel(u)).collect();
        let channels = vec![keys.broadcast_channel(), keys.webhook_channel()];
        self.generation += 1;
        let generation = self.generation;
        let fut = async move {
            // Under Sentinel this asks where the master is now.
            let client = acks.client().await?;
            let pubsub = client.get_async_pubsub().await?;
            let (mut sink, mut stream) = pubsub.split();
            sink.subscribe(&channels).await?;
            let (mut shards, mut pushes) = Shards::connect(&acks, &client).await?;
            for channel in &users {
                shards.subscribe(channel).await?;
            }
            let seen = highest_seen.load(Ordering::Relaxed);
            if seen > 0 {
                let before: i64 = redis::Script::new(RAISE_SEQ)
                    .key(keys.sequence())
                    .arg(seen)
                    .invoke_async(&mut acks.clone())
                    .await?;
                if before < seen {
                    warn!(
                        counter = before,
                        seen,
                        "redis came back without the latest activities; ids continue past them"
                    );
                }
            }
            let webhook_channel = keys.webhook_channel();
            {
                let (registry, tokens, highest_seen, keys) = (
                    registry.clone(),
                    tokens.clone(),
                    highest_seen.clone(),
                    keys.clone(),
                );
                let me = me.clone();
                actix::spawn(async move {
                    while let Some(push) = pushes.recv().await {
                        match push.kind {
                            redis::PushKind::SMessage => {
                                let mut data = push.data.into_iter();
                                let (Some(channel), Some(payload)) = (data.next(), data.next())
                                else {
                                    continue;
                                };
                                let (Ok(channel), Ok(payload)) = (
                                    redis::from_owned_redis_value::<String>(channel),
                                    redis::from_owned_redis_value::<Vec<u8>>(payload),
                                ) else {
                                    continue;
                                };
                                forward(
                                    &registry,
                                    &tokens,
                                    &highest_seen,
                                    &keys,
                                    &channel,
                                    &payload,
                                );
                            }
                            redis::PushKind::SUnsubscribe => {
                                // Ours, or a slot moved away from the shard.
                                if let Some(Ok(channel)) = push
                                    .data
                                    .into_iter()
                                    .next()
                                    .map(redis::from_owned_redis_value::<String>)
                                {
                                    me.do_send(ShardLost(channel));
                                }
                            }
                            redis::PushKind::Disconnection => break,
                            _ => {}
                        }
                    }
                    me.do_send(Disconnected(generation));
                });
            }
            actix::spawn(async move {
                while let Some(msg) = stream.next().await {
                    let channel = msg.get_channel_name();
                    if channel == webhook_channel {
                        pending_elsewhere(&webhooks, &node, msg.get_payload_bytes());
                    } else if let Some(nonce) = forward(
                        &registry,
                        &tokens,
                        &highest_seen,
                        &keys,
                        channel,
                        msg.get_payload_bytes(),
                    ) {
                        // Forgotten here: tell the revoking node.
                        acknowledge_revocation(acks.clone(), keys.revocation_acks(&nonce), &node);
                    }
                }
                me.do_send(Disconnected(generation));
            });
            Ok::<_, redis::RedisError>((sink, shards))
        };
        ctx.wait(fut.into_actor(self).map(move |result, act, ctx| match result {
            Ok((sink, shards)) => {
                info!(users = act.users.len(), "redis pub/sub connected");
                act.sink = Some(sink);
                act.shards = Some(shards);
                act.backoff = RECONNECT_MIN;
                act.heartbeat(ctx, true);
                if resync {
                    act.registry.do_send(ResyncAll);
                    // Revocations published while deaf were missed.
                    act.tokens.clear();
                }
            }
            Err(err) => {
                let wait = act.backoff;
                act.backoff = (act.backoff * 2).min(RECONNECT_MAX);
                warn!(cause = %err, retry_in_ms = wait.as_millis() as u64, "redis pub/sub unavailable");
                ctx.run_later(wait, move |act, ctx| act.connect(ctx, true));
            }
        }));
    }

    /// Renews this node's presence; `full` also rewrites its user set.
    fn heartbeat(&mut self, ctx: &mut Context<Self>, full: bool) {
        let mut conn = self.conn.clone();
        let keys = self.keys.clone();
        let node = self.node_id.clone();
        let sessions = self.metrics.sessions.load(Ordering::Relaxed);
        let users: Vec<String> = if full {
            self.users.iter().map(|u| u.0.clone()).collect()
        } else {
            Vec::new()
        };
        let ttl = NODE_TTL.as_secs() as i64;
        let fut = async move {
            let mut pipe = redis::pipe();
            pipe.zadd(keys.nodes(), &node, now_ms()).ignore();
            pipe.zrembyscore(
                keys.nodes(),
                "-inf",
                now_ms() - 4 * NODE_TTL.as_millis() as i64,
            )
            .ignore();
            pipe.set_ex(keys.node_sessions(&node), sessions, ttl as u64)
                .ignore();
            if full {
                pipe.del(keys.node_users(&node)).ignore();
                if !users.is_empty() {
                    pipe.sadd(keys.node_users(&node), &users).ignore();
                }
            }
            pipe.expire(keys.node_users(&node), ttl).ignore();
            pipe.query_async::<()>(&mut conn).await
        };
        ctx.spawn(fut.into_actor(self).map(|result, _, _| {
            if let Err(err) = result {
                warn!(cause = %err, "could not renew node presence in redis");
            }
        }));
    }
}

/// A node stored deliveries for an endpoint (`<webhook>|<user>|<node>`): unless it
/// was this node (which handed them over locally already), tell the webhook
/// registry, which wakes the endpoint if it runs here.
fn pending_elsewhere(webhooks: &WebhookSlot, node: &str, payload: &[u8]) {
    let Ok(payload) = std::str::from_utf8(payload) else {
        return;
    };
    let (Some((webhook, _)), Some((_, origin))) =
        (payload.split_once('|'), payload.rsplit_once('|'))
    else {
        return;
    };
    if origin == node {
        return;
    }
    if let Some(registry) = webhooks.get() {
        registry.do_send(PendingAvailable(hub_core::WebhookId(webhook.to_owned())));
    }
}

/// Adds this node to the acknowledgements of a revocation.
fn acknowledge_revocation(mut conn: RedisConn, list: String, node: &str) {
    let node = node.to_owned();
    actix::spawn(async move {
        let done: Result<(), _> = redis::pipe()
            .rpush(&list, &node)
            .ignore()
            .expire(&list, REVOCATION_ACK_TTL.as_secs() as i64)
            .ignore()
            .query_async(&mut conn)
            .await;
        if let Err(err) = done {
            // The revoking node stops waiting after REVOCATION_WAIT.
            warn!(cause = %err, "a token revocation could not be acknowledged");
        }
    });
}

/// Hands one pub/sub message to the registry. For a token revocation,
/// returns the nonce to acknowledge once the token is forgotten here.
fn forward(
    registry: &Addr<SessionRegistry>,
    tokens: &PersonalTokenCache,
    highest_seen: &AtomicI64,
    keys: &Keys,
    channel: &str,
    payload: &[u8],
) -> Option<String> {
    let payload = std::str::from_utf8(payload).ok()?;
    let (tag, rest) = payload.split_once('|')?;
    if tag == "k" {
        let mut parts = rest.splitn(3, '|');
        let (user, token) = (parts.next()?, parts.next()?);
        let token = TokenId(token.to_owned());
        tokens.forget(&token);
        registry.do_send(TokenRevoked {
            user: UserId(user.to_owned()),
            token,
        });
        return parts.next().map(str::to_owned);
    }
    let frame = match tag {
        "e" => {
            let mut parts = rest.splitn(3, '|');
            let (Some(seq), Some(kind), Some(text)) = (parts.next(), parts.next(), parts.next())
            else {
                return None;
            };
            let (Ok(seq), Some(kind)) = (seq.parse::<i64>(), ActivityType::parse(kind)) else {
                return None;
            };
            highest_seen.fetch_max(seq, Ordering::Relaxed);
            Outbound::remote_event(kind, seq, text.to_owned().into())
        }
        "t" | "b" => Outbound::remote_control(rest.to_owned().into()),
        "d" => Outbound::remote_webhook_log(rest.to_owned().into()),
        _ => return None,
    };
    let frame = Arc::new(frame);
    if tag == "b" {
        registry.do_send(BroadcastFrame(frame));
    } else if let Some(user) = keys.user_of_channel(channel) {
        registry.do_send(DeliverToUser {
            user: UserId(user.to_owned()),
            frame,
        });
    }
    None
}

impl Actor for RedisBridge {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.connect(ctx, false);
        ctx.run_interval(HEARTBEAT, |act, ctx| act.heartbeat(ctx, false));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        let mut conn = self.conn.clone();
        let keys = self.keys.clone();
        let node = self.node_id.clone();
        actix::spawn(async move {
            let _: Result<(), _> = redis::pipe()
                .zrem(keys.nodes(), &node)
                .del(keys.node_sessions(&node))
                .del(keys.node_users(&node))
                .query_async(&mut conn)
                .await;
        });
    }
}

impl Handler<Disconnected> for RedisBridge {
    type Result = ();

    fn handle(&mut self, lost: Disconnected, ctx: &mut Context<Self>) {
        if lost.0 != self.generation {
            // An earlier connection's second stream, already replaced.
            return;
        }
        error!("redis pub/sub connection lost; reconnecting");
        self.sink = None;
        self.shards = None;
        self.connect(ctx, true);
    }
}

impl Handler<Presence> for RedisBridge {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, msg: Presence, ctx: &mut Context<Self>) -> Self::Result {
        let (me, generation) = (ctx.address(), self.generation);
        let channel = self.keys.user_channel(&msg.user);
        let set = self.keys.node_users(&self.node_id);
        let mut conn = self.conn.clone();
        let user = msg.user.0.clone();
        if msg.online {
            self.users.insert(msg.user);
        } else {
            self.users.remove(&msg.user);
        }
        let shards = self.shards.clone();
        let online = msg.online;
        // Atomic: presence changes apply one at a time, in order, so an
        // unsubscribe can never overtake the subscribe it follows.
        AtomicResponse::new(Box::pin(
            async move {
                if let Some(mut shards) = shards {
                    let result = if online {
                        shards.subscribe(&channel).await
                    } else {
                        shards.unsubscribe(&channel).await
                    };
                    match result {
                        Ok(()) => {}
                        Err(err) if online => {
                            // Start over: fresh connections subscribe to
                            // every user again, and sessions replay.
                            warn!(cause = %err, "redis subscribe failed; reconnecting");
                            me.do_send(Disconnected(generation));
                        }
                        // A channel left subscribed only carries messages
                        // this node drops.
                        Err(err) => warn!(cause = %err, "redis unsubscribe failed"),
                    }
                }
                let _: Result<(), _> = if online {
                    conn.sadd(&set, &user).await
                } else {
                    conn.srem(&set, &user).await
                };
            }
            .into_actor(self),
        ))
    }
}

impl Handler<ShardLost> for RedisBridge {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, lost: ShardLost, ctx: &mut Context<Self>) -> Self::Result {
        let (me, generation) = (ctx.address(), self.generation);
        let wanted = matches!(self.shards, Some(Shards::Cluster(_)))
            && self
                .keys
                .user_of_channel(&lost.0)
                .is_some_and(|u| self.users.contains(&UserId(u.to_owned())));
        let shards = self.shards.clone().filter(|_| wanted);
        let registry = self.registry.clone();
        AtomicResponse::new(Box::pin(
            async move {
                let Some(mut shards) = shards else { return };
                let followed = match shards.refresh().await {
                    Ok(()) => shards.subscribe(&lost.0).await,
                    Err(err) => Err(err),
                };
                match followed {
                    Ok(()) => {
                        info!("a user channel moved to another shard; subscribed there");
                        // What was published on the new shard before this.
                        registry.do_send(ResyncAll);
                    }
                    Err(err) => {
                        // Start over: fresh connections, every channel, and
                        // a replay for every session.
                        warn!(cause = %err, "could not follow a user channel to its shard; reconnecting");
                        me.do_send(Disconnected(generation));
                    }
                }
            }
            .into_actor(self),
        ))
    }
}

/// The bus of cluster mode: committed events reach sessions through the
/// publishing script's PUBLISH, so the sink only counts; broadcasts are
/// published on the broadcast channel.
pub struct ClusterBus {
    /// Publishes broadcasts and revocations.
    conn: RedisConn,
    /// The broadcast channel and revocation acknowledgements.
    keys: Keys,
    /// Counts committed events (the sink's only work here).
    metrics: Arc<Metrics>,
    /// The local webhook registry, once it runs.
    webhooks: WebhookSlot,
}

impl ClusterBus {
    pub fn new(
        conn: RedisConn,
        prefix: &str,
        metrics: Arc<Metrics>,
        webhooks: WebhookSlot,
    ) -> Self {
        Self {
            conn,
            keys: Keys::new(prefix),
            metrics,
            webhooks,
        }
    }
}

impl EventSink for ClusterBus {
    fn activity_committed(&self, activity: &Activity) {
        self.metrics.event_published(activity.kind);
    }

    fn task_committed(&self, _: &Task) {}

    /// Deliveries this node stored go to its own registry at once; if another
    /// node owns the endpoint, that node learns of them from the webhook
    /// channel and reads them from Redis.
    fn deliveries_committed(&self, deliveries: &[Delivery]) {
        if let Some(registry) = self.webhooks.get() {
            registry.do_send(DeliveriesCommitted(deliveries.to_vec()));
        }
    }
}

impl Bus for ClusterBus {
    fn attach_webhooks(&self, registry: Addr<WebhookRegistry>) {
        if self.webhooks.set(registry).is_err() {
            warn!("a webhook registry was already attached to the bus");
        }
    }

    /// Published on the owner's channel, which every node with a session of
    /// that user (this one included) subscribes to.
    fn webhook_attempted(&self, owner: &UserId, frame: Outbound) {
        let payload = format!("d|{}", frame.text);
        let channel = self.keys.user_channel(owner);
        let mut conn = self.conn.clone();
        actix::spawn(async move {
            let published = redis::cmd(crate::store::USER_PUBLISH)
                .arg(&channel)
                .arg(payload)
                .query_async::<i64>(&mut conn)
                .await;
            if let Err(err) = published {
                warn!(cause = %err, "a webhook_delivery frame could not be published");
            }
        });
    }

    /// Published on the broadcast channel: every node drops the token from
    /// its cache and closes the sessions opened with it.
    /// Publishes the revocation and waits until every node that received it
    /// has forgotten the token (each acknowledges in a list named by a fresh
    /// nonce), so the caller's answer comes after no node accepts the token.
    /// A node that does not acknowledge within [`REVOCATION_WAIT`] is dead or
    /// cut off from Redis; its bridge clears its cache when it reconnects.
    fn token_revoked(&self, owner: &UserId, token: &TokenId) -> BoxFuture<'static, ()> {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let acks = self.keys.revocation_acks(&nonce);
        let payload = format!("k|{owner}|{token}|{nonce}");
        let channel = self.keys.broadcast_channel();
        let nodes = self.keys.nodes();
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let mut receivers: i64 = match conn.publish(&channel, payload).await {
                Ok(n) => n,
                Err(err) => {
                    // The other nodes' caches forget it within their TTL.
                    error!(cause = %err, "a token revocation could not be published");
                    return;
                }
            };
            if conn.cluster().is_some() {
                // A cluster node counts only its own subscribers: wait for
                // every live hub node instead.
                let live: i64 = conn
                    .zcount(&nodes, now_ms() - NODE_TTL.as_millis() as i64, "+inf")
                    .await
                    .unwrap_or(0);
                receivers = receivers.max(live);
            }
            let deadline = tokio::time::Instant::now() + REVOCATION_WAIT;
            loop {
                let acked: i64 = conn.llen(&acks).await.unwrap_or(0);
                if acked >= receivers {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    warn!(
                        receivers,
                        acked, "not every node acknowledged a token revocation"
                    );
                    break;
                }
                tokio::time::sleep(REVOCATION_POLL).await;
            }
            let _: Result<(), _> = conn.del(&acks).await;
        })
    }

    fn broadcast(&self, data: &serde_json::Value) {
        let frame = Outbound::control(&ServerFrame::Broadcast { data });
        let payload = format!("b|{}", frame.text);
        let channel = self.keys.broadcast_channel();
        let mut conn = self.conn.clone();
        actix::spawn(async move {
            if let Err(err) = conn.publish::<_, _, ()>(&channel, payload).await {
                error!(cause = %err, "broadcast could not be published");
            }
        });
    }
}

/// Cluster-wide session counts from the nodes' presence keys.
pub struct RedisClusterView {
    /// Reads the other nodes' presence keys.
    conn: RedisConn,
    /// The `nodes`, `nodesessions:*` and `nodeusers:*` names.
    keys: Keys,
    /// This node: its own count comes from its registry, fresher than Redis.
    node_id: String,
}

impl RedisClusterView {
    pub fn new(conn: RedisConn, prefix: &str, node_id: &str) -> Self {
        Self {
            conn,
            keys: Keys::new(prefix),
            node_id: node_id.to_owned(),
        }
    }
}

#[async_trait]
impl ClusterView for RedisClusterView {
    async fn counts(&self) -> Result<ClusterCounts, StoreError> {
        let mut conn = self.conn.clone();
        let down = |e: redis::RedisError| StoreError::Unavailable(e.to_string());
        let mut live: Vec<String> = conn
            .zrangebyscore(
                self.keys.nodes(),
                now_ms() - NODE_TTL.as_millis() as i64,
                "+inf",
            )
            .await
            .map_err(down)?;
        if !live.contains(&self.node_id) {
            live.push(self.node_id.clone());
        }
        let others: Vec<String> = live
            .iter()
            .filter(|n| **n != self.node_id)
            .map(|n| self.keys.node_sessions(n))
            .collect();
        let sessions_elsewhere = if others.is_empty() {
            0
        } else {
            let counts: Vec<Option<i64>> = redis::cmd("MGET")
                .arg(&others)
                .query_async(&mut conn)
                .await
                .map_err(down)?;
            counts
                .into_iter()
                .flatten()
                .map(|c| c.max(0) as usize)
                .sum()
        };
        let user_keys: Vec<String> = live.iter().map(|n| self.keys.node_users(n)).collect();
        let users: Vec<String> = redis::cmd("SUNION")
            .arg(&user_keys)
            .query_async(&mut conn)
            .await
            .map_err(down)?;
        Ok(ClusterCounts {
            sessions_elsewhere,
            users_online: users.len(),
        })
    }
}
