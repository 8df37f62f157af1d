use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use coincast::collect::sources::SeriesId;
use coincast::commands::import::import_file;
use coincast::db::entities::candle;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use shared::Coin;

use crate::helpers::{Frontend, repo_root, spawn_app};

/// A large valid history file for load and crash tests only: the bundled replay's real BTC
/// minutes (11,520), repeated `copies` times, each copy shifted later by the sample's span, as
/// freqtrade JSON named `BTC_USDT-1m.json`. Returns the path and its row count. Not market data
/// for the product: real rows, shifted in time, inside a temporary directory.
pub fn big_history(dir: &Path, copies: usize) -> (PathBuf, usize) {
    let gz = std::fs::read(repo_root().join("server/replay/binance-1m-2021-05.csv.gz")).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    let rows: Vec<(i64, &str)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("BTC,"))
        .map(|rest| {
            let (ts, values) = rest.split_once(',').unwrap();
            (ts.parse().unwrap(), values)
        })
        .collect();
    let span = rows.last().unwrap().0 - rows[0].0 + 60;
    let mut out = String::from("[");
    for copy in 0..copies {
        for (ts, values) in &rows {
            if out.len() > 1 {
                out.push(',');
            }
            let ms = (ts + copy as i64 * span) * 1000;
            out.push_str(&format!("[{ms},{values}]"));
        }
    }
    out.push(']');
    let path = dir.join("BTC_USDT-1m.json");
    std::fs::write(&path, out).unwrap();
    (path, rows.len() * copies)
}

/// While `work` runs, another writer does what the server's jobs do every minute (a candle
/// upsert in a transaction, a health row) every 20 ms; returns each write's duration (or the
/// error) and what `work` returned.
async fn writes_during<T>(
    db: &sea_orm::DatabaseConnection,
    work: impl std::future::Future<Output = T>,
) -> (Vec<Result<Duration, String>>, T) {
    use sea_orm::TransactionTrait;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (db.clone(), stop.clone());
        tokio::spawn(async move {
            let mut out = Vec::new();
            let mut ts = 1_700_000_000;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let bar = models::history::Bar {
                    ts,
                    open: 1.0,
                    high: 1.0,
                    low: 1.0,
                    close: 1.0,
                    volume: 1.0,
                };
                let write = async {
                    let txn = db.begin().await?;
                    coincast::db::candles::upsert_candles(
                        &txn,
                        Coin::LTC,
                        60,
                        &[bar],
                        "test",
                        coincast::clock::now(),
                        &mut |_| {},
                    )
                    .await?;
                    txn.commit().await?;
                    coincast::db::status::record_success(
                        &db,
                        coincast::collect::sources::SourceId::Bitstamp(Coin::LTC),
                        Some(ts),
                        coincast::clock::now(),
                    )
                    .await
                };
                out.push(write.await.map(|()| started.elapsed()).map_err(|e| e.to_string()));
                ts += 60;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            out
        })
    };
    let result = work.await;
    stop.store(true, Ordering::Relaxed);
    (writer.await.unwrap(), result)
}

fn longest(writes: &[Result<Duration, String>]) -> (Duration, usize) {
    let longest = writes.iter().flatten().max().copied().unwrap_or_default();
    (longest, writes.iter().filter(|w| w.is_err()).count())
}

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
    assert_eq!((csv.coin, csv.interval_s, csv.rows), (Coin::BTC, 3600, 300));
    assert_eq!(rows_seen, 300);
    let json = import_file(&app.state.db, &fixture("XRP_USDT-5m.json"), &mut |_| {})
        .await
        .unwrap();
    assert_eq!((json.coin, json.interval_s, json.rows), (Coin::XRP, 300, 300));
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

/// freqtrade's own files, cut from `../shared/data` (models/tests/fixtures/freqtrade/README.md).
fn freqtrade_fixture(name: &str) -> PathBuf {
    repo_root().join("models/tests/fixtures/freqtrade").join(name)
}

#[tokio::test]
async fn a_freqtrade_data_folder_of_feather_and_jsongz_imports_as_its_json_does() {
    let app = spawn_app(Frontend::Fixture).await;
    // The folder as freqtrade keeps it: BTC as feather (lz4), XRP as jsongz.
    let args = coincast::cli::ImportArgs {
        paths: vec![freqtrade_fixture("binance")],
        series: None,
    };
    coincast::commands::import::run(&app.state.db, &args)
        .await
        .unwrap();
    assert_eq!(count(&app).await, 2 * 576);
    // Row for row what the JSON of the same candles holds.
    let json = models::history::read(&freqtrade_fixture("BTC_USDT-5m.json")).unwrap();
    let stored = candle::Entity::find()
        .filter(candle::Column::Coin.eq("BTC"))
        .filter(candle::Column::IntervalS.eq(300))
        .all(&app.state.db)
        .await
        .unwrap();
    let mut stored: Vec<models::history::Bar> = stored.iter().map(|c| c.bar()).collect();
    stored.sort_by_key(|b| b.ts);
    assert_eq!(stored, json.bars);
    // A broken feather file is refused, naming it, with nothing written.
    let dir = tempfile::tempdir().unwrap();
    let feather = std::fs::read(freqtrade_fixture("binance/BTC_USDT-5m.feather")).unwrap();
    let broken = dir.path().join("LTC_USDT-5m.feather");
    std::fs::write(&broken, &feather[..feather.len() / 2]).unwrap();
    let err = import_file(&app.state.db, &broken, &mut |_| {})
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("LTC_USDT-5m.feather"), "{err:#}");
    assert_eq!(count(&app).await, 2 * 576);
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

#[tokio::test]
async fn series_files_import_whole_and_training_reads_the_database() {
    let app = spawn_app(Frontend::Fixture).await;
    // Three real lines of ../shared/data/onchain-macro-daily/gold.csv (Yahoo export; a Saturday is
    // empty).
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("gold.csv");
    std::fs::write(
        &gold,
        "Date,gold_High,gold_Low,gold_Open,gold_Close,gold_Volume,gold_AdjClose\n\
         2017-09-07,1349.0,1336.4000244140625,1336.4000244140625,1345.0999755859375,26.0,1345.0999755859375\n\
         2017-09-08,1355.800048828125,1345.5999755859375,1351.0,1346.0,37.0,1346.0\n\
         2017-09-09,,,,,,\n",
    )
    .unwrap();
    let report = coincast::commands::import::import_series(&app.state.db, SeriesId::Gold, &gold)
        .await
        .unwrap();
    assert_eq!(report.rows, 2, "the empty (closed) day is skipped");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "Date,Close\n2017-09-08,1346.0\n2017-09-11,abc\n").unwrap();
    let err = format!(
        "{:#}",
        coincast::commands::import::import_series(&app.state.db, SeriesId::Oil, &bad)
            .await
            .unwrap_err()
    );
    assert!(err.contains("bad.csv") && err.contains("line 3"), "{err}");
    let unknown = "no spaces".parse::<SeriesId>().unwrap_err();
    assert!(
        unknown.contains("unknown series") && unknown.contains("msci_world"),
        "{unknown}"
    );

    // Minute candles and hourly bars in the database become the hourly history of a plan.
    import_file(&app.state.db, &fixture("Bitstamp_BTCUSD_1h.csv"), &mut |_| {})
        .await
        .unwrap();
    import_file(&app.state.db, &fixture("BTC_USDT-1m.json"), &mut |_| {})
        .await
        .unwrap();
    let args = coincast::cli::TrainArgs {
        data_root: PathBuf::from("unused"),
        out: PathBuf::from("unused"),
        report_dir: PathBuf::from("unused"),
        coins: vec![Coin::BTC],
        horizons: vec![shared::Horizon::H1, shared::Horizon::H4],
        epochs: 1,
        fee_bps: 10.0,
        slippage_bps: 0.0,
        from_db: true,
        until: None,
        gate_against: None,
        gate_until: None,
        history: Vec::new(),
    };
    let jobs = coincast::commands::train::jobs_from_db(&app.state.db, &args, None)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 2);
    let (history, plan) = &jobs[1];
    // The 1500 minutes are the finest base, the 300 imported hours the next (the one bar builder
    // makes the plan's hourly bars from either, ending at each prediction time).
    let parts: Vec<(i64, usize)> = history
        .parts
        .iter()
        .map(|p| (p.interval_s, p.bars.len()))
        .collect();
    assert_eq!(parts, [(60, 1500), (3600, 300)]);
    assert_eq!(plan.bar_s, 3600);
    assert_eq!(history.series.names().collect::<Vec<_>>(), ["gold"]);
    assert!(plan.feature_sets.len() > 1, "4 h offers the series feature sets");
}

#[tokio::test]
async fn a_large_import_lets_other_writers_in_between_its_transactions() {
    let app = spawn_app(Frontend::Fixture).await;
    let db = app.state.db.clone();
    let dir = tempfile::tempdir().unwrap();
    let (file, rows) = big_history(dir.path(), 8);

    let started = Instant::now();
    let (writes, report) = writes_during(&db, import_file(&db, &file, &mut |_| {})).await;
    let import_s = started.elapsed().as_secs_f64();
    let report = report.unwrap();
    assert_eq!(report.rows, rows);
    let (max, failed) = longest(&writes);
    eprintln!(
        "import-while-serving | {rows} rows in {import_s:.1} s, transactions of {} | {} writes by others meanwhile, {failed} failed, longest wait {max:?}",
        coincast::commands::import::TXN_ROWS,
        writes.len()
    );
    assert_eq!(failed, 0, "{writes:?}");
    let btc = candle::Entity::find()
        .filter(candle::Column::Coin.eq("BTC"))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(btc as usize, rows);
    let ltc = candle::Entity::find()
        .filter(candle::Column::Coin.eq("LTC"))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(ltc as usize, writes.len(), "every other write landed");
    assert!(
        max < Duration::from_secs(5),
        "a writer waited {max:?}: as long as the old busy timeout"
    );

    // For comparison, what the import did before: the whole file in one transaction.
    use sea_orm::TransactionTrait;
    let text = std::fs::read_to_string(&file).unwrap();
    let parsed = models::history::parse(&text).unwrap();
    let started = Instant::now();
    let (writes, _) = writes_during(&db, async {
        let txn = db.begin().await.unwrap();
        coincast::db::candles::upsert_candles(
            &txn,
            Coin::BTC,
            60,
            &parsed.bars,
            "one-txn",
            coincast::clock::now(),
            &mut |_| {},
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
    })
    .await;
    let (old_max, old_failed) = longest(&writes);
    eprintln!(
        "import-while-serving | the same {rows} rows in ONE transaction (before): {:.1} s | {} writes by others, {old_failed} failed, longest wait {old_max:?}",
        started.elapsed().as_secs_f64(),
        writes.len()
    );
}
