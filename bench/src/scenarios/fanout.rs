//! `fanout`: U users × S sessions, R events/s published over REST for D
//! seconds; publish→receive latency of every delivery, nothing lost.

use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use super::{cpu_while, fanout_plan, Ctx};
use crate::args::Args;
use crate::load::{self, FanoutPlan};
use crate::report::{targets as t, Check, Report};

/// Is this plan the target fan-out load?
pub fn is_full_scale(plan: &FanoutPlan) -> bool {
    plan.users >= t::FANOUT_USERS
        && plan.users * plan.sessions_per_user >= t::FANOUT_SESSIONS
        && plan.rate >= t::FANOUT_RATE
        && plan.duration >= Duration::from_secs(30)
}

pub async fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let plan = fanout_plan(
        args,
        t::FANOUT_USERS,
        t::FANOUT_SESSIONS / t::FANOUT_USERS,
        t::FANOUT_RATE,
        Duration::from_secs(30),
    )?;
    args.finish()?;
    let hub = ctx.open_hub(&[]).await?;
    let users = ctx.users(&hub, plan.users).await?;
    println!(
        "fanout: {} users × {} sessions, {} events/s for {:?} against {}",
        plan.users,
        plan.sessions_per_user,
        plan.rate,
        plan.duration,
        hub.url()
    );
    let (phase, watch_rx) = watch::channel(false);
    let cpu = cpu_while(hub.pid, watch_rx);
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
    let cores = cpu.await.ok().flatten();
    out.print();
    println!(
        "hub CPU while publishing: {} cores; RSS now {} KiB",
        cores.map_or("?".into(), |c| c.to_string()),
        hub.rss_kib().map_or("?".into(), |r| r.to_string())
    );

    let mut report = Report::new("fanout", plan.json(), is_full_scale(&plan));
    report.hub = ctx.hub_json(&hub, &[]);
    let mut metrics = out.json();
    metrics["hub_cpu_cores"] = json!(cores);
    metrics["hub_rss_kib"] = json!(hub.rss_kib());
    report.metrics = metrics;
    report.checks.push(Check::at_most(
        "fan-out p99 publish→receive",
        out.latency.p99,
        t::FANOUT_P99_MS,
        "ms",
    ));
    report
        .checks
        .push(Check::zero("fan-out deliveries lost", out.lost()));
    // Opening the sessions is the connect-rate measurement at 10,000.
    report.checks.push(Check::at_least(
        "authenticated connects/s",
        out.connects_per_sec,
        t::CONNECTS_PER_SEC,
        "connects/s",
    ));
    report.integrity_errors = out.integrity_errors();
    Ok(report)
}
