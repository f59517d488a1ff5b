//! The hub under test: one the bench spawns (the real `aiclone-hub` binary,
//! its own data dir, a known signing key and service key) or an external one
//! reached by `--url`.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use sha2::Digest;

use crate::args::Args;
use crate::http::Client;

/// Signing key of spawned hubs (at least 32 bytes, as the hub requires).
pub const BENCH_SECRET: &str = "hub-bench-signing-key-hub-bench-signing-key";
/// Service API key of spawned hubs (the hub is given only its hash).
pub const BENCH_API_KEY: &str = "hubk_hub-bench-service-key";
/// How long a spawned hub may take to answer `/health`.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Where the bench looks for the hub binary by default (release build).
pub const DEFAULT_HUB_BIN: &str = "target/release/aiclone-hub";

/// How to reach (or start) hubs, from the common options.
#[derive(Clone, Debug)]
pub struct HubOptions {
    /// `--url`: an external hub; None spawns one.
    pub url: Option<String>,
    /// `--jwt-secret` of the external hub.
    pub jwt_secret: String,
    /// `--api-key` of the external hub.
    pub api_key: String,
    /// `--hub-pid` of the external hub, to read its memory and CPU.
    pub pid: Option<u32>,
    /// `--hub-bin`: the binary to spawn.
    pub bin: PathBuf,
    /// `--data-dir`: a persistent data dir for the spawned hub (users are
    /// then kept between runs, see `users`); None uses a fresh temp dir.
    pub data_dir: Option<PathBuf>,
    /// `--hub-env KEY=VALUE` (repeatable): extra environment of spawned hubs.
    pub env: Vec<(String, String)>,
    /// `--hub-log`: keep and show the spawned hub's log path.
    pub keep_log: bool,
    /// `--floor` (or the floor half of `--vs-floor`): spawn the bench's own
    /// bare router (`hub-bench floor`) instead of the hub.
    pub floor: bool,
}

impl HubOptions {
    pub fn from_args(args: &Args) -> anyhow::Result<Self> {
        let env = args
            .all("hub-env")
            .into_iter()
            .map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .ok_or_else(|| anyhow!("--hub-env {kv:?}: expected KEY=VALUE"))
            })
            .collect::<anyhow::Result<_>>()?;
        let url = args.string("url");
        let external = url.is_some();
        let opts = Self {
            url,
            jwt_secret: args
                .string("jwt-secret")
                .unwrap_or_else(|| BENCH_SECRET.to_owned()),
            api_key: args
                .string("api-key")
                .unwrap_or_else(|| BENCH_API_KEY.to_owned()),
            pid: args.opt("hub-pid")?,
            bin: args
                .string("hub-bin")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_HUB_BIN)),
            data_dir: args.string("data-dir").map(PathBuf::from),
            env,
            keep_log: args.flag("hub-log", false)?,
            floor: args.flag("floor", false)?,
        };
        if external && opts.floor {
            bail!("--floor spawns the bench's own router: it cannot be combined with --url");
        }
        if external && (args.string("jwt-secret").is_none() || args.string("api-key").is_none()) {
            bail!("--url needs --jwt-secret and --api-key (the external hub's signing key and a service key)");
        }
        Ok(opts)
    }

    pub fn is_external(&self) -> bool {
        self.url.is_some()
    }
}

/// A hub the bench talks to.
pub struct Hub {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its token signing key.
    pub secret: String,
    /// A service key it accepts.
    pub api_key: String,
    /// Its process id, when known (spawned, or `--hub-pid`).
    pub pid: Option<u32>,
    /// The child process, when spawned.
    child: Option<Spawned>,
    /// The bench's own bare router, not a hub: it keeps no users.
    pub is_floor: bool,
}

struct Spawned {
    child: Child,
    log_path: PathBuf,
    keep_log: bool,
    /// Removed when the hub is dropped (unless `--data-dir` named one).
    temp: Option<tempfile::TempDir>,
    data_dir: PathBuf,
}

/// A process about to be spawned as the system under test: the hub, or
/// the floor.
struct Launch {
    /// Where it will listen (already passed to it).
    port: u16,
    /// Where its stdout and stderr go.
    log_path: PathBuf,
    /// Its data dir (the floor's holds only the log).
    dir: PathBuf,
    /// Removes `dir` with the hub, when the bench made it.
    temp: Option<tempfile::TempDir>,
    /// `--hub-log`.
    keep_log: bool,
    /// The bench's own router rather than the hub.
    is_floor: bool,
}

impl Launch {
    /// Starts `cmd` with its output in the log, and waits for `/health`.
    async fn start(self, mut cmd: Command) -> Result<Hub, StartError> {
        let log = std::fs::File::create(&self.log_path).context("creating the log")?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("log file")?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {:?}", cmd.get_program()))?;
        let mut hub = Hub {
            addr: SocketAddr::from(([127, 0, 0, 1], self.port)),
            secret: BENCH_SECRET.to_owned(),
            api_key: BENCH_API_KEY.to_owned(),
            pid: Some(child.id()),
            child: Some(Spawned {
                child,
                log_path: self.log_path,
                keep_log: self.keep_log,
                temp: self.temp,
                data_dir: self.dir,
            }),
            is_floor: self.is_floor,
        };
        hub.wait_healthy(Some(START_TIMEOUT)).await?;
        Ok(hub)
    }
}

/// Why a hub could not be used.
#[derive(Debug)]
pub enum StartError {
    /// The process exited before answering: this build refuses the config
    /// (for example `redis.url` before cluster mode exists).
    Refused {
        log_tail: String,
    },
    Other(anyhow::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Refused { log_tail } => write!(f, "the hub refused to start: {log_tail}"),
            StartError::Other(e) => write!(f, "{e:#}"),
        }
    }
}

impl From<anyhow::Error> for StartError {
    fn from(e: anyhow::Error) -> Self {
        StartError::Other(e)
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Hub {
    /// The external hub of `--url`, or a freshly spawned one with `env` on
    /// top of the bench's defaults (rate limiting off, quiet logs).
    pub async fn open(opts: &HubOptions, env: &[(&str, &str)]) -> Result<Hub, StartError> {
        match &opts.url {
            Some(url) => Ok(Self::external(opts, url).await?),
            None => Self::spawn(opts, env, opts.data_dir.as_deref()).await,
        }
    }

    async fn external(opts: &HubOptions, url: &str) -> anyhow::Result<Hub> {
        let host = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        if host.contains('/') || url.starts_with("https://") {
            bail!("--url must look like http://127.0.0.1:8080 (loopback, plain HTTP)");
        }
        let addr = host
            .to_socket_addrs()
            .with_context(|| format!("--url {url}"))?
            .next()
            .ok_or_else(|| anyhow!("--url {url} resolves to nothing"))?;
        if !addr.ip().is_loopback() {
            bail!("--url must be a loopback address: the bench only loads this machine");
        }
        let mut hub = Hub {
            addr,
            secret: opts.jwt_secret.clone(),
            api_key: opts.api_key.clone(),
            pid: opts.pid,
            child: None,
            is_floor: false,
        };
        hub.wait_healthy(None).await.map_err(|e| anyhow!("{e}"))?;
        Ok(hub)
    }

    /// Spawns the hub binary on a free port.
    pub async fn spawn(
        opts: &HubOptions,
        env: &[(&str, &str)],
        data_dir: Option<&Path>,
    ) -> Result<Hub, StartError> {
        if opts.floor {
            return Self::spawn_floor(opts).await;
        }
        if !opts.bin.exists() {
            return Err(StartError::Other(anyhow!(
                "no hub binary at {} (build it: cargo build --release -p aiclone-hub, or pass --hub-bin)",
                opts.bin.display()
            )));
        }
        let (temp, dir) = match data_dir {
            Some(d) => {
                std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
                (None, d.to_path_buf())
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("hub-bench-")
                    .tempdir()
                    .context("creating a temp data dir")?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let port = free_port()?;
        let key_entry = format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(BENCH_API_KEY.as_bytes()))
        );
        let mut cmd = Command::new(&opts.bin);
        cmd.env("HUB__SERVER__HOST", "127.0.0.1")
            .env("HUB__SERVER__PORT", port.to_string())
            .env("HUB__STORAGE__DATA_DIR", &dir)
            .env("HUB__AUTH__JWT_SECRET", BENCH_SECRET)
            .env("HUB__AUTH__API_KEYS", key_entry)
            .env("HUB__RATE_LIMIT__ENABLED", "false")
            .env("HUB__LOG__LEVEL", "warn")
            .env_remove("RUST_LOG");
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let log_path = dir.join(format!("hub-{port}.log"));
        let spawned = Launch {
            port,
            log_path,
            dir,
            temp,
            keep_log: opts.keep_log,
            is_floor: false,
        };
        spawned.start(cmd).await
    }

    /// Spawns `hub-bench floor` (this very binary) on a free port.
    async fn spawn_floor(opts: &HubOptions) -> Result<Hub, StartError> {
        let port = free_port()?;
        let temp = tempfile::Builder::new()
            .prefix("hub-bench-floor-")
            .tempdir()
            .context("creating a temp dir for the floor's log")?;
        let dir = temp.path().to_path_buf();
        let exe = std::env::current_exe().context("finding hub-bench itself")?;
        let mut cmd = Command::new(exe);
        cmd.args(["floor", "--port", &port.to_string()]).args([
            "--jwt-secret",
            BENCH_SECRET,
            "--api-key",
            BENCH_API_KEY,
        ]);
        let log_path = dir.join(format!("floor-{port}.log"));
        let spawned = Launch {
            port,
            log_path,
            dir,
            temp: Some(temp),
            keep_log: opts.keep_log,
            is_floor: true,
        };
        spawned.start(cmd).await
    }

    async fn wait_healthy(&mut self, timeout: Option<Duration>) -> Result<(), StartError> {
        let end = Instant::now() + timeout.unwrap_or(Duration::from_secs(5));
        let mut client = Client::new(self.addr);
        loop {
            if let Ok(r) = client.get("/health", &[]).await {
                if r.status == 200 {
                    return Ok(());
                }
            }
            if self.exited().is_some() {
                return Err(StartError::Refused {
                    log_tail: self.log_tail(),
                });
            }
            if Instant::now() > end {
                let tail = self.log_tail();
                return Err(StartError::Other(anyhow!(
                    "the hub at {} did not answer /health in time. {tail}",
                    self.addr
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last lines of a spawned hub's log, without terminal colours.
    pub fn log_tail(&self) -> String {
        let Some(s) = &self.child else {
            return String::new();
        };
        let text = strip_ansi(&std::fs::read_to_string(&s.log_path).unwrap_or_default());
        let lines: Vec<&str> = text.lines().rev().take(2).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
    }

    /// The spawned hub's data dir.
    pub fn data_dir(&self) -> Option<&Path> {
        self.child.as_ref().map(|s| s.data_dir.as_path())
    }

    pub fn rss_kib(&self) -> Option<u64> {
        self.pid.and_then(crate::sys::rss_kib)
    }

    /// Sends a signal (`TERM`, `KILL`) to a spawned hub.
    pub fn signal(&self, name: &str) -> anyhow::Result<()> {
        let pid = self
            .child
            .as_ref()
            .map(|s| s.child.id())
            .ok_or_else(|| anyhow!("only a spawned hub can be signalled"))?;
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(pid.to_string())
            .status()
            .context("running kill")?;
        if !status.success() {
            bail!("kill -{name} {pid} failed");
        }
        Ok(())
    }

    /// Has the spawned hub exited? (Some(exit code or -1 for a signal))
    pub fn exited(&mut self) -> Option<i32> {
        let s = self.child.as_mut()?;
        match s.child.try_wait() {
            Ok(Some(status)) => Some(status.code().unwrap_or(-1)),
            _ => None,
        }
    }

    /// Kills the spawned hub with SIGKILL (no flush, no goodbye) and hands
    /// over its data dir, which stays on disk while the guard lives.
    pub fn crash(&mut self) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
        let s = self
            .child
            .as_mut()
            .ok_or_else(|| anyhow!("only a spawned hub can be killed"))?;
        s.child.kill().context("kill -9 the hub")?;
        s.child.wait().context("waiting for the killed hub")?;
        Ok((s.data_dir.clone(), s.temp.take()))
    }

    /// The URL a human would use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Removes terminal colour sequences (`ESC [ … m`) from log text.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(s) = &mut self.child {
            let _ = s.child.kill();
            let _ = s.child.wait();
            if s.keep_log {
                eprintln!("hub log: {}", s.log_path.display());
            }
            if let Some(t) = s.temp.take() {
                if s.keep_log {
                    // Leave the dir (and its log) behind for a look.
                    let _ = t.keep();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_colours() {
        assert_eq!(
            super::strip_ansi("\u{1b}[2mtime\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m x"),
            "time ERROR x"
        );
    }
}
