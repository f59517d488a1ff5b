//! Per-request context: the `X-Request-Id` (the caller's if it sent a sane
//! one, else a new one) on every response, and a tracing span around the
//! request. The span records the path only, never the query string, which may
//! hold a WebSocket token.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use hub_core::metrics::Metrics;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest caller-supplied request id we echo back.
const MAX_REQUEST_ID_LEN: usize = 128;

fn caller_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| value.to_owned())
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id =
        caller_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().clone();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    if let Some(metrics) = metrics {
        // The route pattern (`/api/tasks/{id}`), never the raw path: label
        // values stay few, and ids stay out of metrics.
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        metrics.http_request(method.as_str(), &route, status, started.elapsed());
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_us = started.elapsed().as_micros() as u64,
            "request finished"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}
