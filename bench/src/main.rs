//! `hub-bench`: the load generator behind the numbers in BENCHMARKS.md.
//!
//! It drives a real `aiclone-hub` over loopback, either one it spawns (the
//! binary at `--hub-bin`, its own temp data dir, a known signing key and
//! service key, rate limiting off) or an external one (`--url`,
//! `--jwt-secret`, `--api-key`). Each scenario prints human-readable
//! percentiles, a pass/miss per performance target, and one `RESULT {json}` line.
//!
//! Exit status: 0 the scenario ran and lost nothing (targets may still be
//! missed: read the pass/miss lines), 1 it lost or failed work, 2 usage or
//! set-up error, 3 the feature is not available in this hub build.

mod args;
mod floor;
mod http;
mod hub;
mod load;
mod report;
mod scenarios;
mod stats;
mod sys;
mod users;
mod ws;

use std::process::ExitCode;

use args::Args;
use report::{NotAvailable, Report, VsFloor};
use scenarios::Ctx;

const USAGE: &str = "\
hub-bench — load generator for the AI Clone Hub

usage: hub-bench <scenario> [options]

scenarios (defaults are the target loads):
  fanout       --users 2000 --sessions-per-user 5 (or --sessions N) --rate 2000 --duration 30s
               --warmup 2s --publishers 64 --connect-concurrency 256 --drain 5s
  broadcast    --sessions 10000 --users N/5 --rate <1.1×400000/N per s> --duration 10s --warmup 1s
               --publishers 8 --connect-concurrency 256 --drain 5s
  idle         --sessions 19000 --users N/19 --connect-concurrency 256 --settle 2s --hold 5s
  publish      --users 20 --connections 64 --duration 10s --verify-kill9 true|false
               --kill-at T   (kill -9 the hub T into the run, publishers in flight)
  ratelimit    --connections 32 --duration 10s --rounds 2      (spawns hubs: limiter off, on)
  login-storm  fanout options + --login-concurrency 8
  soak         fanout options (--duration 10m) + --sample-every 10s --rss-warmup 60s
  sigterm      --sessions 10000 --users N/19 --connect-concurrency 256
  cross-node   fanout options (--users 1000 --rate 1000) + --redis-url redis://127.0.0.1:6379/0
               (or redis+sentinel://h:p,…/<master>, or redis+cluster://h:p,…) + --wait-replicas 0
  webhooks     --users 20 --rate 2000 --duration 10s --publishers 32 --drain 30s
  analytics    --activities 1000000 --requests 50 --connections 64
  floor        --port P --jwt-secret S --api-key K   (runs the bench's own bare router)

against the floor:
  --vs-floor            fanout, broadcast or idle: run against the floor first, then the
                        hub, each a fresh process; print both and hub ÷ floor per target
  --floor               run the scenario against the floor alone

the hub:
  --hub-bin PATH        binary to spawn (default target/release/aiclone-hub)
  --hub-env KEY=VALUE   extra environment for spawned hubs (repeatable)
  --data-dir DIR        persistent data dir for the spawned hub; registered users are
                        listed in DIR/hub-bench-users.json and reused by the next run
  --hub-log             keep the spawned hub's data dir and print its log path
  --url http://127.0.0.1:PORT --jwt-secret S --api-key K [--hub-pid PID]
                        an external hub instead (its RSS needs --hub-pid)
  --users-cache FILE    where registered users are remembered (external hubs)
  --source-addrs K      spread client sockets over 127.0.0.1..=K from the start
                        (default: move to the next 127.0.0.x only when ports run out)
  --threads N           client runtime threads (default 2)

durations: 250ms, 5s, 10m, 1h or plain seconds.
exit: 0 ran and lost nothing, 1 lost or failed work, 2 usage/set-up error, 3 not available";

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("hub-bench: {e:#}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.scenario.is_empty() || matches!(args.scenario.as_str(), "-h" | "--help" | "help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let threads = match args.get("threads", 2usize) {
        Ok(n) => n.max(1),
        Err(e) => {
            eprintln!("hub-bench: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hub-bench: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    sys::raise_nofile_limit();
    if args.scenario == "floor" {
        let served = runtime.block_on(serve_floor(&args));
        if let Err(e) = served {
            eprintln!("hub-bench floor: {e:#}");
            return ExitCode::from(2);
        }
        return ExitCode::SUCCESS;
    }
    let outcome = runtime.block_on(run(&args));
    // Sessions and readers may still be parked on sockets: don't wait for them.
    runtime.shutdown_background();
    match outcome {
        Ok(Outcome::One(report)) => {
            report.print();
            if report.integrity_errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Ok(Outcome::VsFloor(both)) => {
            both.print();
            if both.hub.integrity_errors.is_empty() && both.floor.integrity_errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            if let Some(na) = e.downcast_ref::<NotAvailable>() {
                println!("{}: {na}", args.scenario);
                println!(
                    "RESULT {}",
                    serde_json::json!({"scenario": args.scenario, "available": false, "reason": na.0})
                );
                ExitCode::from(3)
            } else {
                eprintln!("hub-bench {}: {e:#}", args.scenario);
                ExitCode::from(2)
            }
        }
    }
}

/// What one invocation measured.
enum Outcome {
    One(Report),
    VsFloor(VsFloor),
}

async fn serve_floor(args: &Args) -> anyhow::Result<()> {
    let port: u16 = args.get("port", 0u16)?;
    let secret = args
        .string("jwt-secret")
        .unwrap_or_else(|| hub::BENCH_SECRET.to_owned());
    let api_key = args
        .string("api-key")
        .unwrap_or_else(|| hub::BENCH_API_KEY.to_owned());
    args.string("threads");
    args.finish()?;
    let listener = floor::bind(port).await?;
    floor::serve(listener, &secret, &api_key).await
}

async fn run(args: &Args) -> anyhow::Result<Outcome> {
    let mut ctx = Ctx::from_args(args)?;
    if !args.flag("vs-floor", false)? {
        return Ok(Outcome::One(scenario(args, &ctx).await?));
    }
    if !matches!(args.scenario.as_str(), "fanout" | "broadcast" | "idle") {
        anyhow::bail!(
            "--vs-floor compares fanout, broadcast or idle, not {}",
            args.scenario
        );
    }
    if ctx.hub.is_external() {
        anyhow::bail!("--vs-floor spawns both the floor and the hub: it cannot use --url");
    }
    ctx.hub.floor = true;
    let floor = scenario(args, &ctx).await?;
    ctx.hub.floor = false;
    let hub = scenario(args, &ctx).await?;
    Ok(Outcome::VsFloor(VsFloor { floor, hub }))
}

async fn scenario(args: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    match args.scenario.as_str() {
        "fanout" => scenarios::fanout::run(args, ctx).await,
        "broadcast" => scenarios::broadcast::run(args, ctx).await,
        "idle" => scenarios::idle::run(args, ctx).await,
        "publish" => scenarios::publish::run(args, ctx).await,
        "ratelimit" => scenarios::ratelimit::run(args, ctx).await,
        "login-storm" => scenarios::login_storm::run(args, ctx).await,
        "soak" => scenarios::soak::run(args, ctx).await,
        "sigterm" => scenarios::sigterm::run(args, ctx).await,
        "cross-node" => scenarios::cross_node::run(args, ctx).await,
        "webhooks" => scenarios::webhooks::run(args, ctx).await,
        "analytics" => scenarios::analytics::run(args, ctx).await,
        other => anyhow::bail!("unknown scenario {other:?} (see hub-bench --help)"),
    }
}
