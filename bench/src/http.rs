//! A minimal HTTP/1.1 keep-alive client over one TCP connection.
//!
//! A load generator must spend as little of the shared two cores as it can:
//! one connection per task, one write per request, `httparse` for the head,
//! bodies by `Content-Length` or chunked. Nothing else (no TLS, no redirects,
//! no pooling) is needed against a hub on loopback.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest a request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Most response headers parsed.
const MAX_HEADERS: usize = 48;
/// Read chunk size.
const READ_CHUNK: usize = 16 * 1024;

/// A response, fully read.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "HTTP {} body is not JSON: {:?}",
                self.status,
                String::from_utf8_lossy(&self.body[..self.body.len().min(200)])
            )
        })
    }

    /// The body as text, shortened, for error messages.
    pub fn snippet(&self) -> String {
        String::from_utf8_lossy(&self.body[..self.body.len().min(300)]).into_owned()
    }
}

/// One keep-alive connection to one server; reconnects when needed.
pub struct Client {
    addr: SocketAddr,
    host: String,
    conn: Option<TcpStream>,
    /// Bytes read past the end of the last response (none in practice).
    buf: Vec<u8>,
}

/// Whether an error happened before the server could have seen the request
/// (a keep-alive connection it had already closed): then a retry is safe.
struct Failure {
    nothing_received: bool,
    error: anyhow::Error,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            host: addr.to_string(),
            conn: None,
            buf: Vec::with_capacity(READ_CHUNK),
        }
    }

    pub async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> anyhow::Result<Response> {
        self.request("GET", path, headers, None).await
    }

    pub async fn post_json(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> anyhow::Result<Response> {
        self.request("POST", path, headers, Some(("application/json", body)))
            .await
    }

    /// Sends one request and reads its whole response.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> anyhow::Result<Response> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (k, v) in headers {
            head.push_str(k);
            head.push_str(": ");
            head.push_str(v);
            head.push_str("\r\n");
        }
        if let Some((content_type, bytes)) = body {
            head.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                bytes.len()
            ));
        }
        head.push_str("\r\n");
        let mut wire = head.into_bytes();
        if let Some((_, bytes)) = body {
            wire.extend_from_slice(bytes);
        }
        let reused = self.conn.is_some();
        match self.exchange(&wire).await {
            Ok(r) => Ok(r),
            Err(f) => {
                self.conn = None;
                self.buf.clear();
                if reused && f.nothing_received {
                    // The server closed an idle keep-alive connection; it never
                    // saw this request, so sending it again cannot duplicate it.
                    self.exchange(&wire).await.map_err(|f| {
                        self.conn = None;
                        f.error
                    })
                } else {
                    Err(f.error)
                }
            }
        }
    }

    async fn exchange(&mut self, wire: &[u8]) -> Result<Response, Failure> {
        let fail = |nothing_received: bool| {
            move |error: anyhow::Error| Failure {
                nothing_received,
                error,
            }
        };
        if self.conn.is_none() {
            let stream = TcpStream::connect(self.addr)
                .await
                .with_context(|| format!("connecting to {}", self.addr))
                .map_err(fail(false))?;
            stream.set_nodelay(true).ok();
            self.conn = Some(stream);
        }
        let result = tokio::time::timeout(REQUEST_TIMEOUT, self.exchange_on_conn(wire)).await;
        match result {
            Ok(r) => r,
            Err(_) => Err(Failure {
                nothing_received: false,
                error: anyhow!("no response within {REQUEST_TIMEOUT:?}"),
            }),
        }
    }

    async fn exchange_on_conn(&mut self, wire: &[u8]) -> Result<Response, Failure> {
        let Some(stream) = self.conn.as_mut() else {
            return Err(Failure {
                nothing_received: false,
                error: anyhow!("no connection"),
            });
        };
        if let Err(e) = stream.write_all(wire).await {
            return Err(Failure {
                nothing_received: true,
                error: e.into(),
            });
        }
        let buf = &mut self.buf;
        // The head.
        let (status, headers, head_len) = loop {
            if !buf.is_empty() {
                let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut parsed = httparse::Response::new(&mut slots);
                match parsed.parse(buf) {
                    Ok(httparse::Status::Complete(n)) => {
                        let headers: Vec<(String, String)> = parsed
                            .headers
                            .iter()
                            .map(|h| {
                                (
                                    h.name.to_ascii_lowercase(),
                                    String::from_utf8_lossy(h.value).into_owned(),
                                )
                            })
                            .collect();
                        break (parsed.code.unwrap_or(0), headers, n);
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(e) => {
                        return Err(Failure {
                            nothing_received: false,
                            error: anyhow!("bad HTTP response head: {e}"),
                        })
                    }
                }
            }
            let nothing_yet = buf.is_empty();
            match read_more(stream, buf).await {
                Ok(0) => {
                    return Err(Failure {
                        nothing_received: nothing_yet,
                        error: anyhow!("connection closed before the response"),
                    })
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(Failure {
                        nothing_received: nothing_yet,
                        error: e.into(),
                    })
                }
            }
        };
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let close = header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
        let length: Option<usize> = header("content-length").and_then(|v| v.trim().parse().ok());
        buf.drain(..head_len);
        let body_result = if chunked {
            read_chunked(stream, buf).await
        } else if let Some(n) = length {
            read_exact_len(stream, buf, n).await
        } else if status == 204 || status == 304 || (100..200).contains(&status) {
            Ok(Vec::new())
        } else {
            // Only a closing server sends a body without a length.
            read_to_end(stream, buf).await
        };
        let body = body_result.map_err(|e| Failure {
            nothing_received: false,
            error: e,
        })?;
        if close || (!chunked && length.is_none()) {
            self.conn = None;
            self.buf.clear();
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let old = buf.len();
    buf.resize(old + READ_CHUNK, 0);
    let n = stream.read(&mut buf[old..]).await;
    buf.truncate(old + *n.as_ref().unwrap_or(&0));
    n
}

async fn read_exact_len(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    n: usize,
) -> anyhow::Result<Vec<u8>> {
    while buf.len() < n {
        if read_more(stream, buf).await? == 0 {
            bail!("connection closed inside the body");
        }
    }
    Ok(buf.drain(..n).collect())
}

async fn read_to_end(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<Vec<u8>> {
    while read_more(stream, buf).await? > 0 {}
    Ok(std::mem::take(buf))
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        // The size line.
        let line_end = loop {
            if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                break i;
            }
            if read_more(stream, buf).await? == 0 {
                bail!("connection closed inside a chunk size");
            }
        };
        let line = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| anyhow!("bad chunk size {size_text:?}"))?;
        buf.drain(..line_end + 2);
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            loop {
                if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                    let empty = i == 0;
                    buf.drain(..i + 2);
                    if empty {
                        return Ok(body);
                    }
                    continue;
                }
                if read_more(stream, buf).await? == 0 {
                    return Ok(body);
                }
            }
        }
        let chunk = read_exact_len(stream, buf, size + 2).await?;
        body.extend_from_slice(&chunk[..size]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that answers each request with the next canned response.
    async fn serve(responses: Vec<&'static str>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            for r in responses {
                let _ = s.read(&mut buf).await.unwrap();
                s.write_all(r.as_bytes()).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn content_length_and_chunked_on_one_connection() {
        let addr = serve(vec![
            "HTTP/1.1 201 Created\r\ncontent-length: 10\r\n\r\n{\"id\":\"1\"}",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nX-A: b\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n",
        ])
        .await;
        let mut c = Client::new(addr);
        let r = c
            .post_json("/x", &[("X-API-Key", "k")], b"{}")
            .await
            .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.json().unwrap()["id"], "1");
        let r = c.get("/y", &[]).await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-a"), Some("b"));
        assert_eq!(r.json().unwrap()["a"], 1);
    }
}
