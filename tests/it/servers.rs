//! Redis servers a test starts for itself, on loopback ports, each in its
//! own directory: one plain server, a Sentinel group (a master, a replica
//! and three Sentinels), or a Redis Cluster of three masters.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{free_port, DEADLINE};

/// The name the test Sentinels monitor their master under.
pub const MASTER_NAME: &str = "hubmaster";

/// One `redis-server` process, killed when dropped.
pub struct RedisProcess {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    args: Vec<String>,
}

impl RedisProcess {
    /// A data server on `port`, keeping its AOF in `dir`. It is written
    /// before every answer, so a `kill -9` of the process loses nothing it
    /// answered; the once-a-second fsync only matters to a machine crash, and
    /// an fsync per write would stall the server on a busy disk long enough
    /// for Sentinels to fail it over.
    pub fn server(port: u16, dir: &Path, extra: &[&str]) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let mut args: Vec<String> = [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
            "--dir",
            dir.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::spawn(port, dir, args)
    }

    /// A Sentinel on `port` watching the master at `master_port`, calling it
    /// down after `down_after_ms` of silence.
    fn sentinel(port: u16, dir: &Path, master_port: u16, down_after_ms: u64) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let conf = dir.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {dir}\n\
                 sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 2\n\
                 sentinel down-after-milliseconds {MASTER_NAME} {down_after_ms}\n\
                 sentinel failover-timeout {MASTER_NAME} 4000\n\
                 sentinel parallel-syncs {MASTER_NAME} 1\n",
                dir = dir.display()
            ),
        )
        .unwrap();
        let args = vec![conf.to_str().unwrap().to_owned(), "--sentinel".to_owned()];
        Self::spawn(port, dir, args)
    }

    fn spawn(port: u16, dir: &Path, args: Vec<String>) -> Self {
        let child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs it)");
        let mut process = Self {
            child,
            port,
            dir: dir.to_owned(),
            args,
        };
        process.wait_until_it_answers();
        process
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A blocking connection (for checks; the hub uses its own).
    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(2))
            .expect("test redis answers")
    }

    fn wait_until_it_answers(&mut self) {
        let started = Instant::now();
        loop {
            // Exited: the port was taken in the meantime (by another test's
            // server, which must not be mistaken for this one).
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("redis on port {} exited at start ({status})", self.port);
            }
            let pong = redis::Client::open(self.url())
                .unwrap()
                .get_connection_with_timeout(Duration::from_millis(200))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
            if pong.is_ok() {
                return;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "redis on port {} did not start",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -TERM`, waiting for the process to end.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// `kill -9`: nothing is flushed, no client is told.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the same server again (same port, directory and arguments).
    pub fn restart(&mut self) {
        self.kill();
        let again = Self::spawn(self.port, &self.dir, self.args.clone());
        *self = again;
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A master, one replica of it, and three Sentinels (quorum 2) that notice a
/// dead master after two seconds (ten outside the failover tests).
pub struct SentinelGroup {
    pub master: RedisProcess,
    pub replica: RedisProcess,
    pub sentinels: Vec<RedisProcess>,
    _dir: tempfile::TempDir,
}

impl SentinelGroup {
    /// Starts the group and waits until the replica is in sync and every
    /// Sentinel names the master. `for_failover` also waits until the
    /// Sentinels know each other and the replica (about two seconds), and
    /// lets them call a silent master down after two seconds instead of ten
    /// (so a master that is merely slow on a busy machine is not failed over
    /// under the other tests).
    pub fn start(for_failover: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let master_port = free_port();
        let master = RedisProcess::server(master_port, &dir.path().join("a"), &[]);
        let replica = RedisProcess::server(
            free_port(),
            &dir.path().join("b"),
            &["--replicaof", "127.0.0.1", &master_port.to_string()],
        );
        let sentinels: Vec<RedisProcess> = (0..3)
            .map(|i| {
                RedisProcess::sentinel(
                    free_port(),
                    &dir.path().join(format!("s{i}")),
                    master_port,
                    if for_failover { 2000 } else { 10_000 },
                )
            })
            .collect();
        let group = Self {
            master,
            replica,
            sentinels,
            _dir: dir,
        };
        group.wait_for("the replica to be in sync", |g| {
            replica_confirms(&mut g.master.conn())
        });
        group.wait_for("every sentinel to name the master", |g| {
            g.sentinels
                .iter()
                .all(|s| sentinel_master_port(&s.url()) == Some(master_port))
        });
        if for_failover {
            group.wait_for("the sentinels to know each other and the replica", |g| {
                g.sentinels.iter().all(|s| {
                    let mut c = s.conn();
                    let others: Vec<redis::Value> = redis::cmd("SENTINEL")
                        .arg("sentinels")
                        .arg(MASTER_NAME)
                        .query(&mut c)
                        .unwrap_or_default();
                    let replicas: Vec<redis::Value> = redis::cmd("SENTINEL")
                        .arg("replicas")
                        .arg(MASTER_NAME)
                        .query(&mut c)
                        .unwrap_or_default();
                    others.len() == 2 && replicas.len() == 1
                })
            });
        }
        group
    }

    fn wait_for(&self, what: &str, mut done: impl FnMut(&Self) -> bool) {
        let started = Instant::now();
        while !done(self) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The hub's `redis.url` for this group.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        format!("redis+sentinel://{}/{MASTER_NAME}", hosts.join(","))
    }
}

/// What the Sentinel at `url` answers for the master's port.
pub fn sentinel_master_port(url: &str) -> Option<u16> {
    let mut c = redis::Client::open(url)
        .ok()?
        .get_connection_with_timeout(Duration::from_millis(500))
        .ok()?;
    let addr: Option<(String, u16)> = redis::cmd("SENTINEL")
        .arg("get-master-addr-by-name")
        .arg(MASTER_NAME)
        .query(&mut c)
        .ok()?;
    addr.map(|(_, port)| port)
}

/// Whether a replica confirms a write to this master now. (`INFO` may call
/// a replica online up to a second before it is streamed writes: after a
/// diskless sync, the master waits for its first acknowledgement.)
pub fn replica_confirms(conn: &mut redis::Connection) -> bool {
    let acked: redis::RedisResult<(String, i64)> = redis::pipe()
        .cmd("SET")
        .arg("test:replication-probe")
        .arg(1)
        .cmd("WAIT")
        .arg(1)
        .arg(200)
        .query(conn);
    matches!(acked, Ok((_, n)) if n >= 1)
}

/// Replicas a master counts as online.
pub fn replicas_online(conn: &mut redis::Connection) -> usize {
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query(conn)
        .unwrap_or_default();
    info.lines()
        .filter(|l| l.starts_with("slave") && l.contains("state=online"))
        .count()
}

/// The number of hash slots of a Redis Cluster.
pub const CLUSTER_SLOTS: u16 = 16384;

/// How long a cluster step may take: `redis-cli --cluster create` waits a
/// second between its own checks, and a fresh master only calls its state
/// `ok` two seconds after it started.
const CLUSTER_DEADLINE: Duration = Duration::from_secs(3 * DEADLINE.as_secs());

/// Three masters (no replicas) forming one Redis Cluster, every slot
/// assigned, created the way an operator would: `redis-cli --cluster create`.
pub struct ClusterGroup {
    pub masters: Vec<RedisProcess>,
    /// `CLUSTER MYID` of each master, by index.
    ids: Vec<String>,
    _dir: tempfile::TempDir,
}

impl ClusterGroup {
    /// Starts three cluster-enabled servers, joins them into a cluster and
    /// waits until every node calls the cluster `ok` and sees all 16384
    /// slots assigned.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let masters: Vec<RedisProcess> = cluster_ports(3)
            .into_iter()
            .enumerate()
            .map(|(i, port)| {
                let node_dir = dir.path().join(format!("m{i}"));
                let nodes_conf = node_dir.join("nodes.conf");
                RedisProcess::server(
                    port,
                    &node_dir,
                    &[
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        nodes_conf.to_str().unwrap(),
                        "--cluster-node-timeout",
                        "5000",
                    ],
                )
            })
            .collect();
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for m in &masters {
            create.arg(format!("127.0.0.1:{}", m.port));
        }
        create.args(["--cluster-replicas", "0", "--cluster-yes"]);
        let out = run_within(create, CLUSTER_DEADLINE);
        assert!(
            out.status.success() && !String::from_utf8_lossy(&out.stdout).contains("[ERR]"),
            "redis-cli --cluster create failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let ids = masters
            .iter()
            .map(|m| {
                redis::cmd("CLUSTER")
                    .arg("MYID")
                    .query::<String>(&mut m.conn())
                    .unwrap()
            })
            .collect();
        let group = Self {
            masters,
            ids,
            _dir: dir,
        };
        group.wait_for("every node to call the cluster ok", |g| {
            g.masters.iter().all(|m| {
                redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query::<String>(&mut m.conn())
                    .is_ok_and(|info| info.lines().any(|l| l.trim() == "cluster_state:ok"))
            })
        });
        group.wait_for("every node to see all slots assigned to the masters", |g| {
            g.masters.iter().all(|m| {
                let owners = g.slot_owners(&mut m.conn());
                owners.len() == usize::from(CLUSTER_SLOTS) && owners.iter().all(Option::is_some)
            })
        });
        group
    }

    fn wait_for(&self, what: &str, mut done: impl FnMut(&Self) -> bool) {
        let started = Instant::now();
        while !done(self) {
            assert!(
                started.elapsed() < CLUSTER_DEADLINE,
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The hub's `redis.url` for this cluster.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .masters
            .iter()
            .map(|m| format!("127.0.0.1:{}", m.port))
            .collect();
        format!("redis+cluster://{}", hosts.join(","))
    }

    /// A plain `redis://` URL per master, by index.
    pub fn node_urls(&self) -> Vec<String> {
        self.masters
            .iter()
            .map(|m| format!("redis://127.0.0.1:{}/", m.port))
            .collect()
    }

    /// The index (into `masters`) of the master serving `slot`, as the first
    /// master that answers sees it.
    pub fn owner_of_slot(&self, slot: u16) -> usize {
        assert!(slot < CLUSTER_SLOTS, "slot {slot} out of range");
        for m in &self.masters {
            let Ok(mut c) = redis::Client::open(m.url())
                .unwrap()
                .get_connection_with_timeout(Duration::from_millis(500))
            else {
                continue;
            };
            if let Some(Some(owner)) = self.slot_owners(&mut c).get(usize::from(slot)) {
                return *owner;
            }
        }
        panic!("no master names an owner of slot {slot}");
    }

    /// A blocking connection to the master serving `key` now.
    pub fn owner_conn(&self, key: &str) -> redis::Connection {
        self.masters[self.owner_of_slot(slot_of(key))].conn()
    }

    /// Each slot's owner (an index into `masters`; `None` if unassigned or
    /// served by a node that is not one of them), from `CLUSTER SLOTS` on
    /// `conn`. Empty if the node does not answer.
    fn slot_owners(&self, conn: &mut redis::Connection) -> Vec<Option<usize>> {
        let mut owners = vec![None; usize::from(CLUSTER_SLOTS)];
        let Ok(ranges) = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query::<Vec<Vec<redis::Value>>>(conn)
        else {
            return Vec::new();
        };
        for range in ranges {
            let [start, end, master, ..] = &range[..] else {
                continue;
            };
            let (Ok(start), Ok(end)) = (
                redis::from_redis_value::<usize>(start),
                redis::from_redis_value::<usize>(end),
            ) else {
                continue;
            };
            let port = match master {
                redis::Value::Array(node) if node.len() >= 2 => {
                    redis::from_redis_value::<u16>(&node[1]).ok()
                }
                _ => None,
            };
            let owner = self.masters.iter().position(|m| Some(m.port) == port);
            for slot in owners.iter_mut().take(end + 1).skip(start) {
                *slot = owner;
            }
        }
        owners
    }

    /// Moves `slot` with its keys to `masters[to]` while the cluster keeps
    /// serving it, as `redis-cli --cluster reshard` does (100 keys per
    /// `MIGRATE`).
    pub fn migrate_slot(&self, slot: u16, to: usize) {
        self.slot_migration(slot, to).run(100, Duration::ZERO);
    }

    /// Like [`Self::migrate_slot`], one key per `MIGRATE`, sleeping `pause`
    /// after each, so the slot stays half-moved (`MIGRATING` on the source,
    /// `IMPORTING` on the target: clients get `ASK` for keys already moved)
    /// for about `pause` times its key count.
    pub fn migrate_slot_slowly(&self, slot: u16, to: usize, pause: Duration) {
        self.slot_migration(slot, to).run(1, pause);
    }

    /// The steps of moving `slot` to `masters[to]`, for a test to run one by
    /// one (or on another thread: it owns what it needs). Nothing is sent
    /// until [`SlotMigration::begin`].
    pub fn slot_migration(&self, slot: u16, to: usize) -> SlotMigration {
        let from = self.owner_of_slot(slot);
        assert_ne!(from, to, "slot {slot} is already on master {to}");
        let urls = self.masters.iter().map(RedisProcess::url).collect();
        SlotMigration {
            slot,
            from,
            to,
            urls,
            ids: self.ids.clone(),
            to_port: self.masters[to].port,
        }
    }
}

/// One slot moving between two masters of a [`ClusterGroup`]: `begin`, then
/// `move_keys` until it returns 0, then `finish`.
pub struct SlotMigration {
    pub slot: u16,
    /// The source and target, as indexes into `masters`.
    pub from: usize,
    pub to: usize,
    urls: Vec<String>,
    ids: Vec<String>,
    to_port: u16,
}

impl SlotMigration {
    fn conn(&self, index: usize) -> redis::Connection {
        redis::Client::open(self.urls[index].as_str())
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(2))
            .expect("cluster node answers")
    }

    fn setslot(&self, on: usize, state: &str, node: usize) {
        let _: () = redis::cmd("CLUSTER")
            .arg("SETSLOT")
            .arg(self.slot)
            .arg(state)
            .arg(&self.ids[node])
            .query(&mut self.conn(on))
            .unwrap_or_else(|e| {
                panic!("CLUSTER SETSLOT {} {state} on master {on}: {e}", self.slot)
            });
    }

    /// Marks the slot `IMPORTING` on the target, then `MIGRATING` on the
    /// source.
    pub fn begin(&self) {
        self.setslot(self.to, "IMPORTING", self.from);
        self.setslot(self.from, "MIGRATING", self.to);
    }

    /// Moves up to `max` of the keys still on the source with one `MIGRATE`;
    /// returns how many it asked to move (0: none left).
    pub fn move_keys(&self, max: usize) -> usize {
        let mut source = self.conn(self.from);
        let keys: Vec<Vec<u8>> = redis::cmd("CLUSTER")
            .arg("GETKEYSINSLOT")
            .arg(self.slot)
            .arg(max)
            .query(&mut source)
            .unwrap();
        if keys.is_empty() {
            return 0;
        }
        let moved: redis::RedisResult<String> = redis::cmd("MIGRATE")
            .arg("127.0.0.1")
            .arg(self.to_port)
            .arg("")
            .arg(0)
            .arg(5000)
            .arg("KEYS")
            .arg(&keys)
            .query(&mut source);
        match moved {
            Ok(_) => {}
            // Every key expired in the meantime.
            Err(e) if e.code() == Some("NOKEY") || e.to_string().contains("NOKEY") => {}
            Err(e) => panic!("MIGRATE of slot {} failed: {e}", self.slot),
        }
        keys.len()
    }

    /// Gives the slot to the target: on the target first (ending its
    /// `IMPORTING`), then the source, then the third master.
    pub fn finish(&self) {
        let third = (0..self.urls.len()).filter(|&i| i != self.from && i != self.to);
        for on in [self.to, self.from].into_iter().chain(third) {
            self.setslot(on, "NODE", self.to);
        }
    }

    /// All of it: `begin`, batches of `batch` keys with `pause` after each,
    /// `finish`.
    pub fn run(&self, batch: usize, pause: Duration) {
        self.begin();
        while self.move_keys(batch) > 0 {
            std::thread::sleep(pause);
        }
        self.finish();
    }
}

/// Redis Cluster's hash slot of `key`: CRC16 (XMODEM) of the key, or of its
/// hash tag (what is between the first `{` and the first `}` after it, if
/// not empty), modulo 16384.
pub fn slot_of(key: &str) -> u16 {
    let bytes = key.as_bytes();
    let hashed = bytes
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &bytes[open + 1..];
            let close = rest.iter().position(|&b| b == b'}')?;
            (close > 0).then(|| &rest[..close])
        })
        .unwrap_or(bytes);
    crc16_xmodem(hashed) % CLUSTER_SLOTS
}

/// CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection.
fn crc16_xmodem(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// `n` distinct loopback ports that are free, each with its cluster bus
/// port (port + 10000) free too. They are drawn below the kernel's
/// ephemeral range (32768 and up here), bus ports included, so no
/// `free_port()` of a concurrent test can be handed one of them after the
/// check.
fn cluster_ports(n: usize) -> Vec<u16> {
    use rand::Rng;
    let mut held = Vec::new();
    let mut ports = Vec::new();
    let started = Instant::now();
    while ports.len() < n {
        assert!(
            started.elapsed() < DEADLINE,
            "no free pair of ports for a cluster node"
        );
        let port: u16 = rand::thread_rng().gen_range(11_000..22_000);
        let (Ok(a), Ok(b)) = (
            std::net::TcpListener::bind(("127.0.0.1", port)),
            std::net::TcpListener::bind(("127.0.0.1", port + 10_000)),
        ) else {
            continue;
        };
        // Held until all are chosen, so no port is chosen twice.
        held.push((a, b));
        ports.push(port);
    }
    ports
}

/// Runs `command` to completion, killing it after `limit`.
fn run_within(mut command: Command, limit: Duration) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redis-cli is installed (.ci/run installs it)");
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{command:?} did not finish within {limit:?}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
