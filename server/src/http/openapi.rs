//! The OpenAPI document, generated from the handlers' annotations. `openapi.yaml` at the repository
//! root is this document; a test fails when the two drift (`coincast openapi > openapi.yaml`).

use actix_web::App;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa_actix_web::AppExt;

use crate::http::routes;

/// The document's fixed parts: title, description, tags, shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "coincast API",
        description = "Predictions of whether BTC, LTC and XRP go UP or DOWN over the next 30 min to 12 h, \
with accuracy measured out of sample next to a majority-class baseline. All times are UTC; \
errors are JSON bodies with a stable snake_case `code`.",
        license(name = "MIT")
    ),
    tags(
        (name = "health", description = "Service health"),
        (name = "data", description = "Market data: sources, prices, candles"),
        (name = "predictions", description = "Predictions and their measured accuracy"),
    ),
    components(schemas(shared::ApiErrorBody, shared::ErrorCode, shared::Coin, shared::Horizon))
)]
pub struct ApiDoc;

/// The whole document: the fixed parts plus every registered route.
pub fn document() -> OpenApiDoc {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    doc
}

/// The document as YAML, exactly as `openapi.yaml` holds it.
pub fn yaml() -> anyhow::Result<String> {
    Ok(document().to_yaml()?)
}
