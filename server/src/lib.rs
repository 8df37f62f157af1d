//! The coincast server: HTTP API, the single-page app's files, and the command-line tools.
//!
//! `main.rs` parses the command line and calls into here; `startup::Application` wires everything
//! for `serve` and for the integration tests.

pub mod backfill;
pub mod cli;
pub mod collectors;
pub mod config;
pub mod db;
pub mod engine;
pub mod entities;
pub mod error;
pub mod import;
pub mod jobs;
pub mod market;
pub mod openapi;
pub mod registry;
pub mod replay;
pub mod routes;
pub mod sources;
pub mod spa;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod training;
