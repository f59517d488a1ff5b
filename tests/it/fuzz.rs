//! The OpenAPI contract, checked from outside: schemathesis generates
//! requests from the hub's own document (`--checks all`: no 5xx, every status
//! and body as documented, schema-valid requests accepted, invalid ones
//! refused, ...) against a real hub, once as a user and once with a service
//! key, and any finding fails the test. It runs from the repository root, so
//! it reads `schemathesis.toml` and its hooks exactly as a person running
//! schemathesis by hand there does.
//!
//! The seed is fixed so a run is repeatable; `HUB_FUZZ_SEED` and
//! `HUB_FUZZ_EXAMPLES` (default 40 per operation) explore further. Webhook
//! targets stay on this machine: the hub under test may only reach 127/8 and
//! ::1 (`webhooks.allowed_networks`), so every other generated URL is refused
//! with 403 and nothing is ever sent off the machine.

use std::process::Command;

use crate::helpers::*;

async fn schemathesis_finds_nothing(backend: Backend) {
    let app = spawn_with(backend, |s| {
        s.webhooks.allow_private_targets = true;
        s.webhooks.allowed_networks = vec!["127.0.0.0/8".into(), "::1/128".into()];
        // `POST …/test` answers once its attempt is over: a generated target
        // that accepts and never answers holds it for this long.
        s.webhooks.timeout = hub_core::settings::Dur(std::time::Duration::from_secs(2));
    })
    .await;
    let (_, token, _) = app
        .user(&format!("fuzz-{}@example.com", unique_prefix()))
        .await;
    let examples = std::env::var("HUB_FUZZ_EXAMPLES").unwrap_or_else(|_| "40".into());
    let seed = std::env::var("HUB_FUZZ_SEED").unwrap_or_else(|_| "20261202".into());
    let document = app.url("/api/openapi.json");
    let (_, doc) = app.get("/api/openapi.json", None).await;
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    for (who, header) in [
        ("a user", format!("Authorization: Bearer {token}")),
        ("a service key", format!("X-API-Key: {SERVICE_KEY}")),
    ] {
        let out = Command::new("python3")
            .args(["-m", "schemathesis.cli", "run", "--checks", "all"])
            .args(["--max-examples", &examples, "--seed", &seed])
            .args(["--generation-database", "none", "--no-color"])
            .args([document.as_str(), "-H", header.as_str()])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("python3 runs (.ci/run installs schemathesis)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "schemathesis, calling as {who}, found problems:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // It really ran: every operation but the WebSocket upgrade was tested.
        let tested = format!("Tested: {}", operations - 1);
        assert!(
            stdout.contains(&tested),
            "as {who}, not {tested}:\n{stdout}"
        );
    }
}

crate::both_modes!(schemathesis_finds_nothing);
