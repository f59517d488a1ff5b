//! AI Clone Hub: the HTTP layer and process wiring. See `ARCHITECTURE.md`.

pub mod analytics;
pub mod auth;
pub mod config;
pub mod contract;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
