//! Hub nodes on a three-master Redis Cluster of the test's own: events cross
//! nodes in order, users spread over the shards, and a slot moved to
//! another shard while a user's events are published loses nothing.

use std::time::Duration;

use awc::http::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::servers::{slot_of, ClusterGroup};

/// `n` hub nodes on `group`, sharing one key prefix.
async fn nodes_on(group: &ClusterGroup, n: usize) -> Vec<TestApp> {
    let prefix = unique_prefix();
    let mut nodes = Vec::new();
    for _ in 0..n {
        let url = group.url();
        let prefix = prefix.clone();
        nodes.push(
            spawn_app_with(move |s| {
                s.redis.url = Some(url);
                s.redis.key_prefix = prefix;
            })
            .await,
        );
    }
    nodes
}

async fn cluster() -> ClusterGroup {
    tokio::task::spawn_blocking(ClusterGroup::start)
        .await
        .unwrap()
}

/// How many keys each master holds.
fn keys_per_master(group: &ClusterGroup) -> Vec<i64> {
    group
        .node_urls()
        .iter()
        .map(|url| {
            let mut conn = redis::Client::open(url.as_str())
                .unwrap()
                .get_connection()
                .unwrap();
            redis::cmd("DBSIZE").query(&mut conn).unwrap()
        })
        .collect()
}

/// The ids of the next `n` events a session receives.
async fn next_ids(ws: &mut Ws, n: usize) -> Vec<String> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        got.push(ws.next_of("event").await["id"].as_str().unwrap().to_owned());
    }
    got
}

#[actix_web::test]
async fn nodes_on_a_cluster_carry_each_users_events_in_order_and_spread_users_over_shards() {
    let group = cluster().await;
    let nodes = nodes_on(&group, 2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (_, token, _) = a.user("sharded@example.com").await;
    let mut on_a = a.ws(&token, "").await;
    let mut on_b = b.ws(&token, "").await;

    // Both nodes publish for the same user at once: each id is taken from
    // the counter before the user's script runs, so the scripts meet ids
    // out of order and take new ones; the sessions still see one order.
    let publishes = (0..40).map(|i| {
        let node = if i % 2 == 0 { a } else { b };
        let token = token.clone();
        async move {
            node.publish(&token, "outreach_sent", &format!("m{i}"))
                .await
        }
    });
    let mut ids: Vec<String> = futures_util::future::join_all(publishes)
        .await
        .into_iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "40 distinct ids");
    for session in [&mut on_a, &mut on_b] {
        assert_eq!(
            next_ids(session, 40).await,
            ids,
            "every event, once, in id order"
        );
    }

    // Many users: their keys land on every shard.
    for i in 0..12 {
        let node = if i % 2 == 0 { a } else { b };
        let (_, token, _) = node.user(&format!("spread{i}@example.com")).await;
        node.publish(&token, "notification", "hello").await;
    }
    let per_master = keys_per_master(&group);
    assert!(
        per_master.iter().all(|&n| n > 0),
        "every master holds keys: {per_master:?}"
    );
    drop(nodes);
    drop(group);
}

#[actix_web::test]
async fn a_slot_moved_while_publishing_loses_nothing_and_keeps_each_users_order() {
    let group = cluster().await;
    let nodes = nodes_on(&group, 2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (user, token, _) = a.user("moving@example.com").await;
    let mut on_a = a.ws(&token, "").await;
    let mut on_b = b.ws(&token, "").await;
    // Enough keys in the slot that the move takes a while.
    for i in 0..30 {
        a.publish(&token, "prospect_added", &format!("before {i}"))
            .await;
    }
    next_ids(&mut on_a, 30).await;
    next_ids(&mut on_b, 30).await;

    let slot = slot_of(&format!("{{{user}}}"));
    let from = group.owner_of_slot(slot);
    let to = (from + 1) % group.masters.len();
    let migration = group.slot_migration(slot, to);
    let moving = tokio::task::spawn_blocking(move || {
        // One key at a time, with pauses: publishes and reads meet the slot
        // half moved.
        migration.run(1, Duration::from_millis(30));
    });
    let moving = std::sync::Arc::new(tokio::sync::Mutex::new(Some(moving)));
    let finished =
        |m: &Option<tokio::task::JoinHandle<()>>| m.as_ref().is_none_or(|h| h.is_finished());

    // Three publishers at once (two through one node), each in sequence.
    let publisher = |node: &'static str, n: usize| {
        let app = if node == "a" { a } else { b };
        let token = token.clone();
        let moving = moving.clone();
        async move {
            let mut acked = Vec::new();
            let mut during = 0;
            let mut i = 0;
            loop {
                let in_move = !finished(&*moving.lock().await);
                if !in_move && i >= n {
                    break;
                }
                let (status, body) = app
                    .post(
                        "/api/activities",
                        Some(&token),
                        &json!({"type": "outreach_sent", "title": format!("{node} {i}")}),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED, "publish {i} on {node}: {body}");
                acked.push(body["id"].as_str().unwrap().to_owned());
                during += usize::from(in_move);
                // Reads during the move are served too.
                let (status, page) = app.get("/api/activities?limit=5", Some(&token)).await;
                assert_eq!(status, StatusCode::OK, "{page}");
                i += 1;
            }
            (acked, during)
        }
    };
    let results = futures_util::future::join_all([
        publisher("a", 10),
        publisher("a", 10),
        publisher("b", 10),
    ])
    .await;
    let handle = moving.lock().await.take().unwrap();
    handle.await.unwrap();
    assert_eq!(group.owner_of_slot(slot), to, "the slot moved");
    let during: usize = results.iter().map(|(_, d)| d).sum();
    eprintln!("{during} publishes met the slot in migration");
    assert!(during > 0, "no publish met the slot in migration");
    let mut acked: Vec<String> = Vec::new();
    for (ids, _) in &results {
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(
            &sorted, ids,
            "one publisher's ids grow in the order acknowledged"
        );
        acked.extend(ids.iter().cloned());
    }
    // After the move too.
    for j in 0..5 {
        let body = b
            .publish(&token, "meeting_booked", &format!("after {j}"))
            .await;
        acked.push(body["id"].as_str().unwrap().to_owned());
    }
    acked.sort();
    let total = acked.len();
    let before = acked.clone();
    acked.dedup();
    assert_eq!(acked.len(), total, "no id twice: {before:?}");

    // Each session gets every acknowledged event once, in order (what was
    // published on the new shard before a node followed the channel there
    // comes from the user's history).
    for session in [&mut on_a, &mut on_b] {
        let got = next_ids(session, acked.len()).await;
        assert_eq!(got, acked, "every event, once, in id order");
    }
    // And the store has every one of them.
    let (status, page) = a.get("/api/activities?limit=100", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut listed: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    listed.reverse();
    assert_eq!(listed[listed.len() - acked.len()..], acked[..]);
    drop(nodes);
    drop(group);
}
