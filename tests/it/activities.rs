//! Publishing and reading activities; idempotency; service keys; broadcast.

use awc::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn publish_list_get_and_isolation(backend: Backend) {
    let app = spawn(backend).await;
    let (alice, a_token, _) = app.user("alice@example.com").await;
    let (_, b_token, _) = app.user("bob@example.com").await;

    let (status, first) = app
        .post(
            "/api/activities",
            Some(&a_token),
            &json!({"type": "prospect_added", "title": "Acme Corp", "message": "via LinkedIn",
                    "metadata": {"score": 87}, "link": "https://acme.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["user_id"], alice.as_str());
    assert_eq!(first["type"], "prospect_added");
    assert_eq!(first["metadata"]["score"], 87);
    let mut ids = vec![first["id"].as_str().unwrap().to_owned()];
    for i in 0..4 {
        let kind = if i % 2 == 0 {
            "outreach_sent"
        } else {
            "meeting_booked"
        };
        ids.push(
            app.publish(&a_token, kind, &format!("event {i}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "ids grow with time");

    // Newest first, paginated with the cursor.
    let (_, page1) = app.get("/api/activities?limit=2", Some(&a_token)).await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    assert_eq!(page1["items"][0]["id"], ids[4].as_str());
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = app
        .get(
            &format!("/api/activities?limit=2&cursor={cursor}"),
            Some(&a_token),
        )
        .await;
    assert_eq!(page2["items"][0]["id"], ids[2].as_str());
    let cursor = page2["next_cursor"].as_str().unwrap();
    let (_, page3) = app
        .get(
            &format!("/api/activities?limit=2&cursor={cursor}"),
            Some(&a_token),
        )
        .await;
    assert_eq!(page3["items"].as_array().unwrap().len(), 1);
    assert!(page3["next_cursor"].is_null());

    let (_, booked) = app
        .get("/api/activities?type=meeting_booked", Some(&a_token))
        .await;
    assert_eq!(booked["items"].as_array().unwrap().len(), 2);
    let (status, _) = app.get("/api/activities?type=nope", Some(&a_token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, future) = app
        .get("/api/activities?since=2999-01-01T00:00:00Z", Some(&a_token))
        .await;
    assert_eq!(future["items"], json!([]));

    let (status, got) = app
        .get(&format!("/api/activities/{}", ids[0]), Some(&a_token))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, first);
    // Bob sees none of it: not in his list, 404 by id.
    let (status, body) = app
        .get(&format!("/api/activities/{}", ids[0]), Some(&b_token))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "activity_not_found");
    let (_, bobs) = app.get("/api/activities", Some(&b_token)).await;
    assert_eq!(bobs["items"], json!([]));
    // A user token cannot publish for someone else.
    let (status, _) = app
        .post(
            "/api/activities",
            Some(&b_token),
            &json!({"type": "notification", "title": "x", "user_id": alice}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn idempotency_key_returns_the_first_activity(backend: Backend) {
    let app = spawn(backend).await;
    let (_, token, _) = app.user("ida@example.com").await;
    let send = |body: Value, key: &'static str| {
        let req = app
            .client
            .post(app.url("/api/activities"))
            .bearer_auth(&token)
            .insert_header(("Idempotency-Key", key));
        async move {
            let mut res = req.send_json(&body).await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let body = json!({"type": "content_published", "title": "Post"});
    let (s1, a1) = send(body.clone(), "k-1").await;
    let (s2, a2) = send(body.clone(), "k-1").await;
    assert_eq!(s1, StatusCode::CREATED);
    assert_eq!(s2, StatusCode::CREATED);
    assert_eq!(a1, a2);
    let (s3, b3) = send(
        json!({"type": "content_published", "title": "Other"}),
        "k-1",
    )
    .await;
    assert_eq!(s3, StatusCode::CONFLICT);
    assert_eq!(b3["code"], "idempotency_key_reused");
    let (_, a4) = send(body, "k-2").await;
    assert_ne!(a4["id"], a1["id"]);
    let (_, page) = app.get("/api/activities", Some(&token)).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
}

async fn service_keys_publish_for_users_and_broadcast(backend: Backend) {
    let app = spawn(backend).await;
    let (uid, token, _) = app.user("sam@example.com").await;
    let (_, other_token, _) = app.user("tom@example.com").await;
    let mut ws = app.ws(&token, "").await;
    let mut other = app.ws(&other_token, "").await;

    let (status, body) = app
        .post(
            "/api/activities",
            Some(SERVICE_KEY),
            &json!({"type": "research_completed", "title": "Done"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "user_id is required: {body}");
    let (status, body) = app
        .post(
            "/api/activities",
            Some(SERVICE_KEY),
            &json!({"type": "research_completed", "title": "Done", "user_id": "usr_nobody"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "user_not_found");
    let (status, created) = app
        .post(
            "/api/activities",
            Some(SERVICE_KEY),
            &json!({"type": "research_completed", "title": "Done", "user_id": uid}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let event = ws.next_of("event").await;
    assert_eq!(event["id"], created["id"]);

    // Broadcast: service keys only, reaches every session, stored nowhere.
    let (status, _) = app
        .post("/api/broadcast", Some(&token), &json!({"title": "hi"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .post(
            "/api/broadcast",
            Some(SERVICE_KEY),
            &json!({"title": "Maintenance", "data": {"at": "22:00"}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for session in [&mut ws, &mut other] {
        let frame = session.next_of("broadcast").await;
        assert_eq!(frame["data"]["title"], "Maintenance");
        assert_eq!(frame["data"]["data"]["at"], "22:00");
    }
    let (_, page) = app.get("/api/activities", Some(&other_token)).await;
    assert_eq!(page["items"], json!([]));
}

both_modes!(
    publish_list_get_and_isolation,
    idempotency_key_returns_the_first_activity,
    service_keys_publish_for_users_and_broadcast,
);
