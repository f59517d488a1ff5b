//! Redis under Sentinel: a master failover while publishing, and writes no
//! replica confirms. The rest of the cluster-mode suite runs under Sentinel
//! too (the `sentinel` variant of every `both_modes!` test).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::receiver::Receiver;
use crate::servers::{replica_confirms, replicas_online, sentinel_master_port, SentinelGroup};

/// How long a Sentinel step may take: a Sentinel that sees its timer jump
/// (a stalled machine) enters TILT mode and does nothing for 30 s, and a
/// returning old master is only reconfigured after it has been up for 8 s.
const SENTINEL_DEADLINE: Duration = Duration::from_secs(90);

/// Polls `check` on a blocking thread for up to `limit`.
async fn wait_blocking<T: Send + 'static>(
    what: &str,
    limit: Duration,
    check: impl Fn() -> Option<T> + Send + 'static,
) -> T {
    let what = what.to_owned();
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        loop {
            if let Some(value) = check() {
                return value;
            }
            assert!(started.elapsed() < limit, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .unwrap()
}

/// A blocking connection to the test server at `url`, if it answers.
fn answering(url: &str) -> Option<redis::Connection> {
    redis::Client::open(url)
        .ok()?
        .get_connection_with_timeout(Duration::from_millis(300))
        .ok()
}

/// Every activity id a user can list, newest first.
async fn all_ids(app: &Api, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = "/api/activities?limit=100".to_owned();
    loop {
        let (status, page) = app.get(&path, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for item in page["items"].as_array().unwrap() {
            ids.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/activities?limit=100&cursor={cursor}"),
            None => return ids,
        }
    }
}

/// How the master goes away.
#[derive(Clone, Copy, PartialEq)]
enum Failover {
    /// `kill -9`; it comes back later from its files.
    Kill,
    /// `SENTINEL FAILOVER`: the master stays up and is turned into a replica
    /// (its clients are disconnected, and writes it is sent answer
    /// `READONLY`).
    Command,
}

#[actix_web::test]
async fn a_master_killed_while_publishing_loses_nothing_acknowledged_and_sessions_resume() {
    failover_while_publishing(Failover::Kill).await
}

#[actix_web::test]
async fn a_failover_of_a_live_master_while_publishing_is_followed() {
    failover_while_publishing(Failover::Command).await
}

async fn failover_while_publishing(how: Failover) {
    let mut group = tokio::task::spawn_blocking(|| SentinelGroup::start(true))
        .await
        .unwrap();
    let url = group.url();
    let first_master = group.master.port;
    let nodes = spawn_cluster(2, |s| {
        use_sentinel(s, &url);
        s.webhooks.allow_private_targets = true;
        s.webhooks.lease_ttl = hub_core::settings::Dur(Duration::from_secs(2));
    })
    .await;
    let (publisher, receiver) = (&nodes[0], &nodes[1]);
    let (_, token, _) = publisher.user("failover@example.com").await;
    let mut ws = receiver.ws(&token, "").await;
    // A webhook endpoint too: its deliveries are stored with each activity,
    // and whichever node holds its lease must go on delivering after the
    // failover.
    let hook_receiver = Receiver::start().await;
    let (status, hook) = publisher
        .post(
            "/api/webhooks",
            Some(&token),
            &json!({"url": hook_receiver.url("/hook")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");

    // One publisher, one request at a time, for the whole test: what it got
    // 201 for is what must survive.
    let acked: Rc<RefCell<Vec<String>>> = Rc::default();
    let refused = Rc::new(RefCell::new(0usize));
    let stop = Rc::new(RefCell::new(false));
    let task = {
        let (acked, refused, stop) = (acked.clone(), refused.clone(), stop.clone());
        let api = Api::new(publisher.port);
        let token = token.clone();
        actix_web::rt::spawn(async move {
            let mut n = 0;
            while !*stop.borrow() {
                n += 1;
                let body = json!({"type": "notification", "title": format!("n{n}")});
                let (status, body) = api.post("/api/activities", Some(&token), &body).await;
                match status {
                    StatusCode::CREATED => acked
                        .borrow_mut()
                        .push(body["id"].as_str().unwrap().to_owned()),
                    StatusCode::SERVICE_UNAVAILABLE => {
                        // Down, or (no replica yet) stored but unconfirmed:
                        // either way not acknowledged.
                        let code = body["code"].as_str().unwrap_or_default();
                        assert!(
                            code == "store_unavailable" || code == "write_unconfirmed",
                            "{body}"
                        );
                        *refused.borrow_mut() += 1;
                        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
                    }
                    other => panic!("publishing answered {other}: {body}"),
                }
            }
        })
    };
    let count = |acked: &Rc<RefCell<Vec<String>>>| acked.borrow().len();
    while count(&acked) < 50 {
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }

    // The master goes away mid-publish; the Sentinels promote the replica.
    match how {
        Failover::Kill => group.master.kill(),
        Failover::Command => {
            let mut c = group.sentinels[0].conn();
            let _: () = redis::cmd("SENTINEL")
                .arg("FAILOVER")
                .arg(crate::servers::MASTER_NAME)
                .query(&mut c)
                .expect("SENTINEL FAILOVER starts");
        }
    }
    let before_kill = count(&acked);
    let sentinels: Vec<String> = group.sentinels.iter().map(|s| s.url()).collect();
    let named = {
        let sentinels = sentinels.clone();
        move || sentinels.iter().find_map(|url| sentinel_master_port(url))
    };
    wait_blocking("the sentinels to promote the replica", SENTINEL_DEADLINE, {
        let named = named.clone();
        move || named().filter(|port| *port != first_master)
    })
    .await;
    // The old master comes back (from its append-only file) and the
    // Sentinels turn it into the new master's replica, so writes can be
    // confirmed again. (A live one is turned into a replica at once.) On a
    // loaded machine the Sentinels may also fail over once more, back to the
    // old master: whichever they name must end up with a replica.
    if how == Failover::Kill {
        group.master.restart();
    }
    wait_blocking(
        "the master to have a replica that confirms writes",
        SENTINEL_DEADLINE,
        move || {
            let mut c = answering(&format!("redis://127.0.0.1:{}", named()?))?;
            replica_confirms(&mut c).then_some(())
        },
    )
    .await;

    // Publishing works again through the master they name.
    let after = count(&acked);
    let started = Instant::now();
    while count(&acked) < after + 50 {
        assert!(
            started.elapsed() < SENTINEL_DEADLINE,
            "publishing did not resume after the failover ({} acknowledged, {} refused)",
            count(&acked),
            refused.borrow()
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    *stop.borrow_mut() = true;
    task.await.unwrap();
    let acked = acked.borrow().clone();
    assert!(before_kill >= 50);
    if how == Failover::Kill {
        assert!(*refused.borrow() > 0, "the failover was never noticed");
    }

    // Every acknowledged activity is in the store, on both nodes.
    for node in [publisher, receiver] {
        let listed = all_ids(node, &token).await;
        let missing: Vec<&String> = acked.iter().filter(|id| !listed.contains(id)).collect();
        assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    }
    // The session on the other node saw every acknowledged event, in id
    // order, without a reconnect of its own: its node resubscribed on the new
    // master and replayed what it missed from the history.
    let mut seen: Vec<String> = Vec::new();
    let last = acked.last().unwrap().clone();
    while seen.last() != Some(&last) {
        let frame = ws.next_of("event").await;
        seen.push(frame["id"].as_str().unwrap().to_owned());
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order: {seen:?}");
    let missing: Vec<&String> = acked.iter().filter(|id| !seen.contains(id)).collect();
    assert!(missing.is_empty(), "never delivered: {missing:?}");

    // Every acknowledged activity reaches the webhook receiver (at least
    // once; receivers deduplicate on webhook-id).
    let started = Instant::now();
    loop {
        let delivered: std::collections::HashSet<String> = hook_receiver
            .requests()
            .iter()
            .filter_map(|c| c.json()["data"]["id"].as_str().map(str::to_owned))
            .collect();
        let undelivered = acked.iter().filter(|id| !delivered.contains(*id)).count();
        if undelivered == 0 {
            break;
        }
        assert!(
            started.elapsed() < SENTINEL_DEADLINE,
            "{undelivered} acknowledged activities never reached the webhook"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    drop(nodes);
    drop(group);
}

#[actix_web::test]
async fn a_write_no_replica_confirms_is_refused_and_safe_to_retry() {
    let mut app = spawn_with(Backend::Sentinel, |_| {}).await;
    let mut group = app.servers.take().unwrap();
    let (_, token, _) = app.user("unconfirmed@example.com").await;
    let send = |title: &'static str| {
        let req = app
            .client
            .post(app.url("/api/activities"))
            .bearer_auth(&token)
            .insert_header(("Idempotency-Key", "k-1"));
        async move {
            let mut res = req
                .send_json(&json!({"type": "notification", "title": title}))
                .await
                .unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    // With the replica gone, the master applies the write but cannot
    // confirm it: the hub does not acknowledge it.
    group.replica.stop();
    let master_url = group.master.url();
    wait_blocking("the master to lose its replica", DEADLINE, move || {
        (replicas_online(&mut answering(&master_url)?) == 0).then_some(())
    })
    .await;
    let (status, body) = send("once").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "write_unconfirmed");
    assert!(
        !body.to_string().contains("WAIT"),
        "no Redis text in the answer: {body}"
    );
    // Writes waiting for a replica that is not there hold only their own
    // connections: reads and the readiness check go on meanwhile.
    let bodies: Vec<Value> = (0..16)
        .map(|i| json!({"type": "notification", "title": format!("waiting {i}")}))
        .collect();
    let writes: Vec<_> = bodies
        .iter()
        .map(|body| app.post("/api/activities", Some(&token), body))
        .collect();
    let (ready, listed, writes) = futures_util::join!(
        app.get("/ready", None),
        app.get("/api/activities", Some(&token)),
        futures_util::future::join_all(writes)
    );
    assert_eq!(ready.0, StatusCode::OK, "{}", ready.1);
    assert_eq!(listed.0, StatusCode::OK, "{}", listed.1);
    for (status, body) in writes {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    }

    // Once the replica is back, the same request with the same key is
    // acknowledged, and the activity exists once.
    group.replica.restart();
    let master_url = group.master.url();
    wait_blocking("the replica to be back in sync", DEADLINE, move || {
        replica_confirms(&mut answering(&master_url)?).then_some(())
    })
    .await;
    let (status, first) = send("once").await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = send("once").await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(first["id"], again["id"]);
    // The unconfirmed activity was stored, once. Each of the 16 others was
    // stored at most once: one that met a concurrent append took a new id
    // and may have been refused before it wrote anything.
    let ids = all_ids(&app, &token).await;
    assert_eq!(ids.iter().filter(|id| **id == first["id"]).count(), 1);
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "no activity twice: {ids:?}");
    assert!(
        (2..=17).contains(&ids.len()),
        "the keyed one and at most the 16 unconfirmed ones: {ids:?}"
    );
}
