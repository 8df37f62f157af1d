//! Wire types of the coincast API, shared by the server (`server/`) and the browser app (`frontend/`).
//!
//! Invariant: this crate depends on nothing server-side (no tokio, actix or sea-orm) and builds for
//! `wasm32-unknown-unknown`; CI checks both. The `openapi` feature adds utoipa schema derives, the
//! `db` feature (the server's) sea-orm column types for the vocabulary (`db.rs`).

mod calibration;
mod coins;
mod data;
#[cfg(feature = "db")]
pub mod db;
mod error;
mod events;
mod health;
mod market;
mod performance;
mod predictions;
pub mod time;
mod versions;

pub use calibration::{Calibration, ConfidenceDecile, FeatureImportance};
pub use coins::{CoinInfo, CoinsResponse, KNOWN_COINS, KnownCoin, page_path, slug};
pub use data::{
    CandleDto, CandlesResponse, DataMode, LatestPrice, PricesResponse, ReplayInfo, Resolution, SourceHealth,
    SourceState, SourcesResponse,
};
pub use error::{ApiErrorBody, ErrorCode};
pub use events::{EventType, PriceTick, SkippedEvents, StreamReset};
pub use health::{DatabaseHealth, HealthResponse, HealthStatus, JobHealth};
pub use market::{Coin, Horizon, MAX_TICKER, ParseCoinError, ParseHorizonError};
pub use performance::{EquityPoint, ModelPerformance, PerformanceResponse, StrategyFigures, StrategyResult};
pub use predictions::{
    AccuracyResponse, AccuracyRow, AccuracyStats, AccuracyWindow, BaselineRule, CoveragePoint, Direction,
    LatestPrediction, ModelInfo, ModelsResponse, Outcome, Prediction, PredictionHistory, PredictionsResponse,
    ReliabilityBin, Signal, Skill, StrongestBaseline, UP_ABOVE, WalkForwardSummary, confidence, predicts_up,
};
pub use versions::{
    GATE_ALPHA, GateDecision, GateDecisionInfo, ModelOrigin, ModelVersion, RetrainStatus, VersionAccuracy,
};
