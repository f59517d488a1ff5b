//! WebSocket clients: dialing many sessions (spread over 127.0.0.x source
//! addresses when one runs out of ephemeral ports), and the reader each
//! session runs, which times and counts what arrives.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use futures_util::StreamExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::stats::{now_ns, Recorder};

pub type Ws = WebSocketStream<TcpStream>;

/// How long the upgrade plus the `welcome` frame may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);
/// Highest last octet of a 127.0.0.x source address tried.
const MAX_SOURCE_OCTET: u8 = 250;

/// Opens sessions to one hub.
pub struct Dialer {
    hub: SocketAddr,
    /// `--source-addrs K` > 1: round-robin over 127.0.0.1..=K from the start.
    /// 0 or 1: let the kernel pick (127.0.0.1) and move to the next address
    /// only when ports run out.
    spread: usize,
    /// Auto mode: index of the source address in use (0 = kernel's choice).
    current: AtomicUsize,
    /// Forced mode: the next round-robin slot.
    next: AtomicUsize,
}

impl Dialer {
    pub fn new(hub: SocketAddr, spread: usize) -> Self {
        Self {
            hub,
            spread,
            current: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
        }
    }

    /// Highest 127.0.0.x used so far (1 = only 127.0.0.1).
    pub fn source_addresses_used(&self) -> usize {
        if self.spread > 1 {
            self.spread
        } else {
            self.current.load(Ordering::Relaxed) + 1
        }
    }

    async fn tcp(&self) -> anyhow::Result<TcpStream> {
        loop {
            let index = if self.spread > 1 {
                self.next.fetch_add(1, Ordering::Relaxed) % self.spread
            } else {
                self.current.load(Ordering::Relaxed)
            };
            let result = if self.spread <= 1 && index == 0 {
                TcpStream::connect(self.hub).await
            } else {
                let octet = u8::try_from(index + 1).unwrap_or(MAX_SOURCE_OCTET);
                bound_connect(Ipv4Addr::new(127, 0, 0, octet), self.hub).await
            };
            match result {
                Ok(s) => {
                    s.set_nodelay(true).ok();
                    return Ok(s);
                }
                Err(e)
                    if self.spread <= 1
                        && matches!(
                            e.kind(),
                            ErrorKind::AddrNotAvailable | ErrorKind::AddrInUse
                        ) =>
                {
                    if index + 1 >= usize::from(MAX_SOURCE_OCTET) {
                        bail!("out of source addresses and ports: {e}");
                    }
                    // This address is out of ports: move everyone to the next.
                    let _ = self.current.compare_exchange(
                        index,
                        index + 1,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
                Err(e) => return Err(e).with_context(|| format!("connecting to {}", self.hub)),
            }
        }
    }

    /// An authenticated session: TCP, upgrade with `Authorization: Bearer`,
    /// and its `welcome` frame. `query` is `""` or `?a=b&…`.
    pub async fn connect(&self, token: &str, query: &str) -> anyhow::Result<Ws> {
        tokio::time::timeout(HANDSHAKE_TIMEOUT, self.connect_inner(token, query))
            .await
            .map_err(|_| anyhow!("no welcome within {HANDSHAKE_TIMEOUT:?}"))?
    }

    async fn connect_inner(&self, token: &str, query: &str) -> anyhow::Result<Ws> {
        let stream = self.tcp().await?;
        let mut request = format!("ws://{}/api/ws{query}", self.hub).into_client_request()?;
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        let config = WebSocketConfig {
            // Frames from the hub are small; a small write buffer keeps ten
            // thousand idle clients cheap.
            write_buffer_size: 4 * 1024,
            ..WebSocketConfig::default()
        };
        let (mut ws, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config))
                .await
                .map_err(|e| match e {
                    tokio_tungstenite::tungstenite::Error::Http(r) => {
                        anyhow!("upgrade refused with HTTP {}", r.status())
                    }
                    other => anyhow!("upgrade failed: {other}"),
                })?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) if t.starts_with(r#"{"type":"welcome""#) => {
                    return Ok(ws)
                }
                Some(Ok(Message::Text(t))) => bail!("expected welcome, got {t}"),
                Some(Ok(Message::Close(f))) => {
                    bail!("closed before welcome: {:?}", f.map(|f| u16::from(f.code)))
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => bail!("reading welcome: {e}"),
                None => bail!("closed before welcome"),
            }
        }
    }
}

async fn bound_connect(source: Ipv4Addr, hub: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))?;
    socket.connect(hub).await
}

/// What a frame was, found without parsing the whole JSON (the bench must
/// keep up with hundreds of thousands of frames a second on shared cores).
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// `event`: its id and the `t_ns` stamp in its metadata, if any.
    Event {
        id: &'a str,
        t_ns: Option<u64>,
    },
    /// `broadcast`: the `t_ns` stamp in its data, if any.
    Broadcast {
        t_ns: Option<u64>,
    },
    Other,
}

fn number_after(text: &str, key: &str) -> Option<u64> {
    let at = text.find(key)? + key.len();
    let digits = text[at..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?;
    digits.parse().ok()
}

fn string_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = text.find(key)? + key.len();
    let rest = &text[at..];
    rest.find('"').map(|end| &rest[..end])
}

/// Classifies a server frame (see [`Frame`]).
pub fn scan(text: &str) -> Frame<'_> {
    if text.starts_with(r#"{"type":"event""#) {
        Frame::Event {
            id: string_after(text, r#""id":""#).unwrap_or(""),
            t_ns: number_after(text, r#""t_ns":"#),
        }
    } else if text.starts_with(r#"{"type":"broadcast""#) {
        Frame::Broadcast {
            t_ns: number_after(text, r#""t_ns":"#),
        }
    } else {
        Frame::Other
    }
}

/// Counters every reader of a run shares.
#[derive(Default)]
pub struct Tally {
    /// publish→receive latency of counted frames.
    pub latency: Recorder,
    /// Frames counted (events of this run, or broadcasts).
    pub received: AtomicU64,
    /// An event id not greater than the previous one on the same session.
    pub out_of_order: AtomicU64,
    /// An event id equal to the previous one on the same session.
    pub duplicates: AtomicU64,
    /// Sessions that ended while the run still wanted them.
    pub closed: AtomicU64,
    /// Close codes seen, for the report.
    pub close_codes: Mutex<BTreeMap<u16, u64>>,
    /// `now_ns` of the last close (the SIGTERM scenario times it).
    pub last_close_ns: AtomicU64,
}

impl Tally {
    pub fn closed_with(&self) -> BTreeMap<u16, u64> {
        self.close_codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn note_close(&self, code: u16) {
        self.closed.fetch_add(1, Ordering::Relaxed);
        *self
            .close_codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(code)
            .or_default() += 1;
        self.last_close_ns.fetch_max(now_ns(), Ordering::Relaxed);
    }
}

/// What a reader counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counting {
    /// `event` frames whose metadata carries this run's marker.
    Events,
    /// `broadcast` frames.
    Broadcasts,
    /// Nothing (idle sessions); only closes matter.
    Nothing,
}

/// Reads one session until it closes (or the task is aborted), answering the
/// hub's pings (tungstenite queues the pong and flushes it on the next read).
/// Close code 1006 stands for a connection that ended without a close frame.
pub async fn read_session(
    mut ws: Ws,
    key: usize,
    counting: Counting,
    run_marker: Arc<str>,
    tally: Arc<Tally>,
) {
    let mut last_id = String::new();
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => match (counting, scan(&text)) {
                (Counting::Events, Frame::Event { id, t_ns }) => {
                    if !text.contains(&*run_marker) {
                        continue;
                    }
                    if let Some(t) = t_ns {
                        tally.latency.record(key, now_ns().saturating_sub(t));
                    }
                    tally.received.fetch_add(1, Ordering::Relaxed);
                    // Ids are zero-padded decimal: string order is id order.
                    match id.cmp(last_id.as_str()) {
                        std::cmp::Ordering::Greater => {}
                        std::cmp::Ordering::Equal => {
                            tally.duplicates.fetch_add(1, Ordering::Relaxed);
                        }
                        std::cmp::Ordering::Less => {
                            tally.out_of_order.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    last_id.clear();
                    last_id.push_str(id);
                }
                (Counting::Broadcasts, Frame::Broadcast { t_ns }) => {
                    if let Some(t) = t_ns {
                        tally.latency.record(key, now_ns().saturating_sub(t));
                    }
                    tally.received.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            },
            Some(Ok(Message::Close(frame))) => {
                tally.note_close(frame.map(|f| u16::from(f.code)).unwrap_or(1005));
                return;
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                tally.note_close(1006);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_frames() {
        let event = r#"{"type":"event","id":"0000000000000000042","event":"notification","data":{"id":"0000000000000000042","metadata":{"run":"r1","t_ns":1700000000123456789},"title":"x"}}"#;
        assert_eq!(
            scan(event),
            Frame::Event {
                id: "0000000000000000042",
                t_ns: Some(1_700_000_000_123_456_789)
            }
        );
        let b = r#"{"type":"broadcast","data":{"title":"t","data":{"t_ns":17},"sent_at":"x"}}"#;
        assert_eq!(scan(b), Frame::Broadcast { t_ns: Some(17) });
        assert_eq!(scan(r#"{"type":"pong","timestamp":1}"#), Frame::Other);
        assert_eq!(
            scan(r#"{"type":"event","id":"1","data":{}}"#),
            Frame::Event {
                id: "1",
                t_ns: None
            }
        );
    }

    #[tokio::test]
    async fn dialer_spreads_over_loopback_sources() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dialer = Dialer::new(listener.local_addr().unwrap(), 3);
        let mut sources = Vec::new();
        for _ in 0..3 {
            let _client = dialer.tcp().await.unwrap();
            let (_, peer) = listener.accept().await.unwrap();
            sources.push(peer.ip().to_string());
        }
        sources.sort();
        assert_eq!(sources, ["127.0.0.1", "127.0.0.2", "127.0.0.3"]);
        assert_eq!(dialer.source_addresses_used(), 3);
    }
}
