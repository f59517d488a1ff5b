//! Shared vocabulary of the hub: identifiers, the domain model, typed settings,
//! the WebSocket wire frames, and the `Store` and `RateLimiter` traits every
//! back-end implements.
//!
//! This crate has no I/O of its own. The HTTP layer (`aiclone-hub`), the actors
//! (`hub-actors`) and the storage back-ends all depend on it, so it is the one
//! place where a type that crosses those boundaries is defined.

pub mod analytics;
pub mod events;
pub mod formats;
pub mod frames;
pub mod ids;
pub mod metrics;
pub mod model;
pub mod net;
pub mod presence;
pub mod ratelimit;
pub mod settings;
pub mod store;
pub mod time;
pub mod tokens;
pub mod webhook;

pub use events::EventSink;
pub use ids::{ActivityId, DeliveryId, SessionId, TaskId, TokenId, UserId, WebhookId};
pub use settings::Settings;
pub use store::{Store, StoreError};
