//! Every Redis key and channel the hub uses, in one place.
//!
//! All names start with the configured prefix (`redis.prefix`, `hub:` by
//! default), so several hubs or test runs can share one Redis. The Rust code
//! names keys only through [`Keys`]; the Lua scripts in `redis/scripts/`
//! receive the prefix as an argument and build the same names (they must: a
//! script creates keys it only learns about while running, such as one
//! delivery per matching endpoint). [`LAYOUT`] lists every name with what it
//! holds, and a test runs every script and checks that each key it leaves
//! behind is one of them.
//!
//! | name (after the prefix) | type | holds |
//! |---|---|---|
//! | `user:{id}` | hash | a user: e-mail, name, password hash, created |
//! | `email:{lowercased}` | string | the user id of an e-mail |
//! | `rt:{jti}` | hash | a refresh token: family, user, expiry, used flag |
//! | `rtrev:{family}` | string | a revoked refresh-token family (expires) |
//! | `pat:{id}` | hash | a personal access token (hash of the secret, scopes, times) |
//! | `pat_hash:{sha256}` | string | the token id of a secret's hash |
//! | `pats:{user}` | sorted set | a user's token ids by creation |
//! | `portal:{sha256}` | string | a portal link's one-time grant (expires) |
//! | `seq` | counter | the last activity id assigned |
//! | `act:{seq}` | string | an activity's JSON |
//! | `acts:{user}` | sorted set | a user's activity seqs |
//! | `acts:{user}:{type}` | sorted set | a user's activity seqs of one type |
//! | `hist:{user}` | stream | the resume history (entry ids `0-{seq}`) |
//! | `idem:{user}:{key}` | string | an idempotency key: body hash and seq (24 h) |
//! | `an:{user}:{chunk}` | hash | analytics counters of 512 hours (`hour:metric`) |
//! | `tseq` | counter | task list order |
//! | `task:{id}` | hash | a task's JSON and version |
//! | `tasks:{user}` | sorted set | a user's task ids |
//! | `whseq` | counter | webhook creation order |
//! | `wh:{id}` | hash | a webhook endpoint with its secrets and counters |
//! | `whs:{user}` | sorted set | a user's endpoint ids |
//! | `whactive:{user}` | hash | a user's active endpoints: id → event list |
//! | `whall` | set | every active endpoint id (loaded at start) |
//! | `dseq` | counter | delivery order |
//! | `dl:{id}` | hash | a delivery |
//! | `dla:{id}` | list | a delivery's attempts, as JSON |
//! | `dlw:{webhook}` | sorted set | an endpoint's deliveries log |
//! | `dlp:{webhook}` | sorted set | an endpoint's pending deliveries |
//! | `lease:{webhook}` | string | the node delivering an endpoint (expires) |
//! | `rl:{key}` | string | a rate-limit bucket's theoretical arrival time (expires) |
//! | `nodes` | sorted set | live nodes by last heartbeat (ms) |
//! | `nodesessions:{node}` | string | a node's session count (expires) |
//! | `nodeusers:{node}` | set | users with a session on a node (expires) |
//! | `presence:leader` | string | the node that announces presence (expires) |
//! | `presence:online` | set | users announced online |
//! | `presence:gone` | hash | users with no session: user → since (ms) |
//! | `revacks:{nonce}` | list | nodes that forgot a revoked token (expires) |
//! | `ch:user:{id}` | channel | a user's events and task updates, in id order |
//! | `ch:broadcast` | channel | broadcasts, token revocations |
//! | `ch:wh` | channel | new deliveries, endpoint changes |

use hub_core::ids::{TaskId, UserId, WebhookId};

/// Every key and channel name after the prefix, as a pattern (`{…}` is a
/// variable part; only the last one may hold a `:`), with its Redis type.
pub const LAYOUT: &[(&str, &str)] = &[
    ("user:{id}", "hash"),
    ("email:{lowercased}", "string"),
    ("rt:{jti}", "hash"),
    ("rtrev:{family}", "string"),
    ("pat:{id}", "hash"),
    ("pat_hash:{sha256}", "string"),
    ("pats:{user}", "zset"),
    ("portal:{sha256}", "string"),
    ("seq", "string"),
    ("act:{seq}", "string"),
    ("acts:{user}", "zset"),
    ("acts:{user}:{type}", "zset"),
    ("hist:{user}", "stream"),
    ("idem:{user}:{key}", "string"),
    ("an:{user}:{chunk}", "hash"),
    ("tseq", "string"),
    ("task:{id}", "hash"),
    ("tasks:{user}", "zset"),
    ("whseq", "string"),
    ("wh:{id}", "hash"),
    ("whs:{user}", "zset"),
    ("whactive:{user}", "hash"),
    ("whall", "set"),
    ("dseq", "string"),
    ("dl:{id}", "hash"),
    ("dla:{id}", "list"),
    ("dlw:{webhook}", "zset"),
    ("dlp:{webhook}", "zset"),
    ("lease:{webhook}", "string"),
    ("rl:{key}", "string"),
    ("nodes", "zset"),
    ("nodesessions:{node}", "string"),
    ("nodeusers:{node}", "set"),
    ("presence:leader", "string"),
    ("presence:online", "set"),
    ("presence:gone", "hash"),
    ("revacks:{nonce}", "list"),
    ("ch:user:{id}", "channel"),
    ("ch:broadcast", "channel"),
    ("ch:wh", "channel"),
];

/// Which of the [`LAYOUT`] patterns `name` (without the prefix) fits, the
/// most specific first (`acts:{user}:{type}` before `acts:{user}`).
pub fn layout_of(name: &str) -> Option<&'static str> {
    LAYOUT
        .iter()
        .map(|(pattern, _)| *pattern)
        .filter(|pattern| fits(pattern, name))
        .max_by_key(|pattern| pattern.split(':').count())
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
        let variable = part.starts_with('{') && part.ends_with('}');
        if (variable && piece.is_empty()) || (!variable && piece != *part) {
            return false;
        }
        rest = tail;
    }
    true
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

    /// What the scripts get as their prefix argument.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn name(&self, rest: std::fmt::Arguments<'_>) -> String {
        format!("{}{rest}", self.prefix)
    }

    // ----- users and what they sign in with -----

    pub fn user(&self, id: &UserId) -> String {
        self.name(format_args!("user:{id}"))
    }
    /// The e-mail is lowercased here, so lookups ignore case.
    pub fn email(&self, email: &str) -> String {
        self.name(format_args!("email:{}", email.to_lowercase()))
    }
    pub fn refresh_token(&self, jti: &str) -> String {
        self.name(format_args!("rt:{jti}"))
    }
    pub fn revoked_family(&self, family: &str) -> String {
        self.name(format_args!("rtrev:{family}"))
    }
    pub fn personal_token(&self, id: &str) -> String {
        self.name(format_args!("pat:{id}"))
    }
    pub fn personal_token_hash(&self, sha256: &str) -> String {
        self.name(format_args!("pat_hash:{sha256}"))
    }
    pub fn personal_tokens_of(&self, user: &UserId) -> String {
        self.name(format_args!("pats:{user}"))
    }
    pub fn portal_grant(&self, sha256: &str) -> String {
        self.name(format_args!("portal:{sha256}"))
    }

    // ----- activities and history -----

    /// The last activity id assigned.
    pub fn sequence(&self) -> String {
        self.name(format_args!("seq"))
    }
    pub fn activity(&self, seq: i64) -> String {
        self.name(format_args!("act:{seq}"))
    }
    pub fn activities_of(&self, user: &UserId) -> String {
        self.name(format_args!("acts:{user}"))
    }
    pub fn activities_of_type(&self, user: &UserId, kind: &str) -> String {
        self.name(format_args!("acts:{user}:{kind}"))
    }
    pub fn history(&self, user: &UserId) -> String {
        self.name(format_args!("hist:{user}"))
    }

    // ----- analytics -----

    /// Counters of the 512 hours starting at hour `chunk × 512`.
    pub fn counters(&self, user: &UserId, chunk: i64) -> String {
        self.name(format_args!("an:{user}:{chunk}"))
    }

    // ----- tasks -----

    pub fn task(&self, id: &TaskId) -> String {
        self.name(format_args!("task:{id}"))
    }
    pub fn tasks_of(&self, user: &UserId) -> String {
        self.name(format_args!("tasks:{user}"))
    }

    // ----- webhooks and deliveries -----

    pub fn webhook(&self, id: &WebhookId) -> String {
        self.name(format_args!("wh:{id}"))
    }
    pub fn webhooks_of(&self, user: &UserId) -> String {
        self.name(format_args!("whs:{user}"))
    }
    pub fn active_webhooks(&self) -> String {
        self.name(format_args!("whall"))
    }
    pub fn delivery(&self, id: &str) -> String {
        self.name(format_args!("dl:{id}"))
    }
    pub fn attempts(&self, delivery: &str) -> String {
        self.name(format_args!("dla:{delivery}"))
    }
    pub fn deliveries_log(&self, webhook: &WebhookId) -> String {
        self.name(format_args!("dlw:{webhook}"))
    }
    pub fn pending_deliveries(&self, webhook: &WebhookId) -> String {
        self.name(format_args!("dlp:{webhook}"))
    }

    // ----- rate limits -----

    /// The rate-limit bucket of `key` (already naming its route group).
    pub fn rate_limit(&self, key: &str) -> String {
        self.name(format_args!("rl:{key}"))
    }

    // ----- nodes -----

    pub fn nodes(&self) -> String {
        self.name(format_args!("nodes"))
    }
    pub fn node_sessions(&self, node: &str) -> String {
        self.name(format_args!("nodesessions:{node}"))
    }
    pub fn node_users(&self, node: &str) -> String {
        self.name(format_args!("nodeusers:{node}"))
    }

    /// The nodes that have forgotten one revoked token.
    pub fn revocation_acks(&self, nonce: &str) -> String {
        self.name(format_args!("revacks:{nonce}"))
    }

    // ----- channels -----

    pub fn user_channel(&self, user: &UserId) -> String {
        self.name(format_args!("ch:user:{user}"))
    }
    /// What every user channel starts with (to tell a user's message apart).
    pub fn user_channel_prefix(&self) -> String {
        self.name(format_args!("ch:user:"))
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
            (k.user(&user), "user:{id}"),
            (k.email("Ada@Example.com"), "email:{lowercased}"),
            (
                k.activities_of_type(&user, "outreach_sent"),
                "acts:{user}:{type}",
            ),
            (k.activities_of(&user), "acts:{user}"),
            (k.counters(&user, 40), "an:{user}:{chunk}"),
            (k.user_channel(&user), "ch:user:{id}"),
            (k.broadcast_channel(), "ch:broadcast"),
            (k.active_webhooks(), "whall"),
            (k.rate_limit("auth:127.0.0.1"), "rl:{key}"),
        ];
        for (name, pattern) in names {
            assert_eq!(layout_of(&name), Some(pattern), "{name}");
        }
        assert_eq!(k.email("Ada@Example.com"), "email:ada@example.com");
        for stranger in ["users:1", "act", "acts:", "whall:1", "ch:user:", "x"] {
            assert_eq!(layout_of(stranger), None, "{stranger}");
        }
    }

    #[test]
    fn the_prefix_comes_first() {
        let k = Keys::new("hub:");
        assert_eq!(k.task(&TaskId("tsk_1".into())), "hub:task:tsk_1");
        assert_eq!(k.prefix(), "hub:");
    }
}
