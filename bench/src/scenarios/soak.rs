//! `soak`: the fan-out load for ten minutes, the hub's RSS sampled every
//! ten seconds; RSS must stay flat (< 5 % growth after the warm-up).

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::watch;

use super::{fanout_plan, Ctx};
use crate::args::Args;
use crate::load;
use crate::report::{targets as t, Check, Report};

pub async fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let plan = fanout_plan(
        args,
        t::FANOUT_USERS,
        t::FANOUT_SESSIONS / t::FANOUT_USERS,
        t::FANOUT_RATE,
        Duration::from_secs(t::SOAK_MINUTES * 60),
    )?;
    let every = args.duration("sample-every", Duration::from_secs(10))?;
    let rss_warmup = args.duration("rss-warmup", Duration::from_secs(60))?;
    args.finish()?;
    let hub = ctx.open_hub(&[]).await?;
    let pid = hub.pid;
    if pid.is_none() {
        anyhow::bail!("soak reads the hub's RSS: pass --hub-pid for an external hub");
    }
    let users = ctx.users(&hub, plan.users).await?;
    println!(
        "soak: {} users × {} sessions at {} events/s for {:?}, RSS every {every:?} (baseline after {rss_warmup:?}) against {}",
        plan.users,
        plan.sessions_per_user,
        plan.rate,
        plan.duration,
        hub.url()
    );

    let (phase, mut rx) = watch::channel(false);
    let sampler = tokio::spawn(async move {
        let mut samples: Vec<(f64, u64)> = Vec::new();
        while !*rx.borrow() {
            if rx.changed().await.is_err() {
                return samples;
            }
        }
        let started = Instant::now();
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Some(kib) = pid.and_then(crate::sys::rss_kib) {
                        let at = started.elapsed().as_secs_f64().round();
                        println!("  t={at:>5} s  RSS {kib} KiB");
                        samples.push((at, kib));
                    }
                }
                changed = rx.changed() => {
                    if changed.is_err() || !*rx.borrow() {
                        return samples;
                    }
                }
            }
        }
    });
    let out = load::fanout(
        hub.addr,
        hub.addr,
        &hub.api_key,
        &users,
        &plan,
        ctx.source_addrs,
        Some(phase),
    )
    .await?;
    let samples = sampler.await.unwrap_or_default();
    out.print();

    let warm = rss_warmup.as_secs_f64();
    let baseline = samples.iter().find(|(at, _)| *at >= warm).map(|s| s.1);
    let last = samples.last().map(|s| s.1);
    let peak = samples
        .iter()
        .filter(|(at, _)| *at >= warm)
        .map(|s| s.1)
        .max();
    let growth = match (baseline, last) {
        (Some(b), Some(l)) if b > 0 => {
            Some(((l as f64 - b as f64) / b as f64 * 10_000.0).round() / 100.0)
        }
        _ => None,
    };
    println!(
        "RSS after warm-up {} KiB, at the end {} KiB, peak {} KiB: growth {} %",
        baseline.map_or("?".into(), |v| v.to_string()),
        last.map_or("?".into(), |v| v.to_string()),
        peak.map_or("?".into(), |v| v.to_string()),
        growth.map_or("?".into(), |v| v.to_string())
    );

    let mut params = plan.json();
    params["sample_every_s"] = json!(every.as_secs_f64());
    params["rss_warmup_s"] = json!(warm);
    let full = super::fanout::is_full_scale(&plan)
        && plan.duration >= Duration::from_secs(t::SOAK_MINUTES * 60);
    let mut report = Report::new("soak", params, full);
    report.hub = ctx.hub_json(&hub, &[]);
    let mut metrics = out.json();
    metrics["rss_samples"] = json!(samples
        .iter()
        .map(|(at, kib)| json!([at, kib]))
        .collect::<Vec<_>>());
    metrics["rss_baseline_kib"] = json!(baseline);
    metrics["rss_last_kib"] = json!(last);
    metrics["rss_peak_kib"] = json!(peak);
    metrics["rss_growth_pct"] = json!(growth);
    report.metrics = metrics;
    match growth {
        Some(g) => report.checks.push(Check {
            what: "soak RSS growth after warm-up".into(),
            target: format!("< {} %", t::SOAK_MAX_GROWTH * 100.0),
            measured: format!("{g} %"),
            value: g,
            pass: g < t::SOAK_MAX_GROWTH * 100.0,
        }),
        None => report.integrity_errors.push(format!(
            "no RSS sample after the {warm} s warm-up: run longer than --rss-warmup"
        )),
    }
    report
        .checks
        .push(Check::zero("deliveries lost", out.lost()));
    report.integrity_errors.extend(out.integrity_errors());
    Ok(report)
}
