//! All integration tests, in one binary to keep link times down. Each test
//! boots the real hub on 127.0.0.1:0 (see `helpers`).

mod helpers;

mod activities;
mod analytics;
mod auth;
mod docs;
mod errors;
mod tasks;
mod ws;
