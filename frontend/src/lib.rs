//! The coincast web app.
//!
//! - `api`: the only module that talks to the server; it speaks `shared` types.
//! - `live`: the app's link to the server: one event stream, the API's health and sources
//!   polled, the API-down banner and the status strip; sections refetch through it.
//! - `app`: routes, header (coin buttons or menu), the coin page's frame.
//! - `ui`: the loading skeleton and the page title: a leaf every page uses.
//! - `coin`: the coin page's sections (cards, history, models card, other coins).
//! - `chart`: the reusable SVG line chart with labelled axes, and the price chart.
//! - `performance`: the coin page's trading figures after costs (equity curves, numbers).
//! - `about`: the About page with the evaluation report.
//! - `format`: pure view logic (numbers, durations, route names, chart geometry, contrast),
//!   unit-tested natively.

mod about;
pub mod api;
mod app;
mod chart;
mod coin;
mod confidence;
pub mod format;
mod live;
mod performance;
mod ui;

pub use app::App;
