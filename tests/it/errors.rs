//! The error contract: one JSON shape, the right status, request ids.

use awc::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn body_errors(backend: Backend) {
    let app = spawn(backend).await;
    let (_, token, _) = app.user("ivy@example.com").await;

    let mut res = app
        .client
        .post(app.url("/api/activities"))
        .bearer_auth(&token)
        .insert_header(("content-type", "application/json"))
        .send_body("{\"type\": \"notification\", ")
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");

    let big = "x".repeat(300 * 1024);
    let mut res = app
        .client
        .post(app.url("/api/activities"))
        .bearer_auth(&token)
        .send_json(&json!({"type": "notification", "title": "t", "message": big}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large");

    let mut res = app
        .client
        .post(app.url("/api/activities"))
        .bearer_auth(&token)
        .insert_header(("content-type", "text/plain"))
        .send_body("{}")
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let _ = res.body().await;

    let (status, body) = app
        .post(
            "/api/activities",
            Some(&token),
            &json!({"type": "notification", "title": "t", "tilte": "typo"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "validation_failed");
    assert!(
        body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("tilte"),
        "{body}"
    );

    let (status, body) = app
        .post(
            "/api/activities",
            Some(&token),
            &json!({"type": "dance", "title": "t"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["fields"][0]["field"], "type");

    // None of the refused requests stored anything.
    let (_, page) = app.get("/api/activities", Some(&token)).await;
    assert_eq!(page["items"], json!([]));
}

async fn request_ids_and_unknown_routes(backend: Backend) {
    let app = spawn(backend).await;
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    let generated = res
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(generated.len() >= 16);
    let mut res = app
        .client
        .get(app.url("/api/nowhere"))
        .insert_header(("X-Request-Id", "abc-123"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers().get("x-request-id").unwrap(), "abc-123");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"code": "not_found", "message": "No such route."})
    );
}

async fn health_and_ready(backend: Backend) {
    let app = spawn(backend).await;
    let (status, body) = app.get("/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    let mode = if backend == Backend::Redis {
        "cluster"
    } else {
        "embedded"
    };
    assert_eq!(body["mode"], mode);
    assert!(body["node_id"].as_str().unwrap().starts_with("node-"));
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let (status, body) = app.get("/ready", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

both_modes!(
    body_errors,
    request_ids_and_unknown_routes,
    health_and_ready,
);
