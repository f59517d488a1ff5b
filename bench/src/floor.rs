//! The floor: a bare router of the bench's own, to measure the hub against.
//!
//! It speaks just enough of the hub's protocol for the fan-out, broadcast and
//! idle scenarios: the WebSocket upgrade at `/api/ws` (the access token
//! checked as the hub checks it, HS256 with the same claims, then a `welcome`
//! frame), `POST /api/activities` and `POST /api/broadcast` with a service
//! key (an id from a counter, the same `event` and `broadcast` frames pushed
//! to the user's or every session), `GET /health` and `GET /api/ws/status`.
//! No storage, no rate limits, no tracing, no history: whatever the hub
//! spends beyond this is its own cost, and `--vs-floor` prints the ratio.
//!
//! It runs as a process of its own (`hub-bench floor --port P`), spawned
//! like the hub, so its memory and CPU are read the same way.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Frames waiting for one session; a session that falls this far behind is
/// dropped (the hub closes it with 4008).
const SESSION_QUEUE: usize = 256;
/// Largest request head or body the floor reads.
const MAX_REQUEST: usize = 64 * 1024;
/// Room made for each read of a request.
const READ_CHUNK: usize = 2048;

/// The open sessions of one user: each a queue into its socket's task.
type Queues = Vec<(u64, mpsc::Sender<Arc<str>>)>;

/// What every connection shares.
struct Floor {
    /// Checks access tokens, as the hub does: HS256 with this key...
    key: DecodingKey,
    /// ...and the hub's issuer, audience and expiry rules.
    validation: Validation,
    /// The service key publishes must carry.
    api_key: String,
    /// Open sessions by user.
    users: Mutex<HashMap<String, Queues>>,
    /// The last activity id given out.
    seq: AtomicU64,
    /// Session ids, and how many are open.
    next_session: AtomicU64,
    sessions: AtomicUsize,
}

#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
}

/// Serves on `listener` until the process ends.
pub async fn serve(listener: TcpListener, secret: &str, api_key: &str) -> anyhow::Result<()> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["aiclone-hub"]);
    validation.set_issuer(&["aiclone-hub"]);
    let floor = Arc::new(Floor {
        key: DecodingKey::from_secret(secret.as_bytes()),
        validation,
        api_key: api_key.to_owned(),
        users: Mutex::new(HashMap::new()),
        seq: AtomicU64::new(0),
        next_session: AtomicU64::new(0),
        sessions: AtomicUsize::new(0),
    });
    loop {
        let (stream, _) = listener.accept().await.context("accept")?;
        let _ = stream.set_nodelay(true);
        let floor = floor.clone();
        tokio::spawn(async move {
            let _ = connection(floor, stream).await;
        });
    }
}

/// The port's listener, for `hub-bench floor --port P`.
pub async fn bind(port: u16) -> anyhow::Result<TcpListener> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    // The same backlog the hub asks for, so connect bursts compare fairly.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket.listen(4096)?)
}

/// One parsed request.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request from `stream` (`buf` keeps what was read past it).
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> anyhow::Result<Option<Request>> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(head_len) = req.parse(buf)? {
            let method = req.method.unwrap_or("").to_owned();
            let path = req.path.unwrap_or("").to_owned();
            let headers: Vec<(String, String)> = req
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_owned(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            let length: usize = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0);
            anyhow::ensure!(length <= MAX_REQUEST, "body too large");
            while buf.len() < head_len + length {
                read_more(stream, buf).await?;
            }
            let body = buf[head_len..head_len + length].to_vec();
            buf.drain(..head_len + length);
            return Ok(Some(Request {
                method,
                path,
                headers,
                body,
            }));
        }
        anyhow::ensure!(buf.len() <= MAX_REQUEST, "request head too large");
        if buf.is_empty() {
            // Between requests: the client may close a keep-alive connection.
            buf.reserve(READ_CHUNK);
            if stream.read_buf(buf).await? == 0 {
                return Ok(None);
            }
        } else {
            read_more(stream, buf).await?;
        }
    }
}

/// Reads into `buf`'s spare room (no buffer of its own: the floor should
/// hold per connection no more than a bare server needs).
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<()> {
    buf.reserve(READ_CHUNK);
    anyhow::ensure!(stream.read_buf(buf).await? > 0, "closed mid-request");
    Ok(())
}

async fn respond(stream: &mut TcpStream, status: &str, body: &str) -> anyhow::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    Ok(())
}

/// A keep-alive HTTP connection, or one WebSocket session.
async fn connection(floor: Arc<Floor>, mut stream: TcpStream) -> anyhow::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    while let Some(req) = read_request(&mut stream, &mut buf).await? {
        let route = req.path.split('?').next().unwrap_or("");
        match (req.method.as_str(), route) {
            ("GET", "/api/ws") => {
                // Only the user and the key outlive the upgrade; the request
                // and this connection's buffer are dropped here.
                let Some(user) = floor.user_of(&req) else {
                    return respond(&mut stream, "401 Unauthorized", "{}").await;
                };
                let Some(key) = req.header("sec-websocket-key").map(derive_key) else {
                    return respond(&mut stream, "400 Bad Request", "{}").await;
                };
                drop((req, buf));
                tokio::spawn(session(floor, stream, user, key));
                return Ok(());
            }
            ("GET", "/health") => respond(&mut stream, "200 OK", r#"{"status":"ok"}"#).await?,
            ("GET", "/api/ws/status") => {
                let n = floor.sessions.load(Ordering::Relaxed);
                respond(
                    &mut stream,
                    "200 OK",
                    &json!({ "node_sessions": n }).to_string(),
                )
                .await?
            }
            ("POST", "/api/activities") if floor.is_service(&req) => {
                let (status, body) = floor.publish(&req.body);
                respond(&mut stream, status, &body).await?
            }
            ("POST", "/api/broadcast") if floor.is_service(&req) => {
                let (status, body) = floor.broadcast(&req.body);
                respond(&mut stream, status, &body).await?
            }
            ("POST", _) => respond(&mut stream, "401 Unauthorized", "{}").await?,
            _ => respond(&mut stream, "404 Not Found", "{}").await?,
        }
    }
    Ok(())
}

impl Floor {
    fn is_service(&self, req: &Request) -> bool {
        req.header("x-api-key") == Some(self.api_key.as_str())
    }

    /// The user an access token names, if it checks out.
    fn user_of(&self, req: &Request) -> Option<String> {
        let from_header = req
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "));
        let from_query = req
            .path
            .split_once("token=")
            .map(|(_, t)| t.split('&').next().unwrap_or(""));
        let token = from_header.or(from_query)?;
        jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .ok()
            .map(|d| d.claims.sub)
    }

    /// Stores nothing: gives the activity an id and pushes its frame.
    fn publish(&self, body: &[u8]) -> (&'static str, String) {
        let Ok(mut activity) = serde_json::from_slice::<Value>(body) else {
            return ("400 Bad Request", "{}".into());
        };
        let Some(user) = activity["user_id"].as_str().map(str::to_owned) else {
            return ("422 Unprocessable Entity", "{}".into());
        };
        let id = format!("{:019}", self.seq.fetch_add(1, Ordering::Relaxed) + 1);
        activity["id"] = json!(id);
        activity["created_at"] =
            json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        // Written by hand: serde_json would sort the keys, and clients (the
        // bench too) read `type` first, as the hub sends it.
        let frame: Arc<str> = format!(
            r#"{{"type":"event","id":"{id}","event":{},"data":{activity}}}"#,
            activity["type"]
        )
        .into();
        self.push(Some(&user), &frame);
        ("201 Created", activity.to_string())
    }

    fn broadcast(&self, body: &[u8]) -> (&'static str, String) {
        let Ok(data) = serde_json::from_slice::<Value>(body) else {
            return ("400 Bad Request", "{}".into());
        };
        let frame: Arc<str> = format!(r#"{{"type":"broadcast","data":{data}}}"#).into();
        self.push(None, &frame);
        ("202 Accepted", "{}".into())
    }

    /// Hands `frame` to the sessions of `user` (every session for `None`);
    /// a session whose queue is full is dropped.
    fn push(&self, user: Option<&str>, frame: &Arc<str>) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let send = |queues: &mut Queues| {
            queues.retain(|(_, tx)| tx.try_send(frame.clone()).is_ok());
        };
        match user {
            Some(user) => {
                if let Some(queues) = users.get_mut(user) {
                    send(queues);
                }
            }
            None => users.values_mut().for_each(send),
        }
    }

    fn leave(&self, user: &str, id: u64) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(queues) = users.get_mut(user) {
            queues.retain(|(s, _)| *s != id);
            if queues.is_empty() {
                users.remove(user);
            }
        }
    }
}

fn derive_key(key: &str) -> String {
    derive_accept_key(key.as_bytes())
}

/// Upgrades (the token already checked), says `welcome`, then forwards the
/// session's frames until either side closes.
async fn session(floor: Arc<Floor>, mut stream: TcpStream, user: String, accept: String) {
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
         sec-websocket-accept: {accept}\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    drop(head);
    let config = WebSocketConfig {
        write_buffer_size: 4 * 1024,
        ..WebSocketConfig::default()
    };
    let mut ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(config)).await;
    let id = floor.next_session.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel::<Arc<str>>(SESSION_QUEUE);
    floor
        .users
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(user.clone())
        .or_default()
        .push((id, tx));
    floor.sessions.fetch_add(1, Ordering::Relaxed);
    let welcome = format!(
        r#"{{"type":"welcome","session_id":"ses_floor{id}","user_id":{},"node_id":"floor"}}"#,
        json!(user)
    );
    let result = async {
        ws.send(Message::Text(welcome)).await?;
        loop {
            tokio::select! {
                frame = rx.recv() => match frame {
                    Some(frame) => ws.send(Message::Text(frame.to_string())).await?,
                    None => break,
                },
                incoming = ws.next() => match incoming {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        anyhow::Ok(())
    }
    .await;
    floor.leave(&user, id);
    floor.sessions.fetch_sub(1, Ordering::Relaxed);
    let _ = result;
}
