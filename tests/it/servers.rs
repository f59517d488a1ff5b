//! Redis servers a test starts for itself, on loopback ports, each in its
//! own directory: one plain server, or a Sentinel group (a master, a
//! replica and three Sentinels).

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
