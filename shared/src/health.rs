//! `GET /api/health`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::DataMode;

/// Overall service state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Everything the API needs answers.
    Ok,
    /// The API runs but a dependency (the database) does not answer, or a job it runs has
    /// stalled.
    Degraded,
}

/// The database as the server sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatabaseHealth {
    /// Whether a round trip to the database succeeded just now.
    pub reachable: bool,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// How long the round trip took, in milliseconds.
    pub latency_ms: f64,
    /// The number of schema migrations applied.
    pub migrations_applied: u32,
    /// Stored prediction rows this process has met that are not valid predictions (each is
    /// logged and left out of every answer): anything but 0 means a damaged or hand-edited
    /// `predictions` table.
    #[serde(default)]
    pub unreadable_prediction_rows: u64,
}

/// The answer of `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthResponse {
    /// `ok`, or `degraded` when the database does not answer, collection or prediction has
    /// stalled, or the published answers stopped updating (then the status code is 503).
    pub status: HealthStatus,
    /// The server's version (its crate version).
    pub version: String,
    /// The database check.
    pub database: DatabaseHealth,
    /// When this server process started.
    pub started_at: DateTime<Utc>,
    /// Seconds since the server started.
    pub uptime_seconds: u64,
    /// Live data or a replay of recorded history.
    pub mode: DataMode,
    /// Upstream sources whose last collection failed or whose data is stale (details in
    /// `GET /api/sources`); the API keeps serving what is stored.
    pub failing_sources: Vec<String>,
    /// The scheduled jobs expected in this mode, as stored in the database (so a process that
    /// runs no jobs reports those of the process that does).
    #[serde(default)]
    pub jobs: Vec<JobHealth>,
    /// Seconds since this process last rebuilt the answers its read routes serve (absent before
    /// the first build). Every process rebuilds them at least once a minute; older than 180 s,
    /// the process serves answers that stopped updating and the status is `degraded` (503).
    #[serde(default)]
    pub published_age_seconds: Option<i64>,
}

/// One scheduled job's recent runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobHealth {
    /// `candles`, `predict`, `chain`, `tweets`, `markets` or `maintenance`.
    pub job: String,
    /// When a run (after its retries) last succeeded.
    pub last_success_at: Option<DateTime<Utc>>,
    /// When a run (after its retries) last failed.
    pub last_error_at: Option<DateTime<Utc>>,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// Whether this process runs the job and it has had no successful run for longer than the
    /// threshold (`jobs.stall_after_s`; `candles` and `predict` only): then the status is
    /// `degraded` (503).
    pub stalled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_round_trips() {
        let health = HealthResponse {
            status: HealthStatus::Ok,
            version: "0.1.0".into(),
            database: DatabaseHealth {
                reachable: true,
                backend: "sqlite".into(),
                latency_ms: 0.4,
                migrations_applied: 1,
                unreadable_prediction_rows: 0,
            },
            started_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            uptime_seconds: 12,
            mode: DataMode::Live,
            failing_sources: vec![],
            jobs: vec![],
            published_age_seconds: Some(3),
        };
        let json = serde_json::to_string(&health).unwrap();
        assert!(json.contains("\"status\":\"ok\""), "{json}");
        assert!(json.contains("\"started_at\":\"2023-11-14T22:13:20Z\""), "{json}");
        assert_eq!(serde_json::from_str::<HealthResponse>(&json).unwrap(), health);
    }
}
