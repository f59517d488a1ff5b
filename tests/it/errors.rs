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
    let mode = if backend.is_cluster() {
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

/// Sends a request; its status, headers and JSON body (null if not JSON).
async fn call(req: awc::ClientRequest) -> (StatusCode, awc::http::header::HeaderMap, Value) {
    let mut res = req.send().await.unwrap();
    let body = res.body().await.unwrap();
    let headers = res.headers().clone();
    (
        res.status(),
        headers,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

#[actix_web::test]
async fn unsupported_methods_are_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        ("TRACE", "/health", "GET"),
        ("POST", "/ready", "GET"),
        ("DELETE", "/metrics", "GET"),
        ("TRACE", "/api/auth/me", "GET"),
        ("PUT", "/api/broadcast", "POST"),
        ("GET", "/api/activities/bulk", "POST"),
        ("PUT", "/api/tasks/tsk_1", "GET, PATCH"),
    ] {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let (status, headers, body) = call(app.client.request(method.clone(), app.url(path))).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        let sent = headers.get("allow").unwrap().to_str().unwrap();
        let mut listed: Vec<&str> = sent.split(", ").collect();
        listed.sort();
        assert_eq!(listed.join(", "), allow, "{method} {path}");
        assert_eq!(
            body,
            json!({
                "code": "method_not_allowed",
                "message": format!("{method} is not supported here; use {sent}."),
            })
        );
    }
    // An unknown path stays a JSON 404, whatever the method.
    let (status, _, body) = call(
        app.client
            .request(awc::http::Method::TRACE, app.url("/api/nowhere")),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"code": "not_found", "message": "No such route."})
    );
}

#[actix_web::test]
async fn two_credentials_must_both_be_valid_and_agree() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("two@example.com").await;
    let unauthenticated = |message: &str| json!({"code": "unauthenticated", "message": message});
    let user_bearer = format!("Bearer {token}");
    let service_bearer = format!("Bearer {SERVICE_KEY}");
    let cases = [
        // A valid service key beside a broken bearer token: refused.
        (
            Some(SERVICE_KEY),
            Some("Bearer not-a-token"),
            StatusCode::UNAUTHORIZED,
            unauthenticated("The access token is not valid."),
        ),
        // A valid user token beside a wrong service key: refused.
        (
            Some("hubk_wrong"),
            Some(user_bearer.as_str()),
            StatusCode::UNAUTHORIZED,
            unauthenticated("The API key is not valid."),
        ),
        // Both valid but naming different callers: refused as ambiguous.
        (
            Some(SERVICE_KEY),
            Some(user_bearer.as_str()),
            StatusCode::UNAUTHORIZED,
            json!({
                "code": "ambiguous_credentials",
                "message": "Send one credential: an X-API-Key and a user's bearer token name different callers.",
            }),
        ),
        // The same service key both ways is one caller (who must name a user).
        (
            Some(SERVICE_KEY),
            Some(service_bearer.as_str()),
            StatusCode::FORBIDDEN,
            json!({
                "code": "user_id_required",
                "message": "A service key acts for a user: name it with user_id.",
            }),
        ),
        // One credential alone still works.
        (
            None,
            Some(user_bearer.as_str()),
            StatusCode::OK,
            json!({"items": [], "next_cursor": null}),
        ),
    ];
    for (key, bearer, want_status, want_body) in cases {
        let mut req = app.client.get(app.url("/api/webhooks"));
        if let Some(key) = key {
            req = req.insert_header(("X-API-Key", key));
        }
        if let Some(bearer) = bearer {
            req = req.insert_header(("Authorization", bearer));
        }
        let (status, headers, body) = call(req).await;
        assert_eq!(status, want_status, "{key:?} {bearer:?}");
        assert_eq!(body, want_body, "{key:?} {bearer:?}");
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(headers.get("www-authenticate").unwrap(), "Bearer");
        }
    }
}

#[actix_web::test]
async fn broadcast_data_must_be_an_object_as_documented() {
    let app = spawn_app().await;
    let req = app
        .client
        .post(app.url("/api/broadcast"))
        .insert_header(("X-API-Key", SERVICE_KEY))
        .insert_header(("content-type", "application/json"));
    let mut res = req
        .send_body(r#"{"title": "t", "data": [null]}"#)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "code": "validation_failed",
            "message": "data: must be a JSON object",
            "fields": [{"field": "data", "message": "must be a JSON object"}],
        })
    );
}
