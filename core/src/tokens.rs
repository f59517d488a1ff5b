//! The cache in front of the store's personal access tokens, so that a
//! script calling the API in a loop does not cost a store read per request.
//!
//! A revocation removes the token from the cache of every node: the node
//! that revoked it at once, the others when the revocation reaches them
//! (embedded mode has one node; in cluster mode over Redis pub/sub, and a
//! node whose subscription dropped clears its whole cache when it is back).
//! Entries also expire after a short TTL, which bounds how long anything the
//! cache could miss (a message lost with a Redis failover) lives on.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::ids::TokenId;
use crate::store::PersonalTokenRecord;

pub struct PersonalTokenCache {
    entries: Mutex<HashMap<String, (PersonalTokenRecord, Instant)>>,
    ttl: Duration,
    capacity: usize,
}

impl PersonalTokenCache {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (PersonalTokenRecord, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live entry for the token whose secret hashes to `hash`.
    pub fn get(&self, hash: &str) -> Option<PersonalTokenRecord> {
        let mut entries = self.lock();
        match entries.get(hash) {
            Some((record, at)) if at.elapsed() < self.ttl => Some(record.clone()),
            Some(_) => {
                entries.remove(hash);
                None
            }
            None => None,
        }
    }

    /// Remembers a record read from the store. When full, expired entries
    /// go first; if none has expired, the record is simply not kept.
    pub fn put(&self, record: PersonalTokenRecord) {
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&record.token_hash) {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                return;
            }
        }
        entries.insert(record.token_hash.clone(), (record, Instant::now()));
    }

    /// Notes a use recorded in the store, so the next one within the minute
    /// does not write again.
    pub fn touched(&self, hash: &str, at: DateTime<Utc>) {
        if let Some((record, _)) = self.lock().get_mut(hash) {
            record.token.last_used_at = Some(at);
        }
    }

    /// The token was revoked: forget it.
    pub fn forget(&self, id: &TokenId) {
        self.lock().retain(|_, (record, _)| record.token.id != *id);
    }

    /// Forget everything (revocations may have been missed).
    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::store::{PersonalToken, TokenScope};

    fn record(id: &str) -> PersonalTokenRecord {
        PersonalTokenRecord {
            token: PersonalToken {
                id: TokenId(id.into()),
                name: "ci".into(),
                scopes: vec![TokenScope::Read],
                created_at: crate::time::now(),
                expires_at: None,
                last_used_at: None,
            },
            user_id: UserId("usr_1".into()),
            token_hash: format!("hash-of-{id}"),
        }
    }

    #[test]
    fn a_revocation_forgets_the_token_and_only_it() {
        let cache = PersonalTokenCache::new(Duration::from_secs(60), 10);
        cache.put(record("pat_a"));
        cache.put(record("pat_b"));
        assert!(cache.get("hash-of-pat_a").is_some());
        cache.forget(&TokenId("pat_a".into()));
        assert!(cache.get("hash-of-pat_a").is_none());
        assert!(cache.get("hash-of-pat_b").is_some());
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn entries_expire_and_the_cache_stays_bounded() {
        let cache = PersonalTokenCache::new(Duration::from_millis(30), 2);
        cache.put(record("pat_a"));
        cache.put(record("pat_b"));
        cache.put(record("pat_c"));
        assert_eq!(cache.len(), 2, "full: the newcomer is not kept");
        std::thread::sleep(Duration::from_millis(40));
        assert!(cache.get("hash-of-pat_a").is_none(), "expired");
        cache.put(record("pat_c"));
        assert!(
            cache.get("hash-of-pat_c").is_some(),
            "expired entries make room"
        );
    }

    #[test]
    fn touches_update_the_cached_last_use() {
        let cache = PersonalTokenCache::new(Duration::from_secs(60), 10);
        cache.put(record("pat_a"));
        let at = crate::time::now();
        cache.touched("hash-of-pat_a", at);
        assert_eq!(
            cache.get("hash-of-pat_a").unwrap().token.last_used_at,
            Some(at)
        );
    }
}
