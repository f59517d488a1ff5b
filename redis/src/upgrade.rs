//! Brings data written by an earlier hub up to this layout, once, at start.
//!
//! Layout 1 named most keys by an id alone (`act:<seq>`, `wh:<id>`,
//! `dl:<id>`, …) and kept a few global counters and indexes (`tseq`,
//! `whseq`, `dseq`, `whall`). Layout 2 ([`crate::keys`]) puts every key of a
//! user under the user's hash tag and names the owner of each id in the
//! `{ids}` slot. The upgrade renames each key (a `RENAME` keeps the value and
//! the expiry), builds the owner indexes, gives every user the counters the
//! global ones were, and converts the two values whose shape changed (a
//! token hash's pointer, an idempotency key's record).
//!
//! It runs before the node serves anything. One node at a time does it (a
//! claim in `{cluster}:upgrading`); the others wait for `{cluster}:layout` to
//! say 2. It can be cut at any point and run again: the keys a user's id is
//! read from (`act`, `dl`, `wh`, `rt`, `pat`, `task`) are renamed last, so
//! every key still in the old layout can find its owner. Nodes of the
//! earlier version must be stopped first: they would go on writing the old
//! names.
//!
//! A Redis Cluster never held layout 1 (that version could not use one), so
//! there only the version is written.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use hub_core::ids::{TaskId, UserId, WebhookId};
use hub_core::store::StoreError;
use redis::AsyncCommands;
use tracing::{info, warn};

use crate::conn::RedisConn;
use crate::keys::{Keys, LAYOUT_VERSION, OWNER_BUCKET};
use crate::store::unavailable;

/// How long a claim to upgrade lasts if its node dies mid-way.
const CLAIM: Duration = Duration::from_secs(600);
/// How often a waiting node looks again.
const POLL: Duration = Duration::from_millis(200);

/// The claim's key.
fn claim_key(keys: &Keys) -> String {
    format!("{}{{cluster}}:upgrading", keys.prefix())
}

/// What the upgrade did, for the log and the tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Upgraded {
    /// Keys renamed or converted.
    pub moved: usize,
    /// Keys dropped: node bookkeeping, and revocation marks whose family has
    /// no token left.
    pub dropped: usize,
}

/// Upgrades the data under `prefix` if it is in an earlier layout, or waits
/// for the node that does. `cluster`: the Redis is a Redis Cluster.
pub async fn upgrade(
    conn: &RedisConn,
    prefix: &str,
    node: &str,
    cluster: bool,
) -> Result<Upgraded, StoreError> {
    let keys = Keys::new(prefix);
    let mut c = conn.clone();
    let deadline = tokio::time::Instant::now() + CLAIM;
    loop {
        let version: Option<i64> = c.get(keys.layout()).await.map_err(unavailable)?;
        if version == Some(LAYOUT_VERSION) {
            return Ok(Upgraded::default());
        }
        if cluster {
            c.set::<_, _, ()>(keys.layout(), LAYOUT_VERSION)
                .await
                .map_err(unavailable)?;
            return Ok(Upgraded::default());
        }
        let claimed: Option<String> = redis::cmd("SET")
            .arg(claim_key(&keys))
            .arg(node)
            .arg("NX")
            .arg("PX")
            .arg(CLAIM.as_millis() as u64)
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        if claimed.is_some() {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Unavailable(
                "another node has been upgrading the Redis data for too long".into(),
            ));
        }
        tokio::time::sleep(POLL).await;
    }
    let done = Upgrade::new(c.clone(), keys.clone()).run().await;
    if done.is_ok() {
        c.set::<_, _, ()>(keys.layout(), LAYOUT_VERSION)
            .await
            .map_err(unavailable)?;
    }
    let _: Result<(), _> = c.del(claim_key(&keys)).await;
    let done = done?;
    if done != Upgraded::default() {
        info!(
            moved = done.moved,
            dropped = done.dropped,
            "redis data upgraded to layout {LAYOUT_VERSION}"
        );
    }
    Ok(done)
}

/// A glob matching every key under `prefix` and nothing else.
fn glob(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for ch in prefix.chars() {
        if matches!(ch, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('*');
    out
}

struct Upgrade {
    conn: RedisConn,
    keys: Keys,
    done: Upgraded,
}

impl Upgrade {
    fn new(conn: RedisConn, keys: Keys) -> Self {
        Self {
            conn,
            keys,
            done: Upgraded::default(),
        }
    }

    fn full(&self, name: &str) -> String {
        format!("{}{name}", self.keys.prefix())
    }

    /// Every key in the earlier layout, without the prefix.
    async fn old_names(&mut self) -> Result<BTreeSet<String>, StoreError> {
        let pattern = glob(self.keys.prefix());
        let mut cursor: u64 = 0;
        let mut out = BTreeSet::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut self.conn)
                .await
                .map_err(unavailable)?;
            for name in batch {
                let Some(rest) = name.strip_prefix(self.keys.prefix()) else {
                    continue;
                };
                // Layout 2 names start with a hash tag, or are kept as they
                // were (`email:`, `portal:`, `rl:`, and `pat_hash:`, whose
                // value `pointers_with` converts).
                let kept = ["email:", "portal:", "rl:", "pat_hash:"]
                    .iter()
                    .any(|p| rest.starts_with(p));
                if !rest.starts_with('{') && !kept {
                    out.insert(rest.to_owned());
                }
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        Ok(out)
    }

    /// The `user` field of each `<kind><id>` hash, by id.
    async fn owners(
        &mut self,
        ids: &[String],
        kind: &str,
    ) -> Result<HashMap<String, UserId>, StoreError> {
        let mut out = HashMap::new();
        for id in ids {
            let user: Option<String> = self
                .conn
                .hget(self.full(&format!("{kind}{id}")), "user")
                .await
                .map_err(unavailable)?;
            if let Some(user) = user {
                out.insert(id.clone(), UserId(user));
            }
        }
        Ok(out)
    }

    async fn rename(&mut self, from: &str, to: String) -> Result<(), StoreError> {
        // A key that expired since the scan is simply gone.
        let moved: Result<(), redis::RedisError> = self.conn.rename(self.full(from), &to).await;
        match moved {
            Ok(()) => self.done.moved += 1,
            Err(e) if e.to_string().contains("no such key") => {}
            Err(e) => return Err(unavailable(e)),
        }
        Ok(())
    }

    async fn drop_key(&mut self, name: &str) -> Result<(), StoreError> {
        let n: i64 = self.conn.del(self.full(name)).await.map_err(unavailable)?;
        self.done.dropped += n as usize;
        Ok(())
    }

    /// Sets a user's counter to the global one it replaces, unless set.
    async fn counter(&mut self, key: String, value: i64) -> Result<(), StoreError> {
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("NX")
            .query_async::<Option<String>>(&mut self.conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn run(mut self) -> Result<Upgraded, StoreError> {
        let names = self.old_names().await?;
        if names.is_empty() {
            return Ok(self.done);
        }
        let rest_of = |name: &str, kind: &str| name.strip_prefix(kind).map(str::to_owned);
        let by_kind =
            |kind: &str| -> Vec<String> { names.iter().filter_map(|n| rest_of(n, kind)).collect() };

        // ----- who owns each id, from the keys read last -----
        let webhook_owner = self.owners(&by_kind("wh:"), "wh:").await?;
        let delivery_owner = self.owners(&by_kind("dl:"), "dl:").await?;
        let mut family_owner: HashMap<String, UserId> = HashMap::new();
        let mut token_owner: HashMap<String, UserId> = HashMap::new();
        for jti in by_kind("rt:") {
            let fields: (Option<String>, Option<String>) = self
                .conn
                .hget(self.full(&format!("rt:{jti}")), &["family", "user"])
                .await
                .map_err(unavailable)?;
            if let (Some(family), Some(user)) = fields {
                family_owner.insert(family, UserId(user.clone()));
                token_owner.insert(jti, UserId(user));
            }
        }
        let pat_owner = self.owners(&by_kind("pat:"), "pat:").await?;
        let task_owner = self.owners(&by_kind("task:"), "task:").await?;
        let mut activity: HashMap<i64, (UserId, String)> = HashMap::new();
        for seq in by_kind("act:") {
            let Ok(n) = seq.parse::<i64>() else { continue };
            let json: Option<String> = self
                .conn
                .get(self.full(&format!("act:{seq}")))
                .await
                .map_err(unavailable)?;
            let Some(json) = json else { continue };
            let user = serde_json::from_str::<serde_json::Value>(&json)
                .ok()
                .and_then(|v| v["user_id"].as_str().map(str::to_owned));
            if let Some(user) = user {
                activity.insert(n, (UserId(user), json));
            }
        }

        // ----- indexes and counters (written again by a second run) -----
        for (id, user) in &webhook_owner {
            self.conn
                .hset::<_, _, _, ()>(self.keys.webhook_owners(), id, user.as_str())
                .await
                .map_err(unavailable)?;
        }
        for (id, user) in &task_owner {
            self.conn
                .hset::<_, _, _, ()>(self.keys.task_owners(), id, user.as_str())
                .await
                .map_err(unavailable)?;
        }
        for (seq, (user, _)) in &activity {
            self.conn
                .hset::<_, _, _, ()>(
                    self.keys.activity_owners(seq.div_euclid(OWNER_BUCKET)),
                    seq,
                    user.as_str(),
                )
                .await
                .map_err(unavailable)?;
        }
        if names.contains("seq") {
            let old: i64 = self.conn.get(self.full("seq")).await.map_err(unavailable)?;
            let new: Option<i64> = self
                .conn
                .get(self.keys.sequence())
                .await
                .map_err(unavailable)?;
            self.conn
                .set::<_, _, ()>(self.keys.sequence(), old.max(new.unwrap_or(0)))
                .await
                .map_err(unavailable)?;
        }
        // The global orders become each user's; any value at or above the
        // user's highest keeps the order.
        for (global, user_key) in [("tseq", 0), ("whseq", 1), ("dseq", 2)] {
            if !names.contains(global) {
                continue;
            }
            let value: i64 = self
                .conn
                .get(self.full(global))
                .await
                .map_err(unavailable)?;
            let owners: BTreeSet<UserId> = match user_key {
                0 => task_owner.values().cloned().collect(),
                1 => webhook_owner.values().cloned().collect(),
                _ => delivery_owner.values().cloned().collect(),
            };
            for user in owners {
                let key = match user_key {
                    0 => self.keys.task_order(&user),
                    1 => self.keys.webhook_order(&user),
                    _ => self.keys.delivery_order(&user),
                };
                self.counter(key, value).await?;
            }
        }
        self.pointers_with(&pat_owner).await?;

        // ----- keys named by a user, and dependents of the anchors -----
        for name in &names {
            let k = &self.keys;
            let user = |rest: &str| UserId(rest.to_owned());
            let target = if let Some(id) = rest_of(name, "user:") {
                Some(k.user(&user(&id)))
            } else if let Some(u) = rest_of(name, "pats:") {
                Some(k.personal_tokens_of(&user(&u)))
            } else if let Some(rest) = rest_of(name, "acts:") {
                Some(match rest.split_once(':') {
                    Some((u, kind)) => k.activities_of_type(&user(u), kind),
                    None => k.activities_of(&user(&rest)),
                })
            } else if let Some(u) = rest_of(name, "hist:") {
                Some(k.history(&user(&u)))
            } else if let Some(rest) = rest_of(name, "an:") {
                rest.rsplit_once(':')
                    .and_then(|(u, chunk)| chunk.parse().ok().map(|c| k.counters(&user(u), c)))
            } else if let Some(u) = rest_of(name, "tasks:") {
                Some(k.tasks_of(&user(&u)))
            } else if let Some(u) = rest_of(name, "whs:") {
                Some(k.webhooks_of(&user(&u)))
            } else if let Some(u) = rest_of(name, "whactive:") {
                Some(k.active_webhooks_of(&user(&u)))
            } else if let Some(id) = rest_of(name, "dla:") {
                delivery_owner.get(&id).map(|u| k.attempts(u, &id))
            } else if let Some(w) = rest_of(name, "dlw:") {
                webhook_owner
                    .get(&w)
                    .map(|u| k.deliveries_log(u, &WebhookId(w.clone())))
            } else if let Some(w) = rest_of(name, "dlp:") {
                webhook_owner
                    .get(&w)
                    .map(|u| k.pending_deliveries(u, &WebhookId(w.clone())))
            } else if let Some(family) = rest_of(name, "rtrev:") {
                family_owner
                    .get(&family)
                    .map(|u| k.revoked_family(u, &family))
            } else if let Some(p) = rest_of(name, "presence:") {
                match p.as_str() {
                    "online" => Some(k.presence_online()),
                    "gone" => Some(k.presence_gone()),
                    _ => None,
                }
            } else {
                continue;
            };
            match target {
                Some(to) => self.rename(name, to).await?,
                // Attempts of a deleted delivery, a revoked family with no
                // token left, a leader lease: nothing refers to them.
                None => self.drop_key(name).await?,
            }
        }
        // An idempotency record kept the activity's id; it now keeps its JSON.
        for rest in by_kind("idem:") {
            let Some((u, key)) = rest.split_once(':') else {
                continue;
            };
            let name = format!("idem:{rest}");
            let value: Option<String> =
                self.conn.get(self.full(&name)).await.map_err(unavailable)?;
            let ttl: i64 = self
                .conn
                .pttl(self.full(&name))
                .await
                .map_err(unavailable)?;
            let json =
                value
                    .as_deref()
                    .and_then(|v| v.split_once('|'))
                    .and_then(|(fingerprint, seq)| {
                        let seq: i64 = seq.parse().ok()?;
                        activity
                            .get(&seq)
                            .map(|(_, json)| format!("{fingerprint}|{json}"))
                    });
            if let (Some(value), true) = (json, ttl > 0) {
                self.conn
                    .pset_ex::<_, _, ()>(
                        self.keys.idempotency(&UserId(u.to_owned()), key),
                        value,
                        ttl as u64,
                    )
                    .await
                    .map_err(unavailable)?;
                self.done.moved += 1;
            }
            self.conn
                .del::<_, ()>(self.full(&name))
                .await
                .map_err(unavailable)?;
        }

        // ----- the anchors, last -----
        let mut anchors: Vec<(String, String)> = Vec::new();
        for (seq, (user, _)) in &activity {
            anchors.push((format!("act:{seq}"), self.keys.activity(user, *seq)));
        }
        for (id, user) in &delivery_owner {
            anchors.push((format!("dl:{id}"), self.keys.delivery(user, id)));
        }
        for (id, user) in &webhook_owner {
            let to = self.keys.webhook(user, &WebhookId(id.clone()));
            anchors.push((format!("wh:{id}"), to));
        }
        for (jti, user) in &token_owner {
            anchors.push((format!("rt:{jti}"), self.keys.refresh_token(user, jti)));
        }
        for (id, user) in &pat_owner {
            anchors.push((format!("pat:{id}"), self.keys.personal_token(user, id)));
        }
        for (id, user) in &task_owner {
            anchors.push((
                format!("task:{id}"),
                self.keys.task(user, &TaskId(id.clone())),
            ));
        }
        for (from, to) in anchors {
            self.rename(&from, to).await?;
        }

        // ----- what layout 2 keeps elsewhere or not at all -----
        for name in &names {
            let gone = ["seq", "tseq", "whseq", "dseq", "whall", "nodes"].contains(&name.as_str())
                || ["nodesessions:", "nodeusers:", "lease:", "revacks:"]
                    .iter()
                    .any(|p| name.starts_with(p));
            if gone {
                self.drop_key(name).await?;
            }
        }
        let left = self.old_names().await?;
        if !left.is_empty() {
            warn!(
                count = left.len(),
                example = %left.iter().next().map(String::as_str).unwrap_or_default(),
                "keys of no known layout were left as they are"
            );
        }
        Ok(self.done)
    }

    /// Rewrites `pat_hash:<sha256>` → `<id>` as `<user>|<id>`, the owner
    /// taken from `owners` (the tokens still in the old layout: this runs
    /// before they move).
    async fn pointers_with(&mut self, owners: &HashMap<String, UserId>) -> Result<(), StoreError> {
        let pattern = glob(&self.full("pat_hash:"));
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut self.conn)
                .await
                .map_err(unavailable)?;
            for key in batch {
                let value: Option<String> = self.conn.get(&key).await.map_err(unavailable)?;
                let Some(id) = value.filter(|v| !v.contains('|')) else {
                    continue;
                };
                match owners.get(&id) {
                    Some(user) => {
                        self.conn
                            .set::<_, _, ()>(&key, format!("{}|{id}", user.0))
                            .await
                            .map_err(unavailable)?;
                        self.done.moved += 1;
                    }
                    None => {
                        // Its token is gone: the pointer leads nowhere.
                        let _: () = self.conn.del(&key).await.map_err(unavailable)?;
                        self.done.dropped += 1;
                    }
                }
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn the_glob_matches_the_prefix_literally() {
        assert_eq!(glob("hub:"), "hub:*");
        assert_eq!(glob("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\*");
    }
}
