//! A deployment serves exactly its configured coins (`[[coins]]`), through every route, the
//! stream and its OpenAPI document; a served coin without models stops the start.

use clap::Parser;
use coincast::cli::Cli;
use coincast::config::Settings;
use shared::{ApiErrorBody, Coin, CoinsResponse, ErrorCode, Horizon, ModelsResponse, PredictionsResponse};

use crate::helpers::{Frontend, repo_root, spawn_app_with};

/// Settings as `coincast --config FILE serve` reads them, `toml` being the file.
fn load(toml: &str) -> anyhow::Result<Settings> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("coincast.toml");
    std::fs::write(&file, toml).unwrap();
    let cli = Cli::parse_from([
        "coincast",
        "--config",
        file.to_str().unwrap(),
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        "serve",
        "--port",
        "0",
    ]);
    Settings::load(&cli)
}

#[tokio::test]
async fn a_two_coin_deployment_serves_those_two_everywhere_and_nothing_else() {
    let loaded =
        load("[[coins]]\nsymbol = \"XRP\"\n[[coins]]\nsymbol = \"BTC\"\nname = \"Bitcoin (BTC)\"\n").unwrap();
    assert_eq!(loaded.coins.served(), [Coin::XRP, Coin::BTC]);
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        s.coins = loaded.coins.clone();
    })
    .await;

    let coins: CoinsResponse = app.get("/api/coins").await.json().await.unwrap();
    let listed: Vec<(Coin, &str, usize)> = coins
        .coins
        .iter()
        .map(|c| (c.coin, c.name.as_str(), c.horizons.len()))
        .collect();
    assert_eq!(
        listed,
        [(Coin::XRP, "Ripple", 6), (Coin::BTC, "Bitcoin (BTC)", 6)]
    );
    assert_eq!(coins.coins[0].horizons, Horizon::ALL);

    let predictions: PredictionsResponse = app.get("/api/predictions").await.json().await.unwrap();
    assert_eq!(predictions.predictions.len(), 12);
    assert!(predictions.predictions.iter().all(|p| p.coin != Coin::LTC));
    let models: ModelsResponse = app.get("/api/models").await.json().await.unwrap();
    assert_eq!(models.models.len(), 12, "LTC's shipped models are not loaded");
    assert!(models.models.iter().all(|m| m.coin != Coin::LTC));

    // LTC is a coin coincast knows, but not one this deployment serves: a 400 naming those it does.
    for path in [
        "/api/predictions?coin=LTC",
        "/api/accuracy?coin=LTC",
        "/api/performance?coin=LTC",
        "/api/predictions/history?coin=LTC",
        "/api/prices?coin=LTC",
        "/api/stream?coin=LTC",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 400, "{path}");
        let body: ApiErrorBody = r.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::InvalidParameter, "{path}");
        assert!(
            body.message.ends_with("expected one of XRP, BTC"),
            "{path}: {}",
            body.message
        );
    }
    assert_eq!(app.get("/api/predictions?coin=XRP").await.status(), 200);

    // The document this deployment serves names its coins; the repo's is the default list's.
    let doc: serde_json::Value = app.get("/api-docs/openapi.json").await.json().await.unwrap();
    assert_eq!(
        doc["components"]["schemas"]["Coin"]["enum"],
        serde_json::json!(["XRP", "BTC"])
    );
    let repo = std::fs::read_to_string(repo_root().join("openapi.yaml")).unwrap();
    assert!(repo.contains(
        "      enum:\n      - BTC\n      - ETH\n      - SOL\n      - XRP\n      - LTC\n      - DOGE\n      - ADA\n      - BCH\n      - LINK\n      - AVAX\n"
    ));

    // Its sources are its coins'.
    let sources: shared::SourcesResponse = app.get("/api/sources").await.json().await.unwrap();
    assert!(sources.sources.iter().any(|s| s.source.contains("BTC")));
    assert!(
        !sources.sources.iter().any(|s| s.source.contains("LTC")),
        "{:?}",
        sources.sources
    );
}

#[tokio::test]
async fn bad_coin_lists_and_a_served_coin_without_models_stop_the_start_with_a_reason() {
    for (toml, says) in [
        (
            "[[coins]]\nsymbol = \"BTC\"\n[[coins]]\nsymbol = \"BTC\"\n",
            "BTC is listed twice",
        ),
        ("[[coins]]\nsymbol = \"PEPE\"\n", "give its `name`"),
        ("[[coins]]\nsymbol = \"btc/usd\"\n", "not a coin symbol"),
    ] {
        let err = format!("{:#}", load(toml).unwrap_err());
        assert!(err.contains(says), "{toml}: {err}");
    }
    // ETH is a known coin, but this models folder holds only BTC's.
    let btc_only: Vec<(Coin, Horizon)> = Horizon::ALL.into_iter().map(|h| (Coin::BTC, h)).collect();
    let models = crate::helpers::models_only(&btc_only);
    let mut settings = load("[[coins]]\nsymbol = \"BTC\"\n[[coins]]\nsymbol = \"ETH\"\n").unwrap();
    settings.models.dir = models.path().to_path_buf();
    let err = match coincast::http::Application::build(settings).await {
        Ok(_) => panic!("a served coin without models started"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("ETH is served but no model of it is loaded"),
        "{err}"
    );
    // Collected only (`serve = false`), it starts.
    let mut settings =
        load("[[coins]]\nsymbol = \"BTC\"\n[[coins]]\nsymbol = \"ETH\"\nserve = false\n").unwrap();
    settings.models.dir = models.path().to_path_buf();
    settings.jobs.enabled = false;
    assert!(coincast::http::Application::build(settings).await.is_ok());
}
