//! The performance targets and how a run reports against them: human lines, a
//! pass/miss per target, and one machine-readable `RESULT {json}` line.
//!
//! The targets live here, in the load generator, and nowhere in the tests:
//! tests prove behaviour, this binary measures.

use serde_json::{json, Value};

/// The performance targets, one constant per number (BENCHMARKS.md
/// explains each).
pub mod targets {
    /// Fan-out load: sessions, users, events/s over REST.
    pub const FANOUT_SESSIONS: usize = 10_000;
    pub const FANOUT_USERS: usize = 2_000;
    pub const FANOUT_RATE: f64 = 2_000.0;
    /// Fan-out publish→receive p99, milliseconds (and nothing lost).
    pub const FANOUT_P99_MS: f64 = 1.5;
    /// Broadcast to this many sessions...
    pub const BROADCAST_SESSIONS: usize = 10_000;
    /// ...delivers at least this many frames per second.
    pub const BROADCAST_FRAMES_PER_SEC: f64 = 400_000.0;
    /// Idle sessions measured (20,000 open files per process, minus margin).
    pub const IDLE_SESSIONS: usize = 19_000;
    /// RSS per authenticated idle session, KiB.
    pub const IDLE_KIB_PER_SESSION: f64 = 8.0;
    /// Authenticated connects per second.
    pub const CONNECTS_PER_SEC: f64 = 10_000.0;
    /// Cross-node: events/s and p99 ms.
    pub const CROSS_NODE_RATE: f64 = 1_000.0;
    pub const CROSS_NODE_P99_MS: f64 = 3.0;
    /// Durable activities per second (embedded).
    pub const PUBLISH_PER_SEC: f64 = 10_000.0;
    /// Most throughput the rate limiter may cost on a cheap GET.
    pub const RATE_LIMIT_MAX_COST: f64 = 0.05;
    /// WebSocket p99 ms while logins saturate a core.
    pub const LOGIN_STORM_P99_MS: f64 = 3.0;
    /// Webhook deliveries per second to a local receiver...
    pub const WEBHOOK_PER_SEC: f64 = 2_000.0;
    /// ...with the first attempt's p99 after the 201, ms.
    pub const WEBHOOK_FIRST_ATTEMPT_P99_MS: f64 = 50.0;
    /// Analytics `year` summary for a user with this many activities...
    pub const ANALYTICS_ACTIVITIES: usize = 1_000_000;
    /// ...answers within, ms.
    pub const ANALYTICS_MS: f64 = 20.0;
    /// Soak: minutes at the fan-out load, and the most RSS growth after warm-up.
    pub const SOAK_MINUTES: u64 = 10;
    pub const SOAK_MAX_GROWTH: f64 = 0.05;
    /// SIGTERM with this many sessions: all closed with 1012, exit within (s).
    pub const SIGTERM_SESSIONS: usize = 10_000;
    pub const SIGTERM_SECS: f64 = 5.0;

    /// What `--vs-floor` holds the hub to: each check's hub figure divided by
    /// the floor's, measured in the same invocation.
    pub const VS_FLOOR: &[(&str, super::Ratio)] = &[
        ("fan-out p99 publish→receive", super::Ratio::AtMost(1.5)),
        (
            "idle KiB per authenticated session",
            super::Ratio::AtMost(1.4),
        ),
        ("authenticated connects/s", super::Ratio::AtLeast(0.8)),
        ("broadcast frames/s delivered", super::Ratio::AtLeast(0.6)),
    ];
}

/// A target for hub ÷ floor.
#[derive(Clone, Copy, Debug)]
pub enum Ratio {
    AtMost(f64),
    AtLeast(f64),
}

impl Ratio {
    pub fn pass(self, ratio: f64) -> bool {
        match self {
            Ratio::AtMost(limit) => ratio <= limit,
            Ratio::AtLeast(limit) => ratio >= limit,
        }
    }

    pub fn text(self) -> String {
        match self {
            Ratio::AtMost(limit) => format!("<= {limit}×"),
            Ratio::AtLeast(limit) => format!(">= {limit}×"),
        }
    }
}

/// One target compared with what was measured.
#[derive(Debug)]
pub struct Check {
    pub what: String,
    pub target: String,
    pub measured: String,
    /// The measured number itself (for ratios against the floor).
    pub value: f64,
    pub pass: bool,
}

impl Check {
    /// `measured <= limit`.
    pub fn at_most(what: &str, measured: f64, limit: f64, unit: &str) -> Self {
        Self {
            what: what.into(),
            target: format!("<= {limit} {unit}"),
            measured: format!("{measured} {unit}"),
            value: measured,
            pass: measured <= limit,
        }
    }

    /// `measured >= floor`.
    pub fn at_least(what: &str, measured: f64, floor: f64, unit: &str) -> Self {
        Self {
            what: what.into(),
            target: format!(">= {floor} {unit}"),
            measured: format!("{measured} {unit}"),
            value: measured,
            pass: measured >= floor,
        }
    }

    pub fn zero(what: &str, measured: u64) -> Self {
        Self {
            what: what.into(),
            target: "0".into(),
            measured: measured.to_string(),
            value: measured as f64,
            pass: measured == 0,
        }
    }
}

/// What a scenario hands back to `main`.
#[derive(Debug)]
pub struct Report {
    pub scenario: &'static str,
    /// Which hub(s) it ran against (URL, binary, extra environment).
    pub hub: Value,
    /// The knobs it ran with.
    pub params: Value,
    /// Everything measured.
    pub metrics: Value,
    pub checks: Vec<Check>,
    /// Whether the knobs are the target loads (else a pass is only indicative).
    pub full_scale: bool,
    /// Lost or failed work (not a performance miss): the run is not valid.
    pub integrity_errors: Vec<String>,
}

impl Report {
    pub fn new(scenario: &'static str, params: Value, full_scale: bool) -> Self {
        Self {
            scenario,
            hub: json!({}),
            params,
            metrics: json!({}),
            checks: Vec::new(),
            full_scale,
            integrity_errors: Vec::new(),
        }
    }

    pub fn all_pass(&self) -> bool {
        self.checks.iter().all(|c| c.pass)
    }

    /// Prints the verdicts and the `RESULT` line.
    pub fn print(&self) {
        self.print_verdicts();
        println!("RESULT {}", self.json());
    }

    /// The pass/miss lines.
    pub fn print_verdicts(&self) {
        println!();
        for c in &self.checks {
            println!(
                "{:<4} {:<44} measured {:<22} target {}",
                if c.pass { "pass" } else { "MISS" },
                c.what,
                c.measured,
                c.target
            );
        }
        if !self.full_scale {
            println!("note: reduced scale — not the target load; pass/miss is indicative only");
        }
        for e in &self.integrity_errors {
            println!("ERROR {e}");
        }
    }

    /// Everything about the run, as the `RESULT` line carries it.
    pub fn json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "date": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "hub": self.hub,
            "full_scale": self.full_scale,
            "params": self.params,
            "metrics": self.metrics,
            "checks": self.checks.iter().map(|c| json!({
                "what": c.what, "target": c.target, "measured": c.measured, "pass": c.pass,
            })).collect::<Vec<_>>(),
            "pass": self.all_pass(),
            "errors": self.integrity_errors,
        })
    }
}

/// One scenario against the floor and then the hub.
pub struct VsFloor {
    pub floor: Report,
    pub hub: Report,
}

impl VsFloor {
    /// hub ÷ floor for every check both runs have and [`targets::VS_FLOOR`]
    /// names: (what, floor, hub, ratio, target).
    pub fn ratios(&self) -> Vec<(String, f64, f64, f64, Ratio)> {
        targets::VS_FLOOR
            .iter()
            .filter_map(|(what, target)| {
                let floor = self.floor.checks.iter().find(|c| c.what == *what)?;
                let hub = self.hub.checks.iter().find(|c| c.what == *what)?;
                let ratio = hub.value / floor.value;
                Some((what.to_string(), floor.value, hub.value, ratio, *target))
            })
            .collect()
    }

    pub fn print(&self) {
        println!("\n== against the floor (hub-bench's own bare router)");
        self.floor.print_verdicts();
        println!("\n== against the hub");
        self.hub.print_verdicts();
        println!();
        let ratios = self.ratios();
        for (what, floor, hub, ratio, target) in &ratios {
            println!(
                "{:<4} {:<44} floor {floor} hub {hub}: {:.2}×   target {}",
                if target.pass(*ratio) { "pass" } else { "MISS" },
                what,
                ratio,
                target.text()
            );
        }
        let line = json!({
            "scenario": self.hub.scenario,
            "vs_floor": true,
            "date": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "ratios": ratios.iter().map(|(what, floor, hub, ratio, target)| json!({
                "what": what, "floor": floor, "hub": hub,
                "ratio": (ratio * 1000.0).round() / 1000.0,
                "target": target.text(), "pass": target.pass(*ratio),
            })).collect::<Vec<_>>(),
            "floor": self.floor.json(),
            "hub": self.hub.json(),
        });
        println!("RESULT {line}");
    }
}

/// The scenario needs a feature this hub build does not have (an unknown
/// route, or the hub refuses the configuration): no numbers are made up.
#[derive(Debug)]
pub struct NotAvailable(pub String);

impl std::fmt::Display for NotAvailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not available in this build: {}", self.0)
    }
}

impl std::error::Error for NotAvailable {}
