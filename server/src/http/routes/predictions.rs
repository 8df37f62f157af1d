//! `GET /api/predictions`: the newest prediction per coin and horizon (what bots poll).

use actix_web::{HttpRequest, HttpResponse, get, web};
use sea_orm::DbErr;
use serde::Deserialize;
use shared::{ApiErrorBody, LatestPrediction, Prediction, PredictionsResponse};

use crate::http::body::{Body, Filter, passes};
use utoipa::IntoParams;

use crate::collect::sources::SourceId;
use crate::db;
use crate::db::predictions::{readable, to_dto};
use crate::http::error::ApiError;
use crate::http::routes::params::parse_filters;
use crate::http::state::AppState;
use crate::predict::accuracy::{AccuracyTable, PREDICTIONS_WINDOW};

/// Query of `GET /api/predictions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PredictionsQuery {
    /// Only this coin.
    #[param(value_type = Option<shared::Coin>, example = "BTC")]
    pub coin: Option<String>,
    /// Only this horizon.
    #[param(value_type = Option<shared::Horizon>, example = "1h")]
    pub horizon: Option<String>,
    /// Only predictions at least this confident (`confidence = |p_up - 0.5| * 2`, 0 to 1): the
    /// entries whose newest prediction is less confident, or missing, are left out.
    #[param(value_type = Option<f64>, minimum = 0.0, maximum = 1.0, example = 0.2)]
    pub min_confidence: Option<String>,
}

/// Parses `min_confidence`: a number from 0 to 1.
pub fn parse_min_confidence(raw: &str) -> Result<f64, ApiError> {
    match raw.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(ApiError::invalid_parameter(
            "min_confidence",
            format!(
                "`min_confidence` must be a number from 0 to 1, not {:?}",
                raw.chars().take(40).collect::<String>()
            ),
        )),
    }
}

/// The entries of `all` that pass the filters, keeping only predictions at least `min` confident.
pub fn confident(all: &PredictionsResponse, filter: &Filter, min: f64) -> PredictionsResponse {
    let mut out = all.clone();
    out.predictions.retain(|x| {
        passes(filter, x.coin, x.horizon)
            && x.prediction.as_ref().is_some_and(|p| p.confidence + 1e-12 >= min)
    });
    out
}

/// The newest prediction as the current one at `now` (base bars of `base_s`), or, when its
/// `valid_until` has passed, none and the reason: an expired prediction is no signal to trade on.
pub fn current(newest: Option<Prediction>, base_s: i64, now: i64) -> (Option<Prediction>, Option<String>) {
    match newest {
        Some(p) if p.valid_until.timestamp() <= now => {
            let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
            let cadence = p.horizon.cadence_on(base_s);
            let next = (now.div_euclid(cadence) + 1) * cadence;
            let reason = format!(
                "the newest prediction ({}made at {}) expired at {}; the next is due at {}",
                if p.backfilled { "backfilled, " } else { "" },
                at(p.made_at),
                at(p.valid_until),
                crate::clock::to_utc(next).map_or_else(|| "the next tick".to_owned(), at),
            );
            (None, Some(reason))
        }
        other => (other, None),
    }
}

/// Every coin and horizon's newest prediction with its live 7-day accuracy, from the database
/// (what the published state serves; see `http::published`).
/// Each coin and horizon's newest stored prediction row.
pub type Newest =
    std::collections::HashMap<(shared::Coin, shared::Horizon), crate::db::entities::prediction::Model>;

/// The newest prediction of every served model, read one model at a time (what the published
/// state keeps up to date from the rows stored since, `http::published`).
pub async fn newest_rows(state: &AppState) -> Result<Newest, DbErr> {
    let mut out = Newest::new();
    for model in state.registry.all() {
        let (c, h) = (model.card.coin, model.card.horizon);
        if let Some(row) = db::predictions::newest(&state.db, c, h).await? {
            out.insert((c, h), row);
        }
    }
    Ok(out)
}

/// The answer for every served model: its newest prediction (of `newest`), live accuracy (of
/// `table`) and skill.
pub async fn build(
    state: &AppState,
    table: &AccuracyTable,
    newest: &Newest,
    now: i64,
) -> Result<PredictionsResponse, DbErr> {
    let mut out = Vec::new();
    let served = state.registry.all();
    let holm = crate::http::routes::models::holm_by_model(&served);
    // Every source's status in one read (a few dozen rows), not one read a model.
    let statuses: std::collections::HashMap<String, _> = db::status::all(&state.db)
        .await?
        .into_iter()
        .map(|s| (s.source.clone(), s))
        .collect();
    for model in served {
        let (c, h) = (model.card.coin, model.card.horizon);
        let newest = newest.get(&(c, h));
        let failed = statuses
            .get(&SourceId::Predictions(c, h).to_string())
            .filter(|s| s.consecutive_failures > 0)
            .and_then(|s| s.last_error.clone());
        let (prediction, expired) = current(
            newest.and_then(|p| readable(to_dto(p, state.base_s))),
            state.base_s,
            now,
        );
        out.push(LatestPrediction {
            coin: c,
            horizon: h,
            cadence_minutes: u32::try_from(h.cadence_on(state.base_s) / 60).unwrap_or(u32::MAX),
            prediction,
            not_made_reason: failed.or(expired),
            accuracy_7d: {
                let mut a = table.get(c, h, PREDICTIONS_WINDOW, false);
                a.out_of_sample = state.out_of_sample(&model.card);
                a
            },
            skill: Some(crate::http::routes::models::skill(&model, &holm)),
        });
    }
    Ok(PredictionsResponse {
        mode: state.mode().await?,
        predictions: out,
    })
}

/// The newest prediction per coin and horizon, with its live 7-day accuracy and its model's
/// walk-forward skill.
///
/// What trading bots poll. Each prediction has a stable `id`, `published_at` and `valid_until`
/// (the next one is due by then); `skill.beats_baseline` says whether the model beat the
/// majority-class baseline out of sample. Each prediction also says what following the model
/// means (`signal`: LONG, SHORT or FLAT at the model's `signal_threshold` of `confidence`, see
/// `GET /api/performance` for what that earned after fees); `min_confidence` keeps only the
/// confident ones. Answers carry an `ETag` (send it back in `If-None-Match` to get a 304
/// while nothing changed) and a `Cache-Control: max-age` that ends at the next collection of
/// minute candles (by default second 5 of each minute, `jobs.candles_cron`): each minute's
/// predictions are made as soon as its candles are stored (by `jobs.predict_cron`, second 20, at
/// the latest). Served from memory: a new prediction shows, with a new ETag, as soon as the tick
/// that made it has committed.
#[utoipa::path(
    tag = "predictions",
    params(PredictionsQuery),
    responses(
        (status = 200, description = "One entry per coin and horizon served", body = PredictionsResponse),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
        (status = 400, description = "Unknown coin or horizon", body = ApiErrorBody),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/predictions")]
pub async fn get_predictions(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<PredictionsQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = parse_filters(&query.coin, &query.horizon, state.coins.served())?;
    let min_confidence = query
        .min_confidence
        .as_deref()
        .map(parse_min_confidence)
        .transpose()?;
    let snapshot = state.snapshot()?;
    // Fresh until the next prediction tick.
    let cache = state.cache_until_next_tick(&snapshot);
    match min_confidence {
        // Published as they are: no work per request.
        None => {
            let body = snapshot.predictions.get(&filter).ok_or(ApiError::NotReady)?;
            Ok(body.respond(&req, &cache))
        }
        // Any number: filtered from the published entries and serialized per request.
        Some(min) => {
            let body = Body::json(&confident(&snapshot.all_predictions, &filter, min))
                .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("serializing predictions: {e}")))?;
            Ok(body.respond(&req, &cache))
        }
    }
}
