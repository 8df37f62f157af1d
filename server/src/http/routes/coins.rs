//! `GET /api/coins`: the coins this deployment serves, with their names and whether any of their
//! models has shown an edge.

use actix_web::{HttpRequest, HttpResponse, get, web};
use shared::{ApiErrorBody, CoinInfo, CoinsResponse, ModelsResponse};

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The served coins, in the configured order: ticker, name, the horizons with a served model,
/// and how many of those models beat the strongest simple rule out of sample (Holm-corrected;
/// 0: none has shown an edge). A deployment's coins are its configuration (`[[coins]]`): every
/// route's `coin` takes exactly these, and this document's `Coin` enum names them.
#[utoipa::path(
    tag = "predictions",
    responses(
        (status = 200, description = "One entry per served coin", body = CoinsResponse),
        (status = 503, description = "The service is starting", body = ApiErrorBody),
    )
)]
#[get("/api/coins")]
pub async fn get_coins(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(state.snapshot()?.coins.respond(&req, "no-cache"))
}

/// The served coins with what the models answer says of them.
pub fn build(state: &AppState, models: &ModelsResponse) -> CoinsResponse {
    let coins = state
        .coins
        .served()
        .iter()
        .map(|&coin| {
            let mine: Vec<_> = models.models.iter().filter(|m| m.coin == coin).collect();
            let mut horizons: Vec<_> = mine.iter().map(|m| m.horizon).collect();
            horizons.sort();
            horizons.dedup();
            CoinInfo {
                coin,
                name: state.coins.name(coin),
                horizons,
                models_beating_baseline: mine.iter().filter(|m| m.skill.beats_baseline).count() as u32,
            }
        })
        .collect();
    CoinsResponse { coins }
}
