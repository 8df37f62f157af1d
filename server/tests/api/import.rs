use std::path::PathBuf;

use coincast::entities::candle;
use coincast::import::import_file;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use shared::Coin;

use crate::helpers::{Frontend, repo_root, spawn_app};

fn fixture(name: &str) -> PathBuf {
    repo_root().join("server/tests/fixtures").join(name)
}

async fn count(app: &crate::helpers::TestApp) -> u64 {
    candle::Entity::find().count(&app.state.db).await.unwrap()
}

#[tokio::test]
async fn imports_both_formats_and_is_idempotent() {
    let app = spawn_app(Frontend::Fixture).await;
    let mut rows_seen = 0;
    let csv = import_file(&app.state.db, &fixture("Bitstamp_BTCUSD_1h.csv"), &mut |n| {
        rows_seen += n
    })
    .await
    .unwrap();
    assert_eq!((csv.coin, csv.interval_s, csv.rows), (Coin::Btc, 3600, 300));
    assert_eq!(rows_seen, 300);
    let json = import_file(&app.state.db, &fixture("XRP_USDT-5m.json"), &mut |_| {})
        .await
        .unwrap();
    assert_eq!((json.coin, json.interval_s, json.rows), (Coin::Xrp, 300, 300));
    assert_eq!(count(&app).await, 600);

    // The same file again: same rows, nothing duplicated or lost.
    import_file(&app.state.db, &fixture("Bitstamp_BTCUSD_1h.csv"), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(count(&app).await, 600);

    let newest = candle::Entity::find()
        .filter(candle::Column::Coin.eq("BTC"))
        .filter(candle::Column::Ts.eq(1_569_884_400)) // 2019-09-30 23:00 UTC
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (newest.open, newest.close, newest.volume),
        (8245.75, 8298.45, 174.22)
    );
    assert_eq!(newest.source, "import:Bitstamp_BTCUSD_1h.csv");
}

#[tokio::test]
async fn a_corrupted_file_is_rejected_whole_naming_file_and_line() {
    let app = spawn_app(Frontend::Fixture).await;
    let text = std::fs::read_to_string(fixture("Bitstamp_BTCUSD_1h.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[150] = "2019-09-24 09-AM,BTCUSD,9700.1,not-a-number,9650,9690,12.5,121000";
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("Bitstamp_BTCUSD_1h.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();

    let err = import_file(&app.state.db, &bad, &mut |_| {}).await.unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("Bitstamp_BTCUSD_1h.csv") && message.contains("line 151"),
        "{message}"
    );
    assert!(message.contains("not-a-number"), "{message}");
    assert_eq!(count(&app).await, 0, "nothing of a bad file is committed");
}
