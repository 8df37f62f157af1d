//! The one integration test binary: every test drives a real server (`spawn_app`) on port 0 with a
//! fresh database (SQLite, or PostgreSQL with `COINCAST_TEST_DATABASE`), through real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backfill;
mod browser;
mod browser_live;
mod coins;
mod collectors;
mod contract;
mod deployment;
mod docs;
mod exposure;
mod faults;
mod health;
mod helpers;
mod hostile;
mod import;
mod jobs;
mod kill;
mod market;
mod openapi;
mod performance;
mod predictions;
mod promises;
mod published;
mod reads;
mod replay;
mod resilience;
mod retention;
mod scale;
mod spa;
mod training;
mod upstream;
mod webdriver;
