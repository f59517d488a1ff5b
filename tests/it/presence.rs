//! Presence: `presence.online` when a user's first session opens anywhere,
//! `presence.offline` when the last one has been gone for
//! `presence.offline_after`; delivered only to webhooks that list them, never
//! stored as activities; the gauge in `/metrics`. In both modes, across two
//! nodes, and across `kill -9`.

use std::time::Duration;

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::receiver::{Captured, Receiver};

/// Fast presence for tests: checked every 100 ms, offline after `after`.
fn fast(s: &mut hub_core::Settings, after: &str) {
    s.webhooks.allow_private_targets = true;
    s.presence.offline_after = hub_core::settings::Dur::parse(after).unwrap();
    s.presence.check_interval = hub_core::settings::Dur::parse("100ms").unwrap();
}

async fn hook(api: &Api, token: &str, url: &str, events: Value) -> String {
    let (status, body) = api
        .post(
            "/api/webhooks",
            Some(token),
            &json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn close(mut ws: Ws) {
    let _ = ws.stream.close(None).await;
    let _ = ws.closed_with().await;
}

async fn gauge(api: &Api) -> i64 {
    let resp = api
        .client
        .get(api.url("/metrics"))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&resp).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("hub_presence_users_online "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the presence gauge is exported")
}

fn kinds(got: &[Captured]) -> Vec<String> {
    got.iter()
        .map(|c| c.json()["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn delivered_once_online_then_offline(backend: Backend) {
    let app = spawn_with(backend, |s| fast(s, "1s")).await;
    let listening = Receiver::start().await;
    let everything = Receiver::start().await;
    let (user_id, token, _) = app.user("presence@example.com").await;
    hook(
        &app,
        &token,
        &listening.url("/p"),
        json!(["presence.online", "presence.offline"]),
    )
    .await;
    hook(&app, &token, &everything.url("/all"), json!([])).await;

    let ws = app.ws(&token, "").await;
    let got = listening.wait_for(1).await;
    let body = got[0].json();
    assert_eq!(body["type"], "presence.online", "{body}");
    assert_eq!(body["data"]["user_id"], user_id.as_str());
    assert_eq!(body["data"]["status"], "online");
    assert!(got[0].header("webhook-signature").starts_with("v1,"));
    let api: &Api = &app;
    eventually("the gauge to count the user", || async move {
        gauge(api).await == 1
    })
    .await;

    close(ws).await;
    let got = listening.wait_for(2).await;
    assert_eq!(kinds(&got), ["presence.online", "presence.offline"]);
    let offline = got[1].json();
    assert_eq!(offline["data"]["status"], "offline");
    assert_eq!(offline["data"]["user_id"], user_id.as_str());
    let (gone_at, sent_at) = (
        offline["data"]["at"].as_str().unwrap().to_owned(),
        offline["timestamp"].as_str().unwrap().to_owned(),
    );
    let gap = chrono::DateTime::parse_from_rfc3339(&sent_at).unwrap()
        - chrono::DateTime::parse_from_rfc3339(&gone_at).unwrap();
    assert!(
        gap >= chrono::Duration::milliseconds(900),
        "offline only after offline_after: {gap}"
    );
    eventually("the gauge to drop the user", || async move {
        gauge(api).await == 0
    })
    .await;

    // Not activities: nothing in history, nothing for a webhook of all types.
    let (_, list) = app.get("/api/activities", Some(&token)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(everything.count(), 0);
    assert_eq!(listening.count(), 2, "each change delivered once");
}

async fn a_reload_is_no_absence(backend: Backend) {
    let app = spawn_with(backend, |s| fast(s, "2s")).await;
    let receiver = Receiver::start().await;
    let (_, token, _) = app.user("reload@example.com").await;
    hook(
        &app,
        &token,
        &receiver.url("/p"),
        json!(["presence.offline", "presence.online"]),
    )
    .await;
    let first = app.ws(&token, "").await;
    receiver.wait_for(1).await;
    // Reload: the page's socket closes and a new one opens at once.
    close(first).await;
    let second = app.ws(&token, "").await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(kinds(&receiver.requests()), ["presence.online"]);
    close(second).await;
    let got = receiver.wait_for(2).await;
    assert_eq!(kinds(&got), ["presence.online", "presence.offline"]);
}

async fn bad_presence_subscriptions_change_nothing(backend: Backend) {
    let app = spawn_with(backend, |s| fast(s, "1s")).await;
    let (_, token, _) = app.user("badpresence@example.com").await;
    let (status, body) = app
        .post(
            "/api/webhooks",
            Some(&token),
            &json!({"url": "http://127.0.0.1:9/x", "events": ["presence.away"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["fields"][0]["field"], "events[0]", "{body}");
    let (_, list) = app.get("/api/webhooks", Some(&token)).await;
    assert_eq!(list["items"], json!([]), "{list}");
}

both_modes!(
    delivered_once_online_then_offline,
    a_reload_is_no_absence,
    bad_presence_subscriptions_change_nothing
);

/// A user whose session moves from one node to the other is never offline,
/// and the two nodes decide each change once between them.
#[actix_web::test]
async fn a_session_moving_between_nodes_is_no_absence() {
    let nodes = spawn_cluster(2, |s| fast(s, "2s")).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let receiver = Receiver::start().await;
    let (_, token, _) = a.user("mover@example.com").await;
    hook(
        a,
        &token,
        &receiver.url("/p"),
        json!(["presence.online", "presence.offline"]),
    )
    .await;
    let on_a = a.ws(&token, "").await;
    receiver.wait_for(1).await;
    let on_b = b.ws(&token, "").await;
    close(on_a).await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(kinds(&receiver.requests()), ["presence.online"]);
    let (api_a, api_b): (&Api, &Api) = (a, b);
    eventually("both nodes to show one user online", || async move {
        gauge(api_a).await == 1 && gauge(api_b).await == 1
    })
    .await;
    close(on_b).await;
    let got = receiver.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        kinds(&receiver.requests()),
        ["presence.online", "presence.offline"]
    );
    assert_eq!(got[1].json()["data"]["status"], "offline");
}

/// A node killed with `kill -9` closes nothing; its users go offline once
/// its heartbeat lapses (15 s) plus `offline_after`, decided by a survivor.
#[actix_web::test]
async fn the_users_of_a_killed_node_go_offline() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique_prefix();
    let env = [
        ("HUB__REDIS__URL", REDIS_URL),
        ("HUB__REDIS__KEY_PREFIX", prefix.as_str()),
        ("HUB__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
        ("HUB__PRESENCE__OFFLINE_AFTER", "1s"),
        ("HUB__PRESENCE__CHECK_INTERVAL", "100ms"),
    ];
    let mut doomed = ChildHub::start(&dir.path().join("doomed"), &env).await;
    let survivor = spawn_app_with(|s| {
        use_redis(s, &prefix);
        fast(s, "1s");
    })
    .await;
    let receiver = Receiver::start().await;
    let remote = Remote::new(doomed.port);
    let (_, token, _) = remote.user("killed@example.com").await;
    hook(
        &remote,
        &token,
        &receiver.url("/p"),
        json!(["presence.online", "presence.offline"]),
    )
    .await;
    let _ws = remote.ws(&token, "").await;
    receiver.wait_for(1).await;
    doomed.signal("KILL");
    let _ = doomed.exit_code().await;
    let got = receiver.wait_for_within(2, Duration::from_secs(30)).await;
    assert_eq!(kinds(&got), ["presence.online", "presence.offline"]);
    drop(survivor);
    delete_redis_prefix(&prefix);
}

/// Embedded: users online when the hub was killed go offline after it is
/// back (the announced users are kept on disk).
#[actix_web::test]
async fn embedded_users_online_at_a_kill_go_offline_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("HUB__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
        ("HUB__PRESENCE__OFFLINE_AFTER", "1s"),
        ("HUB__PRESENCE__CHECK_INTERVAL", "100ms"),
    ];
    let mut hub = ChildHub::start(dir.path(), &env).await;
    let port = hub.port;
    let receiver = Receiver::start().await;
    let api = Remote::new(port);
    let (_, token, _) = api.user("restart@example.com").await;
    hook(
        &api,
        &token,
        &receiver.url("/p"),
        json!(["presence.online", "presence.offline"]),
    )
    .await;
    let ws = api.ws(&token, "").await;
    receiver.wait_for(1).await;
    hub.signal("KILL");
    let _ = hub.exit_code().await;
    drop(ws);
    let _hub = ChildHub::start_on(dir.path(), port, &env).await;
    let got = receiver.wait_for(2).await;
    assert_eq!(kinds(&got), ["presence.online", "presence.offline"]);
}
