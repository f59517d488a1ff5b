//! `publish`: durable activities per second, many concurrent publishers
//! (closed loop), no sessions. With a spawned hub it then proves the word
//! "durable": `kill -9`, restart on the same data, and check that every
//! acknowledged activity (by id) is there. With `--kill-at T` the hub is
//! killed T into the run, while every publisher has a request in flight.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
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
    let kill_at = args.optional_duration("kill-at")?;
    args.finish()?;
    if verify && ctx.hub.is_external() {
        bail!("--verify-kill9 needs a spawned hub");
    }
    if kill_at.is_some() && !verify {
        bail!("--kill-at needs --verify-kill9 true (a spawned hub)");
    }
    if kill_at.is_some_and(|at| at >= duration) {
        bail!("--kill-at must fall inside --duration");
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
    // The id of every activity the hub acknowledged with a 201.
    let acknowledged: Arc<Mutex<HashSet<String>>> = Arc::default();
    let publisher = if verify {
        let ids = acknowledged.clone();
        Publisher {
            on_created: Some(Arc::new(move |r, _| {
                // Only the id is read: a typed parse skips the rest cheaply.
                #[derive(serde::Deserialize)]
                struct Created {
                    id: String,
                }
                if let Ok(created) = serde_json::from_slice::<Created>(&r.body) {
                    ids.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(created.id);
                }
            })),
            ..publisher
        }
    } else {
        publisher
    };
    if let (Some(at), Some(pid)) = (kill_at, hub.pid) {
        std::thread::spawn(move || {
            std::thread::sleep(at);
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        });
    }
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
    if let Some(at) = kill_at {
        println!("killed with kill -9 at {at:?}; the requests after it failed, as they must");
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
        let stored = ids_since(&restarted, &users, &since).await?;
        let acknowledged = acknowledged.lock().unwrap_or_else(|p| p.into_inner());
        let missing = acknowledged.difference(&stored).count();
        let found = acknowledged.len() - missing;
        println!(
            "after kill -9 and restart: {found} of {} acknowledged activities found \
             ({} stored in all: a request in flight at the kill may have committed \
             without its 201 arriving)",
            acknowledged.len(),
            stored.len()
        );
        survived = Some(found as u64);
        if missing > 0 || acknowledged.len() as u64 != ok {
            report.integrity_errors.push(format!(
                "{missing} acknowledged activities missing after kill -9 ({} ids read of {ok} 201s)",
                acknowledged.len()
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
    // A run killed halfway measures durability, not throughput.
    if kill_at.is_none() {
        report.checks.push(Check::at_least(
            "durable activities/s (embedded)",
            rate,
            t::PUBLISH_PER_SEC,
            "activities/s",
        ));
    }
    if errors > 0 && kill_at.is_none() {
        report.integrity_errors.push(format!(
            "{errors} publish errors (first: {})",
            tally.first_error().unwrap_or_default()
        ));
    }
    Ok(report)
}

/// The ids of the activities of `users` created since `since`, page by page.
async fn ids_since(
    hub: &Hub,
    users: &[BenchUser],
    since: &chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<HashSet<String>> {
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut client = Client::new(hub.addr);
    let key = [("X-API-Key", hub.api_key.as_str())];
    let mut ids = HashSet::new();
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
            for item in page["items"].as_array().context("a page without items")? {
                ids.insert(
                    item["id"]
                        .as_str()
                        .context("an item without an id")?
                        .to_owned(),
                );
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
    }
    Ok(ids)
}
