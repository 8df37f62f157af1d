//! The API contract a bot relies on (issue 14): exact parameters, ids and freshness, skill where
//! the bot looks, one model by id, caching headers, closed candles, `/docs`.

use coincast::jobs::Job;
use shared::{
    ApiErrorBody, CandlesResponse, Coin, ErrorCode, Horizon, ModelInfo, ModelsResponse, PredictionHistory,
    PredictionsResponse,
};

use crate::helpers::{Frontend, TestApp, spawn_app, spawn_app_with};

/// A replaying server with its warm-up stored and one prediction tick made.
async fn replaying_with_predictions() -> TestApp {
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.replay.enabled = true;
        s.jobs.enabled = false;
    })
    .await;
    collect_and_predict(&app).await;
    app
}

/// One run of the candle job with the models: the replayed minutes up to now, and the tick.
async fn collect_and_predict(app: &TestApp) {
    let upstream = crate::helpers::default_settings().upstream;
    let mut runner = app.runner(app.collectors(upstream));
    runner.registry = Some(app.state.registry.clone());
    runner.run(Job::Candles).await.unwrap();
}

/// The current BTC 1 h entry of `/api/predictions`. A prediction is current until a minute and
/// `PUBLISHED_WITHIN_S` after it was made: on a slow machine the minute can turn between the tick
/// and the read, and the entry then rightly has none; the next minute is collected and predicted
/// then (at most twice more).
async fn current_btc_1h(app: &TestApp) -> PredictionsResponse {
    for _ in 0..3 {
        let res = app.get("/api/predictions?coin=BTC&horizon=1h").await;
        assert_eq!(res.status(), 200);
        let body: PredictionsResponse = res.json().await.unwrap();
        if body.predictions[0].prediction.is_some() {
            return body;
        }
        eprintln!(
            "no current prediction ({:?}): the minute turned; predicting the next one",
            body.predictions[0].not_made_reason
        );
        collect_and_predict(app).await;
        app.refresh().await;
    }
    panic!("no current BTC 1 h prediction after three ticks");
}

async fn refused(app: &TestApp, path: &str, parameter: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 400, "{path}");
    let body: ApiErrorBody = res.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::InvalidParameter, "{path}");
    assert_eq!(body.parameter.as_deref(), Some(parameter), "{path}");
    body.message
}

#[tokio::test]
async fn parameters_are_exactly_the_documented_ones() {
    let app = spawn_app(Frontend::Fixture).await;
    let message = refused(&app, "/api/predictions?horizn=1h", "horizn").await;
    assert!(message.contains("coin, horizon"), "{message}");
    let message = refused(&app, "/api/predictions?coin=BTC&coin=LTC", "coin").await;
    assert!(message.contains("more than once"), "{message}");
    let message = refused(&app, "/api/predictions?coin=bitcoin", "coin").await;
    assert!(message.contains("did you mean BTC"), "{message}");
    refused(&app, "/api/accuracy?horizon=1H", "horizon").await;
    refused(&app, "/api/prices?coin=BTC&resolution=1H", "resolution").await;
    let message = refused(&app, "/api/prices?coin=BTC&from=1764633600000", "from").await;
    assert!(message.contains("milliseconds"), "{message}");
    refused(&app, "/api/predictions/history?limit=0", "limit").await;
    refused(&app, "/api/predictions/history?cursor=1.2.3", "cursor").await;
    refused(&app, "/api/models?x=1", "x").await;
    // What the document allows is read: a time before 2009, an empty range, any cursor.
    for ok in [
        "/api/prices?coin=BTC&from=0",
        "/api/prices?coin=BTC&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        "/api/predictions/history?cursor=0.0",
        "/api/predictions/history?from=1000-01-01T00:00:00Z&to=9999-01-01T00:00:00Z",
    ] {
        assert_eq!(app.get(ok).await.status(), 200, "{ok}");
    }
}

#[tokio::test]
async fn predictions_carry_ids_freshness_and_the_models_skill() {
    let app = replaying_with_predictions().await;
    let body = current_btc_1h(&app).await;
    let entry = &body.predictions[0];
    let p = entry.prediction.as_ref().expect("a prediction");
    assert!(p.id > 0);
    assert_eq!(
        (p.valid_until - p.made_at).num_seconds(),
        60 + coincast::db::predictions::PUBLISHED_WITHIN_S
    );
    assert!(p.published_at >= p.made_at);
    let skill = entry.skill.as_ref().expect("the model's skill");
    assert_eq!(skill.model_id, p.model_id);
    assert!(skill.out_of_sample);
    // The headline is the strongest simple rule, Holm-corrected across the served models.
    let strongest = skill.strongest_baseline.as_ref().expect("the strongest rule");
    let holm = strongest.p_value_holm.expect("the corrected p-value");
    assert!(holm >= strongest.p_value);
    assert_eq!(
        strongest.beaten,
        skill.accuracy > strongest.accuracy && holm < 0.05
    );
    assert_eq!(skill.beats_baseline, strongest.beaten);
    // The same id in the history.
    let history: PredictionHistory = app
        .get("/api/predictions/history?coin=BTC&horizon=1h&step_minutes=1&limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history.predictions[0].id, p.id);

    // One model by id, and a JSON 404 for an unknown one.
    let models: ModelsResponse = app.get("/api/models").await.json().await.unwrap();
    let res = app.get(&format!("/api/models/{}", skill.model_id)).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("etag"));
    let one: ModelInfo = res.json().await.unwrap();
    assert_eq!(Some(&one), models.models.iter().find(|m| m.id == skill.model_id));
    assert_eq!((one.coin, one.horizon), (Coin::BTC, Horizon::H1));
    assert!(one.walk_forward.out_of_sample);
    let res = app.get("/api/models/DOGE-1h-00000000").await;
    assert_eq!(res.status(), 404);
    let body: ApiErrorBody = res.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::NotFound);
}

#[tokio::test]
async fn every_cacheable_get_sends_an_etag_and_takes_weak_ones() {
    let app = replaying_with_predictions().await;
    for path in [
        "/api/predictions",
        "/api/accuracy",
        "/api/models",
        "/api/prices/latest",
        "/api/sources",
        "/api/prices?coin=BTC&resolution=1h",
        "/api/predictions/history",
        "/api/performance",
        "/api/predictions?min_confidence=0",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        assert!(res.headers().contains_key("cache-control"), "{path}");
        for tag in [etag.clone(), format!("W/{etag}"), format!("\"other\", W/{etag}")] {
            let again = app
                .client
                .get(format!("{}{path}", app.address))
                .header("If-None-Match", &tag)
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 304, "{path} {tag}");
            assert_eq!(again.headers()["etag"], etag.as_str());
        }
    }
    assert_eq!(
        app.get("/api/health").await.headers()["cache-control"],
        "no-store"
    );
}

#[tokio::test]
async fn only_the_forming_candle_is_open() {
    let app = replaying_with_predictions().await;
    let body: CandlesResponse = app
        .get("/api/prices?coin=BTC&resolution=1h")
        .await
        .json()
        .await
        .unwrap();
    let (last, before) = body.candles.split_last().expect("candles");
    assert!(before.iter().all(|c| c.closed));
    let newest_minute = coincast::db::candles::latest_of(&app.state.db, Coin::BTC, 60)
        .await
        .unwrap()
        .unwrap()
        .ts;
    let hour_done = last.t.timestamp() + 3600 <= (newest_minute + 60).min(coincast::clock::current_minute());
    assert_eq!(last.closed, hour_done);
    // At one minute, every stored minute but the current one has closed.
    let minutes: CandlesResponse = app
        .get("/api/prices?coin=BTC&resolution=1m")
        .await
        .json()
        .await
        .unwrap();
    assert!(minutes.candles.iter().rev().skip(1).all(|c| c.closed));
}

#[tokio::test]
async fn docs_without_the_slash_redirect_to_the_docs() {
    let app = spawn_app(Frontend::Fixture).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client.get(format!("{}/docs", app.address)).send().await.unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/docs/");
}

#[tokio::test]
async fn the_document_declares_errors_headers_and_events() {
    let doc = serde_json::to_value(coincast::http::openapi::document()).unwrap();
    let mut ops = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/") {
            continue;
        }
        for op in item.as_object().unwrap().values() {
            ops += 1;
            for status in ["400", "405", "429", "503"] {
                if path == "/api/health" && status == "503" {
                    continue; // degraded health: the health body itself
                }
                let r = &op["responses"][status];
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ApiErrorBody",
                    "{path} {status}"
                );
            }
            assert!(
                op["responses"]["429"]["headers"]["Retry-After"].is_object(),
                "{path}"
            );
        }
    }
    assert_eq!(ops, 12);
    // Every route that sends an ETag declares it, its 304 and `If-None-Match`.
    for path in ["/api/predictions", "/api/performance"] {
        let op = &doc["paths"][path]["get"];
        assert!(op["responses"]["200"]["headers"]["ETag"].is_object(), "{path}");
        assert!(
            op["responses"]["304"]["headers"]["Cache-Control"].is_object(),
            "{path}"
        );
        assert!(
            op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "If-None-Match" && p["in"] == "header"),
            "{path}"
        );
    }
    let predictions = &doc["paths"]["/api/predictions"]["get"];
    assert_eq!(
        predictions["parameters"][0]["schema"]["$ref"],
        "#/components/schemas/Coin"
    );
    let limit = doc["paths"]["/api/predictions/history"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap()
        .clone();
    assert_eq!(
        (
            limit["schema"]["minimum"].as_i64(),
            limit["schema"]["maximum"].as_i64()
        ),
        (Some(1), Some(1000))
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["StreamEvent"]["discriminator"]["propertyName"], "event");
    // Generated clients name enum members by these, not `VALUE_1`.
    assert_eq!(
        schemas["Horizon"]["x-enum-varnames"],
        serde_json::json!(["M30", "H1", "H2", "H4", "H6", "H12"])
    );
    assert_eq!(
        schemas["Resolution"]["x-enum-varnames"],
        serde_json::json!(["M1", "M5", "M15", "H1", "D1"])
    );
    assert_eq!(schemas["DataMode"]["discriminator"]["propertyName"], "kind");
    // Generators read a tagged union only when no variant hides in an allOf.
    let text = doc.to_string();
    assert!(!text.contains("allOf"), "an allOf is left in the document");
}
