//! The store contract suite (`hub_core::store::contract`) against the Redis
//! store: each property under its own key prefix on the Redis at
//! [`REDIS_URL`], whose keys are deleted when the property ends.

use std::sync::Arc;

use hub_core::store::contract::{Fixture, HISTORY_EVENTS};
use hub_core::EventSink;
use hub_redis::store::{connect, RedisStore};

/// The Redis the tests use.
const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A new store under a prefix no other test uses.
async fn open(sink: Arc<dyn EventSink>) -> Fixture {
    let prefix = format!("hubtest:contract:{}:", uuid::Uuid::new_v4().simple());
    let conn = connect(REDIS_URL, 0)
        .await
        .expect("Redis at 127.0.0.1:6379");
    let store = RedisStore::new(conn, &prefix, "node-contract", HISTORY_EVENTS, sink);
    Fixture::new(Arc::new(store), DeleteKeys(prefix))
}

/// Deletes every key under its prefix when dropped (also after a failure).
struct DeleteKeys(String);

impl Drop for DeleteKeys {
    fn drop(&mut self) {
        let Ok(mut conn) = redis::Client::open(REDIS_URL).and_then(|c| c.get_connection()) else {
            return;
        };
        let pattern = format!("{}*", self.0);
        let mut cursor: u64 = 0;
        loop {
            // SCAN rather than KEYS: never blocks a Redis others are using.
            let Ok((next, keys)) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query::<(u64, Vec<String>)>(&mut conn)
            else {
                return;
            };
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(&keys).query(&mut conn);
            }
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }
}

hub_core::store_contract_tests!(open);
