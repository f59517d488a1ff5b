//! `analytics`: `GET /api/analytics/summary?time_range=year` for a user with
//! 1,000,000 activities (seeded over REST first, as fast as the hub takes
//! them); latency percentiles over repeated requests, without and with
//! `forecast=true` (each metric's forecast of the next year), which must fit
//! the same budget.
//!
//! Needs the analytics routes: a 404 means "not available in
//! this build". The seeded activities all carry today's time, so they fall
//! in one bucket of the year; the summary still has to count all of them.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;

use super::Ctx;
use crate::args::Args;
use crate::http::Client;
use crate::load::{PublishKind, PublishTally, Publisher};
use crate::report::{targets as t, Check, NotAvailable, Report};
use crate::stats::{histogram, Summary};

const SUMMARY: &str = "/api/analytics/summary?time_range=year";
const SUMMARY_FORECAST: &str = "/api/analytics/summary?time_range=year&forecast=true";

pub async fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let activities: u64 = args.get("activities", t::ANALYTICS_ACTIVITIES as u64)?;
    let requests: usize = args.get("requests", 50usize)?;
    let connections: usize = args.get("connections", 64usize)?;
    args.finish()?;
    let hub = ctx.open_hub(&[]).await?;
    let user = ctx.users(&hub, 1).await?.remove(0);
    let auth = format!("Bearer {}", user.token);
    let mut client = Client::new(hub.addr);
    let probe = client.get(SUMMARY, &[("Authorization", &auth)]).await?;
    match probe.status {
        200 => {}
        404 | 405 => {
            return Err(NotAvailable(format!(
                "analytics: GET {SUMMARY} answered {} ({})",
                probe.status,
                probe.snippet()
            ))
            .into())
        }
        s => bail!("GET {SUMMARY} answered {s}: {}", probe.snippet()),
    }

    println!("analytics: seeding {activities} activities for one user…");
    let seeded = Instant::now();
    let publisher = Publisher {
        hub: hub.addr,
        api_key: hub.api_key.clone(),
        user_ids: Arc::new(vec![user.id.clone()]),
        deliveries: 0,
        kind: PublishKind::Activities,
        limit: Some(activities),
        rate: 0.0,
        duration: Duration::from_secs(24 * 3_600),
        connections,
        marker: Arc::from("analytics"),
        on_created: None,
    };
    let tally = Arc::new(PublishTally::default());
    publisher.run(tally.clone()).await;
    let stored = tally.ok.load(Ordering::Relaxed);
    println!(
        "seeded {stored} activities in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );

    let mut plain = histogram();
    let mut forecast = histogram();
    // Alternated, so both see the same machine state.
    for _ in 0..requests.max(1) {
        for (path, h) in [(SUMMARY, &mut plain), (SUMMARY_FORECAST, &mut forecast)] {
            let t0 = Instant::now();
            let r = client.get(path, &[("Authorization", &auth)]).await?;
            let took = t0.elapsed();
            if r.status != 200 {
                bail!("GET {path} answered {}: {}", r.status, r.snippet());
            }
            if path == SUMMARY_FORECAST && !r.body.windows(10).any(|w| w == b"\"forecast\"") {
                bail!("GET {path} has no forecast: {}", r.snippet());
            }
            h.saturating_record(took.as_nanos().max(1) as u64);
        }
    }
    let latency = Summary::of(&plain);
    let latency_forecast = Summary::of(&forecast);
    println!("{}", latency.line("summary year"));
    println!("{}", latency_forecast.line("summary year, forecast=true"));

    let mut report = Report::new(
        "analytics",
        json!({"activities": activities, "requests": requests}),
        activities >= t::ANALYTICS_ACTIVITIES as u64,
    );
    report.hub = ctx.hub_json(&hub, &[]);
    report.metrics = json!({
        "seeded": stored,
        "latency": latency.json(),
        "latency_forecast": latency_forecast.json(),
    });
    report.checks.push(Check::at_most(
        "analytics summary (year) p99",
        latency.p99,
        t::ANALYTICS_MS,
        "ms",
    ));
    report.checks.push(Check::at_most(
        "analytics summary (year, forecast=true) p99",
        latency_forecast.p99,
        t::ANALYTICS_MS,
        "ms",
    ));
    if stored < activities {
        report.integrity_errors.push(format!(
            "only {stored} of {activities} activities seeded (first error: {})",
            tally.first_error().unwrap_or_default()
        ));
    }
    Ok(report)
}
