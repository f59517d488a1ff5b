//! The hub's actors. `SessionRegistry` knows this node's WebSocket sessions by
//! user; each `WsSession` owns one socket. `LocalBus` carries committed events
//! from the store to the registry in embedded mode.

pub mod bus;
pub mod frames;
pub mod ratelimit;
pub mod registry;
pub mod session;
