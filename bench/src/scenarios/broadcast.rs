//! `broadcast`: N sessions, B broadcasts/s through `POST /api/broadcast`;
//! frames per second delivered, latency, nothing lost.
//!
//! The offered load defaults to 10 % above the target (B = 1.1 × 400,000 / N),
//! so a pass means the hub kept up with more than the target, losing nothing.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use super::{cpu_while, Ctx};
use crate::args::Args;
use crate::load::{drain, open_sessions, PublishKind, PublishTally, Publisher};
use crate::report::{targets as t, Check, Report};
use crate::stats::Summary;
use crate::ws::{Counting, Dialer, Tally};

pub async fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let sessions: usize = args.get("sessions", t::BROADCAST_SESSIONS)?;
    let users: usize = args.get("users", sessions.div_ceil(5).max(1))?;
    let default_rate = (1.1 * t::BROADCAST_FRAMES_PER_SEC / sessions.max(1) as f64).ceil();
    let rate: f64 = args.get("rate", default_rate)?;
    let duration = args.duration("duration", Duration::from_secs(10))?;
    let warmup = args.duration("warmup", Duration::from_secs(1))?;
    let publishers: usize = args.get("publishers", 8usize)?;
    let connect_concurrency: usize = args.get("connect-concurrency", 256usize)?;
    let drain_limit = args.duration("drain", Duration::from_secs(5))?;
    args.finish()?;

    let hub = ctx.open_hub(&[]).await?;
    let users = ctx.users(&hub, users).await?;
    println!(
        "broadcast: {sessions} sessions, {rate} broadcasts/s (offered {:.0} frames/s) for {duration:?} against {}",
        rate * sessions as f64,
        hub.url()
    );
    let marker: Arc<str> = Arc::from(format!(
        "run-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    ));
    let tally = Arc::new(Tally::default());
    let dialer = Arc::new(Dialer::new(hub.addr, ctx.source_addrs));
    let mut open = open_sessions(
        dialer.clone(),
        &users,
        sessions,
        connect_concurrency,
        Counting::Broadcasts,
        marker.clone(),
        tally.clone(),
    )
    .await?;
    println!(
        "sessions: {} open ({} failed) at {} connects/s",
        open.opened(),
        open.failed,
        open.connects_per_sec()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    let publisher = Publisher {
        hub: hub.addr,
        api_key: hub.api_key.clone(),
        user_ids: Arc::new(Vec::new()),
        deliveries: open.opened() as u64,
        kind: PublishKind::Broadcasts,
        limit: None,
        rate,
        duration,
        connections: publishers,
        marker,
        on_created: None,
    };
    let ptally = Arc::new(PublishTally::default());
    let (phase, rx) = watch::channel(true);
    let cpu = cpu_while(hub.pid, rx.clone());
    // The readers of 10,000 sessions share the two cores with the hub: show
    // whether the generator was the limit.
    let bench_cpu = cpu_while(Some(std::process::id()), rx);
    let reset = {
        let tally = tally.clone();
        tokio::spawn(async move {
            tokio::time::sleep(warmup).await;
            tally.latency.reset();
        })
    };
    let elapsed = publisher.run(ptally.clone()).await;
    reset.abort();
    let waited = drain(
        drain_limit,
        || ptally.expected.load(Ordering::Relaxed),
        || tally.received.load(Ordering::Relaxed),
    )
    .await;
    let _ = phase.send(false);
    let cores = cpu.await.ok().flatten();
    let bench_cores = bench_cpu.await.ok().flatten();

    let sent = ptally.ok.load(Ordering::Relaxed);
    let expected = ptally.expected.load(Ordering::Relaxed);
    let received = tally.received.load(Ordering::Relaxed);
    let lost = expected.saturating_sub(received);
    // Frames delivered over the whole publishing time plus the tail it took
    // to deliver the last ones.
    let frames_per_s = (received as f64 / (elapsed + waited).as_secs_f64()).round();
    let latency = Summary::of(&tally.latency.merged());
    let closed = tally.closed.load(Ordering::Relaxed);
    println!(
        "broadcasts: {sent} sent ({} errors); frames expected {expected} received {received} lost {lost}; sessions closed early {closed} {:?}",
        ptally.errors.load(Ordering::Relaxed),
        tally.closed_with()
    );
    println!("frames delivered: {frames_per_s}/s (drain tail {waited:?})");
    println!("{}", latency.line("broadcast→receive"));
    println!(
        "CPU: hub {} cores, bench {} cores",
        cores.map_or("?".into(), |c| c.to_string()),
        bench_cores.map_or("?".into(), |c| c.to_string())
    );

    let full = sessions >= t::BROADCAST_SESSIONS && duration >= Duration::from_secs(10);
    let mut report = Report::new(
        "broadcast",
        json!({
            "sessions": sessions, "users": users.len(), "rate_per_s": rate,
            "offered_frames_per_s": rate * sessions as f64,
            "duration_s": duration.as_secs_f64(), "publishers": publishers,
        }),
        full,
    );
    report.hub = ctx.hub_json(&hub, &[]);
    report.metrics = json!({
        "sessions_opened": open.opened(),
        "sessions_failed": open.failed,
        "connects_per_s": open.connects_per_sec(),
        "broadcasts_sent": sent,
        "broadcast_errors": ptally.errors.load(Ordering::Relaxed),
        "frames_expected": expected,
        "frames_received": received,
        "lost": lost,
        "frames_per_s": frames_per_s,
        "latency": latency.json(),
        "sessions_closed_early": closed,
        "close_codes": tally.closed_with(),
        "hub_cpu_cores": cores,
        "bench_cpu_cores": bench_cores,
    });
    report.checks.push(Check::at_least(
        "broadcast frames/s delivered",
        frames_per_s,
        t::BROADCAST_FRAMES_PER_SEC,
        "frames/s",
    ));
    report
        .checks
        .push(Check::zero("broadcast frames lost", lost));
    if open.failed > 0 {
        report.integrity_errors.push(format!(
            "{} sessions failed to open: {}",
            open.failed,
            open.first_error.clone().unwrap_or_default()
        ));
    }
    if lost > 0 {
        report
            .integrity_errors
            .push(format!("{lost} broadcast frames lost"));
    }
    if let Some(e) = ptally.first_error() {
        report.integrity_errors.push(format!("publish error: {e}"));
    }
    if closed > 0 {
        report
            .integrity_errors
            .push(format!("{closed} sessions closed during the run"));
    }
    open.close_all();
    Ok(report)
}
