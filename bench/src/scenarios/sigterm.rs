//! `sigterm`: N sessions open, then SIGTERM to the (spawned) hub; every
//! session must get close code 1012 and the process must be gone within 5 s.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;

use super::Ctx;
use crate::args::Args;
use crate::load::open_sessions;
use crate::report::{targets as t, Check, Report};
use crate::stats::now_ns;
use crate::ws::{Counting, Dialer, Tally};

/// How long to wait for closes and the exit before giving up.
const WAIT_LIMIT: Duration = Duration::from_secs(30);

pub async fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let sessions: usize = args.get("sessions", t::SIGTERM_SESSIONS)?;
    let users: usize = args.get("users", sessions.div_ceil(19).max(1))?;
    let connect_concurrency: usize = args.get("connect-concurrency", 256usize)?;
    args.finish()?;
    if ctx.hub.is_external() {
        bail!("sigterm signals a hub it spawned; it cannot use --url");
    }
    crate::sys::raise_nofile_limit();
    let mut hub = ctx.open_hub(&[]).await?;
    let users = ctx.users(&hub, users).await?;
    let tally = Arc::new(Tally::default());
    let dialer = Arc::new(Dialer::new(hub.addr, ctx.source_addrs));
    let mut open = open_sessions(
        dialer,
        &users,
        sessions,
        connect_concurrency,
        Counting::Nothing,
        Arc::from(""),
        tally.clone(),
    )
    .await?;
    let opened = open.opened() as u64;
    println!(
        "sigterm: {opened} sessions open ({} failed); sending SIGTERM to {}",
        open.failed,
        hub.url()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let signalled_ns = now_ns();
    let signalled = Instant::now();
    hub.signal("TERM")?;
    let mut exit = None;
    while signalled.elapsed() < WAIT_LIMIT {
        if exit.is_none() {
            exit = hub.exited().map(|code| (code, signalled.elapsed()));
        }
        if exit.is_some() && tally.closed.load(Ordering::Relaxed) >= opened {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let codes = tally.closed_with();
    let with_1012 = codes.get(&1012).copied().unwrap_or(0);
    let closed = tally.closed.load(Ordering::Relaxed);
    // Milliseconds are precision enough for a 5 s target.
    let ms = |s: f64| (s * 1_000.0).round() / 1_000.0;
    let all_closed_s = ms(tally
        .last_close_ns
        .load(Ordering::Relaxed)
        .saturating_sub(signalled_ns) as f64
        / 1e9);
    let exit_s = exit.map(|(_, d)| ms(d.as_secs_f64()));
    println!(
        "closed {closed} of {opened} ({with_1012} with 1012) {:?}; last close after {all_closed_s:.3} s; process exit {} after {} s",
        codes,
        exit.map_or("none".into(), |(c, _)| c.to_string()),
        exit_s.map_or("?".into(), |s| format!("{s:.3}"))
    );
    open.close_all();

    let mut report = Report::new(
        "sigterm",
        json!({"sessions": sessions, "users": users.len()}),
        sessions >= t::SIGTERM_SESSIONS,
    );
    report.hub = ctx.hub_json(&hub, &[]);
    report.metrics = json!({
        "sessions_opened": opened,
        "closed": closed,
        "closed_with_1012": with_1012,
        "close_codes": codes,
        "last_close_s": all_closed_s,
        "exit_code": exit.map(|(c, _)| c),
        "exit_s": exit_s,
    });
    report.checks.push(Check::zero(
        "sessions not closed with 1012",
        opened - with_1012.min(opened),
    ));
    report.checks.push(Check::at_most(
        "SIGTERM to process gone",
        exit_s.unwrap_or(f64::INFINITY),
        t::SIGTERM_SECS,
        "s",
    ));
    if open.failed > 0 {
        report
            .integrity_errors
            .push(format!("{} sessions failed to open", open.failed));
    }
    if exit.is_some_and(|(c, _)| c != 0) {
        report
            .integrity_errors
            .push("the hub did not exit with status 0".into());
    }
    Ok(report)
}
