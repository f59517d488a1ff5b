//! `webhooks`: one endpoint per user pointing at a receiver this process
//! runs; activities published at R/s; deliveries per second and the first
//! attempt's latency after the publish's 201.
//!
//! Needs `POST /api/webhooks`. A hub that answers 404 there has no
//! webhooks yet: "not available in this build".

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::KeepAlive;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use anyhow::bail;
use serde_json::{json, Value};

use super::Ctx;
use crate::args::Args;
use crate::http::Client;
use crate::load::{drain, OnCreated, PublishKind, PublishTally, Publisher};
use crate::report::{targets as t, Check, NotAvailable, Report};
use crate::stats::{now_ns, Recorder, Summary};

/// What the receiver saw.
#[derive(Default)]
struct Received {
    /// Requests, retries included.
    requests: AtomicU64,
    /// Distinct `webhook-id`s of this run's activities.
    unique: AtomicU64,
    seen: Mutex<HashSet<String>>,
    /// `now_ns` of each acknowledged activity's 201, by activity id.
    created: Mutex<HashMap<String, u64>>,
    /// Receipt time of deliveries whose 201 the bench had not yet seen.
    early: Mutex<HashMap<String, u64>>,
    /// First attempt, receipt − 201.
    latency: Recorder,
    /// `now_ns` of the last new delivery.
    last_ns: AtomicU64,
}

impl Received {
    fn delivery(&self, webhook_id: &str, body: &[u8], marker: &str) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let now = now_ns();
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        if v["data"]["metadata"]["run"] != marker {
            return;
        }
        if !self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(webhook_id.to_owned())
        {
            return; // a retry of a delivery already counted
        }
        self.unique.fetch_add(1, Ordering::Relaxed);
        self.last_ns.fetch_max(now, Ordering::Relaxed);
        let id = v["data"]["id"].as_str().unwrap_or_default().to_owned();
        let created = self
            .created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .copied();
        match created {
            Some(at) => self.latency.record(0, now.saturating_sub(at)),
            None => {
                self.early
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id, now);
            }
        }
    }

    fn created(&self, id: String, at: u64) {
        let early = self
            .early
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        match early {
            // Delivered before the publisher read its 201: latency ~0.
            Some(_) => self.latency.record(0, 1),
            None => {
                self.created
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id, at);
            }
        }
    }
}

/// What the receiver's handler needs.
struct Receiving {
    marker: Arc<str>,
    seen: Arc<Received>,
}

/// An HTTP server (actix-web) on a free loopback port answering every
/// request 200 with an empty body, keep-alive. It runs until the process
/// ends.
async fn receiver(marker: Arc<str>, seen: Arc<Received>) -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let state = web::Data::new(Receiving { marker, seen });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .default_service(web::to(receive))
    })
    .disable_signals()
    .shutdown_timeout(0)
    // The hub's pooled connections stay open however long they idle.
    .keep_alive(KeepAlive::Os)
    .tcp_nodelay(true)
    .listen(listener)?
    .run();
    tokio::spawn(server);
    Ok(addr)
}

/// Every request, whatever its method and path.
async fn receive(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<Receiving>,
) -> actix_web::Result<HttpResponse> {
    // The raw payload, any size (the extractors' limits do not apply).
    let body = body.to_bytes().await?;
    let id = req
        .headers()
        .get("webhook-id")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    state.seen.delivery(&id, &body, &state.marker);
    Ok(HttpResponse::Ok().finish())
}

pub async fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let users: usize = args.get("users", 20usize)?;
    let rate: f64 = args.get("rate", t::WEBHOOK_PER_SEC)?;
    let duration = args.duration("duration", Duration::from_secs(10))?;
    let publishers: usize = args.get("publishers", 32usize)?;
    let drain_limit = args.duration("drain", Duration::from_secs(30))?;
    args.finish()?;
    if ctx.hub.is_external() {
        println!("note: the external hub must run with HUB__WEBHOOKS__ALLOW_PRIVATE_TARGETS=true");
    }
    let env = [("HUB__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true")];
    let hub = ctx.open_hub_for_feature("webhooks", &env).await?;
    let users = ctx.users(&hub, users).await?;
    let marker: Arc<str> = Arc::from(format!(
        "run-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    ));
    let seen = Arc::new(Received::default());
    let target = receiver(marker.clone(), seen.clone()).await?;
    let mut client = Client::new(hub.addr);
    for (i, u) in users.iter().enumerate() {
        let auth = format!("Bearer {}", u.token);
        let body = json!({"url": format!("http://{target}/hook/{i}"), "events": [], "description": "hub-bench"});
        let r = client
            .post_json(
                "/api/webhooks",
                &[("Authorization", &auth)],
                body.to_string().as_bytes(),
            )
            .await?;
        match r.status {
            201 => {}
            404 | 405 => {
                return Err(NotAvailable(format!(
                    "webhooks: POST /api/webhooks answered {} ({})",
                    r.status,
                    r.snippet()
                ))
                .into())
            }
            s => bail!("POST /api/webhooks answered {s}: {}", r.snippet()),
        }
    }
    println!(
        "webhooks: {} endpoints → receiver {target}; {rate} activities/s for {duration:?} against {}",
        users.len(),
        hub.url()
    );

    let on_created: OnCreated = {
        let seen = seen.clone();
        Arc::new(move |r, at| {
            if let Ok(v) = r.json() {
                if let Some(id) = v["id"].as_str() {
                    seen.created(id.to_owned(), at);
                }
            }
        })
    };
    let publisher = Publisher {
        hub: hub.addr,
        api_key: hub.api_key.clone(),
        user_ids: Arc::new(users.iter().map(|u| u.id.clone()).collect()),
        deliveries: 1,
        kind: PublishKind::Activities,
        limit: None,
        rate,
        duration,
        connections: publishers,
        marker,
        on_created: Some(on_created),
    };
    let ptally = Arc::new(PublishTally::default());
    let start_ns = now_ns();
    let elapsed = publisher.run(ptally.clone()).await;
    let waited = drain(
        drain_limit,
        || ptally.expected.load(Ordering::Relaxed),
        || seen.unique.load(Ordering::Relaxed),
    )
    .await;
    let expected = ptally.expected.load(Ordering::Relaxed);
    let unique = seen.unique.load(Ordering::Relaxed);
    let requests = seen.requests.load(Ordering::Relaxed);
    let lost = expected.saturating_sub(unique);
    let span_s = (seen
        .last_ns
        .load(Ordering::Relaxed)
        .saturating_sub(start_ns) as f64
        / 1e9)
        .max(elapsed.as_secs_f64());
    let per_s = (unique as f64 / span_s).round();
    let latency = Summary::of(&seen.latency.merged());
    println!(
        "activities acknowledged {} ({} errors); deliveries expected {expected}, received {unique} ({requests} requests), lost {lost}; drain {waited:?}",
        ptally.ok.load(Ordering::Relaxed),
        ptally.errors.load(Ordering::Relaxed)
    );
    println!("deliveries: {per_s}/s");
    println!("{}", latency.line("201 → first attempt"));

    let mut report = Report::new(
        "webhooks",
        json!({"endpoints": users.len(), "rate_per_s": rate, "duration_s": duration.as_secs_f64()}),
        rate >= t::WEBHOOK_PER_SEC && duration >= Duration::from_secs(10),
    );
    report.hub = ctx.hub_json(&hub, &env);
    report.metrics = json!({
        "acknowledged": ptally.ok.load(Ordering::Relaxed),
        "publish_errors": ptally.errors.load(Ordering::Relaxed),
        "expected": expected,
        "delivered": unique,
        "requests": requests,
        "lost": lost,
        "deliveries_per_s": per_s,
        "first_attempt_latency": latency.json(),
    });
    report.checks.push(Check::at_least(
        "webhook deliveries/s",
        per_s,
        t::WEBHOOK_PER_SEC,
        "deliveries/s",
    ));
    report.checks.push(Check::at_most(
        "webhook first attempt p99 after the 201",
        latency.p99,
        t::WEBHOOK_FIRST_ATTEMPT_P99_MS,
        "ms",
    ));
    if lost > 0 {
        report
            .integrity_errors
            .push(format!("{lost} deliveries not received"));
    }
    if let Some(e) = ptally.first_error() {
        report.integrity_errors.push(format!("publish error: {e}"));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn receiver_counts_and_dedupes() {
        let seen = Arc::new(Received::default());
        let addr = receiver(Arc::from("m1"), seen.clone()).await.unwrap();
        seen.created("a1".into(), now_ns());
        let mut c = Client::new(addr);
        let body = br#"{"type":"notification","data":{"id":"a1","metadata":{"run":"m1"}}}"#;
        for _ in 0..2 {
            let r = c
                .post_json("/hook/0", &[("webhook-id", "msg_1")], body)
                .await
                .unwrap();
            assert_eq!(r.status, 200);
        }
        assert_eq!(seen.requests.load(Ordering::Relaxed), 2);
        assert_eq!(seen.unique.load(Ordering::Relaxed), 1);
        assert_eq!(seen.latency.merged().len(), 1);
    }
}
