//! `AppState`: what every handler can reach. Cheap to clone (one `Arc`).

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use shared::DataMode;

use crate::registry::Registry;
use crate::replay::Replay;
use crate::sources::{self, SourceSpec};

/// `/api/predictions`'s answer: when it was computed, the newest prediction id it saw, the body.
pub type CachedPredictions = (Instant, Option<i64>, Arc<shared::PredictionsResponse>);

/// Shared state of the running server.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The fields behind [`AppState`].
pub struct Inner {
    pub db: DatabaseConnection,
    pub started_at: DateTime<Utc>,
    pub started: Instant,
    /// The recording replayed instead of live candles, if any.
    pub replay: Option<Arc<Replay>>,
    /// The sources collected in this mode.
    pub sources: Vec<SourceSpec>,
    /// Whether this process runs the scheduled collectors.
    pub jobs_enabled: bool,
    /// The models being served.
    pub registry: Arc<Registry>,
    /// `GET /api/predictions`'s full answer for a few seconds (what bots poll hardest).
    pub predictions_cache: std::sync::Mutex<Option<CachedPredictions>>,
}

impl AppState {
    /// State around an open database connection.
    pub fn new(
        db: DatabaseConnection,
        replay: Option<Arc<Replay>>,
        jobs_enabled: bool,
        registry: Arc<Registry>,
    ) -> Self {
        let sources = sources::catalogue(replay.as_deref().map(Replay::dataset));
        AppState(Arc::new(Inner {
            db,
            started_at: Utc::now(),
            started: Instant::now(),
            replay,
            sources,
            jobs_enabled,
            registry,
            predictions_cache: std::sync::Mutex::new(None),
        }))
    }

    /// Live, or which recording is replayed and with what shift.
    pub async fn mode(&self) -> Result<DataMode, sea_orm::DbErr> {
        Ok(match &self.replay {
            None => DataMode::Live,
            Some(r) => DataMode::Replay(r.info(r.stored_shift(&self.db).await?.unwrap_or(0))),
        })
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
