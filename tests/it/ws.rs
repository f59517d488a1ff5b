//! The WebSocket protocol, against real sockets.

use std::time::Duration;

use awc::http::StatusCode;
use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;

fn token_expiring_in(user: &str, secs: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": user, "iat": now, "exp": now + secs, "jti": "x",
                        "iss": "aiclone-hub", "aud": "aiclone-hub", "typ": "access"});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .unwrap()
}

async fn upgrade_status(app: &TestApp, query: &str, headers: &[(&str, &str)]) -> u16 {
    let mut req = app.ws_url(query).into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("unexpected: {e}"),
    }
}

async fn authentication_and_origin_before_upgrade(backend: Backend) {
    let app = spawn_with(backend, |s| {
        s.server.allowed_origins = vec!["https://app.example.com".into()]
    })
    .await;
    let (_, token, _) = app.user("wes@example.com").await;
    assert_eq!(upgrade_status(&app, "", &[]).await, 401);
    assert_eq!(upgrade_status(&app, "?token=garbage", &[]).await, 401);
    let bearer = format!("Bearer {token}");
    assert_eq!(
        upgrade_status(&app, "", &[("authorization", &bearer)]).await,
        101
    );
    let q = format!("?token={token}");
    assert_eq!(
        upgrade_status(&app, &q, &[("origin", "https://evil.example")]).await,
        403
    );
    assert_eq!(
        upgrade_status(&app, &q, &[("origin", "https://app.example.com")]).await,
        101
    );
    let own = format!("http://127.0.0.1:{}", app.port);
    assert_eq!(upgrade_status(&app, &q, &[("origin", &own)]).await, 101);
    let q = format!("?token={token}&events=nope");
    assert_eq!(upgrade_status(&app, &q, &[]).await, 422);
}

async fn welcome_then_own_events_in_order(backend: Backend) {
    let app = spawn(backend).await;
    let (alice, a_token, _) = app.user("alice@example.com").await;
    let (_, b_token, _) = app.user("bob@example.com").await;

    let url = app.ws_url(&format!("?token={a_token}"));
    let (stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut a1 = Ws { stream };
    let welcome = a1.next_json().await;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["user_id"], alice.as_str());
    assert_eq!(welcome["heartbeat_interval_ms"], 15000);
    assert!(welcome["session_id"].as_str().unwrap().starts_with("ses_"));
    assert!(welcome["node_id"].is_string() && welcome["server_time"].is_string());
    let mut a2 = app.ws(&a_token, "").await;
    let mut b = app.ws(&b_token, "").await;

    // Published concurrently, received in id order by both sessions.
    let publishes = (0..30).map(|i| {
        let app = &app;
        let token = a_token.clone();
        async move {
            app.publish(&token, "outreach_sent", &format!("mail {i}"))
                .await
        }
    });
    let mut ids: Vec<String> = futures_util::future::join_all(publishes)
        .await
        .into_iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    for session in [&mut a1, &mut a2] {
        let mut got = Vec::new();
        while got.len() < ids.len() {
            let frame = session.next_of("event").await;
            assert_eq!(frame["event"], "outreach_sent");
            assert_eq!(frame["data"]["id"], frame["id"]);
            got.push(frame["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(got, ids);
    }
    b.assert_silent(Duration::from_millis(300)).await;
}

async fn subscribe_ping_and_bad_frames(backend: Backend) {
    let app = spawn(backend).await;
    let (_, token, _) = app.user("xena@example.com").await;
    let mut ws = app.ws(&token, "events=notification").await;
    app.publish(&token, "outreach_sent", "filtered out").await;
    let n = app.publish(&token, "notification", "kept").await;
    assert_eq!(ws.next_of("event").await["id"], n["id"]);

    ws.send_json(json!({"type": "subscribe", "events": ["meeting_booked"]}))
        .await;
    assert_eq!(
        ws.next_json().await,
        json!({"type": "subscribed", "events": ["meeting_booked"]})
    );
    app.publish(&token, "notification", "now filtered").await;
    let m = app.publish(&token, "meeting_booked", "kept").await;
    let frame = ws.next_json().await;
    assert_eq!(
        frame["id"], m["id"],
        "only the subscribed type arrives: {frame}"
    );
    ws.send_json(json!({"type": "subscribe", "events": []}))
        .await;
    assert_eq!(ws.next_json().await["type"], "subscribed");
    let any = app
        .publish(&token, "outreach_sent", "everything again")
        .await;
    assert_eq!(ws.next_json().await["id"], any["id"]);

    ws.send_json(json!({"type": "ping", "timestamp": 12345}))
        .await;
    assert_eq!(
        ws.next_json().await,
        json!({"type": "pong", "timestamp": 12345})
    );

    ws.stream
        .send(Message::Text("{not json".into()))
        .await
        .unwrap();
    assert_eq!(ws.next_json().await["code"], "invalid_json");
    ws.send_json(json!({"type": "dance"})).await;
    assert_eq!(ws.next_json().await["code"], "invalid_frame");
    ws.send_json(json!({"type": "subscribe", "events": ["nope"]}))
        .await;
    assert_eq!(ws.next_json().await["code"], "unknown_event_type");
    ws.stream
        .send(Message::Binary(vec![1, 2, 3]))
        .await
        .unwrap();
    assert_eq!(ws.next_json().await["code"], "binary_not_supported");
    // The session survived all of it.
    ws.send_json(json!({"type": "ping", "timestamp": 1})).await;
    assert_eq!(ws.next_json().await["type"], "pong");

    // A frame over 64 KiB closes with 1009.
    ws.stream
        .send(Message::Text("x".repeat(70 * 1024)))
        .await
        .ok();
    assert_eq!(ws.closed_with().await, Some(1009));
}

async fn heartbeat_pings_and_idle_timeout(backend: Backend) {
    let app = spawn_with(backend, |s| {
        s.websocket.heartbeat_interval = hub_core::settings::Dur(Duration::from_millis(100));
        s.websocket.client_timeout = hub_core::settings::Dur(Duration::from_millis(400));
    })
    .await;
    let (_, token, _) = app.user("yan@example.com").await;
    // A reading client answers pings (tungstenite replies automatically) and stays.
    let mut live = app.ws(&token, "").await;
    let mut pings = 0;
    let end = std::time::Instant::now() + Duration::from_millis(900);
    while std::time::Instant::now() < end {
        if let Ok(Some(Ok(Message::Ping(_)))) = tokio::time::timeout(
            Duration::from_millis(200),
            futures_util::StreamExt::next(&mut live.stream),
        )
        .await
        {
            pings += 1;
        }
    }
    assert!(pings >= 3, "server pinged {pings} times");
    live.send_json(json!({"type": "ping", "timestamp": 1}))
        .await;
    assert_eq!(live.next_json().await["type"], "pong");

    // A silent client (it reads nothing, so answers nothing) is closed.
    let mut silent = app.ws(&token, "").await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(silent.closed_with().await, Some(1001));
}

async fn token_expiry_closes_unless_refreshed(backend: Backend) {
    let app = spawn(backend).await;
    let (uid, _, _) = app.user("zed@example.com").await;
    let mut short = app.ws(&token_expiring_in(&uid, 1), "").await;
    assert_eq!(short.closed_with().await, Some(4001));

    let mut extended = app.ws(&token_expiring_in(&uid, 1), "").await;
    extended
        .send_json(json!({"type": "refresh", "token": token_expiring_in(&uid, 600)}))
        .await;
    extended.assert_silent(Duration::from_millis(2500)).await;
    extended
        .send_json(json!({"type": "ping", "timestamp": 2}))
        .await;
    assert_eq!(extended.next_json().await["type"], "pong");
    // Another user's token is refused and changes nothing.
    let (other, _, _) = app.user("other@example.com").await;
    extended
        .send_json(json!({"type": "refresh", "token": token_expiring_in(&other, 600)}))
        .await;
    assert_eq!(extended.next_json().await["code"], "wrong_user");
}

async fn too_many_sessions_close_with_4029(backend: Backend) {
    let app = spawn_with(backend, |s| s.websocket.max_sessions_per_user = 2).await;
    let (_, token, _) = app.user("max@example.com").await;
    let mut first = app.ws(&token, "").await;
    let _second = app.ws(&token, "").await;
    let (third, _) = tokio_tungstenite::connect_async(app.ws_url(&format!("?token={token}")))
        .await
        .unwrap();
    let mut third = Ws { stream: third };
    // No welcome: the session is refused at once.
    assert_eq!(third.next_within(DEADLINE).await.closed(), Some(4029));
    // The survivors still work, and a slot frees when one leaves.
    first
        .send_json(json!({"type": "ping", "timestamp": 3}))
        .await;
    assert_eq!(first.next_json().await["type"], "pong");
    first.stream.close(None).await.ok();
    drop(first);
    let app_ref = &app;
    let token_ref = &token;
    eventually("a freed slot", || async move {
        let (_, status) = app_ref.get("/api/ws/status", Some(token_ref)).await;
        status["your_sessions"] == 1
    })
    .await;
    let mut fourth = app.ws(&token, "").await;
    fourth
        .send_json(json!({"type": "ping", "timestamp": 4}))
        .await;
    assert_eq!(fourth.next_json().await["type"], "pong");
}

async fn resume_replays_what_was_missed(backend: Backend) {
    let app = spawn_with(backend, |s| s.websocket.history_size = 4).await;
    let (_, token, _) = app.user("rita@example.com").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            app.publish(&token, "prospect_added", &format!("p{i}"))
                .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut ws = app.ws(&token, &format!("last_event_id={}", ids[0])).await;
    assert_eq!(ws.next_json().await["id"], ids[1].as_str());
    assert_eq!(ws.next_json().await["id"], ids[2].as_str());
    assert_eq!(
        ws.next_json().await,
        json!({"type": "resumed", "from": ids[0], "replayed": 2, "complete": true})
    );
    // Live events follow, without duplicates.
    let live = app.publish(&token, "prospect_added", "live").await;
    assert_eq!(ws.next_json().await["id"], live["id"]);
    ids.push(live["id"].as_str().unwrap().to_owned());

    // History holds 4: resuming from before them is incomplete.
    for i in 0..3 {
        ids.push(
            app.publish(&token, "prospect_added", &format!("q{i}"))
                .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for _ in 0..3 {
        ws.next_of("event").await;
    }
    ws.send_json(json!({"type": "resume", "last_event_id": ids[0]}))
        .await;
    let mut replayed = Vec::new();
    let resumed = loop {
        let frame = ws.next_json().await;
        if frame["type"] == "resumed" {
            break frame;
        }
        replayed.push(frame["id"].as_str().unwrap().to_owned());
    };
    assert_eq!(replayed, ids[3..7].to_vec());
    assert_eq!(resumed["replayed"], 4);
    assert_eq!(resumed["complete"], false);

    ws.send_json(json!({"type": "resume", "last_event_id": "bogus"}))
        .await;
    assert_eq!(ws.next_json().await["code"], "invalid_last_event_id");
}

async fn status_counts_without_leaking_ids(backend: Backend) {
    let app = spawn(backend).await;
    let (alice, a_token, _) = app.user("alice@example.com").await;
    let (bob, b_token, _) = app.user("bob@example.com").await;
    let _a1 = app.ws(&a_token, "").await;
    let _a2 = app.ws(&a_token, "").await;
    let _b1 = app.ws(&b_token, "").await;
    let (status, body) = app.get("/api/ws/status", Some(&a_token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["node_sessions"], 3);
    assert_eq!(body["cluster_sessions"], 3);
    assert_eq!(body["cluster_users_online"], 2);
    assert_eq!(body["your_sessions"], 2);
    let text = body.to_string();
    assert!(!text.contains(&bob) && !text.contains(&alice), "{text}");
    assert_eq!(
        app.get("/api/ws/status", None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn slow_consumer_is_cut_off_and_resumes_without_loss(backend: Backend) {
    // The real binary in its own process, so its memory can be read alone.
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique_prefix();
    let mut env = vec![
        ("HUB__WEBSOCKET__MAX_QUEUED_FRAMES", "64"),
        ("HUB__WEBSOCKET__HISTORY_SIZE", "10000"),
    ];
    if backend == Backend::Redis {
        env.push(("HUB__REDIS__URL", REDIS_URL));
        env.push(("HUB__REDIS__KEY_PREFIX", &prefix));
    }
    let hub = ChildHub::start(dir.path(), &env).await;
    let app = Remote::new(hub.port);
    let (_, token, _) = app.user("slow@example.com").await;

    // A client that never reads, with a tiny receive window so the backlog
    // reaches the hub quickly instead of hiding in kernel buffers.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket
        .connect(format!("127.0.0.1:{}", app.port).parse().unwrap())
        .await
        .unwrap();
    let tcp = tokio_tungstenite::MaybeTlsStream::Plain(tcp);
    let (slow, _) = tokio_tungstenite::client_async(app.ws_url(&format!("?token={token}")), tcp)
        .await
        .unwrap();
    let mut slow = Ws { stream: slow };
    let mut fast = app.ws(&token, "").await;

    let blob = "x".repeat(8 * 1024);
    let total = 2000;
    // The first events warm the hub's caches (SQLite pages, allocator
    // arenas); memory is measured over the rest.
    let warm_up = 400;
    let mut before = 0;
    let mut ids = Vec::new();
    for chunk in 0..(total / 50) {
        if chunk * 50 == warm_up {
            before = rss_bytes(hub.child.id());
        }
        let batch = (0..50).map(|i| {
            let body = json!({"type": "notification", "title": format!("n{}", chunk * 50 + i), "metadata": {"blob": blob}});
            let app = &app;
            let token = &token;
            async move { app.post("/api/activities", Some(token), &body).await }
        });
        for (status, a) in futures_util::future::join_all(batch).await {
            assert_eq!(status, StatusCode::CREATED);
            ids.push(a["id"].as_str().unwrap().to_owned());
        }
        // The reading session keeps up the whole time.
        for _ in 0..50 {
            fast.next_of("event").await;
        }
    }
    ids.sort();
    let grown = rss_bytes(hub.child.id()).saturating_sub(before);
    let published = ((total - warm_up) * blob.len()) as u64;
    assert!(
        grown < published / 4,
        "the hub buffered the unread backlog: RSS grew {grown} bytes for {published} published"
    );

    // The slow client now reads: what was queued, then 4008.
    let mut seen: Vec<String> = Vec::new();
    let code = loop {
        match slow.next_within(DEADLINE).await {
            Next::Json(v) if v["type"] == "event" => {
                seen.push(v["id"].as_str().unwrap().to_owned())
            }
            Next::Json(_) => {}
            Next::Closed(code) => break code,
            Next::Timeout => panic!("slow consumer was never closed"),
        }
    };
    assert_eq!(code, Some(4008));
    assert!(seen.len() < ids.len(), "it was cut off before the end");

    // Reconnecting with last_event_id fills the gap from history.
    let last = seen.last().cloned().unwrap_or_else(|| "0".into());
    let mut again = app.ws(&token, &format!("last_event_id={last}")).await;
    loop {
        let frame = again.next_json().await;
        if frame["type"] == "resumed" {
            assert_eq!(frame["complete"], true);
            break;
        }
        seen.push(frame["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen, ids, "nothing lost, nothing duplicated, in order");
    if backend == Backend::Redis {
        delete_redis_prefix(&prefix);
    }
}

both_modes!(
    authentication_and_origin_before_upgrade,
    welcome_then_own_events_in_order,
    subscribe_ping_and_bad_frames,
    heartbeat_pings_and_idle_timeout,
    token_expiry_closes_unless_refreshed,
    too_many_sessions_close_with_4029,
    resume_replays_what_was_missed,
    status_counts_without_leaking_ids,
);

/// Both modes one after the other, not as two tests side by side: each
/// measures its own hub's memory, and two such hubs pumping megabytes at once
/// on a small machine would measure each other's scheduling, not the bound.
#[actix_web::test]
async fn slow_consumer_is_cut_off_and_resumes_without_loss_in_both_modes() {
    slow_consumer_is_cut_off_and_resumes_without_loss(Backend::Embedded).await;
    slow_consumer_is_cut_off_and_resumes_without_loss(Backend::Redis).await;
}
