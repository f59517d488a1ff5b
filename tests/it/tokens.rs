//! Personal access tokens: shown once, listed without their secret, scoped
//! on every route and on the WebSocket, revoked at once (on every node).

use awc::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn create(app: &Api, session: &str, body: Value) -> (StatusCode, Value) {
    app.post("/api/auth/tokens", Some(session), &body).await
}

async fn token(app: &Api, session: &str, scopes: Value) -> (String, String) {
    let (status, body) = create(app, session, json!({"name": "script", "scopes": scopes})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

async fn tokens_are_shown_once_scoped_and_revoked_at_once(backend: Backend) {
    let app = spawn(backend).await;
    let (user_id, session, _) = app.user("pat@example.com").await;
    let (status, created) = create(
        &app,
        &session,
        json!({"name": " CLI on my laptop ", "scopes": ["read", "read"], "expires_in_days": 30}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("hub_pat_"), "{secret}");
    assert_eq!(secret.len(), "hub_pat_".len() + 43);
    assert_eq!(created["name"], "CLI on my laptop");
    assert_eq!(created["scopes"], json!(["read"]));
    assert!(created["expires_at"].is_string());
    assert!(created["last_used_at"].is_null());
    let id = created["id"].as_str().unwrap().to_owned();

    // Listed without the secret.
    let (status, list) = app.get("/api/auth/tokens", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["items"][0].get("secret").is_none(), "{list}");
    assert!(!list.to_string().contains(&secret));

    // read: it reads the user's data, as the user...
    app.publish(&session, "meeting_booked", "Seen by the token")
        .await;
    let (status, page) = app.get("/api/activities", Some(&secret)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"][0]["user_id"], user_id.as_str());
    let (status, me) = app.get("/api/auth/me", Some(&secret)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    // ...and its use is recorded.
    let (_, list) = app.get("/api/auth/tokens", Some(&session)).await;
    assert!(list["items"][0]["last_used_at"].is_string(), "{list}");
    // ...but does not write, manage webhooks or manage tokens.
    for (method, path, body) in [
        (
            "POST",
            "/api/activities",
            json!({"type": "notification", "title": "x"}),
        ),
        (
            "POST",
            "/api/tasks",
            json!({"kind": "research", "title": "x"}),
        ),
        ("GET", "/api/webhooks", Value::Null),
        (
            "POST",
            "/api/auth/tokens",
            json!({"name": "x", "scopes": ["read"]}),
        ),
        ("GET", "/api/auth/tokens", Value::Null),
    ] {
        let (status, err) = if method == "GET" {
            app.get(path, Some(&secret)).await
        } else {
            app.send_json(method, path, Some(&secret), &body).await
        };
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {err}");
        assert_eq!(err["code"], "insufficient_scope", "{method} {path}: {err}");
    }
    let (_, page) = app.get("/api/activities", Some(&session)).await;
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        1,
        "nothing was written"
    );

    // write and webhooks, each for its own routes.
    let (_, writer) = token(&app, &session, json!(["write"])).await;
    let (status, body) = app
        .post(
            "/api/activities",
            Some(&writer),
            &json!({"type": "notification", "title": "From a script"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user_id"], user_id.as_str());
    let (status, _) = app.get("/api/activities", Some(&writer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, hooks) = token(&app, &session, json!(["webhooks"])).await;
    let (status, body) = app.get("/api/webhooks", Some(&hooks)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The WebSocket takes a read token, and refuses one without read.
    let mut ws = app.ws(&secret, "").await;
    app.publish(&session, "outreach_sent", "Live to the token")
        .await;
    let event = ws.next_of("event").await;
    assert_eq!(event["data"]["title"], "Live to the token");
    let url = app.ws_url(&format!("?token={writer}"));
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 403)
        }
        other => panic!("a write-only token opened a WebSocket: {other:?}"),
    }

    // Revoked: refused at once. Revoking again, or another user's, is 404.
    let (status, _) = app
        .send_json(
            "DELETE",
            &format!("/api/auth/tokens/{id}"),
            Some(&session),
            &Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, err) = app.get("/api/activities", Some(&secret)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("revoked"),
        "{err}"
    );
    let (status, err) = app
        .send_json(
            "DELETE",
            &format!("/api/auth/tokens/{id}"),
            Some(&session),
            &Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    assert_eq!(err["code"], "token_not_found");
    let (_, other, _) = app.user("pat-other@example.com").await;
    let (_, list) = app.get("/api/auth/tokens", Some(&session)).await;
    let writer_id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .send_json(
            "DELETE",
            &format!("/api/auth/tokens/{writer_id}"),
            Some(&other),
            &Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.get("/api/auth/tokens", Some(&session)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");

    // A made-up token, and a token beside a service key, are refused.
    let (status, _) = app
        .get(
            "/api/activities",
            Some("hub_pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = app
        .client
        .get(app.url(&format!("/api/webhooks?user_id={user_id}")))
        .insert_header(("X-API-Key", SERVICE_KEY))
        .insert_header(("Authorization", format!("Bearer {hooks}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn bad_token_requests_change_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let (_, session, _) = app.user("pat-bad@example.com").await;
    for body in [
        json!({"name": "x", "scopes": []}),
        json!({"name": "x", "scopes": ["admin"]}),
        json!({"name": "   ", "scopes": ["read"]}),
        json!({"scopes": ["read"]}),
        json!({"name": "x", "scopes": ["read"], "expires_in_days": 0}),
        json!({"name": "x", "scopes": ["read"], "expires_in_days": 4000}),
        json!({"name": "x".repeat(101), "scopes": ["read"]}),
    ] {
        let (status, err) = create(&app, &session, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
    }
    let (_, list) = app.get("/api/auth/tokens", Some(&session)).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
    // A service key has no account of its own to hold tokens.
    let (status, err) = create(&app, SERVICE_KEY, json!({"name": "x", "scopes": ["read"]})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
}

async fn revoke(app: &Api, session: &str, id: &str) {
    let (status, body) = app
        .send_json(
            "DELETE",
            &format!("/api/auth/tokens/{id}"),
            Some(session),
            &Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

/// A live stream opened with a token closes when the token is revoked
/// (4001); one opened with another token, or with the user's access token,
/// stays open.
async fn sessions_opened_with_a_revoked_token_close(backend: Backend) {
    let app = spawn(backend).await;
    let (_, session, _) = app.user("pat-ws@example.com").await;
    let (id, secret) = token(&app, &session, json!(["read"])).await;
    let (_, other) = token(&app, &session, json!(["read"])).await;
    // Used on REST first, so it is in the cache when it is revoked.
    let (status, _) = app.get("/api/activities", Some(&secret)).await;
    assert_eq!(status, StatusCode::OK);
    let mut doomed = app.ws(&secret, "").await;
    let mut kept = app.ws(&other, "").await;
    let mut signed_in = app.ws(&session, "").await;
    revoke(&app, &session, &id).await;
    assert_eq!(doomed.closed_with().await, Some(4001));
    let (status, _) = app.get("/api/activities", Some(&secret)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    kept.assert_silent(std::time::Duration::from_millis(300))
        .await;
    signed_in
        .assert_silent(std::time::Duration::from_millis(10))
        .await;
    // The others still get events.
    app.publish(&session, "notification", "still here").await;
    assert_eq!(kept.next_of("event").await["data"]["title"], "still here");
    assert_eq!(
        signed_in.next_of("event").await["data"]["title"],
        "still here"
    );
}

crate::both_modes!(
    tokens_are_shown_once_scoped_and_revoked_at_once,
    bad_token_requests_change_nothing,
    sessions_opened_with_a_revoked_token_close,
);

/// Revoked on one node, refused at once on the other, though that node had
/// the token in its cache; a session opened with it there closes.
#[actix_web::test]
async fn a_token_revoked_on_one_node_is_refused_at_once_on_another() {
    let nodes = spawn_cluster(2, |_| {}).await;
    let (_, session, _) = nodes[0].user("pat-cluster@example.com").await;
    let (id, secret) = token(&nodes[0], &session, json!(["read"])).await;
    let (status, _) = nodes[1].get("/api/activities", Some(&secret)).await;
    assert_eq!(status, StatusCode::OK);
    let mut elsewhere = nodes[1].ws(&secret, "").await;
    let (status, _) = nodes[0]
        .send_json(
            "DELETE",
            &format!("/api/auth/tokens/{id}"),
            Some(&session),
            &Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = nodes[1].get("/api/activities", Some(&secret)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(elsewhere.closed_with().await, Some(4001));
}
