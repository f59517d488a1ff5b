//! Several real nodes on one real Redis behaving as one hub.

use std::time::Duration;

use awc::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::receiver::Receiver;
use crate::servers::RedisProcess;

#[actix_web::test]
async fn events_published_on_one_node_reach_sessions_on_another_in_order() {
    let nodes = spawn_cluster(2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (_, token, _) = a.user("cross@example.com").await;
    let (_, other, _) = b.user("bystander@example.com").await;
    let mut on_b = b.ws(&token, "").await;
    let mut on_a = a.ws(&token, "").await;
    let mut bystander = b.ws(&other, "").await;

    let publishes = (0..40).map(|i| {
        let token = token.clone();
        async move { a.publish(&token, "outreach_sent", &format!("m{i}")).await }
    });
    let mut ids: Vec<String> = futures_util::future::join_all(publishes)
        .await
        .into_iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    for session in [&mut on_b, &mut on_a] {
        let mut got = Vec::new();
        while got.len() < ids.len() {
            got.push(
                session.next_of("event").await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        assert_eq!(got, ids, "every event, once, in id order");
    }
    bystander.assert_silent(Duration::from_millis(300)).await;

    // Task updates and broadcasts cross nodes too.
    let (status, task) = b
        .post(
            "/api/tasks",
            Some(&token),
            &json!({"kind": "outreach", "title": "Sequence"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(on_a.next_of("task_update").await["task"]["id"], task["id"]);
    let (status, _) = a
        .post(
            "/api/broadcast",
            Some(SERVICE_KEY),
            &json!({"title": "Everyone"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for session in [&mut on_a, &mut on_b, &mut bystander] {
        assert_eq!(
            session.next_of("broadcast").await["data"]["title"],
            "Everyone"
        );
    }
}

#[actix_web::test]
async fn resume_on_another_node() {
    let nodes = spawn_cluster(2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (_, token, _) = a.user("roam@example.com").await;
    let mut ws = a.ws(&token, "").await;
    let first = a.publish(&token, "prospect_added", "seen").await;
    assert_eq!(ws.next_of("event").await["id"], first["id"]);
    drop(ws);
    let mut missed = Vec::new();
    for i in 0..3 {
        missed.push(
            b.publish(&token, "prospect_added", &format!("missed {i}"))
                .await["id"]
                .clone(),
        );
    }
    let mut ws = b
        .ws(
            &token,
            &format!("last_event_id={}", first["id"].as_str().unwrap()),
        )
        .await;
    for id in &missed {
        assert_eq!(&ws.next_json().await["id"], id);
    }
    let resumed = ws.next_json().await;
    assert_eq!(resumed["type"], "resumed");
    assert_eq!(resumed["replayed"], 3);
    assert_eq!(resumed["complete"], true);
}

#[actix_web::test]
async fn rate_limits_are_cluster_wide() {
    let nodes = spawn_cluster(2, |s| {
        s.rate_limit.enabled = true;
        let api = s.rate_limit.policies.get_mut("api").unwrap();
        api.limit = 4;
        api.window = hub_core::settings::Dur(Duration::from_secs(30));
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let node = &nodes[i % 2];
        statuses.push(node.get("/api/activities", None).await.0.as_u16());
    }
    // Two nodes together allow 4, not 8.
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
}

#[actix_web::test]
async fn status_counts_the_whole_cluster() {
    let nodes = spawn_cluster(2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (_, t1, _) = a.user("c1@example.com").await;
    let (_, t2, _) = a.user("c2@example.com").await;
    let _s1 = a.ws(&t1, "").await;
    let _s2 = b.ws(&t1, "").await;
    let _s3 = b.ws(&t2, "").await;
    let (a_ref, t1_ref) = (a, &t1);
    eventually("cluster-wide counts", || async move {
        let (_, s) = a_ref.get("/api/ws/status", Some(t1_ref)).await;
        s["node_sessions"] == 1 && s["cluster_sessions"] == 3 && s["cluster_users_online"] == 2
    })
    .await;
}

/// A hub in cluster mode on a Redis of the test's own.
async fn spawn_on(redis: &RedisProcess) -> TestApp {
    let url = redis.url();
    spawn_app_with(|s| {
        s.redis.url = Some(url);
        s.redis.key_prefix = unique_prefix();
    })
    .await
}

#[actix_web::test]
async fn redis_outage_is_survived_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut redis = RedisProcess::server(port, dir.path(), &[]);
    let app = spawn_on(&redis).await;
    let (_, token, _) = app.user("outage@example.com").await;
    let mut ws = app.ws(&token, "").await;
    let before = app.publish(&token, "notification", "before").await;
    assert_eq!(ws.next_of("event").await["id"], before["id"]);

    redis.stop();
    assert_eq!(
        app.get("/ready", None).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (status, body) = app
        .post(
            "/api/activities",
            Some(&token),
            &json!({"type": "notification", "title": "during"}),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "store_unavailable");
    // The session stays open meanwhile.
    ws.send_json(json!({"type": "ping", "timestamp": 7})).await;
    assert_eq!(ws.next_of("pong").await["timestamp"], 7);

    redis.restart();
    let app_ref = &app;
    eventually("/ready to recover", || async move {
        app_ref.get("/ready", None).await.0 == StatusCode::OK
    })
    .await;
    // Publishing works again and reaches the session that stayed open.
    let token_ref = &token;
    eventually("publishing to work again", || async move {
        app_ref
            .post(
                "/api/activities",
                Some(token_ref),
                &json!({"type": "notification", "title": "after"}),
            )
            .await
            .0
            == StatusCode::CREATED
    })
    .await;
    let frame = ws.next_of("event").await;
    assert_eq!(frame["data"]["title"], "after");
    // Nothing half-written during the outage: before and after, no "during".
    let (_, page) = app.get("/api/activities", Some(&token)).await;
    let titles: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert!(!titles.contains(&"during"), "{titles:?}");
    assert!(titles.contains(&"before"));
    drop(redis);
}

/// A Redis that comes back without its last writes (here: restarted from a
/// copy of its files taken before them, as a replica promoted before it had
/// them would be) must not hand out the lost activities' ids again: a
/// session that saw them would take the new events for ones it has.
#[actix_web::test]
async fn ids_seen_before_redis_lost_them_are_not_handed_out_again() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let mut redis = RedisProcess::server(free_port(), &live, &[]);
    let app = spawn_on(&redis).await;
    let (_, token, _) = app.user("rollback@example.com").await;
    let mut ws = app.ws(&token, "").await;
    let kept = app.publish(&token, "notification", "kept").await;
    assert_eq!(ws.next_of("event").await["id"], kept["id"]);
    // The older copy: every write so far (each is in the file before its
    // answer).
    let old = dir.path().join("old");
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(&live)
        .arg(&old)
        .status()
        .unwrap();
    assert!(copied.success());
    let mut last = kept["id"].as_str().unwrap().to_owned();
    for title in ["lost 1", "lost 2"] {
        let lost = app.publish(&token, "notification", title).await;
        assert_eq!(ws.next_of("event").await["id"], lost["id"]);
        last = lost["id"].as_str().unwrap().to_owned();
    }

    redis.kill();
    let mut redis = RedisProcess::server(redis.port, &old, &[]);
    let app_ref = &app;
    let token_ref = &token;
    let mut after = Value::Null;
    let started = std::time::Instant::now();
    while after.is_null() {
        assert!(started.elapsed() < DEADLINE, "publishing did not recover");
        let (status, body) = app_ref
            .post(
                "/api/activities",
                Some(token_ref),
                &json!({"type": "notification", "title": "after"}),
            )
            .await;
        if status == StatusCode::CREATED {
            after = body;
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let id = after["id"].as_str().unwrap();
    assert!(
        id > last.as_str(),
        "{id} was handed out before (last seen {last})"
    );
    // And the session that saw the lost ones gets the new event.
    loop {
        let frame = ws.next_of("event").await;
        if frame["id"] == after["id"] {
            break;
        }
    }
    redis.kill();
}

/// Who holds the lease of a webhook endpoint.
fn lease_holder(prefix: &str, webhook: &str) -> Option<String> {
    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut conn = client.get_connection().unwrap();
    redis::cmd("GET")
        .arg(hub_redis::keys::Keys::new(prefix).lease(webhook))
        .query(&mut conn)
        .unwrap()
}

#[actix_web::test]
async fn one_node_delivers_each_endpoint_and_another_takes_over_after_kill_9() {
    use crate::receiver::{Receiver, Reply};
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique_prefix();
    let env = [
        ("HUB__REDIS__URL", REDIS_URL),
        ("HUB__REDIS__KEY_PREFIX", prefix.as_str()),
        ("HUB__WEBHOOKS__LEASE_TTL", "2s"),
        ("HUB__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
        (
            "HUB__WEBHOOKS__RETRY_SCHEDULE",
            "0s,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms",
        ),
        ("HUB__WEBHOOKS__MAX_CONSECUTIVE_FAILURES", "1000"),
    ];
    let mut a = ChildHub::start(&dir.path().join("a"), &env).await;
    let b = ChildHub::start(&dir.path().join("b"), &env).await;
    let (api_a, api_b) = (Remote::new(a.port), Remote::new(b.port));
    let receiver = Receiver::start().await;
    let (_, token, _) = api_a.user("lease@example.com").await;
    let (status, hook) = api_a
        .post(
            "/api/webhooks",
            Some(&token),
            &json!({"url": receiver.url("/hook")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let id = hook["id"].as_str().unwrap().to_owned();
    let (_, health_a) = api_a.get("/health", None).await;
    let (_, health_b) = api_b.get("/health", None).await;
    let (node_a, node_b) = (health_a["node_id"].clone(), health_b["node_id"].clone());
    let (prefix_ref, id_ref) = (&prefix, &id);
    eventually("a node to take the endpoint's lease", || async move {
        lease_holder(prefix_ref, id_ref).is_some()
    })
    .await;
    let owner = lease_holder(&prefix, &id).unwrap();

    // Both nodes up: each event is delivered once, whichever node took it in.
    for i in 0..6 {
        let api = if i % 2 == 0 { &api_a } else { &api_b };
        api.publish(&token, "outreach_sent", &format!("sent {i}"))
            .await;
    }
    let got = receiver.wait_for(6).await;
    // Give a second deliverer, if there were one, time to show itself.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.count(), 6, "no event was delivered twice");
    let mut ids: Vec<&str> = got.iter().map(|c| c.header("webhook-id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "exactly one delivery per event");

    // The receiver fails; events pile up at the owner; the owner is killed.
    receiver.set(Reply::Status(503));
    let survivor = if json!(owner) == node_a {
        &api_b
    } else {
        &api_a
    };
    let mut pending = Vec::new();
    for i in 0..3 {
        pending.push(
            survivor
                .publish(&token, "meeting_booked", &format!("booked {i}"))
                .await["id"]
                .clone(),
        );
    }
    receiver.wait_for(6 + 3).await;
    let killed = if json!(owner) == node_a {
        a.signal("KILL");
        node_a.clone()
    } else {
        // `b` is not mutable; kill it through its pid.
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &b.child.id().to_string()])
            .status();
        node_b.clone()
    };
    receiver.set(Reply::Status(200));
    let answered_before = receiver.count();
    let survivor_node = if killed == node_a { node_b } else { node_a };
    let survivor_ref = &survivor_node;
    eventually("the survivor to take the lease over", || async move {
        lease_holder(prefix_ref, id_ref).map(|h| json!(h)).as_ref() == Some(survivor_ref)
    })
    .await;
    let receiver_ref = &receiver;
    let pending_ref = &pending;
    eventually(
        "every pending event to be delivered by the survivor",
        || async move {
            // Requests that arrived after the receiver was switched to 200.
            let delivered: Vec<Value> = receiver_ref.requests()[answered_before..]
                .iter()
                .map(|c| c.json()["data"]["id"].clone())
                .collect();
            pending_ref.iter().all(|id| delivered.contains(id))
        },
    )
    .await;
    let _ = a.child.wait();
    delete_redis_prefix(&prefix);
}

/// Every key the Lua scripts and the Rust code leave in Redis is one that
/// `hub_redis::keys` names, with the type it documents: a script that
/// builds a name of its own fails here.
#[actix_web::test]
async fn every_key_in_redis_is_in_the_documented_layout() {
    let app = spawn_with(Backend::Redis, |s| {
        s.webhooks.allow_private_targets = true;
        s.rate_limit.enabled = true;
    })
    .await;
    let prefix = app.redis_prefix.clone().unwrap();
    let receiver = Receiver::start().await;

    // Users and what they sign in with: register, refresh, log out, a
    // personal access token used and revoked, a portal link.
    let (user, _, refresh) = app.user("layout@example.com").await;
    let (status, body) = app
        .post(
            "/api/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .post(
            "/api/auth/logout",
            None,
            &json!({"refresh_token": body["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (access, _) = app.login("layout@example.com", PASSWORD).await;
    let (status, pat) = app
        .post(
            "/api/auth/tokens",
            Some(&access),
            &json!({"name": "layout", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pat}");
    let (status, _) = app
        .get("/api/activities", Some(pat["secret"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, spare) = app
        .post(
            "/api/auth/tokens",
            Some(&access),
            &json!({"name": "revoked", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{spare}");
    let (status, _) = app
        .send_json(
            "DELETE",
            &format!("/api/auth/tokens/{}", spare["id"].as_str().unwrap()),
            Some(&access),
            &Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, link) = app
        .post(
            "/api/portal/sessions",
            Some(SERVICE_KEY),
            &json!({"user_id": user}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{link}");

    // A webhook that receives, then an online session (presence), an
    // activity with an idempotency key, a bulk import, a task to the end.
    let (status, hook) = app
        .post(
            "/api/webhooks",
            Some(&access),
            &json!({"url": receiver.url("/hook")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let ws = app.ws(&access, "").await;
    let mut res = app
        .client
        .post(app.url("/api/activities"))
        .bearer_auth(&access)
        .insert_header(("Idempotency-Key", "layout-1"))
        .send_json(&json!({"type": "meeting_booked", "title": "Booked"}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let _ = res.body().await;
    let (status, body) = app
        .post(
            "/api/activities/bulk",
            Some(SERVICE_KEY),
            &json!({"user_id": user, "activities": [{"type": "prospect_added", "title": "Imported"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, task) = app
        .post(
            "/api/tasks",
            Some(&access),
            &json!({"kind": "research", "title": "Layout"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let path = format!("/api/tasks/{}", task["id"].as_str().unwrap());
    for status in ["running", "completed"] {
        let (code, body) = app
            .send_json("PATCH", &path, Some(&access), &json!({ "status": status }))
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }
    receiver.wait_for(3).await;

    // Presence, node and lease keys are written on timers: wait for them.
    let prefix_ref = &prefix;
    eventually("presence, node and lease keys", || async move {
        let names = keys_under(prefix_ref);
        [
            "{cluster}:presence:online",
            "{cluster}:nodes",
            "{cluster}:lease:",
        ]
        .iter()
        .all(|want| names.iter().any(|n| n.starts_with(want)))
    })
    .await;
    let mut conn = redis::Client::open(REDIS_URL)
        .unwrap()
        .get_connection()
        .unwrap();
    let names = keys_under(&prefix);
    let mut seen = std::collections::BTreeSet::new();
    for name in &names {
        let pattern = hub_redis::keys::layout_of(name)
            .unwrap_or_else(|| panic!("`{name}` is not in hub_redis::keys::LAYOUT"));
        let kind: String = redis::cmd("TYPE")
            .arg(format!("{prefix}{name}"))
            .query(&mut conn)
            .unwrap();
        let documented = hub_redis::keys::LAYOUT
            .iter()
            .find(|(p, _)| *p == pattern)
            .unwrap()
            .1;
        // A key can expire between the SCAN and the TYPE.
        assert!(
            kind == documented || kind == "none",
            "{name} is a {kind}, documented as {documented}"
        );
        seen.insert(pattern);
    }
    // The workload reached the scripts of every aggregate.
    for pattern in [
        "{<user>}:user",
        "email:<lowercased>",
        "{<user>}:rt:<jti>",
        "{<user>}:rtrev:<family>",
        "{<user>}:pat:<id>",
        "pat_hash:<sha256>",
        "{<user>}:pats",
        "portal:<sha256>",
        "{ids}:seq",
        "{ids}:aown:<bucket>",
        "{ids}:town",
        "{ids}:wh",
        "{<user>}:act:<seq>",
        "{<user>}:acts",
        "{<user>}:acts:<type>",
        "{<user>}:hist",
        "{<user>}:idem:<key>",
        "{<user>}:an:<chunk>",
        "{<user>}:tseq",
        "{<user>}:task:<id>",
        "{<user>}:tasks",
        "{<user>}:whseq",
        "{<user>}:wh:<id>",
        "{<user>}:whs",
        "{<user>}:whactive",
        "{<user>}:dseq",
        "{<user>}:dl:<id>",
        "{<user>}:dla:<id>",
        "{<user>}:dlw:<webhook>",
        "{cluster}:lease:<webhook>",
        "rl:<key>",
        "{cluster}:nodes",
        "{cluster}:nodesessions:<node>",
        "{cluster}:nodeusers:<node>",
        "{cluster}:presence:online",
    ] {
        assert!(
            seen.contains(pattern),
            "nothing left under {pattern}: {names:?}"
        );
    }
    drop(ws);
}
