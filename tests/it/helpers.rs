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

/// The signing key of test hubs, so tests can forge tokens with it.
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123";
/// A service key every test hub accepts.
pub const SERVICE_KEY: &str = "hubk_test-service-key";

/// How long any wait in a test may take before it fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Who is running hubs in this process. Tests run in parallel threads of one
/// process and share its RSS, so a test that measures RSS must run alone:
/// it takes the gate exclusively ([`run_alone`]), which waits until no other
/// test holds a hub and keeps new ones out until it is done. Every hub
/// started by [`start`] holds it shared, as does anything else that loads the
/// process ([`shared`]). Waiting exclusives do not block new shared holders
/// (so a test holding two hubs cannot deadlock); an exclusive test simply
/// runs once the others are done.
struct Gate {
    /// Shared holders alive.
    active: usize,
    /// An exclusive holder is running.
    exclusive: bool,
}

static GATE: std::sync::Mutex<Gate> = std::sync::Mutex::new(Gate {
    active: 0,
    exclusive: false,
});
/// How often a waiter looks at the gate again.
const GATE_POLL: Duration = Duration::from_millis(10);

thread_local! {
    /// This test thread holds the gate exclusively: its own hubs pass.
    static ALONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn gate() -> std::sync::MutexGuard<'static, Gate> {
    GATE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A shared hold on the gate; released on drop.
pub struct SharedGuard {
    counted: bool,
}

impl Drop for SharedGuard {
    fn drop(&mut self) {
        if self.counted {
            gate().active -= 1;
        }
    }
}

/// Holds the gate shared (no-op inside a test that runs alone).
pub async fn shared() -> SharedGuard {
    if ALONE.with(|a| a.get()) {
        return SharedGuard { counted: false };
    }
    loop {
        {
            let mut g = gate();
            if !g.exclusive {
                g.active += 1;
                return SharedGuard { counted: true };
            }
        }
        tokio::time::sleep(GATE_POLL).await;
    }
}

/// An exclusive hold on the gate; released on drop.
pub struct AloneGuard;

impl Drop for AloneGuard {
    fn drop(&mut self) {
        ALONE.with(|a| a.set(false));
        gate().exclusive = false;
    }
}

/// Waits until no other test runs a hub in this process, then keeps them
/// out until the guard is dropped. For tests that measure this process's RSS.
pub async fn run_alone() -> AloneGuard {
    loop {
        {
            let mut g = gate();
            if !g.exclusive && g.active == 0 {
                g.exclusive = true;
                ALONE.with(|a| a.set(true));
                return AloneGuard;
            }
        }
        tokio::time::sleep(GATE_POLL).await;
    }
}

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
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .expect("test settings are valid")
}

/// A running hub.
pub struct TestApp {
    pub port: u16,
    pub base: String,
    pub client: awc::Client,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Kept so the data dir lives as long as the app (unless a test took it).
    _data_dir: Option<tempfile::TempDir>,
    /// This hub's shared hold on the process (see [`run_alone`]).
    _gate: SharedGuard,
}

fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_env_filter("info").try_init();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
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
    let gate = shared().await;
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
        port,
        base: format!("http://127.0.0.1:{port}"),
        client: awc::Client::builder().timeout(DEADLINE).finish(),
        handle,
        thread: Some(thread),
        _data_dir: data_dir,
        _gate: gate,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://127.0.0.1:{}/api/ws{query}", self.port)
    }

    /// Stops the server gracefully and waits for its thread.
    pub async fn stop(mut self) {
        self.handle.stop(true).await;
        if let Some(t) = self.thread.take() {
            tokio::task::spawn_blocking(move || t.join()).await.ok();
        }
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
                &json!({"email": email, "password": "correct horse battery"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["user"]["id"].as_str().unwrap().to_owned();
        let (access, refresh) = self.login(email, "correct horse battery").await;
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
