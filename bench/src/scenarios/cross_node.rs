//! `cross-node`: two hubs on one Redis (`HUB__REDIS__URL`), on a Sentinel
//! group (`--redis-url redis+sentinel://…/<master>`, with `--wait-replicas
//! N` for writes confirmed by N replicas), or on a Redis Cluster
//! (`--redis-url redis+cluster://h1:p1,…`); sessions on node B, events
//! published through node A; p99 and nothing lost.
//!
//! A build without cluster mode refuses to start with `redis.url` set: that
//! is reported as "not available in this build", never as a number.

use std::time::Duration;

use anyhow::{bail, Context as _};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{fanout_plan, Ctx};
use crate::args::Args;
use crate::hub::{Hub, StartError};
use crate::load;
use crate::report::{targets as t, Check, NotAvailable, Report};

/// Is a Redis answering PING at `url` (`redis://host:port[/db]`, the first
/// Sentinel of `redis+sentinel://host:port,…/<master>`, or the first node of
/// `redis+cluster://host:port,…`)?
async fn redis_answers(url: &str) -> anyhow::Result<()> {
    let host = url
        .strip_prefix("redis://")
        .or_else(|| url.strip_prefix("redis+sentinel://"))
        .or_else(|| url.strip_prefix("redis+cluster://"))
        .context("--redis-url must start with redis://, redis+sentinel:// or redis+cluster://")?;
    // Credentials first: a password may hold `/` or `,`.
    let host = host.rsplit_once('@').map_or(host, |(_, rest)| rest);
    let host = host.split('/').next().unwrap_or(host);
    let host = host.split(',').next().unwrap_or(host);
    let mut s = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(host))
        .await
        .context("connecting to Redis timed out")?
        .with_context(|| format!("no Redis at {host} (start one: redis-server)"))?;
    s.write_all(b"PING\r\n").await?;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf))
        .await
        .context("Redis did not answer PING")??;
    if !buf[..n].starts_with(b"+PONG") {
        bail!(
            "Redis at {host} answered {:?} to PING",
            String::from_utf8_lossy(&buf[..n])
        );
    }
    Ok(())
}

/// One node; a refusal to start means this build has no cluster mode.
async fn spawn_node(ctx: &Ctx, env: &[(&str, &str)]) -> anyhow::Result<Hub> {
    Hub::spawn(&ctx.hub, env, None).await.map_err(|e| match e {
        StartError::Refused { log_tail } => NotAvailable(format!(
            "cluster mode (HUB__REDIS__URL): the hub refused to start ({log_tail})"
        ))
        .into(),
        StartError::Other(e) => e,
    })
}

pub async fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let plan = fanout_plan(args, 1_000, 5, t::CROSS_NODE_RATE, Duration::from_secs(30))?;
    let redis_url = args
        .string("redis-url")
        .unwrap_or_else(|| "redis://127.0.0.1:6379/0".to_owned());
    let wait_replicas = args.string("wait-replicas").unwrap_or_else(|| "0".into());
    if wait_replicas.parse::<u32>().is_err() {
        bail!("--wait-replicas is a number of replicas");
    }
    args.finish()?;
    if ctx.hub.is_external() {
        bail!("cross-node spawns its two nodes itself; it cannot use --url");
    }
    redis_answers(&redis_url).await?;
    let prefix = format!(
        "hub-bench-{}:",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let env = [
        ("HUB__REDIS__URL", redis_url.as_str()),
        ("HUB__REDIS__KEY_PREFIX", prefix.as_str()),
        ("HUB__REDIS__WAIT_REPLICAS", wait_replicas.as_str()),
    ];
    let a = spawn_node(ctx, &env).await?;
    let b = spawn_node(ctx, &env).await?;
    let users = ctx.users(&a, plan.users).await?;
    println!(
        "cross-node: sessions on {} ({} users × {}), {} events/s published on {} for {:?}",
        b.url(),
        plan.users,
        plan.sessions_per_user,
        plan.rate,
        a.url(),
        plan.duration
    );
    let out = load::fanout(
        b.addr,
        a.addr,
        &a.api_key,
        &users,
        &plan,
        ctx.source_addrs,
        None,
    )
    .await?;
    out.print();

    let full = plan.rate >= t::CROSS_NODE_RATE && plan.duration >= Duration::from_secs(30);
    let mut report = Report::new("cross-node", plan.json(), full);
    report.hub = json!({
        "node_a": ctx.hub_json(&a, &env),
        "node_b": ctx.hub_json(&b, &env),
    });
    report.metrics = out.json();
    report.checks.push(Check::at_most(
        "cross-node p99 publish(A)→receive(B)",
        out.latency.p99,
        t::CROSS_NODE_P99_MS,
        "ms",
    ));
    report
        .checks
        .push(Check::zero("cross-node deliveries lost", out.lost()));
    report.integrity_errors = out.integrity_errors();
    Ok(report)
}
