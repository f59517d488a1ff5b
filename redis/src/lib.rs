//! Cluster mode: Redis as the store of record ([`store::RedisStore`]), the
//! pub/sub bridge that makes several nodes one hub ([`bridge::RedisBridge`]),
//! and the cluster-wide rate limit ([`ratelimit`]). The Lua scripts are in
//! `redis/scripts/`; `redis/redis.conf` is a production Redis configuration.

pub mod bridge;
pub mod conn;
pub mod keys;
pub mod leases;
pub mod presence;
pub mod ratelimit;
pub mod store;
pub mod upgrade;

pub use conn::{RedisConn, Target};
pub use redis::Client;
