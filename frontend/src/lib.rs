//! The coincast web app.
//!
//! - `api`: the only module that talks to the server; it speaks `shared` types.
//! - `app`: routes and pages (Leptos components).
//! - `format`: pure view logic (numbers, durations, route names), unit-tested natively.

pub mod api;
mod app;
pub mod format;

pub use app::App;
