//! Rate limiting per route group, with the standard headers.

use std::time::Duration;

use awc::http::StatusCode;
use hub_core::settings::{Dur, RateLimitKey};
use serde_json::{json, Value};

use crate::helpers::*;

async fn limited_app(backend: Backend, tweak: impl FnOnce(&mut hub_core::Settings)) -> TestApp {
    spawn_with(backend, |s| {
        s.rate_limit.enabled = true;
        let api = s.rate_limit.policies.get_mut("api").unwrap();
        api.limit = 3;
        api.window = Dur(Duration::from_secs(1));
        tweak(s);
    })
    .await
}

fn header(res: &awc::ClientResponse<impl futures_util::Stream>, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn quota_headers_429_and_recovery(backend: Backend) {
    let app = limited_app(backend, |_| {}).await;
    let (_, token, _) = app.user("rl@example.com").await;
    for expected in [2, 1, 0] {
        let res = app
            .client
            .get(app.url("/api/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, "x-ratelimit-limit").as_deref(), Some("3"));
        assert_eq!(
            header(&res, "x-ratelimit-remaining"),
            Some(expected.to_string())
        );
        assert_eq!(header(&res, "x-ratelimit-reset").as_deref(), Some("1"));
        assert_eq!(
            header(&res, "ratelimit-policy").as_deref(),
            Some("\"api\";q=3;w=1")
        );
        assert_eq!(
            header(&res, "ratelimit"),
            Some(format!("\"api\";r={expected};t=1"))
        );
    }
    let mut res = app
        .client
        .get(app.url("/api/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&res, "retry-after").as_deref(), Some("1"));
    assert_eq!(header(&res, "x-ratelimit-remaining").as_deref(), Some("0"));
    assert!(header(&res, "x-request-id").is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");

    // The quota comes back as time passes.
    let app_ref = &app;
    let token_ref = &token;
    eventually("the quota to come back", || async move {
        app_ref.get("/api/auth/me", Some(token_ref)).await.0 == StatusCode::OK
    })
    .await;

    // Exempt paths are never limited and carry no headers.
    for _ in 0..10 {
        let res = app.client.get(app.url("/health")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(header(&res, "x-ratelimit-limit").is_none());
    }
    assert_eq!(app.get("/api/openapi.json", None).await.0, StatusCode::OK);
}

async fn auth_and_ws_have_their_own_groups(backend: Backend) {
    let app = limited_app(backend, |s| {
        let auth = s.rate_limit.policies.get_mut("auth").unwrap();
        auth.limit = 2;
        let ws = s.rate_limit.policies.get_mut("ws_connect").unwrap();
        ws.limit = 2;
    })
    .await;
    let (_, token, _) = app.user("groups@example.com").await; // register + login: 2 auth
    let (status, body) = app
        .post(
            "/api/auth/login",
            None,
            &json!({"email": "groups@example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // The api group is untouched by auth traffic.
    assert_eq!(
        app.get("/api/auth/me", Some(&token)).await.0,
        StatusCode::OK
    );

    let url = app.ws_url(&format!("?token={token}"));
    for _ in 0..2 {
        tokio_tungstenite::connect_async(&url)
            .await
            .expect("within the ws_connect quota");
    }
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status().as_u16(), 429)
        }
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
}

async fn forwarded_for_counts_only_from_trusted_proxies(backend: Backend) {
    // Untrusted peer: spoofed X-Forwarded-For values change nothing.
    let app = limited_app(backend, |_| {}).await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let res = app
            .client
            .get(app.url("/api/activities"))
            .insert_header(("X-Forwarded-For", format!("203.0.113.{i}")))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);

    // Trusted peer: each forwarded client has its own bucket.
    let app = limited_app(backend, |s| {
        s.server.trusted_proxies = vec!["127.0.0.1/32".into()]
    })
    .await;
    for i in 0..4 {
        let res = app
            .client
            .get(app.url("/api/activities"))
            .insert_header(("X-Forwarded-For", format!("203.0.113.{i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "client {i} has its own quota"
        );
        assert_eq!(header(&res, "x-ratelimit-remaining").as_deref(), Some("2"));
    }
}

async fn authenticated_callers_can_be_keyed_by_user(backend: Backend) {
    let app = limited_app(backend, |s| {
        s.rate_limit.policies.get_mut("api").unwrap().key = RateLimitKey::User
    })
    .await;
    let (_, a, _) = app.user("ua@example.com").await;
    let (_, b, _) = app.user("ub@example.com").await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/auth/me", Some(&a)).await.0, StatusCode::OK);
    }
    assert_eq!(
        app.get("/api/auth/me", Some(&a)).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Same IP, another user: a whole quota.
    assert_eq!(app.get("/api/auth/me", Some(&b)).await.0, StatusCode::OK);
}

both_modes!(
    quota_headers_429_and_recovery,
    auth_and_ws_have_their_own_groups,
    forwarded_for_counts_only_from_trusted_proxies,
    authenticated_callers_can_be_keyed_by_user,
);
