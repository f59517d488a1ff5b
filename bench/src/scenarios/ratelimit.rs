//! `ratelimit`: the cost of the rate limiter on a cheap authenticated GET
//! (`GET /api/auth/me`). Hubs are spawned alternately with the limiter off
//! and on (with a limit so high that nothing is refused), each driven by the
//! same closed-loop clients; the cost is 1 − throughput(on) / throughput(off),
//! from the medians of the rounds.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::bail;
use serde_json::json;

use super::Ctx;
use crate::args::Args;
use crate::http::Client;
use crate::load::{closed_loop, record_call};
use crate::report::{targets as t, Check, Report};
use crate::stats::{now_ns, Summary};

/// The limiter switched on with a limit nothing in a run can reach.
const LIMITER_ON: &[(&str, &str)] = &[
    ("HUB__RATE_LIMIT__ENABLED", "true"),
    ("HUB__RATE_LIMIT__POLICIES__API__LIMIT", "1000000000"),
    ("HUB__RATE_LIMIT__POLICIES__API__WINDOW", "1s"),
];
const LIMITER_OFF: &[(&str, &str)] = &[("HUB__RATE_LIMIT__ENABLED", "false")];

struct Round {
    limiter: bool,
    per_s: f64,
    refused: u64,
    latency: Summary,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

pub async fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let connections: usize = args.get("connections", 32usize)?;
    let duration = args.duration("duration", Duration::from_secs(10))?;
    let rounds: usize = args.get("rounds", 2usize)?;
    args.finish()?;
    if ctx.hub.is_external() {
        bail!("ratelimit spawns its own hubs (limiter off, then on); it cannot use --url");
    }
    println!(
        "ratelimit: GET /api/auth/me, {connections} connections, {duration:?} per hub, {rounds} round(s) of off/on"
    );
    let mut results = Vec::new();
    for round in 0..rounds.max(1) {
        for limiter in [false, true] {
            let env = if limiter { LIMITER_ON } else { LIMITER_OFF };
            let hub = ctx.open_hub(env).await?;
            let user = ctx.users(&hub, 1).await?.remove(0);
            let auth = format!("Bearer {}", user.token);
            // The limiter is really on (or off): look for its headers.
            let probe = Client::new(hub.addr)
                .get("/api/auth/me", &[("Authorization", &auth)])
                .await?;
            if probe.status != 200 {
                bail!(
                    "GET /api/auth/me answered {}: {}",
                    probe.status,
                    probe.snippet()
                );
            }
            let has_headers = probe.header("x-ratelimit-limit").is_some();
            if has_headers != limiter {
                bail!(
                    "the limiter was meant to be {} but X-RateLimit-Limit is {}",
                    if limiter { "on" } else { "off" },
                    if has_headers { "present" } else { "absent" }
                );
            }
            let addr = hub.addr;
            let (tally, elapsed) = closed_loop(connections, duration, |w, end, tally| {
                let auth = auth.clone();
                async move {
                    let mut client = Client::new(addr);
                    while std::time::Instant::now() < end {
                        let t0 = now_ns();
                        let result = match client
                            .get("/api/auth/me", &[("Authorization", &auth)])
                            .await
                        {
                            Ok(r) if r.status == 200 => Ok(()),
                            Ok(r) => Err(format!("HTTP {}", r.status)),
                            Err(e) => Err(format!("{e:#}")),
                        };
                        record_call(&tally, w, t0, result);
                    }
                }
            })
            .await;
            let ok = tally.ok.load(Ordering::Relaxed);
            let per_s = (ok as f64 / elapsed.as_secs_f64()).round();
            let latency = Summary::of(&tally.latency.merged());
            println!(
                "round {} limiter {:<3}: {per_s} requests/s, {} refused or failed",
                round + 1,
                if limiter { "on" } else { "off" },
                tally.errors.load(Ordering::Relaxed),
            );
            println!("  {}", latency.line("GET /api/auth/me"));
            results.push(Round {
                limiter,
                per_s,
                refused: tally.errors.load(Ordering::Relaxed),
                latency,
            });
        }
    }
    let off = median(
        results
            .iter()
            .filter(|r| !r.limiter)
            .map(|r| r.per_s)
            .collect(),
    );
    let on = median(
        results
            .iter()
            .filter(|r| r.limiter)
            .map(|r| r.per_s)
            .collect(),
    );
    let ratio = if off > 0.0 { on / off } else { 0.0 };
    let cost = ((1.0 - ratio) * 10_000.0).round() / 10_000.0;
    println!(
        "median: off {off} requests/s, on {on} requests/s: ratio {:.4}, cost {:.2} %",
        ratio,
        cost * 100.0
    );

    let mut report = Report::new(
        "ratelimit",
        json!({"connections": connections, "duration_s": duration.as_secs_f64(), "rounds": rounds}),
        duration >= Duration::from_secs(10),
    );
    report.hub = json!({
        "spawned": true,
        "bin": ctx.hub.bin.display().to_string(),
        "env_on": LIMITER_ON.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
        "env_off": LIMITER_OFF.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
    });
    report.metrics = json!({
        "off_per_s": off,
        "on_per_s": on,
        "ratio": (ratio * 10_000.0).round() / 10_000.0,
        "cost": cost,
        "rounds": results.iter().map(|r| json!({
            "limiter": r.limiter, "per_s": r.per_s, "failed": r.refused, "latency": r.latency.json(),
        })).collect::<Vec<_>>(),
    });
    report.checks.push(Check::at_most(
        "rate limiter throughput cost",
        cost * 100.0,
        t::RATE_LIMIT_MAX_COST * 100.0,
        "%",
    ));
    let failed: u64 = results.iter().map(|r| r.refused).sum();
    if failed > 0 {
        report
            .integrity_errors
            .push(format!("{failed} requests refused or failed"));
    }
    Ok(report)
}
