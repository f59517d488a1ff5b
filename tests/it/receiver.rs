//! A webhook receiver for tests: a real HTTP/1.1 server (actix-web) on
//! 127.0.0.1 that records every request (exact body bytes, headers, arrival
//! time), counts requests in progress, and answers as told: a status, extra
//! headers, a delay, or never (hang).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::{KeepAlive, StatusCode};
use actix_web::{dev::ServerHandle, web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;

use crate::helpers::DEADLINE;

/// How long a hanging reply holds the connection (the hub gives up first).
const HANG_FOR: Duration = Duration::from_secs(60);

/// How to answer one request.
#[derive(Clone, Debug)]
pub enum Reply {
    Status(u16),
    /// A status with extra headers (`Retry-After`, `Location`).
    WithHeaders(u16, Vec<(&'static str, String)>),
    /// Wait, then answer.
    Delay(Duration, u16),
    /// Never answer; close only when the client does.
    Hang,
}

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Captured {
    pub method: String,
    pub path: String,
    /// Lower-cased names.
    pub headers: HashMap<String, String>,
    /// The exact bytes received.
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Captured {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook bodies are JSON")
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Captured>>,
    /// Replies used first, in order; then `default`.
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Shared {
    fn next_reply(&self) -> Reply {
        if let Some(reply) = self.script.lock().unwrap().pop_front() {
            return reply;
        }
        self.default
            .lock()
            .unwrap()
            .clone()
            .unwrap_or(Reply::Status(200))
    }
}

pub struct Receiver {
    pub port: u16,
    shared: Arc<Shared>,
    server: ServerHandle,
}

impl Receiver {
    /// A receiver on a free port, answering 200 until told otherwise.
    pub async fn start() -> Receiver {
        Self::start_on(0).await
    }

    pub async fn start_on(port: u16) -> Receiver {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("receiver binds");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        // Connections stay open until the client closes them, however long
        // idle or slow, and a client closing its side mid-request ends the
        // request (so a hang is over when the hub gives up).
        .keep_alive(KeepAlive::Os)
        .client_request_timeout(Duration::ZERO)
        .h1_allow_half_closed(false)
        .listen(listener)
        .expect("receiver listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            port,
            shared,
            server: handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Answer every request (after the script) this way.
    pub fn set(&self, reply: Reply) {
        *self.shared.default.lock().unwrap() = Some(reply);
    }

    /// Answer the next requests these ways, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }

    /// Most requests ever in progress at once.
    pub fn max_concurrent(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` requests arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Captured> {
        self.wait_for_within(n, DEADLINE).await
    }

    pub async fn wait_for_within(&self, n: usize, wait: Duration) -> Vec<Captured> {
        let end = Instant::now() + wait;
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < end,
                "the receiver got {} requests, expected {n}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // The stop command is sent at once; nothing waits for it to finish.
        drop(self.server.stop(false));
    }
}

/// Counts a request in progress from its arrival until it is answered or
/// its connection closes.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Every request, whatever its method and path: recorded once its body is
/// in, then answered by the next reply.
async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    shared: web::Data<Shared>,
) -> actix_web::Result<HttpResponse> {
    // The raw payload: exact bytes, never decompressed, any size.
    let body = payload.to_bytes().await?.to_vec();
    let _in_flight = InFlight::enter(&shared);
    let headers: HashMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).trim().to_owned(),
            )
        })
        .collect();
    shared.requests.lock().unwrap().push(Captured {
        method: req.method().as_str().to_owned(),
        path: req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned()),
        headers,
        body,
        at: Instant::now(),
    });
    let (code, extra) = match shared.next_reply() {
        Reply::Status(code) => (code, Vec::new()),
        Reply::WithHeaders(code, extra) => (code, extra),
        Reply::Delay(wait, code) => {
            tokio::time::sleep(wait).await;
            (code, Vec::new())
        }
        Reply::Hang => {
            // Until the client gives up and closes, which drops this future
            // (or HANG_FOR, then the connection closes unanswered).
            tokio::time::sleep(HANG_FOR).await;
            return Err(actix_web::error::ErrorRequestTimeout("hung"));
        }
    };
    let mut response = HttpResponse::build(StatusCode::from_u16(code).expect("a status code"));
    response.content_type("application/json");
    for (name, value) in extra {
        response.append_header((name, value));
    }
    Ok(response.body(format!("{{\"received\":true,\"code\":{code}}}")))
}
