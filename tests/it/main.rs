//! All integration tests, in one binary to keep link times down. Each test
//! boots the real hub on 127.0.0.1:0 (see `helpers`).

#[macro_use]
mod helpers;
mod receiver;
mod servers;

mod activities;
mod analytics;
mod auth;
mod cluster;
mod cluster_servers;
mod dashboard;
mod docs;
mod errors;
mod fuzz;
mod hooks;
mod ops;
mod portal;
mod presence;
mod ratelimit;
mod redis_cluster;
mod sentinel;
mod tasks;
mod tokens;
mod upgrade;
mod webhooks;
mod ws;
