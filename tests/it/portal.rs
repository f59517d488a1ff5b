//! Portal sessions: one-time links for the embeddable webhook portal, the
//! webhooks-only scope of the session they open, read-only sessions,
//! expiry, the framing rules of `/portal` and `/`, and `webhook_delivery`
//! frames pushed live to the owner's sessions — in both modes.

use std::time::{Duration, Instant};

use awc::http::StatusCode;
use base64::Engine;
use hub_core::settings::Dur;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::receiver::Receiver;

fn token_of(link: &Value) -> String {
    let url = link["url"].as_str().expect("a url");
    let (_, token) = url.split_once("/portal#token=").expect("a portal link");
    token.to_owned()
}

async fn link(app: &TestApp, body: Value) -> Value {
    let (status, link) = app
        .post("/api/portal/sessions", Some(SERVICE_KEY), &body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    link
}

async fn exchange(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.post("/api/portal/exchange", None, &json!({ "token": token }))
        .await
}

/// A portal session for `user`: the token of an exchanged link.
async fn portal_token(app: &TestApp, user: &str, read_only: bool) -> String {
    let link = link(app, json!({"user_id": user, "read_only": read_only})).await;
    let (status, session) = exchange(app, &token_of(&link)).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    session["access_token"].as_str().unwrap().to_owned()
}

async fn create_webhook(app: &TestApp, token: &str, url: &str) -> String {
    let (status, body) = app
        .post(
            "/api/webhooks",
            Some(token),
            &json!({"url": url, "events": []}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

fn allow_private(s: &mut hub_core::Settings) {
    s.webhooks.allow_private_targets = true;
    s.webhooks.retry_schedule = vec![Dur(Duration::ZERO), Dur(Duration::from_millis(50))];
}

async fn links_work_once_and_only_on_webhooks(backend: Backend) {
    let app = spawn_with(backend, allow_private).await;
    let (alice, a_token, _) = app.user("portal-alice@example.com").await;
    let (_, b_token, _) = app.user("portal-bob@example.com").await;
    let alices = create_webhook(&app, &a_token, "http://127.0.0.1:9/a").await;
    let bobs = create_webhook(&app, &b_token, "http://127.0.0.1:9/b").await;

    // Only a service key hands out links, for a user that exists, with a
    // sane lifetime; a bad request changes nothing.
    let body = json!({ "user_id": alice });
    let (status, err) = app
        .post("/api/portal/sessions", Some(&a_token), &body)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(err["code"], "service_key_required");
    for (bad, field) in [
        (json!({"user_id": alice, "ttl_seconds": 0}), "ttl_seconds"),
        (
            json!({"user_id": alice, "ttl_seconds": 86_401}),
            "ttl_seconds",
        ),
    ] {
        let (status, err) = app
            .post("/api/portal/sessions", Some(SERVICE_KEY), &bad)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["fields"][0]["field"], field, "{err}");
    }
    let (status, err) = app
        .post(
            "/api/portal/sessions",
            Some(SERVICE_KEY),
            &json!({"user_id": alice, "lifetime": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, err) = app
        .post(
            "/api/portal/sessions",
            Some(SERVICE_KEY),
            &json!({"user_id": "usr_nobody"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    assert_eq!(err["code"], "user_not_found");

    let started = chrono::Utc::now();
    let created = link(&app, json!({ "user_id": alice })).await;
    let url = created["url"].as_str().unwrap();
    assert!(
        url.starts_with(&app.url("/portal#token=hub_portal_")),
        "{url}"
    );
    let expires_at: chrono::DateTime<chrono::Utc> =
        created["expires_at"].as_str().unwrap().parse().unwrap();
    let ttl = (expires_at - started).num_seconds();
    assert!(
        (3_590..=3_601).contains(&ttl),
        "default lifetime, got {ttl} s"
    );

    // The token is exchanged once, ever.
    let token = token_of(&created);
    let (status, session) = exchange(&app, &token).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["token_type"], "bearer");
    assert_eq!(session["user_id"], alice.as_str());
    assert_eq!(session["read_only"], false);
    assert_eq!(session["expires_at"], created["expires_at"]);
    let (status, again) = exchange(&app, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{again}");
    assert_eq!(again["code"], "invalid_portal_token");
    for forged in ["hub_portal_forged", "eyJhbGciOiJIUzI1NiJ9.e30.x", ""] {
        let (status, err) = exchange(&app, forged).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{forged}: {err}");
    }
    // The session token expires with the link.
    let portal = session["access_token"].as_str().unwrap();
    let claims = portal.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["exp"].as_i64(), Some(expires_at.timestamp()));

    // It manages Alice's webhooks and sees nobody else's.
    let (status, list) = app.get("/api/webhooks", Some(portal)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [alices.as_str()]);
    let (status, _) = app
        .get(&format!("/api/webhooks/{bobs}"), Some(portal))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, secret) = app
        .get(&format!("/api/webhooks/{alices}/secret"), Some(portal))
        .await;
    assert_eq!(status, StatusCode::OK, "{secret}");
    let created_by_portal = create_webhook(&app, portal, "http://127.0.0.1:9/c").await;
    let (status, _) = app
        .send_json(
            "DELETE",
            &format!("/api/webhooks/{created_by_portal}"),
            Some(portal),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Nothing else: not Alice's activities, tasks, analytics or account.
    for path in [
        "/api/activities",
        "/api/tasks",
        "/api/analytics/summary",
        "/api/auth/me",
        "/api/ws/status",
    ] {
        let (status, err) = app.get(path, Some(portal)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {err}");
        assert_eq!(err["code"], "portal_scope", "{path}");
    }
    let (status, err) = app
        .post(
            "/api/activities",
            Some(portal),
            &json!({"type": "notification", "title": "sneaky"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let (_, page) = app.get("/api/activities", Some(&a_token)).await;
    assert!(page["items"].as_array().unwrap().is_empty());
}

async fn read_only_sessions_look_but_do_not_change(backend: Backend) {
    let app = spawn_with(backend, allow_private).await;
    let (alice, a_token, _) = app.user("portal-ro@example.com").await;
    let id = create_webhook(&app, &a_token, "http://127.0.0.1:9/ro").await;
    let portal = portal_token(&app, &alice, true).await;

    let (status, list) = app.get("/api/webhooks", Some(&portal)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (status, _) = app
        .get(&format!("/api/webhooks/{id}/deliveries"), Some(&portal))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = app
        .get(&format!("/api/webhooks/{id}/secret"), Some(&portal))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(err["code"], "portal_read_only");
    for (method, path, body) in [
        (
            "POST",
            "/api/webhooks".to_owned(),
            json!({"url": "http://127.0.0.1:9/x", "events": []}),
        ),
        (
            "PATCH",
            format!("/api/webhooks/{id}"),
            json!({"description": "changed"}),
        ),
        ("DELETE", format!("/api/webhooks/{id}"), json!({})),
        ("POST", format!("/api/webhooks/{id}/test"), json!({})),
        (
            "POST",
            format!("/api/webhooks/{id}/secret/rotate"),
            json!({}),
        ),
    ] {
        let (status, err) = app.send_json(method, &path, Some(&portal), &body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {err}");
        assert_eq!(err["code"], "portal_read_only", "{method} {path}");
    }
    // Nothing changed.
    let (_, after) = app
        .get(&format!("/api/webhooks/{id}"), Some(&a_token))
        .await;
    assert_eq!(after["description"], Value::Null);
    let (_, list) = app.get("/api/webhooks", Some(&a_token)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

async fn links_and_sessions_expire_on_time(backend: Backend) {
    let app = spawn_with(backend, allow_private).await;
    let (alice, _, _) = app.user("portal-exp@example.com").await;
    let unused = link(&app, json!({"user_id": alice, "ttl_seconds": 1})).await;
    let used = link(&app, json!({"user_id": alice, "ttl_seconds": 2})).await;
    let (status, session) = exchange(&app, &token_of(&used)).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let portal = session["access_token"].as_str().unwrap().to_owned();
    let expires_at: chrono::DateTime<chrono::Utc> =
        used["expires_at"].as_str().unwrap().parse().unwrap();

    let deadline = Instant::now() + DEADLINE;
    loop {
        let (status, _) = app.get("/api/webhooks", Some(&portal)).await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            Instant::now() < deadline,
            "the portal session never expired"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        chrono::Utc::now() >= expires_at,
        "refused before its expiry"
    );
    let (status, err) = exchange(&app, &token_of(&unused)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
    assert_eq!(err["code"], "invalid_portal_token");
}

async fn deliveries_are_pushed_live_to_the_owner(backend: Backend) {
    let app = spawn_with(backend, allow_private).await;
    let receiver = Receiver::start().await;
    let (alice, a_token, _) = app.user("portal-live@example.com").await;
    let (_, b_token, _) = app.user("portal-other@example.com").await;
    let id = create_webhook(&app, &a_token, &receiver.url("/hook")).await;
    let portal = portal_token(&app, &alice, true).await;

    let mut dashboard = app.ws(&a_token, "").await;
    let mut portal_ws = app.ws(&portal, "").await;
    let mut bob = app.ws(&b_token, "").await;

    let activity = app.publish(&a_token, "meeting_booked", "Call").await;
    // The dashboard session gets the event and then the outcome of its
    // delivery; the portal session gets the outcome only.
    let event = dashboard.next_of("event").await;
    assert_eq!(event["id"], activity["id"]);
    for ws in [&mut dashboard, &mut portal_ws] {
        let frame = ws.next_of("webhook_delivery").await;
        assert_eq!(frame["webhook_id"], id.as_str(), "{frame}");
        assert_eq!(frame["event_type"], "meeting_booked", "{frame}");
        assert_eq!(frame["status"], "succeeded", "{frame}");
        assert_eq!(frame["attempt"]["attempt"], 1, "{frame}");
        assert_eq!(frame["attempt"]["status_code"], 200, "{frame}");
        assert!(frame["delivery_id"].as_str().unwrap().starts_with("msg_"));
    }
    // A failing attempt shows as pending with its next attempt, then the
    // retry's success.
    receiver.script([crate::receiver::Reply::Status(500)]);
    app.publish(&a_token, "outreach_sent", "Mail").await;
    let failed = portal_ws.next_of("webhook_delivery").await;
    assert_eq!(failed["status"], "pending", "{failed}");
    assert_eq!(failed["attempt"]["status_code"], 500, "{failed}");
    assert!(failed["attempt"]["next_attempt_at"].is_string(), "{failed}");
    let retried = portal_ws.next_of("webhook_delivery").await;
    assert_eq!(retried["delivery_id"], failed["delivery_id"]);
    assert_eq!(retried["status"], "succeeded", "{retried}");
    assert_eq!(retried["attempt"]["attempt"], 2, "{retried}");
    // A test event shows too.
    let (status, _) = app
        .post(
            &format!("/api/webhooks/{id}/test"),
            Some(&a_token),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let test = portal_ws.next_of("webhook_delivery").await;
    assert_eq!(test["event_type"], "webhook.test", "{test}");

    // The portal session never sees events, and another user nothing.
    portal_ws.assert_silent(Duration::from_millis(300)).await;
    bob.assert_silent(Duration::from_millis(300)).await;
}

both_modes!(
    links_work_once_and_only_on_webhooks,
    read_only_sessions_look_but_do_not_change,
    links_and_sessions_expire_on_time,
    deliveries_are_pushed_live_to_the_owner,
);
