//! Data an earlier hub wrote to Redis (layout 1, before hash tags) is
//! upgraded at start and served as before.
//!
//! `tests/fixtures/layout1.json` is a dump of every key the previous version
//! (commit 9355a8f) left after a workload: two users (one logged out), a
//! rotated refresh token, a personal access token, ten activities (one with
//! an idempotency key, two from a bulk import), a completed task and a
//! webhook endpoint with three failing deliveries. Its `expect` part holds
//! what that version answered.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{eventually, keys_under, spawn_app_with, unique_prefix, use_redis, REDIS_URL};

fn fixture() -> Value {
    let text = include_str!("../fixtures/layout1.json");
    serde_json::from_str(text).unwrap()
}

/// Writes the fixture's keys under `prefix`, with their expiries.
fn load(fixture: &Value, prefix: &str) {
    let mut conn = redis::Client::open(REDIS_URL)
        .unwrap()
        .get_connection()
        .unwrap();
    for key in fixture["keys"].as_array().unwrap() {
        let name = format!("{prefix}{}", key["name"].as_str().unwrap());
        let value = &key["value"];
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut cmds: Vec<redis::Cmd> = Vec::new();
        match key["type"].as_str().unwrap() {
            "string" => {
                let mut c = redis::cmd("SET");
                c.arg(&name).arg(text(value));
                cmds.push(c);
            }
            "hash" => {
                let mut c = redis::cmd("HSET");
                c.arg(&name);
                for (field, v) in value.as_object().unwrap() {
                    c.arg(field).arg(text(v));
                }
                cmds.push(c);
            }
            "zset" => {
                let mut c = redis::cmd("ZADD");
                c.arg(&name);
                for pair in value.as_array().unwrap() {
                    c.arg(text(&pair[1])).arg(text(&pair[0]));
                }
                cmds.push(c);
            }
            "list" => {
                let mut c = redis::cmd("RPUSH");
                c.arg(&name);
                for v in value.as_array().unwrap() {
                    c.arg(text(v));
                }
                cmds.push(c);
            }
            "set" => {
                let mut c = redis::cmd("SADD");
                c.arg(&name);
                for v in value.as_array().unwrap() {
                    c.arg(text(v));
                }
                cmds.push(c);
            }
            "stream" => {
                for entry in value.as_array().unwrap() {
                    let mut c = redis::cmd("XADD");
                    c.arg(&name).arg(text(&entry[0]));
                    for (field, v) in entry[1].as_object().unwrap() {
                        c.arg(field).arg(text(v));
                    }
                    cmds.push(c);
                }
            }
            other => panic!("fixture key {name} has type {other}"),
        }
        let ttl = key["ttl_ms"].as_i64().unwrap();
        if ttl > 0 {
            let mut c = redis::cmd("PEXPIRE");
            c.arg(&name).arg(ttl);
            cmds.push(c);
        }
        for c in cmds {
            let _: redis::Value = c.query(&mut conn).unwrap();
        }
    }
}

/// Every key under `prefix`, without it.
fn names_under(prefix: &str) -> BTreeSet<String> {
    keys_under(prefix).into_iter().collect()
}

fn hash(prefix: &str, name: &str) -> std::collections::HashMap<String, String> {
    let mut conn = redis::Client::open(REDIS_URL)
        .unwrap()
        .get_connection()
        .unwrap();
    redis::cmd("HGETALL")
        .arg(format!("{prefix}{name}"))
        .query(&mut conn)
        .unwrap()
}

#[actix_web::test]
async fn data_of_the_earlier_layout_is_upgraded_and_served_as_before() {
    let fixture = fixture();
    let expect = &fixture["expect"];
    let prefix = unique_prefix();
    load(&fixture, &prefix);
    let mut app = spawn_app_with(|s| use_redis(s, &prefix)).await;
    // Deleted at the end (or on a failure) with the hub's keys.
    app.redis_prefix = Some(prefix.clone());

    // Every key is in this version's layout now.
    let names = names_under(&prefix);
    for name in &names {
        assert!(
            hub_redis::keys::layout_of(name).is_some(),
            "`{name}` is not in this version's layout: {names:?}"
        );
    }
    let a = expect["user_a"]["id"].as_str().unwrap();
    let b = expect["user_b"]["id"].as_str().unwrap();

    // Sign-in: the password, the personal access token.
    let password = expect["password"].as_str().unwrap();
    let (access, _) = app.login("ADA@example.com", password).await;
    let (status, me) = app.get("/api/auth/me", Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["id"], a);
    let pat = expect["user_a_personal_token"]["secret"].as_str().unwrap();
    let (status, me) = app.get("/api/auth/me", Some(pat)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["id"], a);
    let (status, tokens) = app.get("/api/auth/tokens", Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(
        tokens["items"][0]["id"], expect["user_a_personal_token"]["id"],
        "{tokens}"
    );
    // Refresh tokens and the revoked family moved to their users (their
    // JWTs expire, so the keys themselves are checked).
    let a_tokens = names
        .iter()
        .filter(|n| n.starts_with(&format!("{{{a}}}:rt:")))
        .count();
    assert_eq!(a_tokens, 2, "{names:?}");
    let revoked: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with(&format!("{{{b}}}:rtrev:")))
        .collect();
    assert_eq!(revoked.len(), 1, "{names:?}");

    // Activities: the same list, each found by id, the idempotency key
    // still replays and still refuses another body.
    let (status, list) = app.get("/api/activities?limit=100", Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        list["items"], expect["responses"]["GET /api/activities?limit=100"]["items"],
        "the activities as the earlier version listed them"
    );
    for item in list["items"].as_array().unwrap() {
        let path = format!("/api/activities/{}", item["id"].as_str().unwrap());
        let (status, found) = app.get(&path, Some(&access)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {found}");
        assert_eq!(&found, item);
    }
    let original = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == expect["idempotent_activity"]["id"])
        .unwrap()
        .clone();
    let body = json!({
        "type": original["type"],
        "title": original["title"],
        "message": original["message"],
        "metadata": original["metadata"],
        "link": original["link"],
    });
    let post = |body: Value| {
        let req = app
            .client
            .post(app.url("/api/activities"))
            .bearer_auth(&access)
            .insert_header(("Idempotency-Key", "fixture-1"));
        async move {
            let mut res = req.send_json(&body).await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, replayed) = post(body.clone()).await;
    assert!(status.is_success(), "{status}: {replayed}");
    assert_eq!(replayed["id"], original["id"]);
    let mut other = body;
    other["title"] = json!("another body");
    let (status, refused) = post(other).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "idempotency_key_reused");

    // A new activity comes after the old ones.
    let (status, new) = app
        .post(
            "/api/activities",
            Some(&access),
            &json!({"type": "notification", "title": "after the upgrade"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{new}");
    assert!(new["id"].as_str().unwrap() > list["items"][0]["id"].as_str().unwrap());

    // The task, found by id, changes as before.
    let task = expect["task"]["id"].as_str().unwrap();
    let (status, found) = app.get(&format!("/api/tasks/{task}"), Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        found,
        expect["responses"][format!("GET /api/tasks/{task}")],
        "the task as the earlier version answered it"
    );

    // The endpoint, its deliveries with their attempts, and its delivery
    // actor, which takes up the old pending deliveries (already due: the
    // fixture's retry times are past). The test hub refuses loopback
    // receivers, so each attempt fails at once and the failures add up.
    let webhook = expect["webhook_id"].as_str().unwrap();
    let before = &expect["responses"]["GET /api/webhooks"]["items"][0];
    let path = format!("/api/webhooks/{webhook}/deliveries?limit=100");
    let (status, log) = app.get(&path, Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let old: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["created_at"].as_str() < Some("2026-12-03T16:40:00Z"))
        .collect();
    assert_eq!(old.len(), 3, "{log}");
    assert!(
        old.iter()
            .all(|d| d["attempts"].as_array().unwrap().len() >= 2),
        "every old delivery kept its attempts: {log}"
    );
    let app_ref = &app;
    let access_ref = access.as_str();
    eventually("the upgraded endpoint's delivery actor", || async move {
        let (status, hooks) = app_ref.get("/api/webhooks", Some(access_ref)).await;
        assert_eq!(status, StatusCode::OK, "{hooks}");
        let hook = &hooks["items"][0];
        for field in [
            "id",
            "url",
            "events",
            "created_at",
            "description",
            "user_id",
        ] {
            assert_eq!(hook[field], before[field], "{field}");
        }
        hook["consecutive_failures"].as_i64() > before["consecutive_failures"].as_i64()
    })
    .await;
    assert_eq!(
        hash(&prefix, "{ids}:wh").get(webhook).map(String::as_str),
        Some(a)
    );

    // The analytics counters moved with their user.
    assert!(names.contains(&format!("{{{a}}}:an:974")), "{names:?}");

    // A second start finds nothing left to do.
    let before = names_under(&prefix);
    app.redis_prefix = None;
    drop(app);
    let mut again = spawn_app_with(|s| use_redis(s, &prefix)).await;
    again.redis_prefix = Some(prefix.clone());
    let after = names_under(&prefix);
    let only_bookkeeping = |n: &&String| !n.starts_with("{cluster}:") && !n.starts_with("rl:");
    assert_eq!(
        before.iter().filter(only_bookkeeping).collect::<Vec<_>>(),
        after.iter().filter(only_bookkeeping).collect::<Vec<_>>()
    );
}
