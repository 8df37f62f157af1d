//! `AppState`: what every handler can reach. Cheap to clone (one `Arc`).

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

/// Shared state of the running server.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The fields behind [`AppState`].
pub struct Inner {
    pub db: DatabaseConnection,
    pub started_at: DateTime<Utc>,
    pub started: Instant,
}

impl AppState {
    /// State around an open database connection.
    pub fn new(db: DatabaseConnection) -> Self {
        AppState(Arc::new(Inner {
            db,
            started_at: Utc::now(),
            started: Instant::now(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
