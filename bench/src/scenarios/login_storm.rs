//! `login-storm`: the fan-out load, and while it publishes, logins
//! (argon2id) hammered concurrently enough to keep a core hashing; the
//! WebSocket p99 under it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use super::{cpu_while, fanout_plan, Ctx};
use crate::args::Args;
use crate::http::Client;
use crate::load::{self, record_call, PublishTally};
use crate::report::{targets as t, Check, Report};
use crate::stats::{now_ns, Summary};
use crate::users::BENCH_PASSWORD;

pub async fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let plan = fanout_plan(
        args,
        t::FANOUT_USERS,
        t::FANOUT_SESSIONS / t::FANOUT_USERS,
        t::FANOUT_RATE,
        Duration::from_secs(30),
    )?;
    let logins: usize = args.get("login-concurrency", 8usize)?;
    args.finish()?;
    let hub = ctx.open_hub(&[]).await?;
    let users = ctx.users(&hub, plan.users).await?;
    println!(
        "login-storm: fanout {} users × {} sessions at {} events/s for {:?}, with {logins} concurrent logins, against {}",
        plan.users,
        plan.sessions_per_user,
        plan.rate,
        plan.duration,
        hub.url()
    );

    let (phase, rx) = watch::channel(false);
    let cpu = cpu_while(hub.pid, rx.clone());
    let login_tally = Arc::new(PublishTally::default());
    let emails: Arc<Vec<String>> = Arc::new(users.iter().map(|u| u.email.clone()).collect());
    let mut storm = Vec::new();
    for w in 0..logins {
        let mut rx = rx.clone();
        let tally = login_tally.clone();
        let emails = emails.clone();
        let addr = hub.addr;
        storm.push(tokio::spawn(async move {
            while !*rx.borrow() {
                if rx.changed().await.is_err() {
                    return;
                }
            }
            let mut client = Client::new(addr);
            let mut n = w;
            while *rx.borrow() {
                let email = &emails[n % emails.len()];
                n += logins;
                let body = json!({"email": email, "password": BENCH_PASSWORD}).to_string();
                let t0 = now_ns();
                let result = match client
                    .post_json("/api/auth/login", &[], body.as_bytes())
                    .await
                {
                    Ok(r) if r.status == 200 => Ok(()),
                    Ok(r) => Err(format!("login answered {}: {}", r.status, r.snippet())),
                    Err(e) => Err(format!("login: {e:#}")),
                };
                record_call(&tally, w, t0, result);
            }
        }));
    }
    let started = std::time::Instant::now();
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
    let storm_time = started.elapsed();
    for s in storm {
        let _ = s.await;
    }
    let cores = cpu.await.ok().flatten();
    let login_ok = login_tally.ok.load(Ordering::Relaxed);
    let login_errors = login_tally.errors.load(Ordering::Relaxed);
    let login_latency = Summary::of(&login_tally.latency.merged());
    out.print();
    let logins_per_s = (login_ok as f64 / plan.duration.as_secs_f64() * 10.0).round() / 10.0;
    println!("logins: {login_ok} ({login_errors} errors), {logins_per_s}/s");
    println!("{}", login_latency.line("POST /api/auth/login"));
    println!(
        "hub CPU while publishing and logging in: {} cores",
        cores.map_or("?".into(), |c| c.to_string())
    );

    let mut params = plan.json();
    params["login_concurrency"] = json!(logins);
    let mut report = Report::new("login-storm", params, super::fanout::is_full_scale(&plan));
    report.hub = ctx.hub_json(&hub, &[]);
    let mut metrics = out.json();
    metrics["logins"] = json!(login_ok);
    metrics["login_errors"] = json!(login_errors);
    metrics["logins_per_s"] = json!(logins_per_s);
    metrics["login_latency"] = login_latency.json();
    metrics["hub_cpu_cores"] = json!(cores);
    metrics["run_seconds"] = json!(storm_time.as_secs_f64());
    report.metrics = metrics;
    report.checks.push(Check::at_most(
        "WebSocket p99 under a login storm",
        out.latency.p99,
        t::LOGIN_STORM_P99_MS,
        "ms",
    ));
    report
        .checks
        .push(Check::zero("deliveries lost", out.lost()));
    report.integrity_errors = out.integrity_errors();
    if login_errors > 0 {
        report.integrity_errors.push(format!(
            "{login_errors} logins failed (first: {})",
            login_tally.first_error().unwrap_or_default()
        ));
    }
    if login_ok == 0 {
        report
            .integrity_errors
            .push("no login succeeded: there was no storm".into());
    }
    Ok(report)
}
