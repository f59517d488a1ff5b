//! Tasks: the status machine, progress, ETA, live updates, completion activity.

use awc::http::StatusCode;
use serde_json::json;

use crate::helpers::*;

async fn task_lifecycle_with_live_updates(backend: Backend) {
    let app = spawn(backend).await;
    let (_, token, _) = app.user("tara@example.com").await;
    let (_, other, _) = app.user("uma@example.com").await;
    let mut ws = app.ws(&token, "").await;

    let (status, task) = app
        .post(
            "/api/tasks",
            Some(&token),
            &json!({"kind": "research", "title": "Research Acme"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!(task["status"], "queued");
    assert_eq!(task["progress"], 0);
    assert!(task["eta_seconds"].is_null() && task["started_at"].is_null());
    let id = task["id"].as_str().unwrap().to_owned();
    let path = format!("/api/tasks/{id}");
    assert_eq!(ws.next_of("task_update").await["task"]["status"], "queued");

    // queued → completed is not a move.
    let (status, body) = app
        .send_json(
            "PATCH",
            &path,
            Some(&token),
            &json!({"status": "completed"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "invalid_transition");

    let (status, running) = app
        .send_json(
            "PATCH",
            &path,
            Some(&token),
            &json!({"status": "running", "progress": 10}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{running}");
    assert!(running["started_at"].is_string());
    assert_eq!(ws.next_of("task_update").await["task"]["progress"], 10);

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, half) = app
        .send_json("PATCH", &path, Some(&token), &json!({"progress": 50}))
        .await;
    assert!(
        half["eta_seconds"].as_u64().is_some(),
        "ETA estimated from the rate: {half}"
    );
    let (_, given) = app
        .send_json(
            "PATCH",
            &path,
            Some(&token),
            &json!({"progress": 60, "eta_seconds": 42, "message": "Reading site"}),
        )
        .await;
    assert_eq!(given["eta_seconds"], 42);
    assert_eq!(given["message"], "Reading site");

    let (status, body) = app
        .send_json("PATCH", &path, Some(&token), &json!({"progress": 30}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "progress_decreased");
    let (status, _) = app
        .send_json("PATCH", &path, Some(&token), &json!({"progress": 101}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .send_json("PATCH", &path, Some(&token), &json!({"progrss": 70}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Another user cannot see or touch it.
    assert_eq!(app.get(&path, Some(&other)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.send_json("PATCH", &path, Some(&other), &json!({"progress": 90}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    let (status, done) = app
        .send_json(
            "PATCH",
            &path,
            Some(&token),
            &json!({"status": "completed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["progress"], 100);
    assert!(done["finished_at"].is_string());
    // Updates arrive in order: 50, 60, then completed, then the activity.
    assert_eq!(ws.next_of("task_update").await["task"]["progress"], 50);
    assert_eq!(ws.next_of("task_update").await["task"]["progress"], 60);
    assert_eq!(
        ws.next_of("task_update").await["task"]["status"],
        "completed"
    );
    let event = ws.next_of("event").await;
    assert_eq!(event["event"], "task_completed");
    assert_eq!(event["data"]["metadata"]["kind"], "research");
    assert_eq!(event["data"]["metadata"]["task_id"], id.as_str());

    let (status, _) = app
        .send_json("PATCH", &path, Some(&token), &json!({"status": "failed"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, acts) = app
        .get("/api/activities?type=task_completed", Some(&token))
        .await;
    assert_eq!(acts["items"].as_array().unwrap().len(), 1);

    let (_, list) = app
        .get("/api/tasks?status=completed&kind=research", Some(&token))
        .await;
    assert_eq!(list["items"][0]["id"], id.as_str());
    let (_, none) = app.get("/api/tasks?status=running", Some(&token)).await;
    assert_eq!(none["items"], json!([]));
    let (_, others) = app.get("/api/tasks", Some(&other)).await;
    assert_eq!(others["items"], json!([]));
}

async fn tasks_paginate_and_services_drive_them(backend: Backend) {
    let app = spawn(backend).await;
    let (uid, token, _) = app.user("vic@example.com").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (status, t) = app
            .post(
                "/api/tasks",
                Some(SERVICE_KEY),
                &json!({"kind": "content", "title": format!("t{i}"), "user_id": uid}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        ids.push(t["id"].as_str().unwrap().to_owned());
    }
    let (_, p1) = app.get("/api/tasks?limit=2", Some(&token)).await;
    assert_eq!(p1["items"][0]["id"], ids[2].as_str());
    let cursor = p1["next_cursor"].as_str().unwrap();
    let (_, p2) = app
        .get(&format!("/api/tasks?limit=2&cursor={cursor}"), Some(&token))
        .await;
    assert_eq!(p2["items"][0]["id"], ids[0].as_str());
    assert!(p2["next_cursor"].is_null());
    let path = format!("/api/tasks/{}", ids[0]);
    let (status, _) = app
        .send_json(
            "PATCH",
            &path,
            Some(SERVICE_KEY),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

both_modes!(
    task_lifecycle_with_live_updates,
    tasks_paginate_and_services_drive_them,
);
