//! Operations: Prometheus metrics, graceful shutdown, logs.

use awc::http::StatusCode;
use serde_json::json;

use std::time::Duration;

use crate::helpers::*;
use crate::receiver::{Receiver, Reply};

async fn metrics_text(base: &str) -> String {
    let mut res = awc::Client::default()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ct.starts_with("text/plain"), "{ct}");
    String::from_utf8(res.body().await.unwrap().to_vec()).unwrap()
}

/// The value of one sample line, e.g. `hub_sessions` or
/// `hub_events_published_total{type="notification"}`.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

async fn metrics_move_and_parse(backend: Backend) {
    let app = spawn_with(backend, |s| {
        s.rate_limit.enabled = true;
        s.rate_limit.policies.get_mut("auth").unwrap().limit = 2;
    })
    .await;
    let before = metrics_text(&app.base).await;
    assert_eq!(sample(&before, "hub_sessions"), 0.0);
    assert_eq!(
        sample(&before, "hub_events_published_total{type=\"notification\"}"),
        0.0
    );

    let (_, token, _) = app.user("metrics@example.com").await; // 2 auth calls: the quota
    let mut ws = app.ws(&token, "").await;
    app.publish(&token, "notification", "counted").await;
    ws.next_of("event").await;
    let (status, _) = app
        .post(
            "/api/auth/login",
            None,
            &json!({"email": "metrics@example.com", "password": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    let text = metrics_text(&app.base).await;
    assert_eq!(sample(&text, "hub_sessions"), 1.0);
    assert_eq!(
        sample(&text, "hub_events_published_total{type=\"notification\"}"),
        1.0
    );
    assert!(sample(&text, "hub_frames_sent_total") >= 1.0);
    assert_eq!(sample(&text, "hub_delivery_latency_seconds_count"), 1.0);
    assert_eq!(sample(&text, "hub_rate_limited_total{group=\"auth\"}"), 1.0);
    assert_eq!(
        sample(
            &text,
            "hub_http_request_duration_seconds_count{method=\"POST\",route=\"/api/activities\",status=\"201\"}"
        ),
        1.0
    );
    assert!(!text.contains(&token));

    // An independent parser accepts the whole exposition.
    let families = python(
        "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\n\
         names = [f.name for f in p(sys.stdin.read())]\nprint(len(names))\nprint(' '.join(names))",
        text.as_bytes(),
    );
    assert!(
        families.contains("hub_delivery_latency_seconds"),
        "{families}"
    );
    assert!(
        families.contains("hub_http_request_duration_seconds"),
        "{families}"
    );

    drop(ws);
    let app_ref = &app;
    eventually("the session gauge to drop", || async move {
        sample(&metrics_text(&app_ref.base).await, "hub_sessions") == 0.0
    })
    .await;
}

#[actix_web::test]
async fn sigterm_closes_sessions_with_1012_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("HUB__SERVER__SHUTDOWN_TIMEOUT", "3s"),
        ("HUB__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
    ];
    let mut hub = ChildHub::start(dir.path(), &env).await;
    let app = Remote::new(hub.port);
    let (_, token, _) = app.user("term@example.com").await;
    // A receiver that takes a second to answer: the attempt is in flight
    // when the signal comes.
    let receiver = Receiver::start().await;
    receiver.set(Reply::Delay(Duration::from_millis(1000), 200));
    let (status, hook) = app
        .post(
            "/api/webhooks",
            Some(&token),
            &json!({"url": receiver.url("/slow")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(app.ws(&token, "").await);
    }
    let stored = app
        .publish(&token, "notification", "before the signal")
        .await;
    for ws in &mut sessions {
        ws.next_of("event").await;
    }
    receiver.wait_for(1).await;

    hub.signal("TERM");
    for ws in &mut sessions {
        assert_eq!(ws.closed_with().await, Some(1012));
    }
    assert_eq!(hub.exit_code().await, Some(0));
    let logs = hub.logs();
    assert!(logs.contains("shutting down"), "{logs}");
    assert!(logs.contains("webhook attempts drained"), "{logs}");
    assert!(logs.contains("hub stopped"), "{logs}");

    // Restarted on the same data dir: what was acknowledged is there, and
    // the attempt that was in flight finished and was recorded (not resent).
    let hub = ChildHub::start(dir.path(), &env).await;
    let app = Remote::new(hub.port);
    let (status, body) = app
        .get(
            &format!("/api/activities/{}", stored["id"].as_str().unwrap()),
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, log) = app
        .get(&format!("/api/webhooks/{hook_id}/deliveries"), Some(&token))
        .await;
    assert_eq!(log["items"][0]["status"], "succeeded", "{log}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.count(),
        1,
        "delivered once, not again after the restart"
    );
}

#[actix_web::test]
async fn json_logs_carry_request_ids_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = ChildHub::start(
        dir.path(),
        &[("HUB__LOG__FORMAT", "json"), ("HUB__LOG__LEVEL", "debug")],
    )
    .await;
    let app = Remote::new(hub.port);
    let (_, token, refresh) = app.user("secret@example.com").await;
    let mut ws = app.ws(&token, "").await;
    ws.send_json(json!({"type": "refresh", "token": token}))
        .await;
    ws.send_json(json!({"type": "ping", "timestamp": 1})).await;
    ws.next_of("pong").await;
    let mut res = awc::Client::default()
        .post(format!("{}/api/auth/refresh", hub.base))
        .send_json(&json!({"refresh_token": refresh}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let _ = res.body().await;
    hub.signal("TERM");
    assert_eq!(hub.exit_code().await, Some(0));

    let logs = hub.logs();
    for secret in [
        token.as_str(),
        refresh.as_str(),
        PASSWORD,
        SERVICE_KEY,
        TEST_SECRET,
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    let mut request_lines = 0;
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if v["message"] == "request finished" {
            request_lines += 1;
            assert!(
                v["span"]["request_id"].is_string() || v["request_id"].is_string(),
                "{line}"
            );
        }
    }
    assert!(request_lines >= 4, "{logs}");
    assert!(
        logs.contains("hub listening") && logs.contains("\"mode\":\"embedded\""),
        "{logs}"
    );
    assert!(
        logs.contains("ws_session"),
        "sessions have their span: {logs}"
    );
}

both_modes!(metrics_move_and_parse);
