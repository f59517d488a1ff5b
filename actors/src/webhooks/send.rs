//! One delivery attempt over HTTP, and what its outcome means for retries.
//!
//! An attempt resolves the URL's host and checks every address (the SSRF
//! guard), connects to the checked address, POSTs the delivery's exact bytes
//! with the Standard Webhooks headers, and reads the response head plus the
//! first KiB of the body, all within `webhooks.timeout`. Redirects are not
//! followed: a 3xx is a failure like any other non-2xx.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header;
use awc::error::{ConnectError, SendRequestError};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use hub_core::webhook::{Delivery, WebhookFormat};
use rand::Rng;
use url::Url;

use super::signing;
use super::ssrf;

/// Bytes of the response body kept in the deliveries log.
pub const MAX_RESPONSE_PREFIX: usize = 1024;
/// Longest `Retry-After` honoured; a receiver cannot park a delivery forever.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);
/// Retry delays vary by this fraction either way, so endpoints that failed
/// together do not retry in lockstep.
pub const JITTER: f64 = 0.10;
/// How long an idle connection to a receiver is kept for the next attempt.
const CONNECTION_KEEP_ALIVE: Duration = Duration::from_secs(30);

/// What every attempt of this hub shares.
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    /// Bound on one attempt, from resolving the host to the response head.
    pub timeout: Duration,
    /// Delay before each attempt of a round; its length is the round's size.
    pub retry_schedule: Vec<Duration>,
    /// Failed attempts in a row that disable an endpoint.
    pub max_consecutive_failures: u32,
    /// Attempts running at once per endpoint.
    pub max_in_flight: usize,
    /// Deliveries an endpoint actor holds in memory; the rest wait in the store.
    pub max_queued: usize,
    /// Where attempts may connect (the SSRF guard and the allowed networks).
    pub targets: ssrf::TargetPolicy,
    /// `aiclone-hub/<version>`.
    pub user_agent: String,
}

/// A TLS configuration for https receivers: ring and the webpki roots, HTTP/1.1.
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// An HTTP client for one endpoint. Each endpoint has its own connection pool,
/// capped at its in-flight limit, so a receiver that holds connections open
/// can never starve another endpoint of connections.
pub fn client(tls: Arc<rustls::ClientConfig>, config: &DeliveryConfig) -> awc::Client {
    let connector = awc::Connector::new()
        .rustls_0_23(tls)
        .timeout(config.timeout)
        .limit(config.max_in_flight)
        .conn_keep_alive(CONNECTION_KEEP_ALIVE);
    // The attempt's own deadline (in `send`) bounds everything, body included.
    awc::Client::builder()
        .connector(connector)
        .disable_redirects()
        .disable_timeout()
        .finish()
}

/// What happened on one attempt.
#[derive(Clone, Debug)]
pub struct AttemptResult {
    pub attempted_at: DateTime<Utc>,
    /// Until the response head arrived, or the attempt failed.
    pub duration: Duration,
    /// HTTP status, if a response head arrived in time.
    pub status: Option<u16>,
    /// Why there is no status (refused, timed out, blocked by the SSRF guard).
    pub error: Option<String>,
    /// The first KiB of the response body (lossy UTF-8).
    pub response_body: Option<String>,
    /// A 429/503 `Retry-After`, as a delay from now.
    pub retry_after: Option<Duration>,
}

/// What an attempt's result means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx within the timeout.
    Success,
    /// 410: the receiver says the endpoint is gone for good.
    Gone,
    /// Anything else; retry no earlier than `not_before` if the receiver said so.
    Failure { not_before: Option<Duration> },
}

impl AttemptResult {
    pub fn verdict(&self) -> Verdict {
        match self.status {
            Some(200..=299) => Verdict::Success,
            Some(410) => Verdict::Gone,
            Some(429 | 503) => Verdict::Failure {
                not_before: self.retry_after,
            },
            _ => Verdict::Failure { not_before: None },
        }
    }

    /// One line for logs and disable reasons.
    pub fn summary(&self) -> String {
        match (self.status, &self.error) {
            (Some(code), _) => format!("HTTP {code}"),
            (None, Some(error)) => error.clone(),
            (None, None) => "no response".into(),
        }
    }
}

/// One request: a delivery in its endpoint's format.
pub struct Attempt {
    pub url: Url,
    /// The delivery id: the `webhook-id` header.
    pub msg_id: String,
    /// The exact body; the signatures cover these bytes.
    pub body: Bytes,
    /// Keys that sign, newest first (two during a secret rotation); none
    /// for the unsigned formats (Slack, Discord).
    pub keys: Vec<Vec<u8>>,
    /// Whether the Standard Webhooks signature headers go with it.
    pub signed: bool,
}

impl Attempt {
    /// `delivery`'s stored envelope, rendered in `format`, to `url`.
    pub fn new(url: Url, delivery: &Delivery, format: WebhookFormat, keys: Vec<Vec<u8>>) -> Self {
        let signed = format.signed();
        Attempt {
            url,
            msg_id: delivery.id.0.clone(),
            body: Bytes::from(format.render(&delivery.payload)),
            keys: if signed { keys } else { Vec::new() },
            signed,
        }
    }
}

/// Sends one attempt and reports what happened; never fails.
pub async fn send(
    client: awc::Client,
    attempt: Attempt,
    config: Arc<DeliveryConfig>,
) -> AttemptResult {
    let attempted_at = hub_core::time::now();
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + config.timeout;
    let head = tokio::time::timeout_at(deadline, async {
        let address = ssrf::resolve_for_attempt(&attempt.url, &config.targets)
            .await
            .map_err(|e| e.to_string())?;
        let timestamp = Utc::now().timestamp();
        let mut request = client
            .post(attempt.url.as_str())
            .address(address)
            .insert_header(("webhook-id", attempt.msg_id.as_str()))
            .insert_header(("webhook-timestamp", timestamp.to_string()));
        if attempt.signed {
            let signature =
                signing::signature_header(&attempt.keys, &attempt.msg_id, timestamp, &attempt.body);
            let legacy = attempt
                .keys
                .first()
                .map(|key| signing::legacy_signature(key, &attempt.body))
                .unwrap_or_default();
            request = request
                .insert_header(("webhook-signature", signature))
                .insert_header(("x-webhook-signature", legacy));
        }
        request
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .insert_header((header::USER_AGENT, config.user_agent.as_str()))
            .send_body(attempt.body.clone())
            .await
            .map_err(|e| match e {
                SendRequestError::Timeout | SendRequestError::Connect(ConnectError::Timeout) => {
                    timed_out(&config)
                }
                other => other.to_string(),
            })
    })
    .await;
    let duration = started.elapsed();
    let mut response = match head {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => return failed(attempted_at, duration, error),
        Err(_) => return failed(attempted_at, duration, timed_out(&config)),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, Utc::now()));
    // The status is in; the body is only for the log, read within what is
    // left of the deadline and never past the first KiB.
    let mut prefix = Vec::new();
    let _ = tokio::time::timeout_at(deadline, async {
        while let Some(Ok(chunk)) = response.next().await {
            let room = MAX_RESPONSE_PREFIX - prefix.len();
            prefix.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if prefix.len() >= MAX_RESPONSE_PREFIX {
                break;
            }
        }
    })
    .await;
    AttemptResult {
        attempted_at,
        duration,
        status: Some(status),
        error: None,
        response_body: (!prefix.is_empty()).then(|| String::from_utf8_lossy(&prefix).into_owned()),
        retry_after,
    }
}

fn timed_out(config: &DeliveryConfig) -> String {
    format!(
        "timed out after {} ms without a response",
        config.timeout.as_millis()
    )
}

fn failed(attempted_at: DateTime<Utc>, duration: Duration, error: String) -> AttemptResult {
    AttemptResult {
        attempted_at,
        duration,
        status: None,
        error: Some(error),
        response_body: None,
        retry_after: None,
    }
}

/// `Retry-After` as seconds or an HTTP date, as a delay from `now`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = DateTime::parse_from_rfc2822(value).ok()?;
        (at.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

/// `delay` ±10 %.
pub fn jittered(delay: Duration) -> Duration {
    if delay.is_zero() {
        return delay;
    }
    delay.mul_f64(rand::thread_rng().gen_range(1.0 - JITTER..=1.0 + JITTER))
}

/// The delay before the next attempt, after `made` failed attempts of the
/// current round, or `None` when the round is over. A receiver's
/// `Retry-After` only ever pushes it later.
pub fn next_delay(
    schedule: &[Duration],
    made: usize,
    not_before: Option<Duration>,
) -> Option<Duration> {
    let delay = jittered(*schedule.get(made)?);
    Some(not_before.map_or(delay, |floor| delay.max(floor)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(status: Option<u16>, retry_after: Option<Duration>) -> AttemptResult {
        AttemptResult {
            attempted_at: Utc::now(),
            duration: Duration::ZERO,
            status,
            error: status.is_none().then(|| "refused".to_owned()),
            response_body: None,
            retry_after,
        }
    }

    #[test]
    fn verdicts() {
        assert_eq!(result(Some(200), None).verdict(), Verdict::Success);
        assert_eq!(result(Some(204), None).verdict(), Verdict::Success);
        assert_eq!(result(Some(410), None).verdict(), Verdict::Gone);
        for code in [301, 302, 307, 400, 404, 500] {
            assert_eq!(
                result(Some(code), Some(Duration::from_secs(9))).verdict(),
                Verdict::Failure { not_before: None },
                "{code}"
            );
        }
        let later = Some(Duration::from_secs(3));
        assert_eq!(
            result(Some(429), later).verdict(),
            Verdict::Failure { not_before: later }
        );
        assert_eq!(
            result(Some(503), later).verdict(),
            Verdict::Failure { not_before: later }
        );
        assert_eq!(
            result(None, None).verdict(),
            Verdict::Failure { not_before: None }
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("99999999999", now), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn schedule_with_jitter_and_retry_after() {
        let schedule = [
            Duration::ZERO,
            Duration::from_secs(5),
            Duration::from_secs(300),
        ];
        assert_eq!(next_delay(&schedule, 0, None), Some(Duration::ZERO));
        for _ in 0..100 {
            let d = next_delay(&schedule, 1, None).unwrap();
            assert!(
                d >= Duration::from_millis(4500) && d <= Duration::from_millis(5500),
                "{d:?}"
            );
        }
        let floor = Duration::from_secs(60);
        assert!(next_delay(&schedule, 1, Some(floor)).unwrap() >= floor);
        assert!(next_delay(&schedule, 2, Some(floor)).unwrap() >= Duration::from_secs(270));
        assert_eq!(next_delay(&schedule, 3, None), None);
    }

    #[test]
    fn tls_config_builds() {
        let config = tls_config().unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
