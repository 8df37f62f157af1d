//! Retention: one maintenance run (called directly, with its own clock) prunes apalis job rows of
//! every state past their bound, and predictions and candles past theirs when set; nothing of the
//! market data or predictions by default.

use coincast::clock::{DAY_S, HOUR_S};
use coincast::collect::run::Collectors;
use coincast::config::RetentionSettings;
use coincast::db;
use coincast::jobs::Runner;
use models::history::Bar;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use shared::{Coin, Horizon};

use crate::helpers::{Frontend, default_settings, spawn_app, store_minutes};

/// A minute boundary.
const NOW: i64 = 1_800_000_000;

fn runner(db: &DatabaseConnection, retention: RetentionSettings) -> Runner {
    let mut runner = Runner::collecting(
        Collectors::new(
            db.clone(),
            default_settings().upstream,
            None,
            coincast::clock::Clock::system(),
        )
        .unwrap(),
    );
    runner.retention = retention;
    runner
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn ids(db: &DatabaseConnection) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            if crate::helpers::on_postgres() {
                "SELECT id FROM apalis.jobs ORDER BY id"
            } else {
                "SELECT id FROM Jobs ORDER BY id"
            }
            .to_owned(),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

#[tokio::test]
async fn one_maintenance_run_prunes_job_rows_predictions_and_candles_past_their_bounds() {
    let app = spawn_app(Frontend::Fixture).await;
    let conn = &app.state.db;
    coincast::jobs::setup(conn).await.unwrap();
    // id, status, finished (or scheduled) seconds before NOW.
    let jobs = [
        ("done-fresh", "Done", 2 * HOUR_S),
        ("done-old", "Done", 2 * DAY_S),
        ("failed-fresh", "Failed", 3 * DAY_S),
        ("failed-old", "Failed", 8 * DAY_S),
        ("killed-old", "Killed", 8 * DAY_S),
        ("pending-old", "Pending", 8 * DAY_S),
        ("running-fresh", "Running", HOUR_S),
    ];
    for (id, status, age) in jobs {
        let t = NOW - age;
        let done_at = if matches!(status, "Pending" | "Running") {
            "NULL".to_owned()
        } else {
            t.to_string()
        };
        let sql = if crate::helpers::on_postgres() {
            let done_at = if done_at == "NULL" {
                done_at
            } else {
                format!("to_timestamp({done_at})")
            };
            format!(
                "INSERT INTO apalis.jobs (job, id, job_type, status, run_at, done_at) \
                 VALUES ('\\x00'::bytea, '{id}', 'coincast::candles', '{status}', to_timestamp({t}), {done_at})"
            )
        } else {
            format!(
                "INSERT INTO Jobs (job, id, job_type, status, run_at, done_at) \
                 VALUES (x'00', '{id}', 'coincast::candles', '{status}', {t}, {done_at})"
            )
        };
        conn.execute_unprepared(&sql).await.unwrap();
    }
    // One prediction and one minute candle per day, 0 to 20 days old.
    let days: Vec<i64> = (0..=20).collect();
    let rows = days
        .iter()
        .map(|d| db::predictions::new_row(Coin::BTC, Horizon::ALL[0], NOW - d * DAY_S, 0.5, 1.0, "m", false))
        .collect();
    db::predictions::insert(conn, rows, coincast::clock::now())
        .await
        .unwrap();
    let bars: Vec<Bar> = days
        .iter()
        .rev()
        .map(|d| Bar {
            ts: NOW - d * DAY_S,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 1.0,
        })
        .collect();
    store_minutes(conn, Coin::BTC, &bars).await;

    // The defaults: job rows pruned by state, market data and predictions kept.
    runner(conn, RetentionSettings::default())
        .maintenance(NOW)
        .await
        .unwrap();
    assert_eq!(ids(conn).await, ["done-fresh", "failed-fresh", "running-fresh"]);
    assert_eq!(count(conn, "SELECT COUNT(*) FROM predictions").await, 21);
    assert_eq!(count(conn, "SELECT COUNT(*) FROM candles").await, 21);

    // A week of predictions, two of candles: older rows go, the bound day and newer stay.
    let retention = RetentionSettings {
        predictions_days: 7,
        candles_days: 14,
        ..RetentionSettings::default()
    };
    runner(conn, retention).maintenance(NOW).await.unwrap();
    let oldest_prediction = NOW - 7 * DAY_S;
    assert_eq!(count(conn, "SELECT COUNT(*) FROM predictions").await, 8);
    assert_eq!(
        count(conn, "SELECT MIN(made_at) FROM predictions").await,
        oldest_prediction
    );
    assert_eq!(count(conn, "SELECT COUNT(*) FROM candles").await, 15);
    assert_eq!(count(conn, "SELECT MIN(ts) FROM candles").await, NOW - 14 * DAY_S);
    assert_eq!(ids(conn).await, ["done-fresh", "failed-fresh", "running-fresh"]);
}

#[tokio::test]
async fn pruning_deletes_in_bounded_batches_until_everything_past_the_bound_is_gone() {
    let app = spawn_app(Frontend::Fixture).await;
    let conn = &app.state.db;
    // More minute candles than one batch, all older than the bound but the newest day's.
    let n = coincast::jobs::prune::BATCH * 2 + 7;
    let bars: Vec<Bar> = (0..n)
        .map(|i| Bar {
            ts: NOW - 3 * DAY_S + i * 60 - n * 60,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 1.0,
        })
        .chain(std::iter::once(Bar {
            ts: NOW - 60,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 1.0,
        }))
        .collect();
    store_minutes(conn, Coin::LTC, &bars).await;
    let retention = RetentionSettings {
        candles_days: 1,
        ..RetentionSettings::default()
    };
    runner(conn, retention).maintenance(NOW).await.unwrap();
    assert_eq!(count(conn, "SELECT COUNT(*) FROM candles").await, 1);
}
