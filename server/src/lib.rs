//! The coincast server: folders follow the data path.
//!
//! - `core.rs`: what every process role opens alike (settings, database, clock, models, the change
//!   channel, supervised tasks); `worker.rs`: the `coincast worker` role on top of it;
//! - `clock.rs`: the one `Clock` (system, or fixed in tests) passed down the data path;
//! - `coins.rs`: the configured coins (`[[coins]]`), validated at start;
//! - `memory.rs`, `threads.rs`: the allocator's and rayon's process-wide settings, first thing in
//!   `main`;
//! - `ids.rs`: the ids every stage names (series, sources, jobs); `retry.rs`: backoff;
//! - `collect/`: one module per upstream, the replay, the source catalogue, one collection run;
//! - `db/`: connecting and migrating, the entities, and every query;
//! - `predict/`: the model registry, features from stored data, the tick, scoring, live accuracy;
//! - `http/`: the API and the web app's files (`http::Application` is the `serve` role on top of
//!   `core`, and what the integration tests start);
//! - `jobs/`: scheduling, retries and pruning (jobs call `collect` and `predict`);
//! - `commands/`: one-shot command-line tools (import, backfill, train, evaluate).
//!
//! `main.rs` only parses the command line and dispatches here.

pub mod cli;
pub mod clock;
pub mod coins;
pub mod collect;
pub mod commands;
pub mod config;
pub mod core;
pub mod db;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod memory;
pub mod predict;
pub mod retry;
pub mod telemetry;
pub mod threads;
pub mod worker;
