use shared::{ApiErrorBody, ErrorCode, HealthResponse, HealthStatus};

use crate::helpers::{Frontend, spawn_app};

#[tokio::test]
async fn health_reports_version_database_and_uptime() {
    let app = spawn_app(Frontend::Fixture).await;
    let res = app.get("/api/health").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let health: HealthResponse = res.json().await.unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
    assert!(health.database.reachable);
    let backend = if crate::helpers::on_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(health.database.backend, backend);
    use migrations::MigratorTrait;
    let known = migrations::Migrator::migrations().len();
    assert_eq!(health.database.migrations_applied as usize, known);
    assert!(health.uptime_seconds < 60);
    // The answers this process serves were just built: fresh.
    assert!(
        health.published_age_seconds.is_some_and(|a| (0..60).contains(&a)),
        "{:?}",
        health.published_age_seconds
    );
}

#[tokio::test]
async fn the_embedded_database_is_a_wal_mode_sqlite_file_in_the_data_dir() {
    if crate::helpers::sqlite_only("about the embedded SQLite file") {
        return;
    }
    let app = spawn_app(Frontend::Fixture).await;
    assert!(app.data_dir.path().join(coincast::db::SQLITE_FILE).is_file());
    let mode = coincast::db::sqlite_journal_mode(&app.state.db).await.unwrap();
    assert_eq!(mode.as_deref(), Some("wal"));
}

#[tokio::test]
async fn unknown_api_paths_get_a_json_404() {
    let app = spawn_app(Frontend::Fixture).await;
    for path in ["/api/nope", "/api/", "/api/health/extra"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
        let body: ApiErrorBody = res.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::NotFound, "{path}");
        assert!(body.message.contains(path), "{path}: {}", body.message);
    }
}

#[tokio::test]
async fn a_wrong_method_on_an_api_route_gets_a_json_405() {
    let app = spawn_app(Frontend::Fixture).await;
    let res = app
        .client
        .post(format!("{}/api/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET, HEAD");
    let body: ApiErrorBody = res.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::MethodNotAllowed);
}

#[tokio::test]
async fn head_on_an_api_route_is_its_get_without_the_body() {
    let app = spawn_app(Frontend::Fixture).await;
    let get = app.get("/api/predictions").await;
    assert_eq!(get.status(), 200);
    let etag = get.headers()["etag"].clone();
    let length = get.bytes().await.unwrap().len();
    let head = app
        .client
        .head(format!("{}/api/predictions", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-type"], "application/json");
    assert_eq!(head.headers()["etag"], etag);
    assert_eq!(head.headers()["content-length"], length.to_string().as_str());
    assert!(head.bytes().await.unwrap().is_empty());
    // The endless event stream has no HEAD.
    let stream = app
        .client
        .head(format!("{}/api/stream", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 405);
    assert_eq!(stream.headers()["allow"], "GET");
}

#[tokio::test]
async fn a_damaged_prediction_row_is_left_out_and_counted_in_health() {
    use coincast::db::entities::prediction;
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let app = spawn_app(Frontend::Fixture).await;
    let now = chrono::Utc::now().timestamp() / 60 * 60;
    // A target time no clock can show, as a hand edit or a damaged restore would leave it.
    let row = prediction::ActiveModel {
        coin: Set("BTC".into()),
        horizon: Set("1h".into()),
        made_at: Set(now - 60),
        target_at: Set(i64::MAX),
        p_up: Set(0.6),
        reference_price: Set(1.0),
        model_id: Set("BTC-1h-damaged".into()),
        backfilled: Set(false),
        ..Default::default()
    };
    prediction::Entity::insert(row).exec(&app.state.db).await.unwrap();
    app.refresh().await;
    let history: shared::PredictionHistory = app
        .get("/api/predictions/history?coin=BTC")
        .await
        .json()
        .await
        .unwrap();
    assert!(history.predictions.is_empty(), "the damaged row is never served");
    let health: HealthResponse = app.get("/api/health?deep=1").await.json().await.unwrap();
    // The count is the process's (tests share it): at least this row.
    assert!(health.database.unreadable_prediction_rows >= 1, "{health:?}");
}
