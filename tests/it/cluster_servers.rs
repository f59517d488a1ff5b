//! The test Redis Cluster itself (`servers::ClusterGroup`): it starts with
//! every slot served, `slot_of` agrees with Redis, and a slot moves live
//! with its keys.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::servers::{slot_of, ClusterGroup};

/// Runs `commands` (one a line) through `redis-cli -c` against `port`,
/// which follows `MOVED` and `ASK`; returns one answer a line (without
/// its `-> Redirected to slot …` notes).
fn redis_cli_c(port: u16, commands: &str) -> Vec<String> {
    let mut child = Command::new("redis-cli")
        .args(["-c", "-h", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redis-cli is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(commands.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "redis-cli -c: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-> Redirected"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn slot_of_matches_known_crc16_values() {
    // CRC-16/XMODEM's check value, and slots from the Redis Cluster spec.
    assert_eq!(slot_of("123456789"), 0x31C3);
    assert_eq!(slot_of("foo"), 12182);
    assert_eq!(slot_of("bar"), 5061);
    assert_eq!(slot_of("hello"), 866);
    assert_eq!(slot_of(""), 0);
    // Hash tags.
    assert_eq!(slot_of("{user1000}.following"), slot_of("user1000"));
    assert_eq!(slot_of("hub:{usr_1}:acts"), slot_of("usr_1"));
    assert_eq!(
        slot_of("foo{}{bar}"),
        8363,
        "an empty first tag: the whole key"
    );
    assert_eq!(slot_of("foo{{bar}}zap"), slot_of("{bar"));
    assert_eq!(slot_of("foo{bar}{zap}"), slot_of("bar"));
}

#[test]
fn cluster_servers_start_with_every_slot_served_and_agree_on_keyslot() {
    let started = Instant::now();
    let cluster = ClusterGroup::start();
    eprintln!("cluster started in {:?}", started.elapsed());

    let ports: Vec<u16> = cluster.masters.iter().map(|m| m.port).collect();
    assert_eq!(
        cluster.url(),
        format!(
            "redis+cluster://127.0.0.1:{},127.0.0.1:{},127.0.0.1:{}",
            ports[0], ports[1], ports[2]
        )
    );
    assert_eq!(
        cluster.node_urls(),
        ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}/"))
            .collect::<Vec<_>>()
    );

    // Each master serves a third of the slots, and all of them agree.
    let mut served = [0usize; 3];
    for slot in (0..16384)
        .step_by(97)
        .chain([0, 5460, 5461, 10922, 10923, 16383])
    {
        served[cluster.owner_of_slot(slot)] += 1;
    }
    assert!(served.iter().all(|&n| n > 0), "{served:?}");

    let keys = [
        "hub:{usr_1}:acts",
        "foo{}bar",
        "{a}{b}",
        "a{b",
        "a}b{c}",
        "{}",
        "{",
        "}{x}",
        "plain",
        "hub:stream:usr_42",
        "ü{ñ}",
        "",
    ];
    let mut conn = cluster.masters[1].conn();
    for key in keys {
        let redis: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query(&mut conn)
            .unwrap();
        assert_eq!(slot_of(key), redis, "slot of {key:?}");
    }
    for i in 0..500 {
        let key = format!("k{i}:{{t{}}}x", i % 7);
        let redis: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(&key)
            .query(&mut conn)
            .unwrap();
        assert_eq!(slot_of(&key), redis, "slot of {key:?}");
    }
}

#[test]
fn cluster_servers_move_a_slot_live_and_every_key_follows_it() {
    let cluster = ClusterGroup::start();
    let tag_slot = slot_of("{usr_test}");
    let from = cluster.owner_of_slot(tag_slot);
    let to = (from + 1) % 3;

    // 200 keys under one tag, written to their owner directly; 60 without
    // one, written through `redis-cli -c` (which follows MOVED).
    let tagged: Vec<String> = (0..200).map(|i| format!("hub:{{usr_test}}:k{i}")).collect();
    let mut pipe = redis::pipe();
    for key in &tagged {
        pipe.cmd("SET").arg(key).arg(format!("v-{key}")).ignore();
    }
    let _: () = pipe.query(&mut cluster.masters[from].conn()).unwrap();
    let plain: Vec<String> = (0..60).map(|i| format!("plain:{i}")).collect();
    let sets: String = plain.iter().map(|k| format!("SET {k} v-{k}\n")).collect();
    let answers = redis_cli_c(cluster.masters[0].port, &sets);
    assert_eq!(answers, vec!["OK"; plain.len()]);
    let owners: std::collections::HashSet<usize> = plain
        .iter()
        .map(|k| cluster.owner_of_slot(slot_of(k)))
        .collect();
    assert_eq!(
        owners.len(),
        3,
        "the untagged keys are spread over all masters"
    );

    // Move the slot slowly on another thread; meanwhile `redis-cli -c`
    // still reads every key (following ASK for those already moved) and
    // writes new ones under the tag.
    let half_moved_reads = std::thread::scope(|s| {
        let mover =
            s.spawn(|| cluster.migrate_slot_slowly(tag_slot, to, Duration::from_millis(10)));
        let mut reads = 0;
        let mut written = 0;
        while !mover.is_finished() {
            let gets: String = tagged
                .iter()
                .step_by(20)
                .map(|k| format!("GET {k}\n"))
                .collect();
            let got = redis_cli_c(cluster.masters[to].port, &gets);
            let want: Vec<String> = tagged
                .iter()
                .step_by(20)
                .map(|k| format!("v-{k}"))
                .collect();
            assert_eq!(got, want);
            let key = format!("hub:{{usr_test}}:new{written}");
            assert_eq!(
                redis_cli_c(cluster.masters[from].port, &format!("SET {key} v-{key}\n")),
                ["OK"]
            );
            written += 1;
            reads += 1;
        }
        mover.join().unwrap();
        reads
    });
    assert!(half_moved_reads > 0, "read while the slot was half-moved");
    eprintln!("{half_moved_reads} rounds of reads while the slot was half-moved");

    assert_eq!(cluster.owner_of_slot(tag_slot), to);
    // Every node names the new owner, and serves or redirects accordingly.
    for (i, m) in cluster.masters.iter().enumerate() {
        let mut c = m.conn();
        let got: redis::RedisResult<Option<String>> =
            redis::cmd("GET").arg(&tagged[0]).query(&mut c);
        if i == to {
            assert_eq!(got.unwrap(), Some(format!("v-{}", tagged[0])));
        } else {
            let err = got.unwrap_err();
            assert_eq!(err.code(), Some("MOVED"), "{err}");
            assert!(
                err.to_string()
                    .contains(&format!(":{}", cluster.masters[to].port)),
                "{err}"
            );
        }
    }
    let mut new_owner = cluster.masters[to].conn();
    for key in &tagged {
        let got: Option<String> = redis::cmd("GET").arg(key).query(&mut new_owner).unwrap();
        assert_eq!(got, Some(format!("v-{key}")), "{key} on its new owner");
    }
    let left: u64 = redis::cmd("CLUSTER")
        .arg("COUNTKEYSINSLOT")
        .arg(tag_slot)
        .query(&mut cluster.masters[from].conn())
        .unwrap();
    assert_eq!(left, 0, "nothing left on the old owner");
    let moved: u64 = redis::cmd("CLUSTER")
        .arg("COUNTKEYSINSLOT")
        .arg(tag_slot)
        .query(&mut new_owner)
        .unwrap();
    assert!(
        moved >= 201,
        "the 200 keys and those written meanwhile: {moved}"
    );
    for key in &plain {
        let got: Option<String> = redis::cmd("GET")
            .arg(key)
            .query(&mut cluster.owner_conn(key))
            .unwrap();
        assert_eq!(got, Some(format!("v-{key}")));
    }

    // Step by step, back: half-moved, the source answers ASK for a key
    // already on the target, which serves it after ASKING.
    let back = cluster.slot_migration(tag_slot, from);
    assert_eq!((back.from, back.to), (to, from));
    back.begin();
    assert_eq!(back.move_keys(100), 100);
    let mut source = cluster.masters[to].conn();
    let mut target = cluster.masters[from].conn();
    let on_target: Vec<String> = redis::cmd("CLUSTER")
        .arg("GETKEYSINSLOT")
        .arg(tag_slot)
        .arg(1)
        .query(&mut target)
        .unwrap();
    let err = redis::cmd("GET")
        .arg(&on_target[0])
        .query::<Option<String>>(&mut source)
        .unwrap_err();
    assert_eq!(err.code(), Some("ASK"), "{err}");
    let (_, got): ((), Option<String>) = redis::pipe()
        .cmd("ASKING")
        .cmd("GET")
        .arg(&on_target[0])
        .query(&mut target)
        .unwrap();
    assert_eq!(got, Some(format!("v-{}", on_target[0])));
    while back.move_keys(100) > 0 {}
    back.finish();
    assert_eq!(cluster.owner_of_slot(tag_slot), from);

    // And at full speed, the slot of an untagged key.
    let slot = slot_of(&plain[0]);
    let owner = cluster.owner_of_slot(slot);
    cluster.migrate_slot(slot, (owner + 2) % 3);
    assert_eq!(cluster.owner_of_slot(slot), (owner + 2) % 3);
    let got: Option<String> = redis::cmd("GET")
        .arg(&plain[0])
        .query(&mut cluster.masters[(owner + 2) % 3].conn())
        .unwrap();
    assert_eq!(got, Some(format!("v-{}", plain[0])));
}
