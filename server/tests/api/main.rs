//! The one integration test binary: every test drives a real server (`spawn_app`) on port 0 with a
//! fresh SQLite database, through real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backfill;
mod browser;
mod collectors;
mod docs;
mod health;
mod helpers;
mod import;
mod jobs;
mod market;
mod openapi;
mod predictions;
mod replay;
mod resilience;
mod retention;
mod spa;
mod upstream;
