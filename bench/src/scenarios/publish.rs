//! `publish`: durable activities per second, many concurrent publishers
//! (closed loop), no sessions. With a spawned hub it then proves the word
//! "durable": `kill -9`, restart on the same data, and count that every
//! acknowledged activity is there.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde_json::json;

use super::Ctx;
use crate::args::Args;
use crate::http::Client;
use crate::hub::Hub;
use crate::load::{PublishKind, PublishTally, Publisher};
use crate::report::{targets as t, Check, Report};
use crate::stats::Summary;
use crate::users::BenchUser;

pub async fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let users: usize = args.get("users", 20usize)?;
    let connections: usize = args.get("connections", 64usize)?;
    let duration = args.duration("duration", Duration::from_secs(10))?;
    let verify = args.flag("verify-kill9", !ctx.hub.is_external())?;
    args.finish()?;
    if verify && ctx.hub.is_external() {
        bail!("--verify-kill9 needs a spawned hub");
    }

    let mut hub = ctx.open_hub(&[]).await?;
    let users = ctx.users(&hub, users).await?;
    println!(
        "publish: {connections} concurrent publishers over {} users for {duration:?} against {}",
        users.len(),
        hub.url()
    );
    let since = chrono::Utc::now() - chrono::Duration::seconds(1);
    let publisher = Publisher {
        hub: hub.addr,
        api_key: hub.api_key.clone(),
        user_ids: Arc::new(users.iter().map(|u| u.id.clone()).collect()),
        deliveries: 0,
        kind: PublishKind::Activities,
        limit: None,
        rate: 0.0,
        duration,
        connections,
        marker: Arc::from("publish"),
        on_created: None,
    };
    let tally = Arc::new(PublishTally::default());
    let meter = crate::sys::CpuMeter::start(hub.pid);
    let elapsed = publisher.run(tally.clone()).await;
    let cores = meter.cores();
    let ok = tally.ok.load(Ordering::Relaxed);
    let errors = tally.errors.load(Ordering::Relaxed);
    let rate = (ok as f64 / elapsed.as_secs_f64()).round();
    let latency = Summary::of(&tally.latency.merged());
    println!(
        "acknowledged {ok} activities ({errors} errors) in {:.2} s: {rate} activities/s",
        elapsed.as_secs_f64()
    );
    println!("{}", latency.line("POST /api/activities"));
    println!(
        "hub CPU: {} cores",
        cores.map_or("?".into(), |c| c.to_string())
    );
    if let Some(e) = tally.first_error() {
        println!("first error: {e}");
    }

    let mut report = Report::new(
        "publish",
        json!({"users": users.len(), "connections": connections, "duration_s": duration.as_secs_f64()}),
        duration >= Duration::from_secs(10),
    );
    report.hub = ctx.hub_json(&hub, &[]);
    let mut survived = None;
    if verify {
        let (dir, _guard) = hub.crash()?;
        let restarted = Hub::spawn(&ctx.hub, &[], Some(&dir))
            .await
            .map_err(|e| anyhow::anyhow!("restarting after kill -9: {e}"))?;
        let found = count_since(&restarted, &users, &since).await?;
        println!("after kill -9 and restart: {found} of {ok} acknowledged activities found");
        survived = Some(found);
        if found < ok {
            report.integrity_errors.push(format!(
                "{} acknowledged activities missing after kill -9",
                ok - found
            ));
        }
    }
    report.metrics = json!({
        "acknowledged": ok,
        "errors": errors,
        "seconds": elapsed.as_secs_f64(),
        "activities_per_s": rate,
        "latency": latency.json(),
        "hub_cpu_cores": cores,
        "found_after_kill9": survived,
    });
    report.checks.push(Check::at_least(
        "durable activities/s (embedded)",
        rate,
        t::PUBLISH_PER_SEC,
        "activities/s",
    ));
    if errors > 0 {
        report.integrity_errors.push(format!(
            "{errors} publish errors (first: {})",
            tally.first_error().unwrap_or_default()
        ));
    }
    Ok(report)
}

/// Counts the activities of `users` created since `since`, page by page.
async fn count_since(
    hub: &Hub,
    users: &[BenchUser],
    since: &chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<u64> {
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut client = Client::new(hub.addr);
    let key = [("X-API-Key", hub.api_key.as_str())];
    let mut total = 0u64;
    for u in users {
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!(
                "/api/activities?user_id={}&since={}&limit=200",
                u.id,
                since.replace(':', "%3A")
            );
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let r = client.get(&path, &key).await?;
            if r.status != 200 {
                bail!("GET {path} answered {}: {}", r.status, r.snippet());
            }
            let page = r.json()?;
            total += page["items"]
                .as_array()
                .context("a page without items")?
                .len() as u64;
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
    }
    Ok(total)
}
