//! Where the hub's Redis is, and the one command connection every part of
//! cluster mode shares.
//!
//! `redis.url` names one Redis (`redis://…`, `rediss://…`,
//! `redis+unix://…`), a group watched by Sentinel
//! (`redis+sentinel://[user:password@]h1:p1,h2:p2/<master>[/<db>]`; the
//! credentials, if any, are the master's; the Sentinels are asked without
//! them), or a Redis Cluster (`redis+cluster://[user:password@]h1:p1,h2:p2`,
//! any of its nodes: the rest are found from them).
//!
//! On a Redis Cluster each command goes to the shard owning its key's slot
//! (a script's: its first key's), and redirections (`MOVED`, `ASK`) and a
//! slot in migration (`TRYAGAIN`) are followed and retried with a short
//! backoff by redis-rs' cluster connection.
//!
//! [`RedisConn`] is a cheap, cloneable handle over one multiplexed,
//! self-reconnecting connection. Under Sentinel it also follows failovers:
//! when a command fails in a way that says the master is gone (refused,
//! dropped, timed out) or has become a replica (`READONLY`), the handle asks
//! the Sentinels for the current master and, if it moved, swaps in a
//! connection to the new one. A command that was refused or answered
//! `READONLY` never ran, so it is sent again once on the new master; any
//! other failure is returned, because the command may have run.
//!
//! A handle made by [`RedisConn::durable`] follows every write command with
//! `WAIT <replicas> <timeout>` in the same pipeline (so on the same
//! connection): the write is acknowledged only once that many replicas have
//! it. If fewer confirm in time, the call fails with an error [`is_unconfirmed`] recognises: the
//! write happened on the master, but may not survive a failover.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use hub_core::store::StoreError;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult, Value};
use tracing::{info, warn};

/// How long one Redis command may take before the call counts as failed.
pub(crate) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long connecting may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often, at most, the Sentinels are asked again after failures.
const RESOLVE_INTERVAL: Duration = Duration::from_millis(200);

/// The message of a write that fewer replicas than required confirmed.
const NOT_REPLICATED: &str = "write not confirmed by enough replicas";

/// The commands a durable handle follows with `WAIT`: every write the store
/// makes is one of them (its multi-key writes are all scripts).
const WRITES: &[&str] = &["EVALSHA", "EVAL", "SET", "SETEX", "GETDEL", "DEL"];

/// Where Redis is, as `redis.url` says.
#[derive(Clone, Debug)]
pub enum Target {
    /// One server.
    Direct(redis::Client),
    /// A master found through Sentinel.
    Sentinel(SentinelTarget),
    /// A Redis Cluster, from any of its nodes.
    Cluster(ClusterTarget),
}

/// A Redis Cluster: the nodes to start from, and the credentials of all.
#[derive(Clone, Debug)]
pub struct ClusterTarget {
    /// `host:port` of each node given.
    pub nodes: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// A master group watched by Sentinels.
#[derive(Clone, Debug)]
pub struct SentinelTarget {
    /// `host:port` of each Sentinel, asked in order.
    pub sentinels: Vec<String>,
    /// The name the Sentinels monitor the master under.
    pub master: String,
    /// The master's credentials and database.
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: i64,
}

impl Target {
    /// Reads `redis.url`. The error never repeats the URL (it may hold a
    /// password).
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        if let Some(rest) = url.strip_prefix("redis+cluster://") {
            let (username, password, rest) = credentials(rest)?;
            let hosts = rest.trim_end_matches('/');
            if hosts.contains('/') {
                return Err(invalid(
                    "a Redis Cluster URL lists nodes only (no database)",
                ));
            }
            return Ok(Target::Cluster(ClusterTarget {
                nodes: host_list(hosts, 6379, "each cluster node is host:port")?,
                username,
                password,
            }));
        }
        let Some(rest) = url.strip_prefix("redis+sentinel://") else {
            return redis::Client::open(url)
                .map(Target::Direct)
                .map_err(|e| invalid(&e.to_string()));
        };
        let (username, password, rest) = credentials(rest)?;
        let (hosts, path) = rest
            .split_once('/')
            .ok_or_else(|| invalid("a Sentinel URL ends with /<master name>"))?;
        let mut path = path.trim_end_matches('/').splitn(2, '/');
        let master = path.next().unwrap_or_default();
        if master.is_empty() {
            return Err(invalid("a Sentinel URL ends with /<master name>"));
        }
        let db = match path.next() {
            None => 0,
            Some(db) => db
                .parse()
                .map_err(|_| invalid("the database after the master name is a number"))?,
        };
        let sentinels = host_list(hosts, 26379, "each Sentinel is host:port")?;
        Ok(Target::Sentinel(SentinelTarget {
            sentinels,
            master: master.to_owned(),
            username,
            password,
            db,
        }))
    }
}

fn invalid(why: &str) -> StoreError {
    StoreError::Unavailable(format!("redis.url is not valid: {why}"))
}

/// `[user:password@]rest` → the decoded credentials and the rest.
#[allow(clippy::type_complexity)]
fn credentials(url: &str) -> Result<(Option<String>, Option<String>, &str), StoreError> {
    let Some((auth, rest)) = url.rsplit_once('@') else {
        return Ok((None, None, url));
    };
    let (user, pass) = auth.split_once(':').unwrap_or(("", auth));
    let decode =
        |s: &str| percent_decode(s).ok_or_else(|| invalid("bad percent-encoding in credentials"));
    Ok((
        (!user.is_empty()).then(|| decode(user)).transpose()?,
        (!pass.is_empty()).then(|| decode(pass)).transpose()?,
        rest,
    ))
}

/// `h1:p1,h2` → `["h1:p1", "h2:<default>"]`.
fn host_list(hosts: &str, default_port: u16, why: &str) -> Result<Vec<String>, StoreError> {
    hosts
        .split(',')
        .map(|h| {
            let (host, port) = match h.rsplit_once(':') {
                Some((host, port)) => (host, port.parse::<u16>().map_err(|_| invalid(why))?),
                None => (h, default_port),
            };
            if host.is_empty() {
                return Err(invalid(why));
            }
            Ok(format!("{host}:{port}"))
        })
        .collect()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl SentinelTarget {
    /// Asks each Sentinel in turn where the master is, and checks that the
    /// server there calls itself master (a Sentinel may not have noticed a
    /// failover yet). Returns a client for it and its `host:port`.
    async fn resolve(&self) -> RedisResult<(redis::Client, String)> {
        let mut last = None;
        for sentinel in &self.sentinels {
            match self.ask(sentinel).await {
                Ok(found) => return Ok(found),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| {
            RedisError::from((ErrorKind::ClientError, "no Sentinel is configured"))
        }))
    }

    async fn ask(&self, sentinel: &str) -> RedisResult<(redis::Client, String)> {
        let client = redis::Client::open(format!("redis://{sentinel}"))?;
        let mut conn =
            tokio::time::timeout(CONNECT_TIMEOUT, client.get_multiplexed_async_connection())
                .await
                .map_err(|_| timeout())??;
        let addr: Option<(String, u16)> = tokio::time::timeout(
            RESPONSE_TIMEOUT,
            redis::cmd("SENTINEL")
                .arg("get-master-addr-by-name")
                .arg(&self.master)
                .query_async(&mut conn),
        )
        .await
        .map_err(|_| timeout())??;
        let Some((host, port)) = addr else {
            return Err(RedisError::from((
                ErrorKind::ClientError,
                "a Sentinel does not know the master name",
            )));
        };
        let info = redis::ConnectionInfo {
            addr: redis::ConnectionAddr::Tcp(host.clone(), port),
            redis: redis::RedisConnectionInfo {
                db: self.db,
                username: self.username.clone(),
                password: self.password.clone(),
                ..Default::default()
            },
        };
        let master = redis::Client::open(info)?;
        let mut probe =
            tokio::time::timeout(CONNECT_TIMEOUT, master.get_multiplexed_async_connection())
                .await
                .map_err(|_| timeout())??;
        let role: Vec<Value> =
            tokio::time::timeout(RESPONSE_TIMEOUT, redis::cmd("ROLE").query_async(&mut probe))
                .await
                .map_err(|_| timeout())??;
        match role.first() {
            Some(Value::BulkString(r)) if r == b"master" => Ok((master, format!("{host}:{port}"))),
            _ => Err(RedisError::from((
                ErrorKind::ReadOnly,
                "the server a Sentinel names is not (yet) the master",
            ))),
        }
    }
}

impl ClusterTarget {
    /// A client for one node at `host:port`, with the cluster's credentials.
    pub fn node(&self, addr: &str) -> RedisResult<redis::Client> {
        let (host, port) = addr
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_owned(), p.parse().ok()?)))
            .ok_or_else(|| RedisError::from((ErrorKind::ClientError, "bad node address")))?;
        redis::Client::open(redis::ConnectionInfo {
            addr: redis::ConnectionAddr::Tcp(host, port),
            redis: redis::RedisConnectionInfo {
                username: self.username.clone(),
                password: self.password.clone(),
                ..Default::default()
            },
        })
    }

    /// The first node given that answers, for connections of their own.
    async fn answering(&self) -> RedisResult<(redis::Client, String)> {
        let mut last = None;
        for addr in &self.nodes {
            let client = self.node(addr)?;
            let probe = async {
                let mut conn = client.get_multiplexed_async_connection().await?;
                redis::cmd("PING").query_async::<String>(&mut conn).await
            };
            match tokio::time::timeout(CONNECT_TIMEOUT, probe).await {
                Ok(Ok(_)) => return Ok((client, addr.clone())),
                Ok(Err(err)) => last = Some(err),
                Err(_) => last = Some(timeout()),
            }
        }
        Err(last.unwrap_or_else(|| {
            RedisError::from((ErrorKind::ClientError, "no cluster node is configured"))
        }))
    }

    /// The cluster connection: routes by slot, follows redirections, and
    /// retries a slot in migration quickly (10 ms, doubling up to 500 ms,
    /// about 10 s in all) rather than redis-rs' default of seconds.
    async fn connect(&self) -> RedisResult<ClusterConnection> {
        let nodes: Vec<redis::ConnectionInfo> = self
            .nodes
            .iter()
            .map(|addr| self.node(addr).map(|c| c.get_connection_info().clone()))
            .collect::<RedisResult<_>>()?;
        let mut builder = redis::cluster::ClusterClientBuilder::new(nodes)
            .retries(30)
            .min_retry_wait(10)
            .max_retry_wait(500)
            .retry_wait_formula(10, 2)
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(RESPONSE_TIMEOUT);
        if let Some(user) = &self.username {
            builder = builder.username(user.clone());
        }
        if let Some(password) = &self.password {
            builder = builder.password(password.clone());
        }
        builder.build()?.get_async_connection().await
    }
}

fn timeout() -> RedisError {
    RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))
}

async fn manager(client: redis::Client) -> RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(RESPONSE_TIMEOUT)
        .set_connection_timeout(CONNECT_TIMEOUT)
        .set_number_of_retries(2)
        .set_max_delay(500);
    ConnectionManager::new_with_config(client, config).await
}

/// The connections in use, and what they point at.
struct Current {
    client: redis::Client,
    /// Every command that does not wait for replicas.
    conn: ConnectionManager,
    /// The writes that wait for replicas, spread over their own
    /// connections: Redis reads nothing more from a client blocked in
    /// `WAIT`, so a wait on the shared connection would hold up every read,
    /// heartbeat and lease behind it. Empty unless asked for.
    writers: Vec<ConnectionManager>,
    /// `host:port` of the master (Sentinel only).
    addr: String,
    /// Bumped on every swap, so concurrent failures swap once.
    generation: u64,
}

impl Current {
    async fn open(client: redis::Client, addr: String, writers: usize) -> RedisResult<Self> {
        let conn = manager(client.clone()).await?;
        let mut pool = Vec::with_capacity(writers);
        for _ in 0..writers {
            pool.push(manager(client.clone()).await?);
        }
        Ok(Self {
            client,
            conn,
            writers: pool,
            addr,
            generation: 0,
        })
    }
}

struct Shared {
    target: Target,
    /// Every command, on a Redis Cluster.
    cluster: Option<ClusterConnection>,
    current: RwLock<Current>,
    /// When the Sentinels were last asked, and serialises asking.
    resolving: tokio::sync::Mutex<Option<Instant>>,
    /// Spreads waiting writes over the writer connections.
    next_writer: AtomicUsize,
}

/// `WAIT` after every write: how many replicas, for how long.
#[derive(Clone, Copy, Debug)]
struct Wait {
    replicas: u32,
    timeout: Duration,
}

/// One shared command connection to the hub's Redis (see the module docs).
#[derive(Clone)]
pub struct RedisConn {
    shared: Arc<Shared>,
    wait: Option<Wait>,
}

impl RedisConn {
    /// Connects now, failing if Redis (or, under Sentinel, any master) does
    /// not answer: cluster mode cannot start without it. `writers` extra
    /// connections carry the writes of [`RedisConn::durable`] handles (0 if
    /// none will wait).
    pub async fn connect(target: Target, writers: usize) -> RedisResult<Self> {
        let mut cluster = None;
        let (client, addr) = match &target {
            Target::Direct(client) => (client.clone(), String::new()),
            Target::Sentinel(sentinel) => {
                let found = sentinel.resolve().await?;
                info!(master = %found.1, "redis master found through sentinel");
                found
            }
            Target::Cluster(nodes) => {
                if writers > 0 {
                    return Err(RedisError::from((
                        ErrorKind::ClientError,
                        "waiting for replicas (redis.wait_replicas) is not supported on a Redis Cluster",
                    )));
                }
                cluster = Some(nodes.connect().await?);
                let found = nodes.answering().await?;
                info!(node = %found.1, "redis cluster connected");
                found
            }
        };
        let current = Current::open(client, addr, writers).await?;
        Ok(Self {
            shared: Arc::new(Shared {
                target,
                cluster,
                current: RwLock::new(current),
                resolving: tokio::sync::Mutex::new(None),
                next_writer: AtomicUsize::new(0),
            }),
            wait: None,
        })
    }

    /// A handle whose writes wait for `replicas` replicas (none for 0), on
    /// the writer connections.
    pub fn durable(&self, replicas: u32, timeout: Duration) -> Self {
        Self {
            shared: self.shared.clone(),
            wait: (replicas > 0).then_some(Wait { replicas, timeout }),
        }
    }

    /// The same connection without waiting for replicas.
    pub fn plain(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            wait: None,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        self.shared
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn current(&self) -> (ConnectionManager, u64) {
        let current = self.read();
        (current.conn.clone(), current.generation)
    }

    /// A writer connection (the shared one if there are none).
    fn writer(&self) -> ConnectionManager {
        let current = self.read();
        if current.writers.is_empty() {
            return current.conn.clone();
        }
        let i = self.shared.next_writer.fetch_add(1, Ordering::Relaxed);
        current.writers[i % current.writers.len()].clone()
    }

    /// The cluster's nodes and credentials, on a Redis Cluster.
    pub fn cluster(&self) -> Option<&ClusterTarget> {
        match &self.shared.target {
            Target::Cluster(c) => Some(c),
            _ => None,
        }
    }

    /// A client for the current master, for connections of their own (the
    /// pub/sub bridge opens one after every loss). Under Sentinel the
    /// Sentinels are asked first, so a reconnect goes to the new master; if
    /// none answers, the master last known is tried. On a Redis Cluster, the
    /// first node given that answers.
    pub async fn client(&self) -> RedisResult<redis::Client> {
        if let Target::Cluster(nodes) = &self.shared.target {
            return Ok(nodes.answering().await?.0);
        }
        if matches!(self.shared.target, Target::Sentinel(_)) {
            let generation = self.current().1;
            if let Err(cause) = self.follow(generation, true).await {
                warn!(%cause, "could not ask the sentinels where the redis master is");
            }
        }
        Ok(self.read().client.clone())
    }

    /// Under Sentinel, after a failure seen on connection `generation`: asks
    /// where the master is and swaps connections if it moved. Returns whether
    /// the connections in use now differ from `generation`.
    async fn follow(&self, generation: u64, force: bool) -> RedisResult<bool> {
        let Target::Sentinel(sentinel) = &self.shared.target else {
            return Ok(false);
        };
        let mut last = self.shared.resolving.lock().await;
        if self.current().1 != generation {
            // Someone else swapped while this call waited.
            return Ok(true);
        }
        if !force && last.is_some_and(|at| at.elapsed() < RESOLVE_INTERVAL) {
            return Ok(false);
        }
        *last = Some(Instant::now());
        let (client, addr) = sentinel.resolve().await?;
        let writers = {
            let current = self.read();
            if current.addr == addr {
                return Ok(false);
            }
            current.writers.len()
        };
        let mut fresh = Current::open(client, addr, writers).await?;
        let mut current = self
            .shared
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner());
        warn!(from = %current.addr, to = %fresh.addr, "redis master moved; following the failover");
        fresh.generation = current.generation + 1;
        *current = fresh;
        Ok(true)
    }

    /// After `err` on connection `generation`: whether to send the command
    /// again (it never ran, and the master moved).
    async fn after_failure(&self, generation: u64, err: &RedisError) -> bool {
        if !matches!(self.shared.target, Target::Sentinel(_)) || !master_may_be_gone(err) {
            return false;
        }
        match self.follow(generation, false).await {
            Ok(moved) => moved && never_ran(err),
            Err(cause) => {
                warn!(%cause, "could not ask the sentinels where the redis master is");
                false
            }
        }
    }

    async fn send(&self, cmd: &Cmd) -> RedisResult<Value> {
        if let Some(cluster) = &self.shared.cluster {
            return cluster
                .clone()
                .req_packed_command(cmd)
                .await
                .and_then(top_level_error);
        }
        let wait = self.wait.filter(|_| is_write(cmd));
        let attempt = || async move {
            let (mut conn, generation) = self.current();
            let result = match wait {
                Some(wait) => durable_write(&mut self.writer(), cmd, wait).await,
                None => conn.req_packed_command(cmd).await.and_then(top_level_error),
            };
            (result, generation)
        };
        match attempt().await {
            (Err(err), generation) if self.after_failure(generation, &err).await => {
                attempt().await.0
            }
            (result, _) => result,
        }
    }
}

/// `cmd` and a `WAIT` in one pipeline on one connection: the answer to `cmd`
/// once `wait`'s replicas have it.
async fn durable_write(conn: &mut ConnectionManager, cmd: &Cmd, wait: Wait) -> RedisResult<Value> {
    let mut pipe = Pipeline::new();
    pipe.add_command(cmd.clone())
        .cmd("WAIT")
        .arg(wait.replicas)
        .arg(wait.timeout.as_millis().max(1) as u64);
    let mut values = conn.req_packed_commands(&pipe, 0, 2).await?;
    let acked = values.pop().unwrap_or(Value::Nil);
    // The command's own error first (NOSCRIPT, READONLY, a script error):
    // nothing to wait for.
    let answer = top_level_error(values.pop().unwrap_or(Value::Nil))?;
    match top_level_error(acked)? {
        Value::Int(n) if n >= i64::from(wait.replicas) => Ok(answer),
        _ => {
            warn!(
                wanted = wait.replicas,
                "a write was not confirmed by enough replicas"
            );
            Err(RedisError::from((ErrorKind::TryAgain, NOT_REPLICATED)))
        }
    }
}

/// A server error comes back from redis-rs as a value; made an error here so
/// that a `READONLY` (a demoted master) is seen. Only the top level: that is
/// where a refused command's error stands, and the caller's `query_async`
/// looks through the rest of the reply anyway.
fn top_level_error(value: Value) -> RedisResult<Value> {
    match value {
        Value::ServerError(err) => Err(err.into()),
        value => Ok(value),
    }
}

fn is_write(cmd: &Cmd) -> bool {
    cmd.args_iter().next().is_some_and(|name| match name {
        redis::Arg::Simple(name) => WRITES
            .iter()
            .any(|w| w.as_bytes().eq_ignore_ascii_case(name)),
        redis::Arg::Cursor => false,
    })
}

/// A failure that a failover would explain. An unconfirmed write counts: a
/// master restarted before the Sentinels demoted it answers as a master
/// without replicas.
fn master_may_be_gone(err: &RedisError) -> bool {
    never_ran(err)
        || err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.kind() == ErrorKind::TryAgain
}

/// A failure after which the command certainly did not run.
fn never_ran(err: &RedisError) -> bool {
    err.is_connection_refusal() || err.kind() == ErrorKind::ReadOnly
}

/// Whether `err` is a write the master applied but too few replicas
/// confirmed.
pub fn is_unconfirmed(err: &RedisError) -> bool {
    err.kind() == ErrorKind::TryAgain && err.to_string().contains(NOT_REPLICATED)
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(self.send(cmd))
    }

    /// Pipelines carry only reads (every write of the store is one command
    /// or a script), so they never wait.
    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            if let Some(cluster) = &self.shared.cluster {
                // Every pipeline of the hub stays in one slot.
                return cluster
                    .clone()
                    .req_packed_commands(cmd, offset, count)
                    .await;
            }
            let (mut conn, generation) = self.current();
            match conn.req_packed_commands(cmd, offset, count).await {
                Ok(values) => Ok(values),
                Err(err) => {
                    if self.after_failure(generation, &err).await {
                        let (mut conn, _) = self.current();
                        return conn.req_packed_commands(cmd, offset, count).await;
                    }
                    Err(err)
                }
            }
        })
    }

    fn get_db(&self) -> i64 {
        self.current().0.get_db()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentinel(url: &str) -> SentinelTarget {
        match Target::parse(url) {
            Ok(Target::Sentinel(s)) => s,
            Ok(other) => panic!("{url} parsed as {other:?}"),
            Err(err) => panic!("{url}: {err}"),
        }
    }

    #[test]
    fn sentinel_urls_name_the_sentinels_the_master_and_its_credentials() {
        let s = sentinel("redis+sentinel://a:26379,b:26380/mymaster");
        assert_eq!(s.sentinels, ["a:26379", "b:26380"]);
        assert_eq!(s.master, "mymaster");
        assert_eq!((s.username, s.password, s.db), (None, None, 0));

        let s = sentinel("redis+sentinel://hub:p%40ss@10.0.0.1,10.0.0.2:5000/main/3");
        assert_eq!(s.sentinels, ["10.0.0.1:26379", "10.0.0.2:5000"]);
        assert_eq!(s.master, "main");
        assert_eq!(s.username.as_deref(), Some("hub"));
        assert_eq!(s.password.as_deref(), Some("p@ss"));
        assert_eq!(s.db, 3);

        let s = sentinel("redis+sentinel://:secret@h:1/m");
        assert_eq!((s.username, s.password.as_deref()), (None, Some("secret")));
    }

    #[test]
    fn bad_urls_are_refused_without_repeating_them() {
        for url in [
            "redis+sentinel://h:1",
            "redis+sentinel://h:1/",
            "redis+sentinel://h:notaport/m",
            "redis+sentinel://:1/m",
            "redis+sentinel://h:1/m/notadb",
            "redis+sentinel://u:%zz@h:1/m",
            "redis+cluster://h:1,h:x",
            "redis+cluster://h:1/0",
            "nonsense://secret@h",
        ] {
            let err = Target::parse(url).expect_err(url).to_string();
            assert!(err.contains("redis.url"), "{url}: {err}");
            assert!(!err.contains("secret"), "{url}: {err}");
        }
        assert!(matches!(
            Target::parse("redis://127.0.0.1:6379/0"),
            Ok(Target::Direct(_))
        ));
    }

    #[test]
    fn cluster_urls_name_the_nodes_and_their_credentials() {
        let Ok(Target::Cluster(c)) = Target::parse("redis+cluster://u:p%21@a:7000,b,c:7002/")
        else {
            panic!("not a cluster");
        };
        assert_eq!(c.nodes, ["a:7000", "b:6379", "c:7002"]);
        assert_eq!(c.username.as_deref(), Some("u"));
        assert_eq!(c.password.as_deref(), Some("p!"));
    }

    #[test]
    fn durable_handles_wait_after_writes_only() {
        assert!(is_write(redis::cmd("EVALSHA").arg("abc").arg(0)));
        assert!(is_write(redis::cmd("set").arg("k").arg("v")));
        assert!(!is_write(redis::cmd("HGETALL").arg("k")));
        assert!(!is_write(&redis::cmd("PING")));
    }
}
