//! Every Redis key and channel the hub uses, in one place.
//!
//! All names start with the configured prefix (`redis.prefix`, `hub:` by
//! default), so several hubs or test runs can share one Redis. The Rust code
//! names keys only through [`Keys`]; the Lua scripts in `redis/scripts/`
//! receive the names they start from as `KEYS` and build the rest the same
//! way (they must: a script creates keys it only learns about while running,
//! such as one delivery per matching endpoint). [`LAYOUT`] lists every name
//! with what it holds, and a test runs every script and checks that each key
//! it leaves behind is one of them.
//!
//! The layout is built for Redis Cluster, and used the same way on one
//! server: every key of one user carries the user's id as its hash tag
//! (`{usr_…}`), so everything an atomic step of that user touches, and the
//! user's channel, lives in one slot. What belongs to no user is either a
//! key on its own (an e-mail, a token hash, a portal grant, a rate-limit
//! bucket: each read and written by single commands), or one of two shared
//! slots: `{ids}` (the activity counter and the owner of every activity,
//! task and endpoint, for lookups by id alone) and `{cluster}` (nodes,
//! presence, leases and revocation acknowledgements, all small).
//!
//! | name (after the prefix) | type | holds |
//! |---|---|---|
//! | `{<user>}:user` | hash | a user: e-mail, name, password hash, created |
//! | `email:<lowercased>` | string | the user id of an e-mail |
//! | `{<user>}:rt:<jti>` | hash | a refresh token: family, user, expiry, used flag |
//! | `{<user>}:rtrev:<family>` | string | a revoked refresh-token family (expires) |
//! | `{<user>}:pat:<id>` | hash | a personal access token (hash of the secret, scopes, times) |
//! | `{<user>}:pats` | sorted set | a user's token ids by creation |
//! | `pat_hash:<sha256>` | string | `<user>\|<token id>` of a secret's hash |
//! | `portal:<sha256>` | string | a portal link's one-time grant (expires) |
//! | `{ids}:seq` | counter | the last activity id assigned |
//! | `{ids}:aown:<bucket>` | hash | the owner of each activity id (1024 ids per bucket) |
//! | `{ids}:town` | hash | the owner of each task id |
//! | `{ids}:wh` | hash | the owner of each webhook endpoint (every endpoint) |
//! | `{<user>}:act:<seq>` | string | an activity's JSON |
//! | `{<user>}:acts` | sorted set | a user's activity seqs |
//! | `{<user>}:acts:<type>` | sorted set | a user's activity seqs of one type |
//! | `{<user>}:hist` | stream | the resume history (entry ids `0-<seq>`) |
//! | `{<user>}:idem:<key>` | string | an idempotency key: body hash and seq (24 h) |
//! | `{<user>}:an:<chunk>` | hash | analytics counters of 512 hours (`hour:metric`) |
//! | `{<user>}:tseq` | counter | the user's task list order |
//! | `{<user>}:task:<id>` | hash | a task's JSON and version |
//! | `{<user>}:tasks` | sorted set | a user's task ids |
//! | `{<user>}:whseq` | counter | the user's webhook creation order |
//! | `{<user>}:wh:<id>` | hash | a webhook endpoint with its secrets and counters |
//! | `{<user>}:whs` | sorted set | a user's endpoint ids |
//! | `{<user>}:whactive` | hash | a user's active endpoints: id → event list |
//! | `{<user>}:dseq` | counter | the user's delivery order |
//! | `{<user>}:dl:<id>` | hash | a delivery |
//! | `{<user>}:dla:<id>` | list | a delivery's attempts, as JSON |
//! | `{<user>}:dlw:<webhook>` | sorted set | an endpoint's deliveries log |
//! | `{<user>}:dlp:<webhook>` | sorted set | an endpoint's pending deliveries |
//! | `rl:<key>` | string | a rate-limit bucket's theoretical arrival time (expires) |
//! | `{cluster}:lease:<webhook>` | string | the node delivering an endpoint (expires) |
//! | `{cluster}:nodes` | sorted set | live nodes by last heartbeat (ms) |
//! | `{cluster}:nodesessions:<node>` | string | a node's session count (expires) |
//! | `{cluster}:nodeusers:<node>` | set | users with a session on a node (expires) |
//! | `{cluster}:presence:leader` | string | the node that announces presence (expires) |
//! | `{cluster}:presence:online` | set | users announced online |
//! | `{cluster}:presence:gone` | hash | users with no session: user → since (ms) |
//! | `{cluster}:revacks:<nonce>` | list | nodes that forgot a revoked token (expires) |
//! | `{cluster}:layout` | string | the layout version of the data (`2`) |
//! | `{<user>}:ch` | shard channel | a user's events and task updates, in id order |
//! | `ch:broadcast` | channel | broadcasts, token revocations |
//! | `ch:wh` | channel | new deliveries, endpoint changes |
//!
//! A user's channel is a sharded channel (`SPUBLISH`/`SSUBSCRIBE`, Redis 7):
//! in a cluster only the shard owning the user's slot carries it. The two
//! other channels are ordinary ones, which a cluster hands to every node.

use hub_core::ids::{TaskId, UserId, WebhookId};

/// Activity ids per owner bucket (`{ids}:aown:<seq / 1024>`).
pub const OWNER_BUCKET: i64 = 1024;

/// The version of the layout below, kept in `{cluster}:layout`.
pub const LAYOUT_VERSION: i64 = 2;

/// Every key and channel name after the prefix, as a pattern (`<…>` is a
/// variable part, `{<…>}` one inside a hash tag; only the last variable may
/// hold a `:`), with its Redis type.
pub const LAYOUT: &[(&str, &str)] = &[
    ("{<user>}:user", "hash"),
    ("email:<lowercased>", "string"),
    ("{<user>}:rt:<jti>", "hash"),
    ("{<user>}:rtrev:<family>", "string"),
    ("{<user>}:pat:<id>", "hash"),
    ("{<user>}:pats", "zset"),
    ("pat_hash:<sha256>", "string"),
    ("portal:<sha256>", "string"),
    ("{ids}:seq", "string"),
    ("{ids}:aown:<bucket>", "hash"),
    ("{ids}:town", "hash"),
    ("{ids}:wh", "hash"),
    ("{<user>}:act:<seq>", "string"),
    ("{<user>}:acts", "zset"),
    ("{<user>}:acts:<type>", "zset"),
    ("{<user>}:hist", "stream"),
    ("{<user>}:idem:<key>", "string"),
    ("{<user>}:an:<chunk>", "hash"),
    ("{<user>}:tseq", "string"),
    ("{<user>}:task:<id>", "hash"),
    ("{<user>}:tasks", "zset"),
    ("{<user>}:whseq", "string"),
    ("{<user>}:wh:<id>", "hash"),
    ("{<user>}:whs", "zset"),
    ("{<user>}:whactive", "hash"),
    ("{<user>}:dseq", "string"),
    ("{<user>}:dl:<id>", "hash"),
    ("{<user>}:dla:<id>", "list"),
    ("{<user>}:dlw:<webhook>", "zset"),
    ("{<user>}:dlp:<webhook>", "zset"),
    ("rl:<key>", "string"),
    ("{cluster}:lease:<webhook>", "string"),
    ("{cluster}:nodes", "zset"),
    ("{cluster}:nodesessions:<node>", "string"),
    ("{cluster}:nodeusers:<node>", "set"),
    ("{cluster}:presence:leader", "string"),
    ("{cluster}:presence:online", "set"),
    ("{cluster}:presence:gone", "hash"),
    ("{cluster}:revacks:<nonce>", "list"),
    ("{cluster}:layout", "string"),
    ("{<user>}:ch", "channel"),
    ("ch:broadcast", "channel"),
    ("ch:wh", "channel"),
];

/// The hash tags of the shared slots, which no user's tag can be (user ids
/// start with `usr_`).
const SHARED_TAGS: [&str; 2] = ["{ids}", "{cluster}"];

/// Which of the [`LAYOUT`] patterns `name` (without the prefix) fits, the
/// most specific first (`{<user>}:acts:<type>` before `{<user>}:acts`).
pub fn layout_of(name: &str) -> Option<&'static str> {
    LAYOUT
        .iter()
        .map(|(pattern, _)| *pattern)
        .filter(|pattern| fits(pattern, name))
        .max_by_key(|pattern| {
            let literal = pattern.split(':').filter(|p| !p.contains('<')).count();
            (pattern.split(':').count(), literal)
        })
}

fn fits(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split(':').collect();
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let (piece, tail) = if last {
            (rest, "")
        } else {
            match rest.split_once(':') {
                Some(split) => split,
                None => return false,
            }
        };
        let ok = if part.starts_with('<') && part.ends_with('>') {
            !piece.is_empty()
        } else if part.starts_with("{<") && part.ends_with(">}") {
            piece.len() > 2
                && piece.starts_with('{')
                && piece.ends_with('}')
                && !piece[1..piece.len() - 1].contains(['{', '}'])
                && !SHARED_TAGS.contains(&piece)
        } else {
            piece == *part
        };
        if !ok {
            return false;
        }
        rest = tail;
    }
    true
}

/// The hash tag of a user's keys: their slot in a cluster.
pub fn user_tag(user: &UserId) -> String {
    format!("{{{user}}}")
}

/// The names of every key and channel under one prefix.
#[derive(Clone, Debug)]
pub struct Keys {
    /// Put before every name (`hub:` by default; tests use a unique one).
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn name(&self, rest: std::fmt::Arguments<'_>) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// A key of `user`, in the user's slot.
    fn of(&self, user: &UserId, rest: std::fmt::Arguments<'_>) -> String {
        format!("{}{{{user}}}:{rest}", self.prefix)
    }

    /// What every key of `user` starts with (the scripts that build names
    /// of their own start from it).
    pub fn user_base(&self, user: &UserId) -> String {
        format!("{}{{{user}}}:", self.prefix)
    }

    // ----- users and what they sign in with -----

    pub fn user(&self, id: &UserId) -> String {
        self.of(id, format_args!("user"))
    }
    /// The e-mail is lowercased here, so lookups ignore case.
    pub fn email(&self, email: &str) -> String {
        self.name(format_args!("email:{}", email.to_lowercase()))
    }
    pub fn refresh_token(&self, user: &UserId, jti: &str) -> String {
        self.of(user, format_args!("rt:{jti}"))
    }
    pub fn revoked_family(&self, user: &UserId, family: &str) -> String {
        self.of(user, format_args!("rtrev:{family}"))
    }
    pub fn personal_token(&self, user: &UserId, id: &str) -> String {
        self.of(user, format_args!("pat:{id}"))
    }
    pub fn personal_token_hash(&self, sha256: &str) -> String {
        self.name(format_args!("pat_hash:{sha256}"))
    }
    pub fn personal_tokens_of(&self, user: &UserId) -> String {
        self.of(user, format_args!("pats"))
    }
    pub fn portal_grant(&self, sha256: &str) -> String {
        self.name(format_args!("portal:{sha256}"))
    }

    // ----- ids and their owners (the `{ids}` slot) -----

    /// The last activity id assigned.
    pub fn sequence(&self) -> String {
        self.name(format_args!("{{ids}}:seq"))
    }
    /// The owners of the activity ids `bucket × 1024 ..`.
    pub fn activity_owners(&self, bucket: i64) -> String {
        self.name(format_args!("{{ids}}:aown:{bucket}"))
    }
    pub fn task_owners(&self) -> String {
        self.name(format_args!("{{ids}}:town"))
    }
    /// Every endpoint, with its owner.
    pub fn webhook_owners(&self) -> String {
        self.name(format_args!("{{ids}}:wh"))
    }

    // ----- activities and history -----

    pub fn activity(&self, user: &UserId, seq: i64) -> String {
        self.of(user, format_args!("act:{seq}"))
    }
    pub fn activities_of(&self, user: &UserId) -> String {
        self.of(user, format_args!("acts"))
    }
    pub fn activities_of_type(&self, user: &UserId, kind: &str) -> String {
        self.of(user, format_args!("acts:{kind}"))
    }
    pub fn history(&self, user: &UserId) -> String {
        self.of(user, format_args!("hist"))
    }
    pub fn idempotency(&self, user: &UserId, key: &str) -> String {
        self.of(user, format_args!("idem:{key}"))
    }

    // ----- analytics -----

    /// Counters of the 512 hours starting at hour `chunk × 512`.
    pub fn counters(&self, user: &UserId, chunk: i64) -> String {
        self.of(user, format_args!("an:{chunk}"))
    }

    // ----- tasks -----

    pub fn task(&self, user: &UserId, id: &TaskId) -> String {
        self.of(user, format_args!("task:{id}"))
    }
    pub fn tasks_of(&self, user: &UserId) -> String {
        self.of(user, format_args!("tasks"))
    }
    pub fn task_order(&self, user: &UserId) -> String {
        self.of(user, format_args!("tseq"))
    }

    // ----- webhooks and deliveries -----

    pub fn webhook(&self, user: &UserId, id: &WebhookId) -> String {
        self.of(user, format_args!("wh:{id}"))
    }
    pub fn webhooks_of(&self, user: &UserId) -> String {
        self.of(user, format_args!("whs"))
    }
    pub fn webhook_order(&self, user: &UserId) -> String {
        self.of(user, format_args!("whseq"))
    }
    pub fn active_webhooks_of(&self, user: &UserId) -> String {
        self.of(user, format_args!("whactive"))
    }
    pub fn delivery_order(&self, user: &UserId) -> String {
        self.of(user, format_args!("dseq"))
    }
    pub fn delivery(&self, user: &UserId, id: &str) -> String {
        self.of(user, format_args!("dl:{id}"))
    }
    pub fn attempts(&self, user: &UserId, delivery: &str) -> String {
        self.of(user, format_args!("dla:{delivery}"))
    }
    pub fn deliveries_log(&self, user: &UserId, webhook: &WebhookId) -> String {
        self.of(user, format_args!("dlw:{webhook}"))
    }
    pub fn pending_deliveries(&self, user: &UserId, webhook: &WebhookId) -> String {
        self.of(user, format_args!("dlp:{webhook}"))
    }

    // ----- rate limits -----

    /// The rate-limit bucket of `key` (already naming its route group).
    pub fn rate_limit(&self, key: &str) -> String {
        self.name(format_args!("rl:{key}"))
    }

    // ----- nodes (the `{cluster}` slot) -----

    pub fn lease(&self, webhook: &str) -> String {
        self.name(format_args!("{{cluster}}:lease:{webhook}"))
    }
    pub fn nodes(&self) -> String {
        self.name(format_args!("{{cluster}}:nodes"))
    }
    pub fn node_sessions(&self, node: &str) -> String {
        self.name(format_args!("{{cluster}}:nodesessions:{node}"))
    }
    pub fn node_users(&self, node: &str) -> String {
        self.name(format_args!("{{cluster}}:nodeusers:{node}"))
    }
    pub fn presence_leader(&self) -> String {
        self.name(format_args!("{{cluster}}:presence:leader"))
    }
    pub fn presence_online(&self) -> String {
        self.name(format_args!("{{cluster}}:presence:online"))
    }
    pub fn presence_gone(&self) -> String {
        self.name(format_args!("{{cluster}}:presence:gone"))
    }
    /// The nodes that have forgotten one revoked token.
    pub fn revocation_acks(&self, nonce: &str) -> String {
        self.name(format_args!("{{cluster}}:revacks:{nonce}"))
    }
    /// The layout version the data is in.
    pub fn layout(&self) -> String {
        self.name(format_args!("{{cluster}}:layout"))
    }

    // ----- channels -----

    /// A user's shard channel.
    pub fn user_channel(&self, user: &UserId) -> String {
        self.of(user, format_args!("ch"))
    }
    /// The user whose channel `channel` is, if it is one.
    pub fn user_of_channel<'a>(&self, channel: &'a str) -> Option<&'a str> {
        channel
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix('{')?
            .strip_suffix("}:ch")
    }
    pub fn broadcast_channel(&self) -> String {
        self.name(format_args!("ch:broadcast"))
    }
    /// Where scripts announce new deliveries and endpoint changes.
    pub fn webhook_channel(&self) -> String {
        self.name(format_args!("ch:wh"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_fits_its_pattern_and_no_other_name_does() {
        let k = Keys::new("");
        let user = UserId("usr_1".into());
        let names = [
            (k.user(&user), "{<user>}:user"),
            (k.email("Ada@Example.com"), "email:<lowercased>"),
            (
                k.activities_of_type(&user, "outreach_sent"),
                "{<user>}:acts:<type>",
            ),
            (k.activities_of(&user), "{<user>}:acts"),
            (k.counters(&user, 40), "{<user>}:an:<chunk>"),
            (k.user_channel(&user), "{<user>}:ch"),
            (k.broadcast_channel(), "ch:broadcast"),
            (k.webhook_owners(), "{ids}:wh"),
            (k.activity_owners(3), "{ids}:aown:<bucket>"),
            (k.lease("wh_1"), "{cluster}:lease:<webhook>"),
            (k.rate_limit("auth:127.0.0.1"), "rl:<key>"),
            (k.idempotency(&user, "a:b"), "{<user>}:idem:<key>"),
        ];
        for (name, pattern) in names {
            assert_eq!(layout_of(&name), Some(pattern), "{name}");
        }
        assert_eq!(k.email("Ada@Example.com"), "email:ada@example.com");
        for stranger in [
            "users:1",
            "act",
            "{usr_1}:",
            "{}:acts",
            "usr_1:acts",
            "{ids}:wh:1",
            "ch:user:1",
            "x",
        ] {
            assert_eq!(layout_of(stranger), None, "{stranger}");
        }
    }

    #[test]
    fn a_users_keys_share_the_users_hash_tag() {
        let k = Keys::new("hub:");
        let user = UserId("usr_1".into());
        for name in [
            k.user(&user),
            k.task(&user, &TaskId("tsk_1".into())),
            k.webhook(&user, &WebhookId("wh_1".into())),
            k.delivery(&user, "msg_1"),
            k.history(&user),
            k.user_channel(&user),
        ] {
            assert!(name.starts_with("hub:{usr_1}:"), "{name}");
        }
        assert_eq!(k.user_of_channel(&k.user_channel(&user)), Some("usr_1"));
        assert_eq!(k.user_of_channel("hub:ch:broadcast"), None);
        assert_eq!(user_tag(&user), "{usr_1}");
    }
}
