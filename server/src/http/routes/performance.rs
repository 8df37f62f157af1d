//! `GET /api/performance`: what following each model's signals earns after costs, walk-forward
//! (from its card) and live (from its scored live predictions), next to buy-and-hold.

use actix_web::{HttpRequest, HttpResponse, get, web};
use models::card::ModelCard;
use models::strategy::{self, Costs, Mode, Row, StrategyMetrics, StrategyReport};
use sea_orm::DbErr;
use shared::{
    ApiErrorBody, EquityPoint, ModelPerformance, PerformanceResponse, StrategyFigures, StrategyResult,
};

use crate::clock::{self, DAY_S};
use crate::db;
use crate::http::charts::Charts;
use crate::http::error::ApiError;
use crate::http::routes::params::{CoinHorizonQuery, parse_filters};
use crate::http::state::AppState;

/// The live ledger covers the predictions made in this trailing window.
pub const LIVE_WINDOW_S: i64 = 30 * DAY_S;

/// What following each model's signals earns after fees, walk-forward and live, next to
/// buy-and-hold.
///
/// A position opens at a LONG or SHORT signal (confidence at or above the model's threshold,
/// chosen on earlier walk-forward folds than the ones scored), holds for the horizon and never
/// overlaps another; costs (the stated fee plus slippage, per side) are paid on entry and on
/// exit. `walk_forward` is the model's out-of-sample test blocks, with the momentum rule traded
/// on the same schedule; `live` follows the server's own scored live predictions (never the
/// backfilled ones) over the last 30 days. Past figures after stated costs: no promise of future
/// returns. A `net_return` at or below 0 means the model earned nothing after costs.
#[utoipa::path(
    tag = "predictions",
    params(CoinHorizonQuery),
    responses(
        (status = 200, description = "One entry per coin and horizon served", body = PerformanceResponse),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
        (status = 400, description = "Unknown coin or horizon", body = ApiErrorBody),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/performance")]
pub async fn get_performance(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CoinHorizonQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = parse_filters(&query.coin, &query.horizon, state.coins.served())?;
    let snapshot = state.snapshot()?;
    let body = snapshot.performance.get(&filter).ok_or(ApiError::NotReady)?;
    let cache = state.cache_until_next_tick(&snapshot);
    Ok(body.respond(&req, &cache))
}

/// Every served model's trading figures, from its card and the database.
pub async fn build(state: &AppState, charts: &Charts, now: i64) -> Result<PerformanceResponse, DbErr> {
    let mut models = Vec::new();
    for model in state.registry.all() {
        models.push(entry(state, charts, &model.card, now).await?.figures);
    }
    Ok(PerformanceResponse {
        mode: state.mode().await?,
        models,
    })
}

/// How long after its exit time a prediction's missing exit candle is waited for: a ledger with
/// such a prediction may change when candles arrive ([`Entry::awaits_candles`]); later, the gap
/// is taken as it is.
pub const FILL_WAIT_S: i64 = 3_600;

/// One model's figures, and when they can change without a new score of its own.
#[derive(Debug, Clone)]
pub struct Entry {
    pub figures: ModelPerformance,
    /// A prediction in the ledger waits for its exit candle: the next candles may trade it.
    pub awaits_candles: bool,
    /// When the oldest prediction in the ledger leaves the live window (`None`: none is in it).
    pub changes_at: Option<i64>,
}

/// One model's figures at `now`: its card's evaluation and its live ledger (its scored live
/// predictions of the last [`LIVE_WINDOW_S`], filled from the in-memory candles).
pub async fn entry(state: &AppState, charts: &Charts, card: &ModelCard, now: i64) -> Result<Entry, DbErr> {
    let traded = db::predictions::live_scored(
        &state.db,
        card.coin,
        card.horizon,
        &card.id,
        now.saturating_sub(LIVE_WINDOW_S),
    )
    .await?;
    // A bot's fill: from the open of the first stored minute after publication to the open
    // one horizon later (`models::fills`, as in the cards), from the in-memory minutes; a
    // prediction whose exit minute is not stored yet is not traded yet.
    let horizon_s = card.horizon.seconds();
    let rows: Vec<Row> = charts
        .with(card.coin, |bars| {
            traded
                .iter()
                .map(|t| Row {
                    ts: t.made_at,
                    p_up: t.p_up,
                    fwd_ret: models::features::fill_return(&bars.minutes, t.made_at, horizon_s),
                    // The momentum rule is not traded live.
                    last_up: false,
                })
                .collect()
        })
        .unwrap_or_default();
    let awaits_candles = rows
        .iter()
        .any(|r| r.fwd_ret.is_nan() && r.ts + horizon_s > now - FILL_WAIT_S);
    Ok(Entry {
        figures: performance(card, &rows, state.out_of_sample(card)),
        awaits_candles,
        changes_at: traded.first().map(|t| t.made_at + LIVE_WINDOW_S),
    })
}

/// One model's figures: its card's walk-forward evaluation and the live ledger of `live` (its
/// scored live predictions, oldest first).
pub fn performance(card: &ModelCard, live: &[Row], live_out_of_sample: bool) -> ModelPerformance {
    let report = card.strategy.as_ref();
    let costs = report.map_or_else(Costs::default, StrategyReport::costs);
    ModelPerformance {
        coin: card.coin,
        horizon: card.horizon,
        model_id: card.id.clone(),
        threshold: report.map(|r| r.threshold),
        fee_bps: costs.fee_bps,
        slippage_bps: costs.slippage_bps,
        fee_source: report.map_or_else(
            || strategy::DEFAULT_FEE_SOURCE.to_owned(),
            |r| r.fee_source.clone(),
        ),
        walk_forward: report.map(|r| StrategyFigures {
            from: parse_time(&r.from),
            to: parse_time(&r.to),
            n: u32::try_from(r.rows).unwrap_or(u32::MAX),
            long_short: result(&r.long_short),
            long_flat: result(&r.long_flat),
            buy_and_hold: result(&r.buy_and_hold),
            momentum: Some(result(&r.momentum)),
            sharpe_se: r.evidence.map(|e| e.sharpe_se),
            deflated_sharpe: r.evidence.map(|e| e.deflated_sharpe),
            pbo: r.evidence.and_then(|e| e.pbo),
        }),
        live: ledger(live, card.horizon, report.map(|r| r.threshold), costs),
        live_out_of_sample,
    }
}

/// The live ledger: the model's signals at `threshold` (none: it never trades) over `rows`.
fn ledger(rows: &[Row], horizon: shared::Horizon, threshold: Option<f64>, costs: Costs) -> StrategyFigures {
    let horizon_s = horizon.seconds();
    let period = strategy::period(rows, horizon_s);
    // Without a threshold no confidence reaches it: every signal is FLAT.
    let follow = |mode| strategy::follow(rows, horizon_s, threshold.unwrap_or(f64::INFINITY), mode, costs);
    StrategyFigures {
        from: period.and_then(|p| clock::to_utc(p.0)),
        to: period.and_then(|p| clock::to_utc(p.1)),
        n: u32::try_from(rows.len()).unwrap_or(u32::MAX),
        long_short: result(&follow(Mode::LongShort)),
        long_flat: result(&follow(Mode::LongFlat)),
        buy_and_hold: result(&strategy::hold(rows, horizon_s, costs)),
        momentum: None,
        sharpe_se: None,
        deflated_sharpe: None,
        pbo: None,
    }
}

fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// The wire form of a strategy's figures.
fn result(m: &StrategyMetrics) -> StrategyResult {
    StrategyResult {
        trades: u32::try_from(m.trades).unwrap_or(u32::MAX),
        hit_rate: m.hit_rate,
        gross_return: m.gross_return,
        net_return: m.net_return,
        sharpe: m.sharpe,
        max_drawdown: m.max_drawdown,
        turnover_per_year: m.turnover_per_year,
        exposure: m.exposure,
        break_even_fee_bps: m.break_even_fee_bps,
        equity: m
            .equity
            .iter()
            .filter_map(|p| {
                Some(EquityPoint {
                    t: clock::to_utc(p.t)?,
                    equity: p.equity,
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;

    fn row(ts: i64, p_up: f64, ret: f64) -> Row {
        Row {
            ts,
            p_up,
            fwd_ret: ret,
            last_up: false,
        }
    }

    #[test]
    fn the_live_ledger_follows_the_signals_after_costs() {
        let costs = Costs {
            fee_bps: 10.0,
            slippage_bps: 0.0,
        };
        // Hour 0: LONG, +2%. Hour 0.5: skipped (a position is open). Hour 1: FLAT (0.52 is
        // below a 0.1 threshold). Hour 2: SHORT, the coin falls 1%: +1%.
        let rows = [
            row(0, 0.7, 0.02),
            row(H / 2, 0.9, -0.5),
            row(H, 0.52, 0.03),
            row(2 * H, 0.3, -0.01),
        ];
        let f = ledger(&rows, shared::Horizon::H1, Some(0.1), costs);
        assert_eq!(f.n, 4);
        assert_eq!(f.long_short.trades, 2);
        let fee = 0.001;
        let expected = (1.02 - 2.0 * fee) * (1.01 - 2.0 * fee) - 1.0;
        assert!(
            (f.long_short.net_return - expected).abs() < 1e-9,
            "{}",
            f.long_short.net_return
        );
        assert!((f.long_short.gross_return - (1.02 * 1.01 - 1.0)).abs() < 1e-9);
        // Long-flat takes only the first.
        assert_eq!(f.long_flat.trades, 1);
        assert!((f.long_flat.net_return - (0.02 - 2.0 * fee)).abs() < 1e-9);
        assert!(f.momentum.is_none());
        // No threshold: the model never trades.
        let none = ledger(&rows, shared::Horizon::H1, None, costs);
        assert_eq!(none.long_short.trades, 0);
        assert_eq!(none.long_short.net_return, 0.0);
        // Nothing scored yet: no period.
        let empty = ledger(&[], shared::Horizon::H1, Some(0.1), costs);
        assert_eq!((empty.n, empty.from, empty.long_short.trades), (0, None, 0));
    }
}
