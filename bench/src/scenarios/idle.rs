//! `idle`: N authenticated sessions held open; the connect rate, the hub's
//! RSS before and after, KiB per session.
//!
//! A process may hold 20,000 open files on these machines, so the
//! target is measured at 19,000 sessions and states capacity as KiB per session.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::Ctx;
use crate::args::Args;
use crate::http::Client;
use crate::load::open_sessions;
use crate::report::{targets as t, Check, Report};
use crate::ws::{Counting, Dialer, Tally};

pub async fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let sessions: usize = args.get("sessions", t::IDLE_SESSIONS)?;
    // 19 sessions per user by default keeps registration (argon2) short and
    // stays well under the hub's 50 sessions per user.
    let users: usize = args.get("users", sessions.div_ceil(19).max(1))?;
    let connect_concurrency: usize = args.get("connect-concurrency", 256usize)?;
    let settle = args.duration("settle", Duration::from_secs(2))?;
    let hold = args.duration("hold", Duration::from_secs(5))?;
    args.finish()?;

    let open_files = crate::sys::raise_nofile_limit();
    let hub = ctx.open_hub(&[]).await?;
    let users = ctx.users(&hub, users).await?;
    println!(
        "idle: {sessions} sessions of {} users against {} (open-files limit {open_files})",
        users.len(),
        hub.url()
    );
    tokio::time::sleep(settle).await;
    let rss_before = hub.rss_kib();

    let tally = Arc::new(Tally::default());
    let dialer = Arc::new(Dialer::new(hub.addr, ctx.source_addrs));
    // Whether the generator, not the hub, limited the connect rate.
    let bench_cpu = crate::sys::CpuMeter::start(Some(std::process::id()));
    let hub_cpu = crate::sys::CpuMeter::start(hub.pid);
    let mut open = open_sessions(
        dialer.clone(),
        &users,
        sessions,
        connect_concurrency,
        Counting::Nothing,
        Arc::from(""),
        tally.clone(),
    )
    .await?;
    let connects = open.connects_per_sec();
    let (bench_cores, hub_cores) = (bench_cpu.cores(), hub_cpu.cores());
    println!(
        "opened {} sessions ({} failed) in {:.2} s: {connects} connects/s over {} source address(es)",
        open.opened(),
        open.failed,
        open.connect_time.as_secs_f64(),
        dialer.source_addresses_used()
    );
    println!(
        "CPU while connecting: hub {} cores, bench {} cores",
        hub_cores.map_or("?".into(), |c| c.to_string()),
        bench_cores.map_or("?".into(), |c| c.to_string())
    );
    if let Some(e) = &open.first_error {
        println!("first connect error: {e}");
    }
    tokio::time::sleep(settle).await;
    let rss_after = hub.rss_kib();
    tokio::time::sleep(hold).await;
    let rss_end = hub.rss_kib();

    // The hub's own count: every session really is held.
    let node_sessions = match users.first() {
        Some(u) => {
            let auth = format!("Bearer {}", u.token);
            let r = Client::new(hub.addr)
                .get("/api/ws/status", &[("Authorization", &auth)])
                .await?;
            r.json()?["node_sessions"].as_u64()
        }
        None => None,
    };
    let closed = tally.closed.load(Ordering::Relaxed);
    let per_session = match (rss_before, rss_after) {
        (Some(b), Some(a)) if open.opened() > 0 => {
            Some(((a.saturating_sub(b)) as f64 / open.opened() as f64 * 100.0).round() / 100.0)
        }
        _ => None,
    };
    let show = |v: Option<u64>| v.map_or("?".to_owned(), |v| v.to_string());
    println!(
        "hub RSS: before {} KiB, after {} KiB, after holding {hold:?} {} KiB",
        show(rss_before),
        show(rss_after),
        show(rss_end)
    );
    println!(
        "per session: {} KiB; hub reports {} sessions; closed while held: {closed}",
        per_session.map_or("?".to_owned(), |v| v.to_string()),
        show(node_sessions)
    );

    let full = sessions >= t::IDLE_SESSIONS;
    let mut report = Report::new(
        "idle",
        json!({
            "sessions": sessions, "users": users.len(),
            "connect_concurrency": connect_concurrency,
            "hold_s": hold.as_secs_f64(),
        }),
        full,
    );
    report.hub = ctx.hub_json(&hub, &[]);
    report.metrics = json!({
        "sessions_opened": open.opened(),
        "sessions_failed": open.failed,
        "connect_seconds": open.connect_time.as_secs_f64(),
        "connects_per_s": connects,
        "connect_hub_cpu_cores": hub_cores,
        "connect_bench_cpu_cores": bench_cores,
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "rss_after_hold_kib": rss_end,
        "kib_per_session": per_session,
        "hub_node_sessions": node_sessions,
        "closed_while_held": closed,
        "close_codes": tally.closed_with(),
        "source_addresses": dialer.source_addresses_used(),
        "open_files_limit": open_files,
    });
    match per_session {
        Some(kib) => report.checks.push(Check::at_most(
            "idle KiB per authenticated session",
            kib,
            t::IDLE_KIB_PER_SESSION,
            "KiB",
        )),
        None => report
            .integrity_errors
            .push("the hub's RSS is unknown (pass --hub-pid for an external hub)".into()),
    }
    report.checks.push(Check::at_least(
        "authenticated connects/s",
        connects,
        t::CONNECTS_PER_SEC,
        "connects/s",
    ));
    if open.failed > 0 {
        report.integrity_errors.push(format!(
            "{} sessions failed to open: {}",
            open.failed,
            open.first_error.clone().unwrap_or_default()
        ));
    }
    if closed > 0 {
        report
            .integrity_errors
            .push(format!("{closed} sessions closed while held"));
    }
    if node_sessions.is_some_and(|n| (n as usize) < open.opened()) && !ctx.hub.is_external() {
        report.integrity_errors.push(format!(
            "the hub holds {} sessions, the bench opened {}",
            show(node_sessions),
            open.opened()
        ));
    }
    open.close_all();
    Ok(report)
}
