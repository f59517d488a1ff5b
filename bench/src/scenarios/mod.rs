//! One module per scenario; each reads its knobs (defaults = the target loads), runs
//! against a real hub and returns a [`Report`](crate::report::Report).

pub mod analytics;
pub mod broadcast;
pub mod cross_node;
pub mod fanout;
pub mod idle;
pub mod login_storm;
pub mod publish;
pub mod ratelimit;
pub mod sigterm;
pub mod soak;
pub mod webhooks;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;

use crate::args::Args;
use crate::hub::{Hub, HubOptions, StartError};
use crate::load::FanoutPlan;
use crate::report::NotAvailable;
use crate::sys::CpuMeter;
use crate::users::{cache_path, ensure_users, BenchUser};

/// What every scenario shares: how to reach hubs, and client-side knobs.
pub struct Ctx {
    pub hub: HubOptions,
    /// `--source-addrs K`: spread client sockets over 127.0.0.1..=K from the
    /// start (0: only when 127.0.0.1 runs out of ports).
    pub source_addrs: usize,
    /// `--users-cache FILE`: where registered users are remembered.
    pub users_cache: Option<PathBuf>,
}

impl Ctx {
    pub fn from_args(args: &Args) -> anyhow::Result<Self> {
        Ok(Self {
            hub: HubOptions::from_args(args)?,
            source_addrs: args.get("source-addrs", 0usize)?,
            users_cache: args.string("users-cache").map(PathBuf::from),
        })
    }

    /// The hub of this run (spawned with `env` on top of the defaults).
    pub async fn open_hub(&self, env: &[(&str, &str)]) -> anyhow::Result<Hub> {
        Hub::open(&self.hub, env).await.map_err(|e| match e {
            StartError::Other(e) => e,
            refused @ StartError::Refused { .. } => anyhow::anyhow!("{refused}"),
        })
    }

    /// Like [`open_hub`](Self::open_hub), but a hub that refuses to start
    /// means the feature is not in this build.
    pub async fn open_hub_for_feature(
        &self,
        feature: &str,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Hub> {
        Hub::open(&self.hub, env).await.map_err(|e| match e {
            StartError::Other(e) => e,
            StartError::Refused { log_tail } => {
                NotAvailable(format!("{feature}: the hub refused to start ({log_tail})")).into()
            }
        })
    }

    /// `n` registered users of `hub` with fresh tokens.
    pub async fn users(&self, hub: &Hub, n: usize) -> anyhow::Result<Vec<BenchUser>> {
        if hub.is_floor {
            // The floor only checks tokens: any user id will do.
            return Ok((0..n)
                .map(|i| BenchUser::minted(&hub.secret, format!("usr_floor{i:06}")))
                .collect());
        }
        let persistent = self
            .hub
            .data_dir
            .as_deref()
            .filter(|_| hub.data_dir().is_some());
        let cache = cache_path(self.users_cache.clone(), persistent);
        ensure_users(hub.addr, &hub.secret, n, cache.as_deref()).await
    }

    /// How a hub is described in the `RESULT` line.
    pub fn hub_json(&self, hub: &Hub, env: &[(&str, &str)]) -> Value {
        let mut extra: Vec<String> = self
            .hub
            .env
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        extra.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        json!({
            "url": hub.url(),
            "spawned": !self.hub.is_external(),
            "bin": (!self.hub.is_external() && !hub.is_floor)
                .then(|| self.hub.bin.display().to_string()),
            "floor": hub.is_floor,
            "env": extra,
            "pid": hub.pid,
        })
    }
}

/// The fan-out knobs, with the given defaults.
pub fn fanout_plan(
    args: &Args,
    users: usize,
    sessions_per_user: usize,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<FanoutPlan> {
    let users = args.get("users", users)?;
    let sessions_per_user = match args.opt::<usize>("sessions")? {
        Some(total) => total.div_ceil(users.max(1)),
        None => args.get("sessions-per-user", sessions_per_user)?,
    };
    Ok(FanoutPlan {
        users,
        sessions_per_user,
        rate: args.get("rate", rate)?,
        duration: args.duration("duration", duration)?,
        warmup: args.duration("warmup", Duration::from_secs(2))?,
        publishers: args.get("publishers", 64usize)?,
        connect_concurrency: args.get("connect-concurrency", 256usize)?,
        drain: args.duration("drain", Duration::from_secs(5))?,
    })
}

/// Measures the hub's CPU while `phase` is true (publishing); resolves to
/// the cores used on average, once the phase ends.
pub fn cpu_while(
    pid: Option<u32>,
    mut phase: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Option<f64>> {
    tokio::spawn(async move {
        while !*phase.borrow() {
            phase.changed().await.ok()?;
        }
        let meter = CpuMeter::start(pid);
        while *phase.borrow() {
            phase.changed().await.ok()?;
        }
        meter.cores()
    })
}
