//! The hub's actors. `SessionRegistry` knows this node's WebSocket sessions by
//! user; each `WsSession` owns one socket. `WebhookRegistry` runs one
//! `WebhookEndpoint` per active webhook. `LocalBus` carries committed events
//! and deliveries from the store to the registries in embedded mode.

pub mod bus;
pub mod presence;
pub mod ratelimit;
pub mod registry;
pub mod session;
pub mod webhooks;
