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
    with_limits(doc)
}

/// Adds to every API operation what the rate limit (`http::limits`) answers in front of it: 429
/// `rate_limited` with `Retry-After`.
pub fn with_limits(mut doc: OpenApiDoc) -> OpenApiDoc {
    use utoipa::openapi::{ContentBuilder, HeaderBuilder, ObjectBuilder, Ref, ResponseBuilder, Type};
    let too_many = ResponseBuilder::new()
        .description(
            "Too many requests from this address (`rate_limited`); retry after `Retry-After` seconds",
        )
        .header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)),
                ))
                .description(Some("Seconds to wait before the next request"))
                .build(),
        )
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ApiErrorBody")))
                .build(),
        )
        .build();
    for (path, item) in doc.paths.paths.iter_mut() {
        if !path.starts_with("/api/") {
            continue;
        }
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
        ];
        for op in ops.into_iter().flatten() {
            op.responses
                .responses
                .entry("429".to_owned())
                .or_insert_with(|| too_many.clone().into());
        }
    }
    doc
}

/// The document as YAML, exactly as `openapi.yaml` holds it.
pub fn yaml() -> anyhow::Result<String> {
    Ok(document().to_yaml()?)
}
