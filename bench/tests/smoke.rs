//! Smoke tests of the load generator: every scenario runs for about a second
//! at tiny scale against the debug `aiclone-hub`, through the real
//! `hub-bench` binary and its command line. They assert only that the run
//! completes and loses nothing — never a performance number (those are
//! benchmarks, run by hand; see BENCHMARKS.md).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// The hub binary next to this crate's binary (same target dir and
/// profile), built first if it is missing.
///
/// `cargo test --workspace` (what `.ci/run` runs) builds it before any test
/// starts: the server package's own integration tests need it. `cargo test
/// -p hub-bench` alone does not, so then the first test builds it. It is not
/// rebuilt when present: `cargo build -p aiclone-hub` unifies features
/// differently from a test build and would relink the binary every time.
fn hub_bin() -> &'static PathBuf {
    static HUB: OnceLock<PathBuf> = OnceLock::new();
    HUB.get_or_init(|| {
        let bench = PathBuf::from(env!("CARGO_BIN_EXE_hub-bench"));
        let dir = bench.parent().expect("the bench binary has a directory");
        let hub = dir.join("aiclone-hub");
        if !hub.exists() {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut build = Command::new(cargo);
            build
                .args(["build", "-p", "aiclone-hub", "--bin", "aiclone-hub"])
                .current_dir(env!("CARGO_MANIFEST_DIR"));
            if dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let status = build.status().expect("cargo runs");
            assert!(status.success(), "building aiclone-hub failed");
        }
        assert!(hub.exists(), "no hub binary at {}", hub.display());
        hub
    })
}

/// Runs `hub-bench <scenario> <args…>` against a spawned debug hub; returns
/// the exit code and the parsed `RESULT` line.
fn bench(scenario: &str, args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_hub-bench"))
        .arg(scenario)
        .arg("--hub-bin")
        .arg(hub_bin())
        .args(args)
        .output()
        .expect("hub-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let result = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line.\nstdout:\n{stdout}\nstderr:\n{stderr}"));
    let json: Value = serde_json::from_str(result).expect("RESULT is JSON");
    (out.status.code().unwrap_or(-1), json)
}

/// The run completed, lost nothing and reported its checks.
fn assert_clean(scenario: &str, code: i32, result: &Value) {
    assert_eq!(result["scenario"], scenario, "{result}");
    assert_eq!(result["errors"], Value::Array(vec![]), "{result}");
    assert_eq!(code, 0, "{result}");
    assert!(!result["checks"].as_array().unwrap().is_empty(), "{result}");
    assert_eq!(result["full_scale"], false, "{result}");
}

/// A fan-out of about a second: 3 users × 2 sessions, 100 events/s.
const TINY_FANOUT: &[&str] = &[
    "--users",
    "3",
    "--sessions-per-user",
    "2",
    "--rate",
    "100",
    "--duration",
    "1s",
    "--warmup",
    "0s",
    "--publishers",
    "4",
];

#[test]
fn fanout_delivers_everything() {
    let (code, r) = bench("fanout", TINY_FANOUT);
    assert_clean("fanout", code, &r);
    let m = &r["metrics"];
    assert_eq!(m["sessions_opened"], 6);
    assert!(m["published"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(m["expected"], m["received"], "{r}");
    assert_eq!(m["lost"], 0);
    assert_eq!(m["out_of_order"], 0);
    assert!(m["latency"]["count"].as_u64().unwrap() > 0);
}

/// `--vs-floor` runs the scenario against the bench's own router, then the
/// hub; both lose nothing, and each ratio target gets a figure.
#[test]
fn vs_floor_compares_the_floor_and_the_hub() {
    let (code, r) = bench("fanout", &[&["--vs-floor"], TINY_FANOUT].concat());
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["vs_floor"], true, "{r}");
    assert_clean("fanout", 0, &r["floor"]);
    assert_clean("fanout", 0, &r["hub"]);
    for side in ["floor", "hub"] {
        let m = &r[side]["metrics"];
        assert_eq!(m["sessions_opened"], 6, "{side}: {r}");
        assert_eq!(m["expected"], m["received"], "{side}: {r}");
        assert_eq!(m["lost"], 0, "{side}: {r}");
    }
    assert_eq!(
        r["floor"]["hub"]["bin"],
        Value::Null,
        "the floor is no hub binary: {r}"
    );
    let ratios = r["ratios"].as_array().unwrap();
    let fanout = ratios
        .iter()
        .find(|x| x["what"] == "fan-out p99 publish→receive")
        .unwrap_or_else(|| panic!("no fan-out ratio: {r}"));
    assert!(fanout["ratio"].as_f64().unwrap() > 0.0, "{r}");
}

#[test]
fn broadcast_reaches_every_session() {
    let (code, r) = bench(
        "broadcast",
        &[
            "--sessions",
            "5",
            "--users",
            "2",
            "--rate",
            "20",
            "--duration",
            "1s",
            "--warmup",
            "0s",
        ],
    );
    assert_clean("broadcast", code, &r);
    let m = &r["metrics"];
    assert_eq!(m["sessions_opened"], 5);
    assert_eq!(m["lost"], 0);
    assert!(m["frames_received"].as_u64().unwrap() > 0, "{r}");
}

#[test]
fn idle_sessions_are_held_and_measured() {
    let (code, r) = bench(
        "idle",
        &[
            "--sessions",
            "12",
            "--users",
            "2",
            "--settle",
            "200ms",
            "--hold",
            "1s",
        ],
    );
    assert_clean("idle", code, &r);
    let m = &r["metrics"];
    assert_eq!(m["sessions_opened"], 12);
    assert_eq!(m["hub_node_sessions"], 12);
    assert_eq!(m["closed_while_held"], 0);
    assert!(m["rss_after_kib"].as_u64().unwrap() > 0);
    assert!(m["kib_per_session"].is_number(), "{r}");
}

#[test]
fn publish_survives_kill9() {
    let (code, r) = bench(
        "publish",
        &["--users", "2", "--connections", "4", "--duration", "1s"],
    );
    assert_clean("publish", code, &r);
    let m = &r["metrics"];
    assert!(m["acknowledged"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(m["found_after_kill9"], m["acknowledged"], "{r}");
}

#[test]
fn publish_killed_in_flight_keeps_every_acknowledged_activity() {
    let (code, r) = bench(
        "publish",
        &[
            "--users",
            "2",
            "--connections",
            "4",
            "--duration",
            "2s",
            "--kill-at",
            "1s",
        ],
    );
    assert_eq!(r["errors"], Value::Array(vec![]), "{r}");
    assert_eq!(code, 0, "{r}");
    let m = &r["metrics"];
    assert!(m["acknowledged"].as_u64().unwrap() > 0, "{r}");
    // The publishers kept going after the kill, and failed.
    assert!(m["errors"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(m["found_after_kill9"], m["acknowledged"], "{r}");
}

#[test]
fn ratelimit_compares_limiter_off_and_on() {
    let (code, r) = bench(
        "ratelimit",
        &["--connections", "2", "--duration", "1s", "--rounds", "1"],
    );
    assert_clean("ratelimit", code, &r);
    let m = &r["metrics"];
    assert!(m["off_per_s"].as_f64().unwrap() > 0.0, "{r}");
    assert!(m["on_per_s"].as_f64().unwrap() > 0.0, "{r}");
}

#[test]
fn login_storm_runs_beside_fanout() {
    let (code, r) = bench(
        "login-storm",
        &[
            "--users",
            "2",
            "--sessions-per-user",
            "2",
            "--rate",
            "50",
            "--duration",
            "2s",
            "--warmup",
            "0s",
            "--publishers",
            "2",
            "--login-concurrency",
            "2",
        ],
    );
    assert_clean("login-storm", code, &r);
    let m = &r["metrics"];
    assert_eq!(m["lost"], 0);
    assert!(m["logins"].as_u64().unwrap() > 0, "{r}");
}

#[test]
fn soak_samples_rss() {
    let (code, r) = bench(
        "soak",
        &[
            "--users",
            "2",
            "--sessions-per-user",
            "1",
            "--rate",
            "20",
            "--duration",
            "2s",
            "--warmup",
            "0s",
            "--publishers",
            "2",
            "--sample-every",
            "500ms",
            "--rss-warmup",
            "0s",
        ],
    );
    assert_clean("soak", code, &r);
    assert!(
        r["metrics"]["rss_samples"].as_array().unwrap().len() >= 2,
        "{r}"
    );
}

#[test]
fn sigterm_closes_sessions_with_1012() {
    let (code, r) = bench("sigterm", &["--sessions", "6", "--users", "2"]);
    assert_clean("sigterm", code, &r);
    assert_eq!(r["metrics"]["closed_with_1012"], 6, "{r}");
}

/// Scenarios for features being built elsewhere: they either run cleanly or
/// say plainly that this build lacks the feature (exit 3) — never a number
/// made up.
fn runs_or_not_available(scenario: &str, args: &[&str]) {
    let (code, r) = bench(scenario, args);
    if code == 3 {
        assert_eq!(r["available"], false, "{r}");
        assert!(!r["reason"].as_str().unwrap_or("").is_empty(), "{r}");
    } else {
        assert_clean(scenario, code, &r);
    }
}

#[test]
fn webhooks_run_or_are_not_available() {
    runs_or_not_available(
        "webhooks",
        &[
            "--users",
            "2",
            "--rate",
            "20",
            "--duration",
            "1s",
            "--drain",
            "10s",
        ],
    );
}

#[test]
fn analytics_runs_or_is_not_available() {
    runs_or_not_available("analytics", &["--activities", "200", "--requests", "5"]);
}

#[test]
fn cross_node_runs_or_is_not_available() {
    if std::net::TcpStream::connect("127.0.0.1:6379").is_err() {
        eprintln!("skipped: no Redis on 127.0.0.1:6379 (.ci/run starts one)");
        return;
    }
    runs_or_not_available(
        "cross-node",
        &[
            "--users",
            "2",
            "--sessions-per-user",
            "1",
            "--rate",
            "20",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--publishers",
            "2",
        ],
    );
}

#[test]
fn unknown_options_are_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_hub-bench"))
        .args(["fanout", "--sesions", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--sesions"));
}
