//! The HTTP API, one module per resource. Every handler is registered here through
//! utoipa-actix-web, so the routes and the OpenAPI document come from one source.

use std::sync::Arc;

use actix_web::error::QueryPayloadError;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::http::error::ApiError;

pub mod accuracy;
pub mod coins;
pub mod health;
pub mod history;
pub mod models;
pub mod params;
pub mod performance;
pub mod predictions;
pub mod prices;
pub mod sources;
pub mod stream;

/// Registers every API route (full paths, under `/api`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::get_health)
        .service(sources::get_sources)
        .service(coins::get_coins)
        .service(prices::get_latest_prices)
        .service(prices::get_prices)
        .service(predictions::get_predictions)
        .service(performance::get_performance)
        .service(history::get_history)
        .service(models::get_models)
        .service(models::get_model)
        .service(accuracy::get_accuracy)
        .service(stream::get_stream);
}

/// One API path template with its methods and query parameter names.
#[derive(Debug, Clone, Default)]
struct KnownRoute {
    segments: Vec<String>,
    methods: Vec<String>,
    query: Vec<String>,
}

impl KnownRoute {
    fn matches(&self, wanted: &[&str]) -> bool {
        self.segments.len() == wanted.len()
            && self
                .segments
                .iter()
                .zip(wanted)
                .all(|(t, w)| t == w || (t.starts_with('{') && t.ends_with('}') && !w.is_empty()))
    }
}

/// The API's path templates with their methods and query parameters, read from the OpenAPI
/// document once at start, so the fallback can tell a wrong method (405) from a path that does
/// not exist (404), and every request's query string is checked against the parameters its route
/// documents (`params::check_query`).
#[derive(Debug, Clone, Default)]
pub struct KnownRoutes(Arc<Vec<KnownRoute>>);

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
                        let ops = item.as_object();
                        let methods = ops
                            .map(|ops| ops.keys().map(|m| m.to_ascii_uppercase()).collect())
                            .unwrap_or_default();
                        let mut query: Vec<String> = Vec::new();
                        for op in ops.into_iter().flat_map(|ops| ops.values()) {
                            for p in op["parameters"].as_array().into_iter().flatten() {
                                if p["in"] == "query"
                                    && let Some(name) = p["name"].as_str()
                                    && !query.iter().any(|q| q == name)
                                {
                                    query.push(name.to_owned());
                                }
                            }
                        }
                        KnownRoute {
                            segments: path.split('/').map(str::to_owned).collect(),
                            methods,
                            query,
                        }
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
            .filter(|r| r.matches(&wanted))
            .flat_map(|r| r.methods.iter().cloned())
            .collect()
    }

    /// The query parameters a concrete path documents (`None` when no route has this path).
    pub fn query_for(&self, path: &str) -> Option<&[String]> {
        let wanted: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|r| r.matches(&wanted))
            .map(|r| r.query.as_slice())
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

/// Query-string errors become `invalid_parameter` JSON bodies with our own message. Unknown,
/// repeated and malformed parameters never get here (`params::check_query` runs first, and every
/// query field is a string parsed by its handler): what is left is a missing required one.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        // The deserializer's own words (``missing field `coin` ``), without actix's prefix.
        let message = match &err {
            QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        let parameter = message
            .split('`')
            .nth(1)
            .map(str::to_owned)
            .unwrap_or_else(|| "query".to_owned());
        let message = if message.starts_with("missing field") {
            format!("`{parameter}` is required")
        } else {
            format!("`{parameter}` is not valid here")
        };
        ApiError::invalid_parameter(parameter, message).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_routes_match_templates_and_list_methods() {
        let route = |path: &str, methods: &[&str]| KnownRoute {
            segments: path.split('/').map(str::to_owned).collect(),
            methods: methods.iter().map(|m| (*m).to_owned()).collect(),
            query: Vec::new(),
        };
        let known = KnownRoutes(Arc::new(vec![
            route("/api/health", &["GET"]),
            route("/api/models/{id}", &["GET", "DELETE"]),
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
        assert_eq!(known.query_for("/api/health").map(<[String]>::len), Some(1));
        assert_eq!(
            known.query_for("/api/prices"),
            Some(&["coin", "resolution", "from", "to"].map(str::to_owned)[..])
        );
        assert_eq!(
            known.query_for("/api/predictions/history").map(<[String]>::len),
            Some(7)
        );
        assert_eq!(known.query_for("/api/nope"), None);
    }
}
