//! REST hooks (Zapier's subscribe / unsubscribe / sample), called with a
//! personal access token.

use awc::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::receiver::Receiver;

async fn pat(app: &Api, session: &str, scopes: Value) -> String {
    let (status, body) = app
        .post(
            "/api/auth/tokens",
            Some(session),
            &json!({"name": "Zapier", "scopes": scopes}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["secret"].as_str().unwrap().to_owned()
}

async fn subscribe_sample_and_unsubscribe(backend: Backend) {
    let app = spawn_with(backend, |s| s.webhooks.allow_private_targets = true).await;
    let receiver = Receiver::start().await;
    let (_, session, _) = app.user("zapier@example.com").await;
    let token = pat(&app, &session, json!(["webhooks"])).await;

    // Before any activity: one typical example, shaped like a delivery.
    let (status, sample) = app
        .get("/api/hooks/sample?event=meeting_booked", Some(&token))
        .await;
    assert_eq!(status, StatusCode::OK, "{sample}");
    let sample = sample.as_array().unwrap();
    assert_eq!(sample.len(), 1);
    assert_eq!(sample[0]["type"], "meeting_booked");
    assert_eq!(sample[0]["data"]["type"], "meeting_booked");
    assert_eq!(sample[0]["data"]["metadata"]["sample"], true);

    let (status, sub) = app
        .post(
            "/api/hooks",
            Some(&token),
            &json!({"target_url": receiver.url("/zap"), "event": "meeting_booked"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    let id = sub["id"].as_str().unwrap().to_owned();
    assert_eq!(sub["event"], "meeting_booked");
    // It is a webhook like any other.
    let (_, list) = app.get("/api/webhooks", Some(&session)).await;
    let listed = &list["items"][0];
    assert_eq!(listed["id"], id.as_str());
    assert_eq!(listed["events"], json!(["meeting_booked"]));
    assert_eq!(listed["format"], "standard");
    assert_eq!(listed["description"], "REST hook: meeting_booked");

    app.publish(&session, "outreach_sent", "Not subscribed")
        .await;
    let booked = app
        .publish(&session, "meeting_booked", "Call with Initech")
        .await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["data"]["id"], booked["id"]);
    assert!(got[0].header("webhook-signature").starts_with("v1,"));

    // The sample is now the user's own latest activities of the type.
    let (_, sample) = app
        .get("/api/hooks/sample?event=meeting_booked", Some(&token))
        .await;
    assert_eq!(sample[0]["data"]["id"], booked["id"], "{sample}");

    let (status, _) = app
        .send_json(
            "DELETE",
            &format!("/api/hooks/{id}"),
            Some(&token),
            &Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = app.get("/api/webhooks", Some(&session)).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    app.publish(&session, "meeting_booked", "After unsubscribing")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(receiver.count(), 1, "nothing after unsubscribing");
    let (status, err) = app
        .send_json(
            "DELETE",
            &format!("/api/hooks/{id}"),
            Some(&token),
            &Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
}

async fn bad_subscriptions_change_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let (_, session, _) = app.user("zapier-bad@example.com").await;
    let token = pat(&app, &session, json!(["webhooks"])).await;
    let reader = pat(&app, &session, json!(["read"])).await;
    let (status, err) = app
        .post(
            "/api/hooks",
            Some(&token),
            &json!({"target_url": "https://hooks.example.com/zap", "event": "deal_won"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["fields"][0]["field"], "event");
    let (status, err) = app
        .post(
            "/api/hooks",
            Some(&token),
            &json!({"target_url": "http://192.168.1.20/zap", "event": "meeting_booked"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(err["code"], "target_not_allowed");
    assert_eq!(err["fields"][0]["field"], "target_url");
    let (status, err) = app
        .post(
            "/api/hooks",
            Some(&reader),
            &json!({"target_url": "https://hooks.example.com/zap", "event": "meeting_booked"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(err["code"], "insufficient_scope");
    let (status, _) = app.get("/api/hooks/sample?event=nope", Some(&token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = app.get("/api/webhooks", Some(&session)).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
}

crate::both_modes!(
    subscribe_sample_and_unsubscribe,
    bad_subscriptions_change_nothing
);
