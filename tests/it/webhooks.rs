//! Webhooks against a real HTTP receiver running inside the test: CRUD and
//! isolation, Standard Webhooks signing (checked here and by the official
//! Python verifier), retries and their outcomes, disabling, rotation, the
//! deliveries log, isolation between endpoints, the SSRF guard, and
//! durability across `kill -9` of the real binary.

use std::process::Stdio;
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use base64::Engine;
use hmac::{Hmac, Mac};
use hub_core::settings::Dur;
use hub_core::Settings;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::*;
use crate::receiver::{Captured, Receiver, Reply};

fn ms(values: &[u64]) -> Vec<Dur> {
    values
        .iter()
        .map(|v| Dur(Duration::from_millis(*v)))
        .collect()
}

/// Private targets allowed (the receiver is on loopback) and a retry
/// schedule in milliseconds.
fn fast(s: &mut Settings) {
    s.webhooks.allow_private_targets = true;
    s.webhooks.retry_schedule = ms(&[0, 10, 10, 10]);
    s.webhooks.timeout = Dur(Duration::from_secs(5));
}

async fn create_webhook(app: &TestApp, token: &str, url: &str, events: Value) -> (String, String) {
    let (status, body) = app
        .post(
            "/api/webhooks",
            Some(token),
            &json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

async fn webhook(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, body) = app.get(&format!("/api/webhooks/{id}"), Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn deliveries(app: &TestApp, token: &str, id: &str, query: &str) -> Value {
    let (status, body) = app
        .get(
            &format!("/api/webhooks/{id}/deliveries{query}"),
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Waits until the newest delivery of the log satisfies `check`.
async fn wait_for_log(
    app: &TestApp,
    token: &str,
    id: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let end = Instant::now() + DEADLINE;
    loop {
        let log = deliveries(app, token, id, "").await;
        if check(&log) {
            return log;
        }
        assert!(
            Instant::now() < end,
            "timed out waiting for {what}: {log:#}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An independent Standard Webhooks signature (not the hub's code).
fn v1_signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

fn legacy_signature(secret: &str, body: &[u8]) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn signatures(c: &Captured) -> Vec<&str> {
    c.header("webhook-signature").split(' ').collect()
}

fn assert_signed_by(c: &Captured, secret: &str) {
    let expected = v1_signature(
        secret,
        c.header("webhook-id"),
        c.header("webhook-timestamp"),
        &c.body,
    );
    assert!(
        signatures(c).contains(&expected.as_str()),
        "no signature by this secret in {:?}",
        c.header("webhook-signature")
    );
}

async fn crud_isolation_and_validation(backend: Backend) {
    let app = spawn_with(backend, |s| {
        fast(s);
        s.webhooks.max_per_user = 2;
    })
    .await;
    let (alice, a_token, _) = app.user("wh-alice@example.com").await;
    let (_, b_token, _) = app.user("wh-bob@example.com").await;

    let (status, created) = app
        .post(
            "/api/webhooks",
            Some(&a_token),
            &json!({"url": "http://127.0.0.1:9/hook", "events": ["meeting_booked", "outreach_sent"],
                    "description": " CRM sync "}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wh_"));
    assert_eq!(created["user_id"], alice.as_str());
    assert_eq!(created["url"], "http://127.0.0.1:9/hook");
    assert_eq!(
        created["events"],
        json!(["meeting_booked", "outreach_sent"])
    );
    assert_eq!(created["description"], "CRM sync");
    assert_eq!(created["status"], "active");
    assert_eq!(created["consecutive_failures"], 0);
    assert!(created["disabled_reason"].is_null());
    assert!(created["last_delivery_at"].is_null());
    assert!(created["last_status_code"].is_null());
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    let key = base64::engine::general_purpose::STANDARD
        .decode(&secret[6..])
        .unwrap();
    assert_eq!(key.len(), 32);

    // The secret appears only on create and on GET …/secret.
    let got = webhook(&app, &a_token, &id).await;
    assert!(got.get("secret").is_none(), "{got}");
    let (_, list) = app.get("/api/webhooks", Some(&a_token)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["items"][0].get("secret").is_none());
    let (status, shown) = app
        .get(&format!("/api/webhooks/{id}/secret"), Some(&a_token))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["secret"], secret);

    // PUT replaces, PATCH merges (null clears the description).
    let (status, put) = app
        .send_json(
            "PUT",
            &format!("/api/webhooks/{id}"),
            Some(&a_token),
            &json!({"url": "http://127.0.0.1:10/other", "events": []}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put["url"], "http://127.0.0.1:10/other");
    assert_eq!(put["events"], json!([]));
    assert!(put["description"].is_null());
    let (status, patched) = app
        .send_json(
            "PATCH",
            &format!("/api/webhooks/{id}"),
            Some(&a_token),
            &json!({"description": "again", "events": ["notification"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["url"], "http://127.0.0.1:10/other");
    assert_eq!(patched["description"], "again");
    assert_eq!(patched["events"], json!(["notification"]));
    let (_, cleared) = app
        .send_json(
            "PATCH",
            &format!("/api/webhooks/{id}"),
            Some(&a_token),
            &json!({"description": null}),
        )
        .await;
    assert!(cleared["description"].is_null());
    assert_eq!(cleared["events"], json!(["notification"]));

    // Validation: unknown fields, bad events, bad URLs; every one a 422.
    for (method, path, body, field) in [
        (
            "POST",
            "/api/webhooks".to_owned(),
            json!({"url": "http://127.0.0.1:9/", "evnets": []}),
            "evnets",
        ),
        (
            "POST",
            "/api/webhooks".to_owned(),
            json!({"url": "http://127.0.0.1:9/", "events": ["prospect_added", "nope"]}),
            "events[1]",
        ),
        (
            "POST",
            "/api/webhooks".to_owned(),
            json!({"url": "ftp://example.com/x"}),
            "url",
        ),
        (
            "POST",
            "/api/webhooks".to_owned(),
            json!({"url": "not a url"}),
            "url",
        ),
        (
            "POST",
            "/api/webhooks".to_owned(),
            json!({"events": []}),
            "url",
        ),
        (
            "PATCH",
            format!("/api/webhooks/{id}"),
            json!({"status": "disabled"}),
            "status",
        ),
        (
            "PATCH",
            format!("/api/webhooks/{id}"),
            json!({"url": "gopher://x"}),
            "url",
        ),
        (
            "PUT",
            format!("/api/webhooks/{id}"),
            json!({"url": "http://127.0.0.1:9/", "extra": 1}),
            "extra",
        ),
    ] {
        let (status, err) = app.send_json(method, &path, Some(&a_token), &body).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {body}: {err}"
        );
        assert_eq!(err["code"], "validation_failed");
        // A missing field is reported on the body, naming the field.
        assert!(
            err["fields"].as_array().unwrap().iter().any(|f| {
                f["field"].as_str().unwrap().contains(field)
                    || f["message"].as_str().unwrap().contains(field)
            }),
            "{method} {body}: {err}"
        );
    }
    let (_, err) = app
        .post(
            "/api/webhooks",
            Some(&a_token),
            &json!({"url": "ftp://example.com/x"}),
        )
        .await;
    assert_eq!(err["fields"][0]["message"], "must use http or https");

    // Another user sees nothing: 404 on every route.
    let paths = [
        ("GET", format!("/api/webhooks/{id}")),
        ("PUT", format!("/api/webhooks/{id}")),
        ("PATCH", format!("/api/webhooks/{id}")),
        ("DELETE", format!("/api/webhooks/{id}")),
        ("GET", format!("/api/webhooks/{id}/secret")),
        ("POST", format!("/api/webhooks/{id}/secret/rotate")),
        ("POST", format!("/api/webhooks/{id}/enable")),
        ("POST", format!("/api/webhooks/{id}/test")),
        ("GET", format!("/api/webhooks/{id}/deliveries")),
        ("POST", format!("/api/webhooks/{id}/deliveries/msg_x/retry")),
    ];
    for (method, path) in &paths {
        let body = json!({"url": "http://127.0.0.1:9/x"});
        let (status, err) = if *method == "GET" {
            app.get(path, Some(&b_token)).await
        } else {
            app.send_json(method, path, Some(&b_token), &body).await
        };
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {err}");
        assert_eq!(err["code"], "webhook_not_found", "{method} {path}");
    }
    let (_, bobs) = app.get("/api/webhooks", Some(&b_token)).await;
    assert_eq!(bobs["items"], json!([]));
    let (status, _) = app.get("/api/webhooks", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A service key acts for the user it names.
    let mut res = app
        .client
        .get(app.url(&format!("/api/webhooks/{id}?user_id={alice}")))
        .insert_header(("X-API-Key", SERVICE_KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let _ = res.body().await;

    // The per-user limit.
    create_webhook(&app, &a_token, "http://127.0.0.1:9/two", json!([])).await;
    let (status, err) = app
        .post(
            "/api/webhooks",
            Some(&a_token),
            &json!({"url": "http://127.0.0.1:9/three"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["code"], "webhook_limit");

    // Delete, then it is gone.
    let mut res = app
        .client
        .delete(app.url(&format!("/api/webhooks/{id}")))
        .bearer_auth(&a_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let _ = res.body().await;
    let (status, _) = app
        .get(&format!("/api/webhooks/{id}"), Some(&a_token))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn deliveries_carry_the_envelope_and_standard_webhooks_headers(backend: Backend) {
    let app = spawn_with(backend, fast).await;
    let receiver = Receiver::start().await;
    let (_, token, _) = app.user("wh-sign@example.com").await;
    let (all_id, secret) = create_webhook(&app, &token, &receiver.url("/all"), json!([])).await;
    let (meetings_id, meetings_secret) = create_webhook(
        &app,
        &token,
        &receiver.url("/meetings"),
        json!(["meeting_booked"]),
    )
    .await;

    let prospect = app.publish(&token, "prospect_added", "Acme").await;
    let meeting = app
        .publish(&token, "meeting_booked", "Call with Acme")
        .await;
    let got = receiver.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        receiver.count(),
        3,
        "the filtered endpoint got only its type"
    );
    let to_meetings: Vec<&Captured> = got.iter().filter(|c| c.path == "/meetings").collect();
    assert_eq!(to_meetings.len(), 1);
    assert_eq!(to_meetings[0].json()["type"], "meeting_booked");
    assert_signed_by(to_meetings[0], &meetings_secret);

    let mut to_all: Vec<&Captured> = got.iter().filter(|c| c.path == "/all").collect();
    to_all.sort_by_key(|c| c.json()["data"]["id"].as_str().unwrap().to_owned());
    assert_eq!(to_all.len(), 2);
    for (c, activity) in to_all.iter().zip([&prospect, &meeting]) {
        assert_eq!(c.method, "POST");
        let body = c.json();
        assert_eq!(body["type"], activity["type"]);
        assert_eq!(body["timestamp"], activity["created_at"]);
        assert_eq!(body["data"], *activity);
        assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
        assert!(c.header("webhook-id").starts_with("msg_"));
        let ts: i64 = c.header("webhook-timestamp").parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 10);
        assert_eq!(signatures(c).len(), 1);
        assert_signed_by(c, &secret);
        assert_eq!(
            c.header("x-webhook-signature"),
            legacy_signature(&secret, &c.body)
        );
        assert_eq!(c.header("content-type"), "application/json");
        assert_eq!(
            c.header("user-agent"),
            format!("aiclone-hub/{}", env!("CARGO_PKG_VERSION"))
        );
    }
    assert_ne!(
        to_all[0].header("webhook-id"),
        to_all[1].header("webhook-id")
    );

    // The log and the endpoint show the outcome.
    let log = wait_for_log(&app, &token, &all_id, "both deliveries succeeded", |log| {
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["status"] == "succeeded")
            .count()
            == 2
    })
    .await;
    let newest = &log["items"][0];
    assert_eq!(newest["event_type"], "meeting_booked");
    assert_eq!(newest["attempt_count"], 1);
    let attempt = &newest["attempts"][0];
    assert_eq!(attempt["attempt"], 1);
    assert_eq!(attempt["status_code"], 200);
    assert!(attempt["error"].is_null());
    assert!(attempt["duration_ms"].is_u64());
    assert!(attempt["response_body"]
        .as_str()
        .unwrap()
        .contains("received"));
    assert!(attempt["next_attempt_at"].is_null());
    let ids: Vec<&str> = to_all.iter().map(|c| c.header("webhook-id")).collect();
    assert!(ids.contains(&newest["id"].as_str().unwrap()));
    let endpoint = webhook(&app, &token, &all_id).await;
    assert_eq!(endpoint["last_status_code"], 200);
    assert!(endpoint["last_delivery_at"].is_string());
    let _ = meetings_id;

    // A completed task's `task_completed` activity is delivered too.
    let (_, task) = app
        .post(
            "/api/tasks",
            Some(&token),
            &json!({"kind": "research", "title": "Dig"}),
        )
        .await;
    let path = format!("/api/tasks/{}", task["id"].as_str().unwrap());
    app.send_json("PATCH", &path, Some(&token), &json!({"status": "running"}))
        .await;
    app.send_json(
        "PATCH",
        &path,
        Some(&token),
        &json!({"status": "completed"}),
    )
    .await;
    let got = receiver.wait_for(4).await;
    assert!(got.iter().any(|c| c.json()["type"] == "task_completed"));
}

/// Runs the official `standardwebhooks` Python package over captured
/// requests. Fails (never skips) when it is missing: `.ci/run` installs it.
fn verify_with_python(cases: &[(String, &Captured)]) {
    let input = json!({
        "cases": cases.iter().map(|(secret, c)| json!({
            "secret": secret,
            "body": String::from_utf8(c.body.clone()).unwrap(),
            "headers": c.headers,
        })).collect::<Vec<_>>()
    });
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/verify_standardwebhooks.py"
    );
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 must be installed to run the independent webhook verifier");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => assert!(
            stdout.contains(&format!("{} verified, 0 failed", cases.len())),
            "{stdout}"
        ),
        Some(3) => panic!(
            "the official verifier is not installed: run `pip install standardwebhooks` \
             (.ci/run does) — {stderr}"
        ),
        _ => panic!("standardwebhooks rejected a request:\n{stdout}\n{stderr}"),
    }
}

async fn the_official_standardwebhooks_verifier_accepts_every_request(backend: Backend) {
    let app = spawn_with(backend, fast).await;
    let receiver = Receiver::start().await;
    let (_, token, _) = app.user("wh-python@example.com").await;
    let (id, old_secret) = create_webhook(&app, &token, &receiver.url("/in"), json!([])).await;

    // Plain deliveries, one with characters that must survive byte-exact.
    app.publish(&token, "prospect_added", "Acme").await;
    let (status, _) = app
        .post(
            "/api/activities",
            Some(&token),
            &json!({"type": "content_published", "title": "Ünïcödé ✓ \"quoted\" \\ </script>",
                    "metadata": {"nested": {"list": [1, 2.5, null, true]}}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // A test event.
    let (status, _) = app
        .post(
            &format!("/api/webhooks/{id}/test"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let before = receiver.wait_for(3).await;

    // After a rotation: two signatures, each library key verifies.
    let (status, _) = app
        .post(
            &format!("/api/webhooks/{id}/secret/rotate"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, shown) = app
        .get(&format!("/api/webhooks/{id}/secret"), Some(&token))
        .await;
    let new_secret = shown["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);
    app.publish(&token, "meeting_booked", "After rotation")
        .await;
    let all = receiver.wait_for(4).await;
    let rotated = &all[3];
    assert_eq!(signatures(rotated).len(), 2);

    let mut cases: Vec<(String, &Captured)> =
        before.iter().map(|c| (old_secret.clone(), c)).collect();
    cases.push((new_secret.clone(), rotated));
    cases.push((old_secret.clone(), rotated));
    verify_with_python(&cases);
}

async fn retries_keep_the_webhook_id_and_a_success_resets_the_failure_count(backend: Backend) {
    let app = spawn_with(backend, |s| {
        fast(s);
        s.webhooks.max_consecutive_failures = 3;
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(500), Reply::Status(500), Reply::Status(200)]);
    let (_, token, _) = app.user("wh-retry@example.com").await;
    let (id, _) = create_webhook(&app, &token, &receiver.url("/r"), json!([])).await;

    app.publish(&token, "outreach_sent", "one").await;
    let got = receiver.wait_for(3).await;
    let first_id = got[0].header("webhook-id");
    assert!(got.iter().all(|c| c.header("webhook-id") == first_id));
    assert!(
        got.iter().all(|c| c.body == got[0].body),
        "every retry sends the same bytes"
    );
    let log = wait_for_log(&app, &token, &id, "the third attempt recorded", |log| {
        log["items"][0]["status"] == "succeeded"
    })
    .await;
    let attempts = log["items"][0]["attempts"].as_array().unwrap();
    let codes: Vec<u64> = attempts
        .iter()
        .map(|a| a["status_code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 200]);
    let numbers: Vec<u64> = attempts
        .iter()
        .map(|a| a["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert!(attempts[0]["next_attempt_at"].is_string());
    assert_eq!(log["items"][0]["id"], first_id);
    assert_eq!(webhook(&app, &token, &id).await["consecutive_failures"], 0);

    // Two more failures then a success: 4 failures overall, never 3 in a
    // row, so the endpoint stays active.
    receiver.script([Reply::Status(500), Reply::Status(500), Reply::Status(200)]);
    app.publish(&token, "outreach_sent", "two").await;
    receiver.wait_for(6).await;
    wait_for_log(&app, &token, &id, "the second delivery succeeded", |log| {
        log["items"][0]["status"] == "succeeded"
    })
    .await;
    let endpoint = webhook(&app, &token, &id).await;
    assert_eq!(endpoint["status"], "active", "{endpoint}");
    assert_eq!(endpoint["consecutive_failures"], 0);
}

async fn redirects_are_failures_and_are_not_followed(backend: Backend) {
    let app = spawn_with(backend, fast).await;
    let receiver = Receiver::start().await;
    receiver.set(Reply::WithHeaders(
        301,
        vec![("location", receiver.url("/elsewhere"))],
    ));
    let (_, token, _) = app.user("wh-redirect@example.com").await;
    let (id, _) = create_webhook(&app, &token, &receiver.url("/hook"), json!([])).await;

    app.publish(&token, "prospect_added", "x").await;
    let log = wait_for_log(&app, &token, &id, "the delivery failed", |log| {
        log["items"][0]["status"] == "failed"
    })
    .await;
    let attempts = log["items"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 4, "the whole schedule was used");
    assert!(attempts.iter().all(|a| a["status_code"] == 301));
    assert!(log["items"][0]["next_attempt_at"].is_null());
    let got = receiver.requests();
    assert_eq!(got.len(), 4);
    assert!(
        got.iter().all(|c| c.path == "/hook"),
        "the redirect was followed"
    );
}

async fn gone_disables_the_endpoint_at_once_and_enable_brings_it_back(backend: Backend) {
    let app = spawn_with(backend, fast).await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(410)]);
    let (_, token, _) = app.user("wh-gone@example.com").await;
    let (id, _) = create_webhook(&app, &token, &receiver.url("/gone"), json!([])).await;

    app.publish(&token, "prospect_added", "first").await;
    receiver.wait_for(1).await;
    eventually("the endpoint to be disabled", || async {
        webhook(&app, &token, &id).await["status"] == "disabled"
    })
    .await;
    let endpoint = webhook(&app, &token, &id).await;
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410"),
        "{endpoint}"
    );
    assert_eq!(endpoint["last_status_code"], 410);
    let log = deliveries(&app, &token, &id, "").await;
    assert_eq!(log["items"][0]["status"], "failed");
    assert_eq!(log["items"][0]["attempt_count"], 1);

    // Disabled: nothing more is sent, and retries are refused.
    app.publish(&token, "prospect_added", "while disabled")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.count(), 1);
    let delivery = log["items"][0]["id"].as_str().unwrap();
    let (status, err) = app
        .post(
            &format!("/api/webhooks/{id}/deliveries/{delivery}/retry"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");

    let (status, enabled) = app
        .post(
            &format!("/api/webhooks/{id}/enable"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(enabled["status"], "active");
    assert!(enabled["disabled_reason"].is_null());
    assert_eq!(enabled["consecutive_failures"], 0);
    app.publish(&token, "prospect_added", "after enable").await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].json()["data"]["title"], "after enable");
}

async fn retry_after_on_429_and_503_is_honoured(backend: Backend) {
    let app = spawn_with(backend, fast).await;
    let receiver = Receiver::start().await;
    receiver.script([
        Reply::WithHeaders(429, vec![("retry-after", "1".into())]),
        Reply::WithHeaders(503, vec![("retry-after", "1".into())]),
        Reply::Status(200),
    ]);
    let (_, token, _) = app.user("wh-later@example.com").await;
    let (id, _) = create_webhook(&app, &token, &receiver.url("/later"), json!([])).await;

    app.publish(&token, "prospect_added", "x").await;
    let got = receiver.wait_for(3).await;
    for pair in got.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
    }
    let log = wait_for_log(&app, &token, &id, "success", |log| {
        log["items"][0]["status"] == "succeeded"
    })
    .await;
    let codes: Vec<u64> = log["items"][0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [429, 503, 200]);
}

async fn a_timeout_is_a_failure_and_is_retried(backend: Backend) {
    let app = spawn_with(backend, |s| {
        fast(s);
        s.webhooks.timeout = Dur(Duration::from_millis(300));
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Hang, Reply::Status(200)]);
    let (_, token, _) = app.user("wh-timeout@example.com").await;
    let (id, _) = create_webhook(&app, &token, &receiver.url("/slow"), json!([])).await;

    app.publish(&token, "prospect_added", "x").await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert!(got[1].at - got[0].at >= Duration::from_millis(290));
    let log = wait_for_log(&app, &token, &id, "success", |log| {
        log["items"][0]["status"] == "succeeded"
    })
    .await;
    let first = &log["items"][0]["attempts"][0];
    assert!(first["status_code"].is_null());
    assert!(
        first["error"].as_str().unwrap().contains("timed out"),
        "{first}"
    );
    assert!(first["duration_ms"].as_u64().unwrap() >= 290);
}

async fn consecutive_failures_disable_the_endpoint_and_notify_the_owner(backend: Backend) {
    let app = spawn_with(backend, |s| {
        fast(s);
        s.webhooks.max_consecutive_failures = 3;
        s.webhooks.retry_schedule = ms(&[0, 10, 10, 10, 10, 10]);
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.set(Reply::Status(500));
    let (_, token, _) = app.user("wh-failing@example.com").await;
    let (id, _) = create_webhook(&app, &token, &receiver.url("/down"), json!([])).await;
    let mut ws = app.ws(&token, "").await;

    app.publish(&token, "prospect_added", "x").await;
    let first = ws.next_of("event").await;
    assert_eq!(first["event"], "prospect_added");
    let notice = ws.next_of("event").await;
    assert_eq!(notice["event"], "notification", "{notice}");
    assert_eq!(notice["data"]["metadata"]["webhook_id"], id.as_str());
    let reason = notice["data"]["metadata"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("3 delivery attempts in a row failed"),
        "{reason}"
    );
    assert!(reason.contains("HTTP 500"), "{reason}");

    let endpoint = webhook(&app, &token, &id).await;
    assert_eq!(endpoint["status"], "disabled");
    assert_eq!(endpoint["disabled_reason"], reason);
    assert_eq!(endpoint["consecutive_failures"], 3);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.count(), 3, "no attempt after disabling");
    // The delivery keeps its place: pending, for when the endpoint is back.
    let log = deliveries(&app, &token, &id, "?status=pending").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);

    receiver.set(Reply::Status(200));
    app.post(
        &format!("/api/webhooks/{id}/enable"),
        Some(&token),
        &json!({}),
    )
    .await;
    let got = receiver.wait_for(4).await;
    assert_eq!(got[3].header("webhook-id"), got[0].header("webhook-id"));
}

async fn rotation_signs_with_both_secrets(backend: Backend) {
    let app = spawn_with(backend, fast).await;
    let receiver = Receiver::start().await;
    let (_, token, _) = app.user("wh-rotate@example.com").await;
    let (id, old) = create_webhook(&app, &token, &receiver.url("/rot"), json!([])).await;
    let (status, rotated) = app
        .post(
            &format!("/api/webhooks/{id}/secret/rotate"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        rotated.get("secret").is_none(),
        "the new secret is read with GET …/secret"
    );
    let until = chrono::DateTime::parse_from_rfc3339(
        rotated["previous_secret_expires_at"].as_str().unwrap(),
    )
    .unwrap();
    let hours = (until.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    assert!((23 * 60..=24 * 60).contains(&hours), "{hours} minutes");
    let (_, shown) = app
        .get(&format!("/api/webhooks/{id}/secret"), Some(&token))
        .await;
    let new = shown["secret"].as_str().unwrap();
    assert_ne!(new, old);
    assert!(shown["previous_secret_expires_at"].is_string());

    app.publish(&token, "prospect_added", "x").await;
    let got = receiver.wait_for(1).await;
    let c = &got[0];
    let sigs = signatures(c);
    assert_eq!(sigs.len(), 2, "{:?}", c.header("webhook-signature"));
    let ts = c.header("webhook-timestamp");
    assert_eq!(
        sigs[0],
        v1_signature(new, c.header("webhook-id"), ts, &c.body)
    );
    assert_eq!(
        sigs[1],
        v1_signature(&old, c.header("webhook-id"), ts, &c.body)
    );
    assert_eq!(
        c.header("x-webhook-signature"),
        legacy_signature(new, &c.body)
    );
}

async fn deliveries_log_paginates_and_filters(backend: Backend) {
    let app = spawn_with(backend, |s| {
        fast(s);
        s.webhooks.retry_schedule = ms(&[0]);
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(500)]);
    let (_, token, _) = app.user("wh-log@example.com").await;
    let (_, other, _) = app.user("wh-log-other@example.com").await;
    let (id, _) = create_webhook(&app, &token, &receiver.url("/log"), json!([])).await;
    for i in 0..5 {
        app.publish(&token, "prospect_added", &format!("event {i}"))
            .await;
    }
    receiver.wait_for(5).await;
    wait_for_log(&app, &token, &id, "every delivery finished", |log| {
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] != "pending")
            && log["items"].as_array().unwrap().len() == 5
    })
    .await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=2&cursor={c}"),
            None => "?limit=2".to_owned(),
        };
        let page = deliveries(&app, &token, &id, &query).await;
        pages += 1;
        for d in page["items"].as_array().unwrap() {
            seen.push(d["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), 5);
    // Newest first: delivery ids are time-ordered.
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted);

    let failed = deliveries(&app, &token, &id, "?status=failed").await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
    assert_eq!(failed["items"][0]["attempts"][0]["status_code"], 500);
    let ok = deliveries(&app, &token, &id, "?status=succeeded").await;
    assert_eq!(ok["items"].as_array().unwrap().len(), 4);
    for bad in [
        "?status=lost",
        "?limit=0",
        "?limit=201",
        "?cursor=abc",
        "?colour=red",
    ] {
        let (status, _) = app
            .get(&format!("/api/webhooks/{id}/deliveries{bad}"), Some(&token))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let (status, _) = app
        .get(&format!("/api/webhooks/{id}/deliveries"), Some(&other))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn manual_retry_redelivers_with_the_same_webhook_id(backend: Backend) {
    let app = spawn_with(backend, |s| {
        fast(s);
        s.webhooks.retry_schedule = ms(&[0, 10]);
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(500), Reply::Status(500)]);
    let (_, token, _) = app.user("wh-manual@example.com").await;
    let (id, _) = create_webhook(&app, &token, &receiver.url("/m"), json!([])).await;
    app.publish(&token, "prospect_added", "x").await;
    let log = wait_for_log(&app, &token, &id, "retries exhausted", |log| {
        log["items"][0]["status"] == "failed"
    })
    .await;
    let delivery = log["items"][0]["id"].as_str().unwrap().to_owned();

    let (status, queued) = app
        .post(
            &format!("/api/webhooks/{id}/deliveries/{delivery}/retry"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["delivery_id"], delivery.as_str());
    assert_eq!(queued["status"], "pending");
    let got = receiver.wait_for(3).await;
    assert_eq!(got[2].header("webhook-id"), delivery);
    let log = wait_for_log(&app, &token, &id, "the retry succeeded", |log| {
        log["items"][0]["status"] == "succeeded"
    })
    .await;
    let numbers: Vec<u64> = log["items"][0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3]);

    let (status, err) = app
        .post(
            &format!("/api/webhooks/{id}/deliveries/msg_nope/retry"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["code"], "delivery_not_found");
}

async fn test_sends_a_webhook_test_event_now_and_returns_the_attempt(backend: Backend) {
    let app = spawn_with(backend, fast).await;
    let receiver = Receiver::start().await;
    let (_, token, _) = app.user("wh-probe@example.com").await;
    let (id, secret) = create_webhook(
        &app,
        &token,
        &receiver.url("/probe"),
        json!(["meeting_booked"]),
    )
    .await;

    let (status, result) = app
        .post(
            &format!("/api/webhooks/{id}/test"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["succeeded"], true);
    assert_eq!(result["event_type"], "webhook.test");
    assert_eq!(result["attempt"]["attempt"], 1);
    assert_eq!(result["attempt"]["status_code"], 200);
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].header("webhook-id"), result["delivery_id"]);
    assert_eq!(got[0].json()["type"], "webhook.test");
    assert_eq!(got[0].json()["data"]["webhook_id"], id.as_str());
    assert_signed_by(&got[0], &secret);
    let log = deliveries(&app, &token, &id, "").await;
    assert_eq!(log["items"][0]["event_type"], "webhook.test");
    assert_eq!(log["items"][0]["status"], "succeeded");

    // A failing probe reports the failure (and is not retried).
    receiver.set(Reply::Status(500));
    let (_, result) = app
        .post(
            &format!("/api/webhooks/{id}/test"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(result["succeeded"], false);
    assert_eq!(result["attempt"]["status_code"], 500);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.count(), 2);
}

async fn a_hanging_endpoint_never_delays_another(backend: Backend) {
    let app = spawn_with(backend, |s| {
        fast(s);
        s.webhooks.timeout = Dur(Duration::from_secs(3));
    })
    .await;
    let hanging = Receiver::start().await;
    hanging.set(Reply::Hang);
    let healthy = Receiver::start().await;
    let (_, token, _) = app.user("wh-isolation@example.com").await;
    create_webhook(&app, &token, &hanging.url("/hang"), json!([])).await;
    create_webhook(&app, &token, &healthy.url("/ok"), json!([])).await;

    // More events than the hanging endpoint's in-flight slots.
    let mut worst = Duration::ZERO;
    for i in 0..8 {
        let published = Instant::now();
        app.publish(&token, "prospect_added", &format!("e{i}"))
            .await;
        healthy.wait_for_within(i + 1, Duration::from_secs(2)).await;
        worst = worst.max(published.elapsed());
    }
    assert!(
        worst < Duration::from_millis(1000),
        "a delivery to the healthy endpoint took {worst:?} while the other hung"
    );
    eprintln!("healthy endpoint, worst publish-to-receive while another hangs: {worst:?}");
    assert_eq!(
        hanging.max_concurrent(),
        4,
        "the hanging endpoint holds max_in_flight attempts"
    );
}

async fn max_in_flight_bounds_concurrent_attempts_per_endpoint(backend: Backend) {
    let app = spawn_with(backend, |s| {
        fast(s);
        s.webhooks.max_in_flight = 2;
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.set(Reply::Delay(Duration::from_millis(150), 200));
    let (_, token, _) = app.user("wh-inflight@example.com").await;
    create_webhook(&app, &token, &receiver.url("/busy"), json!([])).await;
    for i in 0..8 {
        app.publish(&token, "prospect_added", &format!("e{i}"))
            .await;
    }
    receiver.wait_for(8).await;
    assert_eq!(receiver.max_concurrent(), 2);
}

async fn deliveries_past_the_memory_bound_wait_in_the_store_and_all_arrive_once(backend: Backend) {
    let app = spawn_with(backend, |s| {
        fast(s);
        s.webhooks.max_queued_per_endpoint = 3;
        s.webhooks.max_in_flight = 1;
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.set(Reply::Delay(Duration::from_millis(20), 200));
    let (_, token, _) = app.user("wh-bound@example.com").await;
    let (id, _) = create_webhook(&app, &token, &receiver.url("/bound"), json!([])).await;
    let mut titles = Vec::new();
    for i in 0..15 {
        titles.push(format!("e{i:02}"));
        app.publish(&token, "prospect_added", &titles[i]).await;
    }
    let got = receiver.wait_for(15).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_now = receiver.requests();
    assert_eq!(got_now.len(), 15, "a delivery was sent twice");
    let mut ids: Vec<&str> = got.iter().map(|c| c.header("webhook-id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 15);
    let mut delivered: Vec<String> = got
        .iter()
        .map(|c| c.json()["data"]["title"].as_str().unwrap().to_owned())
        .collect();
    delivered.sort();
    assert_eq!(delivered, titles);
    wait_for_log(&app, &token, &id, "every delivery recorded", |log| {
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "succeeded")
    })
    .await;
}

async fn private_targets_are_refused_with_the_reason(backend: Backend) {
    let app = spawn(backend).await;
    let (_, token, _) = app.user("wh-ssrf@example.com").await;
    for (url, why) in [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.1.2.3:8080/x", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://localhost:9000/", "loopback"),
        ("http://sub.localhost/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://172.31.255.255/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://169.254.1.1/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://100.64.0.1/", "CGNAT"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://255.255.255.255/", "broadcast"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://[fc00::1]/", "unique local"),
        ("http://[fd12:3456::1]/", "unique local"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
    ] {
        let (status, err) = app
            .post("/api/webhooks", Some(&token), &json!({"url": url}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{url}: {err}");
        assert_eq!(err["code"], "target_not_allowed", "{url}: {err}");
        let message = err["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains(why), "{url}: {message}");
        assert!(
            err["message"].as_str().unwrap().starts_with("url: "),
            "{err}"
        );
    }
    // Updates are checked too. (A public literal needs no DNS; nothing is
    // published here, so nothing is ever sent to it.)
    let (id, _) = create_webhook(
        &app,
        &token,
        "https://93.184.216.34/hook",
        json!(["meeting_booked"]),
    )
    .await;
    let (status, err) = app
        .send_json(
            "PATCH",
            &format!("/api/webhooks/{id}"),
            Some(&token),
            &json!({"url": "http://10.1.1.1/"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let (status, _) = app
        .send_json(
            "PUT",
            &format!("/api/webhooks/{id}"),
            Some(&token),
            &json!({"url": "http://[::1]:80/"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A numeric host that URL parsing would read as 127.0.0.1 is not of the
    // accepted form at all; a refused target next to a bad event is a 422
    // naming both.
    let (status, err) = app
        .post(
            "/api/webhooks",
            Some(&token),
            &json!({"url": "http://2130706433/"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("accepted form"),
        "{err}"
    );
    let (status, err) = app
        .post(
            "/api/webhooks",
            Some(&token),
            &json!({"url": "http://10.0.0.1/", "events": ["nope"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["fields"].as_array().unwrap().len(), 2, "{err}");
}

#[actix_web::test]
async fn every_attempt_checks_the_target_again() {
    // A webhook stored while private targets were allowed...
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    fast(&mut settings);
    settings.webhooks.retry_schedule = ms(&[0]);
    let receiver = Receiver::start().await;
    let app = start(settings.clone(), None).await;
    let (_, token, _) = app.user("wh-rebind@example.com").await;
    let (id, _) = create_webhook(&app, &token, &receiver.url("/internal"), json!([])).await;
    app.stop().await;

    // ...is refused at connect time once they are not.
    settings.webhooks.allow_private_targets = false;
    let app = start(settings, None).await;
    app.publish(&token, "prospect_added", "x").await;
    let log = wait_for_log(&app, &token, &id, "the attempt refused", |log| {
        log["items"][0]["status"] == "failed"
    })
    .await;
    let error = log["items"][0]["attempts"][0]["error"].as_str().unwrap();
    assert!(error.contains("loopback"), "{error}");
    assert_eq!(receiver.count(), 0);
}

/// The real binary as a child process, on a port it keeps across restarts.
struct Process {
    hub: ChildHub,
    api: Api,
}

impl Process {
    async fn start(data_dir: &std::path::Path, port: u16) -> Process {
        let hub = ChildHub::start_on(
            data_dir,
            port,
            &[
                ("HUB__SERVER__WORKERS", "1"),
                ("HUB__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
                ("HUB__WEBHOOKS__RETRY_SCHEDULE", "0s,1s,1s,1s"),
                ("HUB__LOG__LEVEL", "info"),
            ],
        )
        .await;
        Process {
            hub,
            api: Api::new(port),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        match body {
            Some(b) => self.api.send_json(method, path, token, &b).await,
            None => self.api.get(path, token).await,
        }
    }

    fn kill_9(mut self) {
        // SIGKILL: no shutdown code runs.
        self.hub.signal("KILL");
        let _ = self.hub.child.wait();
    }
}

#[actix_web::test]
async fn pending_deliveries_survive_kill_9_of_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    let receiver_port = free_port();
    let hub_port = free_port();
    let hub = Process::start(dir.path(), hub_port).await;
    let (status, _) = hub
        .call(
            "POST",
            "/api/auth/register",
            None,
            Some(json!({"email": "wh-kill@example.com", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, login) = hub
        .call(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"email": "wh-kill@example.com", "password": "correct horse battery"})),
        )
        .await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let (status, created) = hub
        .call(
            "POST",
            "/api/webhooks",
            Some(&token),
            Some(json!({"url": format!("http://127.0.0.1:{receiver_port}/durable")})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    // The receiver is down: three events fail their first attempt...
    let mut activities = Vec::new();
    for i in 0..3 {
        let (status, a) = hub
            .call(
                "POST",
                "/api/activities",
                Some(&token),
                Some(json!({"type": "prospect_added", "title": format!("before {i}")})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        activities.push(a["id"].as_str().unwrap().to_owned());
    }
    let end = Instant::now() + DEADLINE;
    let failed_ids: Vec<String> = loop {
        let (_, log) = hub
            .call(
                "GET",
                &format!("/api/webhooks/{id}/deliveries"),
                Some(&token),
                None,
            )
            .await;
        let items = log["items"].as_array().unwrap();
        if items.len() == 3 && items.iter().all(|d| d["attempt_count"].as_u64() >= Some(1)) {
            assert!(items.iter().all(|d| d["status"] == "pending"), "{log}");
            break items
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_owned())
                .collect();
        }
        assert!(Instant::now() < end, "first attempts not recorded: {log}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // ...and two more are killed right after their 201.
    for i in 0..2 {
        let (status, a) = hub
            .call(
                "POST",
                "/api/activities",
                Some(&token),
                Some(json!({"type": "prospect_added", "title": format!("just before {i}")})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        activities.push(a["id"].as_str().unwrap().to_owned());
    }
    hub.kill_9();

    let receiver = Receiver::start_on(receiver_port).await;
    let hub = Process::start(dir.path(), hub_port).await;
    let got = receiver.wait_for(5).await;
    let mut delivered: Vec<String> = got
        .iter()
        .map(|c| c.json()["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    delivered.sort();
    delivered.dedup();
    assert_eq!(
        delivered, activities,
        "every acknowledged event is delivered"
    );
    let received_ids: Vec<&str> = got.iter().map(|c| c.header("webhook-id")).collect();
    for failed in &failed_ids {
        assert!(
            received_ids.contains(&failed.as_str()),
            "{failed} was redelivered under its id"
        );
    }
    let end = Instant::now() + DEADLINE;
    let log = loop {
        let (_, log) = hub
            .call(
                "GET",
                &format!("/api/webhooks/{id}/deliveries"),
                Some(&token),
                None,
            )
            .await;
        if log["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "succeeded")
        {
            break log;
        }
        assert!(Instant::now() < end, "deliveries not all recorded: {log}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(log["items"].as_array().unwrap().len(), 5);
    for d in log["items"].as_array().unwrap() {
        if failed_ids.contains(&d["id"].as_str().unwrap().to_owned()) {
            let attempts = d["attempts"].as_array().unwrap();
            assert!(attempts[0]["error"].is_string(), "{d}");
            assert!(attempts.len() >= 2, "{d}");
        }
    }
}

/// Checks bodies with `incoming_webhooks.py`: schemas of Slack's and
/// Discord's incoming-webhook formats written from their documentation.
fn check_incoming_formats(slack: &[Value], discord: &[Value]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/incoming_webhooks.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the format checker (.ci/run installs jsonschema)");
    use std::io::Write;
    let input = json!({"slack": slack, "discord": discord}).to_string();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{} valid", slack.len() + discord.len())),
        "{stdout}"
    );
}

async fn slack_and_discord_formats_send_their_own_bodies_unsigned(backend: Backend) {
    let app = spawn_with(backend, fast).await;
    let receiver = Receiver::start().await;
    let (_, token, _) = app.user("wh-formats@example.com").await;
    let mut ids = Vec::new();
    for format in ["slack", "discord"] {
        let (status, body) = app
            .post(
                "/api/webhooks",
                Some(&token),
                &json!({"url": receiver.url(&format!("/{format}")), "format": format}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["format"], format);
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    // A bad format is refused and creates nothing.
    let (status, err) = app
        .post(
            "/api/webhooks",
            Some(&token),
            &json!({"url": receiver.url("/x"), "format": "teams"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (_, list) = app.get("/api/webhooks", Some(&token)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    let activity = app
        .post(
            "/api/activities",
            Some(&token),
            &json!({
                "type": "meeting_booked",
                "title": "Call with <Acme> & co",
                "message": "Tuesday 10:00",
                "link": "https://crm.example.com/meetings/1",
            }),
        )
        .await
        .1;
    let (_, plain) = app
        .post(
            "/api/activities",
            Some(&token),
            &json!({"type": "notification", "title": "No link here"}),
        )
        .await;
    let got = receiver.wait_for(4).await;
    let at = |path: &str| -> Vec<&Captured> { got.iter().filter(|c| c.path == path).collect() };
    let (slack, discord) = (at("/slack"), at("/discord"));
    assert_eq!((slack.len(), discord.len()), (2, 2));
    for c in got.iter() {
        // Not signed (the URL is the secret), but deduplicable.
        assert!(
            !c.headers.contains_key("webhook-signature"),
            "{:?}",
            c.headers
        );
        assert!(!c.headers.contains_key("x-webhook-signature"));
        assert!(
            c.header("webhook-id").starts_with("msg_"),
            "{:?}",
            c.headers
        );
        assert_eq!(c.header("content-type"), "application/json");
    }
    let slack_bodies: Vec<Value> = slack.iter().map(|c| c.json()).collect();
    let discord_bodies: Vec<Value> = discord.iter().map(|c| c.json()).collect();
    check_incoming_formats(&slack_bodies, &discord_bodies);

    let meeting = |bodies: &[Value], field: &str| -> Value {
        bodies
            .iter()
            .find(|b| b[field].as_str().is_some_and(|t| t.contains("Acme")))
            .cloned()
            .unwrap_or_else(|| panic!("no meeting body in {bodies:?}"))
    };
    let s = meeting(&slack_bodies, "text");
    assert_eq!(s["text"], "Call with &lt;Acme&gt; &amp; co");
    assert_eq!(
        s["blocks"][1]["elements"][0]["url"],
        "https://crm.example.com/meetings/1"
    );
    assert!(s["blocks"][2]["elements"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("meeting_booked · "));
    let d = meeting(&discord_bodies, "content");
    assert_eq!(d["embeds"][0]["title"], "Call with <Acme> & co");
    assert_eq!(d["embeds"][0]["description"], "Tuesday 10:00");
    assert_eq!(d["embeds"][0]["timestamp"], activity["created_at"]);
    let no_link = slack_bodies
        .iter()
        .find(|b| b["text"] == "No link here")
        .unwrap();
    assert_eq!(no_link["blocks"].as_array().unwrap().len(), 2, "{no_link}");
    assert!(plain["id"].is_string());

    // The log shows the very bodies that were sent.
    for (id, sent) in ids.iter().zip([&slack, &discord]) {
        let log = wait_for_log(&app, &token, id, "both delivered", |log| {
            log["items"].as_array().unwrap().len() == 2
                && log["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|d| d["status"] == "succeeded")
        })
        .await;
        for item in log["items"].as_array().unwrap() {
            let body = item["body"].as_str().unwrap();
            assert!(
                sent.iter().any(|c| c.body == body.as_bytes()),
                "logged body was not sent: {body}"
            );
        }
    }

    // The test event too, and a format change applies to the next delivery.
    let (status, attempt) = app
        .post(
            &format!("/api/webhooks/{}/test", ids[0]),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{attempt}");
    let (status, patched) = app
        .send_json(
            "PATCH",
            &format!("/api/webhooks/{}", ids[0]),
            Some(&token),
            &json!({"format": "standard"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["format"], "standard");
    app.post(
        "/api/activities",
        Some(&token),
        &json!({"type": "outreach_sent", "title": "Signed again"}),
    )
    .await;
    let got = receiver.wait_for(7).await;
    let test = got
        .iter()
        .find(|c| c.path == "/slack" && c.json()["text"] == "Test delivery from AI Clone Hub")
        .expect("the test event in Slack's format");
    check_incoming_formats(&[test.json()], &[]);
    let signed = got
        .iter()
        .find(|c| c.path == "/slack" && c.json()["type"] == "outreach_sent")
        .expect("a standard delivery after the change");
    assert!(signed.header("webhook-signature").starts_with("v1,"));
}

async fn a_slack_url_aimed_at_a_private_address_is_refused(backend: Backend) {
    let app = spawn(backend).await;
    let (_, token, _) = app.user("wh-slack-ssrf@example.com").await;
    let (status, err) = app
        .post(
            "/api/webhooks",
            Some(&token),
            &json!({"url": "http://10.0.0.5/services/T000/B000/XXXX", "format": "slack"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(err["code"], "target_not_allowed");
    let (_, list) = app.get("/api/webhooks", Some(&token)).await;
    assert!(list["items"].as_array().unwrap().is_empty());
}

both_modes!(
    slack_and_discord_formats_send_their_own_bodies_unsigned,
    a_slack_url_aimed_at_a_private_address_is_refused,
    crud_isolation_and_validation,
    deliveries_carry_the_envelope_and_standard_webhooks_headers,
    the_official_standardwebhooks_verifier_accepts_every_request,
    retries_keep_the_webhook_id_and_a_success_resets_the_failure_count,
    redirects_are_failures_and_are_not_followed,
    gone_disables_the_endpoint_at_once_and_enable_brings_it_back,
    retry_after_on_429_and_503_is_honoured,
    a_timeout_is_a_failure_and_is_retried,
    consecutive_failures_disable_the_endpoint_and_notify_the_owner,
    rotation_signs_with_both_secrets,
    deliveries_log_paginates_and_filters,
    manual_retry_redelivers_with_the_same_webhook_id,
    test_sends_a_webhook_test_event_now_and_returns_the_attempt,
    a_hanging_endpoint_never_delays_another,
    max_in_flight_bounds_concurrent_attempts_per_endpoint,
    deliveries_past_the_memory_bound_wait_in_the_store_and_all_arrive_once,
    private_targets_are_refused_with_the_reason,
);
