//! The test harness: boots the real hub (the same `Application` as `main`) on
//! 127.0.0.1:0 with its own temporary data dir, in its own thread and actix
//! system, and gives tests real HTTP and WebSocket clients.

use std::path::Path;
use std::time::{Duration, Instant};

use aiclone_hub::startup::Application;
use awc::http::StatusCode;
use futures_util::{SinkExt, StreamExt};
use hub_core::Settings;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::servers::{ClusterGroup, SentinelGroup};

/// The signing key of test hubs, so tests can forge tokens with it.
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123";
/// A service key every test hub accepts.
pub const SERVICE_KEY: &str = "hubk_test-service-key";

/// How long any wait in a test may take before it fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

pub fn test_settings(data_dir: &Path) -> Settings {
    use sha2::Digest;
    let entry = format!("sha256:{}", hex::encode(sha2::Sha256::digest(SERVICE_KEY)));
    aiclone_hub::config::load(
        None,
        [
            ("HUB__SERVER__PORT", "0"),
            ("HUB__SERVER__WORKERS", "2"),
            ("HUB__STORAGE__DATA_DIR", data_dir.to_str().unwrap()),
            ("HUB__STORAGE__SYNCHRONOUS", "normal"),
            ("HUB__AUTH__JWT_SECRET", TEST_SECRET),
            ("HUB__AUTH__API_KEYS", entry.as_str()),
            ("HUB__AUTH__MAX_CONCURRENT_HASHES", "2"),
            ("HUB__LOG__LEVEL", "warn"),
            // Tests hammer one IP; the rate-limit tests switch it back on.
            ("HUB__RATE_LIMIT__ENABLED", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .expect("test settings are valid")
}

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery";

/// HTTP and WebSocket access to a hub at a port (in-process or a child).
pub struct Api {
    pub port: u16,
    pub base: String,
    pub client: awc::Client,
}

/// A child hub is reached the same way.
pub type Remote = Api;

/// A running in-process hub; derefs to its [`Api`].
pub struct TestApp {
    api: Api,
    /// Set in Redis mode: the keys to delete when the test ends.
    pub redis_prefix: Option<String>,
    /// The Redis servers this app's test started for it (dropped after it).
    pub servers: Option<SentinelGroup>,
    /// The Redis Cluster this app's test started for it (dropped after it).
    pub cluster: Option<ClusterGroup>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Kept so the data dir lives as long as the app (unless a test took it).
    _data_dir: Option<tempfile::TempDir>,
}

fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_env_filter("info").try_init();
    }
}

/// The Redis every cluster-mode test uses (each with its own key prefix).
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Which store and bus a test hub runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in a temp dir, in-process bus.
    Embedded,
    /// Redis at [`REDIS_URL`] under a unique prefix, pub/sub bus.
    Redis,
    /// A Sentinel group of the test's own (master, replica, three
    /// Sentinels), found through the Sentinels, every store write confirmed
    /// by the replica.
    Sentinel,
    /// A three-master Redis Cluster of the test's own.
    Cluster,
}

impl Backend {
    /// Redis is the store (cluster mode), whichever way it is reached.
    pub fn is_cluster(self) -> bool {
        self != Backend::Embedded
    }
}

/// Runs each named `async fn(Backend)` once per back-end: the same test body
/// against the embedded store, against one Redis, against a Sentinel group
/// and against a Redis Cluster.
#[macro_export]
macro_rules! both_modes {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn embedded() {
                super::$name($crate::helpers::Backend::Embedded).await
            }
            #[actix_web::test]
            async fn redis() {
                super::$name($crate::helpers::Backend::Redis).await
            }
            #[actix_web::test]
            async fn sentinel() {
                super::$name($crate::helpers::Backend::Sentinel).await
            }
            #[actix_web::test]
            async fn cluster() {
                super::$name($crate::helpers::Backend::Cluster).await
            }
        }
    )+};
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("hubtest:{}:", uuid::Uuid::new_v4().simple())
}

/// Points `settings` at Redis under `prefix`.
pub fn use_redis(settings: &mut Settings, prefix: &str) {
    settings.redis.url = Some(REDIS_URL.to_owned());
    settings.redis.key_prefix = prefix.to_owned();
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, |_| {}).await
}

pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    match backend {
        Backend::Embedded => spawn_app_with(tweak).await,
        Backend::Redis => {
            let prefix = unique_prefix();
            let mut app = spawn_app_with(|s| {
                use_redis(s, &prefix);
                tweak(s);
            })
            .await;
            app.redis_prefix = Some(prefix);
            app
        }
        Backend::Sentinel => {
            let group = tokio::task::spawn_blocking(|| SentinelGroup::start(false))
                .await
                .unwrap();
            let url = group.url();
            let mut app = spawn_app_with(|s| {
                use_sentinel(s, &url);
                s.redis.key_prefix = unique_prefix();
                tweak(s);
            })
            .await;
            app.servers = Some(group);
            app
        }
        Backend::Cluster => {
            let group = tokio::task::spawn_blocking(ClusterGroup::start)
                .await
                .unwrap();
            let url = group.url();
            let mut app = spawn_app_with(|s| {
                s.redis.url = Some(url);
                s.redis.key_prefix = unique_prefix();
                tweak(s);
            })
            .await;
            app.cluster = Some(group);
            app
        }
    }
}

/// Points `settings` at a Sentinel group, waiting for its replica on every
/// write.
pub fn use_sentinel(settings: &mut Settings, url: &str) {
    settings.redis.url = Some(url.to_owned());
    settings.redis.wait_replicas = 1;
}

/// Several nodes of one cluster (same Redis prefix, same signing key).
pub async fn spawn_cluster(nodes: usize, tweak: impl Fn(&mut Settings)) -> Vec<TestApp> {
    let prefix = unique_prefix();
    let mut apps = Vec::new();
    for _ in 0..nodes {
        let mut app = spawn_app_with(|s| {
            use_redis(s, &prefix);
            tweak(s);
        })
        .await;
        app.redis_prefix = Some(prefix.clone());
        apps.push(app);
    }
    apps
}

/// Every key under `prefix` in the Redis at [`REDIS_URL`], without it.
pub fn keys_under(prefix: &str) -> Vec<String> {
    let mut conn = redis::Client::open(REDIS_URL)
        .unwrap()
        .get_connection()
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut conn)
        .unwrap();
    keys.into_iter()
        .map(|k| k[prefix.len()..].to_owned())
        .collect()
}

/// Deletes every key under `prefix` (test clean-up).
pub fn delete_redis_prefix(prefix: &str) {
    let Ok(client) = redis::Client::open(REDIS_URL) else {
        return;
    };
    let Ok(mut conn) = client.get_connection() else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut conn)
        .unwrap_or_default();
    for chunk in keys.chunks(500) {
        let _: Result<(), _> = redis::cmd("DEL").arg(chunk).query(&mut conn);
    }
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    tweak(&mut settings);
    start(settings, Some(dir)).await
}

/// Starts a hub with exactly these settings (the caller owns the data dir).
pub async fn start(settings: Settings, data_dir: Option<tempfile::TempDir>) -> TestApp {
    init_logs();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build(settings).await.expect("hub builds");
            tx.send((app.port(), app.handle())).ok();
            app.run_until_stopped().await.expect("hub runs");
        })
    });
    let (port, handle) = rx.await.expect("hub started");
    TestApp {
        api: Api::new(port),
        redis_prefix: None,
        servers: None,
        cluster: None,
        handle,
        thread: Some(thread),
        _data_dir: data_dir,
    }
}

impl std::ops::Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl TestApp {
    /// Stops the server gracefully and waits for its thread.
    pub async fn stop(mut self) {
        self.handle.stop(true).await;
        if let Some(t) = self.thread.take() {
            tokio::task::spawn_blocking(move || t.join()).await.ok();
        }
    }
}

impl Api {
    pub fn new(port: u16) -> Self {
        Self {
            port,
            base: format!("http://127.0.0.1:{port}"),
            client: awc::Client::builder().timeout(DEADLINE).finish(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://127.0.0.1:{}/api/ws{query}", self.port)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut res = req.send().await.expect("request sent");
        let status = res.status();
        let body = res.body().limit(64 * 1024 * 1024).await.expect("body read");
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (StatusCode, Value) {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut res = req.send_json(body).await.expect("request sent");
        let status = res.status();
        let body = res.body().await.expect("body read");
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        self.send_json("POST", path, token, body).await
    }

    /// Registers a user and logs in: (user id, access token, refresh token).
    pub async fn user(&self, email: &str) -> (String, String, String) {
        let (status, body) = self
            .post(
                "/api/auth/register",
                None,
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["user"]["id"].as_str().unwrap().to_owned();
        let (access, refresh) = self.login(email, PASSWORD).await;
        (id, access, refresh)
    }

    pub async fn login(&self, email: &str, password: &str) -> (String, String) {
        let (status, body) = self
            .post(
                "/api/auth/login",
                None,
                &json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (
            body["access_token"].as_str().unwrap().to_owned(),
            body["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    /// Publishes an activity with a user token; returns the stored activity.
    pub async fn publish(&self, token: &str, kind: &str, title: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/activities",
                Some(token),
                &json!({"type": kind, "title": title}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    pub async fn ws(&self, token: &str, query: &str) -> Ws {
        let query = if query.is_empty() {
            format!("?token={token}")
        } else {
            format!("?{query}&token={token}")
        };
        let url = self.ws_url(&query);
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("ws connects");
        let mut ws = Ws { stream };
        let welcome = ws.next_json().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        ws
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(prefix) = self.redis_prefix.take() {
            std::thread::spawn(move || {
                // Let the hub finish its last writes first.
                std::thread::sleep(Duration::from_millis(200));
                delete_redis_prefix(&prefix);
            });
        }
        if self.thread.is_some() {
            // Not stopped explicitly: stop without waiting (the thread ends
            // with the test process).
            let handle = self.handle.clone();
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(handle.stop(false));
            });
        }
    }
}

pub type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client.
pub struct Ws {
    pub stream: WsStream,
}

/// What the next thing on a socket was.
#[derive(Debug)]
pub enum Next {
    Json(Value),
    Closed(Option<u16>),
    Timeout,
}

impl Next {
    /// The close code, failing on anything but a close.
    pub fn closed(self) -> Option<u16> {
        match self {
            Next::Closed(code) => code,
            other => panic!("expected a close, got {other:?}"),
        }
    }
}

impl Ws {
    /// The next text frame or close, skipping pings and pongs.
    pub async fn next_within(&mut self, wait: Duration) -> Next {
        let end = Instant::now() + wait;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.stream.next()).await {
                Err(_) => return Next::Timeout,
                Ok(None) => return Next::Closed(None),
                Ok(Some(Err(_))) => return Next::Closed(None),
                Ok(Some(Ok(Message::Text(text)))) => {
                    return Next::Json(serde_json::from_str(&text).expect("frames are JSON"))
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Next::Closed(frame.map(|f| u16::from(f.code)))
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn next_json(&mut self) -> Value {
        match self.next_within(DEADLINE).await {
            Next::Json(v) => v,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// The next frame of type `kind`, skipping others.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let v = self.next_json().await;
            if v["type"] == kind {
                return v;
            }
        }
    }

    pub async fn send_json(&mut self, v: Value) {
        self.stream
            .send(Message::Text(v.to_string()))
            .await
            .unwrap();
    }

    /// Waits for the close frame; returns its code.
    pub async fn closed_with(&mut self) -> Option<u16> {
        loop {
            match self.next_within(DEADLINE).await {
                Next::Json(_) => continue,
                Next::Closed(code) => return code,
                Next::Timeout => panic!("the session was not closed"),
            }
        }
    }

    /// Asserts nothing (but pings) arrives for `wait`.
    pub async fn assert_silent(&mut self, wait: Duration) {
        match self.next_within(wait).await {
            Next::Timeout => {}
            other => panic!("expected silence, got {other:?}"),
        }
    }
}

/// Polls `check` until it holds or the deadline passes.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + DEADLINE;
    while Instant::now() < end {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The real `aiclone-hub` binary running as a child process.
pub struct ChildHub {
    pub child: std::process::Child,
    pub port: u16,
    pub base: String,
    /// Where its stdout (the logs) goes.
    pub log_path: std::path::PathBuf,
}

/// Resident set size of process `pid`, in bytes: tests that bound the hub's
/// memory run it as a child process and read its own figure.
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status");
    kib * 1024
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl ChildHub {
    /// Starts the binary on `data_dir` with the test key and service key, plus
    /// `env`, and waits until `/health` answers.
    pub async fn start(data_dir: &Path, env: &[(&str, &str)]) -> ChildHub {
        Self::start_on(data_dir, free_port(), env).await
    }

    /// Like [`Self::start`], on a given port (a restart keeps its address).
    pub async fn start_on(data_dir: &Path, port: u16, env: &[(&str, &str)]) -> ChildHub {
        use sha2::Digest;
        let entry = format!("sha256:{}", hex::encode(sha2::Sha256::digest(SERVICE_KEY)));
        let log_path = data_dir.join(format!("hub-{port}.log"));
        std::fs::create_dir_all(data_dir).unwrap();
        let log = std::fs::File::create(&log_path).unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_aiclone-hub"));
        cmd.env("HUB__SERVER__PORT", port.to_string())
            .env("HUB__STORAGE__DATA_DIR", data_dir)
            .env("HUB__AUTH__JWT_SECRET", TEST_SECRET)
            .env("HUB__AUTH__API_KEYS", entry)
            .env("HUB__RATE_LIMIT__ENABLED", "false")
            .env_remove("RUST_LOG")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("the hub binary starts");
        let hub = ChildHub {
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
            log_path,
        };
        let client = awc::Client::default();
        let url = format!("{}/health", hub.base);
        eventually("the child hub to answer /health", || {
            let req = client.get(&url).send();
            async move { req.await.map(|r| r.status().is_success()).unwrap_or(false) }
        })
        .await;
        hub
    }

    /// Sends a signal by name (`TERM`, `KILL`) with the `kill` command.
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit and returns its exit code.
    pub async fn exit_code(&mut self) -> Option<i32> {
        let end = Instant::now() + DEADLINE;
        while Instant::now() < end {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the hub did not exit");
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for ChildHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a Python snippet (an independent checker) with `input` on stdin.
/// Fails the test, with the reason, when Python or the package is missing.
pub fn python(script: &str, input: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is installed (.ci/run installs the checkers)");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python checker failed (is the package installed? .ci/run installs it):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
