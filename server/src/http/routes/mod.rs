//! The HTTP API, one module per resource. Every handler is registered here through
//! utoipa-actix-web, so the routes and the OpenAPI document come from one source.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::http::error::ApiError;

pub mod accuracy;
pub mod health;
pub mod history;
pub mod models;
pub mod params;
pub mod predictions;
pub mod prices;
pub mod sources;
pub mod stream;

/// Registers every API route (full paths, under `/api`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::get_health)
        .service(sources::get_sources)
        .service(prices::get_latest_prices)
        .service(prices::get_prices)
        .service(predictions::get_predictions)
        .service(history::get_history)
        .service(models::get_models)
        .service(accuracy::get_accuracy)
        .service(stream::get_stream);
}

/// The API's path templates with their methods, read from the OpenAPI document once at start, so
/// the fallback can tell a wrong method (405) from a path that does not exist (404).
#[derive(Debug, Clone, Default)]
pub struct KnownRoutes(Arc<Vec<(Vec<String>, Vec<String>)>>);

impl KnownRoutes {
    /// The routes of an OpenAPI document.
    pub fn from_document(doc: &utoipa::openapi::OpenApi) -> Self {
        let json = serde_json::to_value(doc).unwrap_or_default();
        let routes = json["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .iter()
                    .map(|(path, item)| {
                        let segments = path.split('/').map(str::to_owned).collect();
                        let methods = item
                            .as_object()
                            .map(|ops| ops.keys().map(|m| m.to_ascii_uppercase()).collect())
                            .unwrap_or_default();
                        (segments, methods)
                    })
                    .collect()
            })
            .unwrap_or_default();
        KnownRoutes(Arc::new(routes))
    }

    /// The methods a concrete path accepts (empty when no route has this path).
    pub fn methods_for(&self, path: &str) -> Vec<String> {
        let wanted: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .filter(|(template, _)| {
                template.len() == wanted.len()
                    && template
                        .iter()
                        .zip(&wanted)
                        .all(|(t, w)| t == w || (t.starts_with('{') && t.ends_with('}') && !w.is_empty()))
            })
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect()
    }
}

/// `/api/...` requests that match no route: a JSON 405 when the path exists with other methods,
/// else a JSON 404 (rather than the web app's page).
pub async fn api_not_found(
    req: HttpRequest,
    known: web::Data<KnownRoutes>,
) -> Result<HttpResponse, ApiError> {
    let allowed = known.methods_for(req.path());
    if allowed.is_empty() {
        Err(ApiError::NotFound(format!(
            "no API route {} {}",
            req.method(),
            req.path()
        )))
    } else {
        // Every GET route answers HEAD too (see `http::run`).
        let mut allowed = allowed;
        if req.path() != "/api/stream"
            && allowed.iter().any(|m| m == "GET")
            && !allowed.iter().any(|m| m == "HEAD")
        {
            let at = allowed.iter().position(|m| m == "GET").unwrap_or(0) + 1;
            allowed.insert(at, "HEAD".to_owned());
        }
        Err(ApiError::MethodNotAllowed(allowed.join(", ")))
    }
}

/// Query-string errors become `invalid_parameter` JSON bodies.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let message = err.to_string();
        let parameter = message
            .split('`')
            .nth(1)
            .map(str::to_owned)
            .unwrap_or_else(|| "query".to_owned());
        ApiError::invalid_parameter(parameter, message).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_routes_match_templates_and_list_methods() {
        let known = KnownRoutes(Arc::new(vec![
            (
                "/api/health".split('/').map(str::to_owned).collect(),
                vec!["GET".to_owned()],
            ),
            (
                "/api/models/{id}".split('/').map(str::to_owned).collect(),
                vec!["GET".to_owned(), "DELETE".to_owned()],
            ),
        ]));
        assert_eq!(known.methods_for("/api/health"), ["GET"]);
        assert_eq!(known.methods_for("/api/models/BTC-1h"), ["GET", "DELETE"]);
        assert!(known.methods_for("/api/models/").is_empty());
        assert!(known.methods_for("/api/nope").is_empty());
    }

    #[test]
    fn the_real_document_knows_health() {
        let known = KnownRoutes::from_document(&crate::http::openapi::document());
        assert_eq!(known.methods_for("/api/health"), ["GET"]);
    }
}
