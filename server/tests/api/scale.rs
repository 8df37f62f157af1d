//! Several processes on one database (PostgreSQL in a scaled-out setup; every test also runs on
//! SQLite): writers committing out of order lose no stream event and send none twice, a change
//! committed by one process reaches another's published state and stream, a model reload reaches
//! every process, concurrent status updates keep the newest data, starting processes never race
//! on migrations, and a long import file name fits its column.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coincast::db;
use coincast::db::changes::Change;
use coincast::db::entities::{prediction, source_status};
use coincast::http::published::{self, Refresher};
use coincast::jobs::Notify;
use sea_orm::{ConnectionTrait, EntityTrait};
use shared::{Coin, Horizon, ModelsResponse, Prediction};
use tokio::sync::broadcast::Receiver;

use crate::helpers::{
    Frontend, TestApp, eventually, on_postgres, repo_root, spawn_app, spawn_app_with, store_minutes,
};

/// What identifies a prediction whatever the event ids look like: coin, horizon, minute.
type Key = (Coin, Horizon, i64);

/// Every prediction's rows at `made_at` (one per coin and horizon).
fn rows_at(made_at: i64, p_up: f64) -> Vec<prediction::ActiveModel> {
    crate::helpers::COINS
        .into_iter()
        .flat_map(|c| Horizon::ALL.map(|h| (c, h)))
        .map(|(c, h)| db::predictions::new_row(c, h, made_at, p_up, 100.0, "test", false))
        .collect()
}

/// The predictions (or scores) carried by the events received so far, by kind, in order.
fn drain(rx: &mut Receiver<Arc<coincast::http::events::Event>>) -> BTreeMap<&'static str, Vec<Key>> {
    let mut out: BTreeMap<&'static str, Vec<Key>> = BTreeMap::new();
    while let Ok(e) = rx.try_recv() {
        let frame = std::str::from_utf8(&e.frame).unwrap();
        let name = frame
            .lines()
            .find_map(|l| l.strip_prefix("event: "))
            .unwrap()
            .trim()
            .to_owned();
        let kind = match name.as_str() {
            "prediction" => "prediction",
            "score" => "score",
            _ => continue,
        };
        let data = frame.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
        let p: Prediction = serde_json::from_str(data).unwrap();
        out.entry(kind)
            .or_default()
            .push((p.coin, p.horizon, p.made_at.timestamp()));
    }
    out
}

fn keys(rows_made_at: &[i64]) -> Vec<Key> {
    rows_made_at
        .iter()
        .flat_map(|&t| {
            crate::helpers::COINS
                .into_iter()
                .flat_map(move |c| Horizon::ALL.map(move |h| (c, h, t)))
        })
        .collect()
}

#[tokio::test]
async fn two_writers_committing_out_of_order_lose_no_event_and_send_none_twice() {
    let app = spawn_app(Frontend::Fixture).await;
    app.refresh().await;
    let (mut rx, _) = app.state.published.subscribe();
    let t0 = coincast::clock::current_minute() - 600;
    // Writer A takes its ids first and holds its transaction open (a slow commit) ...
    let (release, hold) = tokio::sync::oneshot::channel::<()>();
    let (inserted, a_inserted) = tokio::sync::oneshot::channel::<()>();
    let a = {
        let conn = app.state.db.clone();
        tokio::spawn(async move {
            db::serialized(&conn, move |txn| {
                Box::pin(async move {
                    db::predictions::insert(txn, rows_at(t0, 0.6), coincast::clock::now()).await?;
                    let _ = inserted.send(());
                    let _ = hold.await;
                    Ok(())
                })
            })
            .await
        })
    };
    a_inserted.await.unwrap();
    // ... writer B (another process, as far as the database can tell) inserts after it ...
    let b = {
        let conn = app.state.db.clone();
        tokio::spawn(async move {
            db::predictions::insert(&conn, rows_at(t0 + 60, 0.4), coincast::clock::now()).await
        })
    };
    // ... and waits for A: on PostgreSQL behind A's advisory lock (seen in `pg_locks`, so B has
    // certainly reached it); on SQLite behind the one write lock, which no query can watch: there
    // the order below is SQLite's own guarantee.
    if on_postgres() {
        let conn = app.state.db.clone();
        until(Duration::from_secs(10), move || {
            let conn = conn.clone();
            async move {
                let waiting = conn
                    .query_one_raw(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Postgres,
                        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
                         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                    ))
                    .await
                    .ok()
                    .flatten()
                    .and_then(|r| r.try_get::<i64>("", "n").ok());
                waiting.is_some_and(|n| n >= 1)
            }
        })
        .await;
    }
    // ... and a reader refreshes while A is still open: had B committed first, the reader's
    // cursor would pass A's lower ids for good.
    app.refresh().await;
    release.send(()).unwrap();
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
    app.refresh().await;
    let got = drain(&mut rx);
    assert_eq!(
        got.get("prediction").cloned().unwrap_or_default(),
        keys(&[t0, t0 + 60]),
        "every prediction once, in commit order"
    );
    let stored = prediction::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(stored.len(), 36);
}

/// A minute candle for `coin` opening at `ts` and closing at `close`.
async fn candle(app: &TestApp, coin: Coin, ts: i64, close: f64) {
    let bar = models::history::Bar {
        ts,
        open: close,
        high: close,
        low: close,
        close,
        volume: 1.0,
    };
    store_minutes(&app.state.db, coin, &[bar]).await;
}

#[tokio::test]
async fn a_second_scoring_in_the_same_second_is_not_passed_over_by_the_stream() {
    let app = spawn_app(Frontend::Fixture).await;
    let now = coincast::clock::now();
    // Due (the target minute has closed), not yet given up (within the hour after it).
    let made = coincast::clock::current_minute() - 2_400;
    // Two due 30-minute predictions: XRP's has the lower id.
    let first = db::predictions::new_row(Coin::XRP, Horizon::M30, made, 0.7, 1.0, "test", false);
    let second = db::predictions::new_row(Coin::BTC, Horizon::M30, made, 0.3, 1.0, "test", false);
    db::predictions::insert(&app.state.db, vec![first], coincast::clock::now())
        .await
        .unwrap();
    db::predictions::insert(&app.state.db, vec![second], coincast::clock::now())
        .await
        .unwrap();
    app.refresh().await;
    let (mut rx, _) = app.state.published.subscribe();
    let target = made + 1_800 - 60;
    // BTC's price arrives first: it is scored and streamed ...
    candle(&app, Coin::BTC, target, 0.9).await;
    let scored = coincast::predict::score::score_due(&app.state.db, 60, now)
        .await
        .unwrap();
    assert_eq!(scored, (1, 0));
    app.refresh().await;
    // ... then XRP's, scored in the same second: its lower id must not put it behind the cursor.
    candle(&app, Coin::XRP, target, 1.1).await;
    let scored = coincast::predict::score::score_due(&app.state.db, 60, now)
        .await
        .unwrap();
    assert_eq!(scored, (1, 0));
    app.refresh().await;
    let got = drain(&mut rx);
    assert_eq!(
        got.get("score").cloned().unwrap_or_default(),
        vec![(Coin::BTC, Horizon::M30, made), (Coin::XRP, Horizon::M30, made)]
    );
}

/// Waits (through [`eventually`]) until `f` holds, for at most `limit`; returns how long it took.
async fn until<F: std::future::Future<Output = bool>>(limit: Duration, mut f: impl FnMut() -> F) -> Duration {
    let started = Instant::now();
    eventually(limit, || {
        let holds = f();
        async move { holds.await.then_some(()) }
    })
    .await
    .unwrap_or_else(|e| panic!("not within {limit:?}: {e}"));
    started.elapsed()
}

#[tokio::test]
async fn a_commit_in_one_process_reaches_another_processes_answers_and_stream_at_once() {
    // The writer (the worker's stand-in) and an API process without jobs on the same database.
    let writer = spawn_app(Frontend::Fixture).await;
    let api = writer.sibling(|s| s.jobs.enabled = false).await;
    // On PostgreSQL the listener connects in the background; wait for it.
    if on_postgres() {
        let feed = api.state.changes.feed.clone().unwrap();
        until(Duration::from_secs(10), || {
            std::future::ready(feed.is_listening())
        })
        .await;
    }
    let res = api.get("/api/health").await;
    let mode = res.headers()["coincast-changes"].to_str().unwrap().to_owned();
    assert_eq!(mode, if on_postgres() { "listen" } else { "poll" });
    api.refresh().await;
    let (mut rx, _) = api.state.published.subscribe();
    let mut latencies = Vec::new();
    let mut newest = 0;
    for i in 0..5 {
        let t = coincast::clock::current_minute() - 3_600 + i * 60;
        newest = t;
        db::predictions::insert(&writer.state.db, rows_at(t, 0.55), coincast::clock::now())
            .await
            .unwrap();
        let committed = Instant::now();
        // What the writer's jobs do after every run: refresh itself, tell the others.
        Refresher(writer.state.clone()).changed().await;
        let mut got = Vec::new();
        until(Duration::from_secs(5), || {
            got.extend(drain(&mut rx).remove("prediction").unwrap_or_default());
            std::future::ready(got.len() >= 18)
        })
        .await;
        latencies.push(committed.elapsed());
        assert_eq!(got, keys(&[t]), "once each");
    }
    latencies.sort();
    eprintln!(
        "commit -> other process's stream: min {:?}, median {:?}, max {:?} ({})",
        latencies[0], latencies[2], latencies[4], mode
    );
    if on_postgres() {
        assert!(
            latencies[2] < Duration::from_secs(1),
            "heard, not polled: {latencies:?}"
        );
    }
    // The other process's answer holds the newest commit (an hour old, so expired: each entry
    // names it in its reason rather than offering it as the current prediction).
    let answer: shared::PredictionsResponse = api.get("/api/predictions").await.json().await.unwrap();
    let made = chrono::DateTime::from_timestamp(newest, 0)
        .unwrap()
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    assert_eq!(
        answer
            .predictions
            .iter()
            .filter(|p| p.not_made_reason.as_deref().is_some_and(|r| r.contains(&made)))
            .count(),
        18,
        "{answer:?}"
    );
}

/// How many models `/api/models` lists.
async fn count(app: &TestApp) -> usize {
    let res = app.get("/api/models").await;
    res.json::<ModelsResponse>().await.unwrap().models.len()
}

/// A copy of the shipped models, and two processes (no jobs) on one database serving it.
async fn two_processes_on_a_copy_of_the_models() -> (tempfile::TempDir, TestApp, TestApp) {
    let models = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo_root().join("models/artifacts")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, models.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let dir = models.path().to_path_buf();
    let first = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        s.models.dir = dir.clone();
    })
    .await;
    let other = first
        .sibling(|s| {
            s.jobs.enabled = false;
            s.models.dir = dir.clone();
        })
        .await;
    (models, first, other)
}

#[tokio::test]
async fn a_model_reload_announced_by_one_process_reaches_the_others() {
    let (models, first, other) = two_processes_on_a_copy_of_the_models().await;
    let dir = models.path().to_path_buf();
    assert_eq!(count(&other).await, 18);
    if on_postgres() {
        let feed = other.state.changes.feed.clone().unwrap();
        until(Duration::from_secs(10), || {
            std::future::ready(feed.is_listening())
        })
        .await;
    }
    // A model is retired (its card removed), and the first process reloads, as on SIGHUP.
    std::fs::remove_file(dir.join("XRP-12h.json")).unwrap();
    assert_eq!(first.state.registry.reload().unwrap(), 17);
    first.refresh().await;
    published::announce(&first.state, Change::Models).await;
    assert_eq!(count(&first).await, 17);
    if on_postgres() {
        let other = &other;
        let took = until(
            Duration::from_secs(5),
            move || async move { count(other).await == 17 },
        )
        .await;
        eprintln!("model reload reached the other process in {took:?}");
    } else {
        // SQLite has no channel between processes: the reload is each process's own (SIGHUP).
        // Whatever the other process has heard by now, it has published after its refresh: it
        // still serves all 18.
        eprintln!("SQLite: a model reload is per process (SIGHUP each)");
        other.refresh().await;
        assert_eq!(count(&other).await, 18);
    }
}

#[tokio::test]
async fn a_reload_announced_while_the_listener_was_away_is_caught_up_when_it_reconnects() {
    if !on_postgres() {
        eprintln!("SKIPPED on SQLite: there is no listener between processes to lose");
        return;
    }
    let (models, first, other) = two_processes_on_a_copy_of_the_models().await;
    let dir = models.path().to_path_buf();
    let feed = other.state.changes.feed.clone().unwrap();
    until(Duration::from_secs(10), || {
        std::future::ready(feed.is_listening())
    })
    .await;
    assert_eq!(count(&other).await, 18);
    // A model is retired and the first process reloads, but its announcement is lost: the
    // other's listener is away (its connection is cut just after).
    std::fs::remove_file(dir.join("XRP-12h.json")).unwrap();
    assert_eq!(first.state.registry.reload().unwrap(), 17);
    let db = other.state.db.clone();
    let cut = db
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()",
        )
        .await
        .unwrap();
    assert!(cut.rows_affected() >= 1, "a listener connection was cut");
    // When it reconnects it cannot know what it missed: it reloads its models too.
    let other = &other;
    let took = until(Duration::from_secs(20), move || async move {
        count(other).await == 17
    })
    .await;
    eprintln!("a reload missed while the listener was away was caught up {took:?} after the cut");
}

#[tokio::test]
async fn concurrent_status_updates_keep_the_newest_data_time_and_every_failure() {
    let app = spawn_app(Frontend::Fixture).await;
    let source = coincast::collect::sources::SourceId::Bitstamp(Coin::BTC);
    let mut tasks = Vec::new();
    for i in 0..40i64 {
        let conn = app.state.db.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                db::status::record_success(
                    &conn,
                    source,
                    Some(1_700_000_000 + i * 60),
                    coincast::clock::now(),
                )
                .await
            } else {
                db::status::record_failure(&conn, source, "upstream said no", coincast::clock::now()).await
            }
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let row = source_status::Entity::find_by_id(source.to_string())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.latest_data_at,
        Some(1_700_000_000 + 38 * 60),
        "the newest data time, whatever the order the writers ran in"
    );
    assert_eq!(row.last_error.as_deref(), Some("upstream said no"));
    assert!(row.last_success_at.is_some() && row.last_error_at.is_some());
}

#[tokio::test]
async fn processes_starting_at_once_apply_the_migrations_once_without_racing() {
    let Some(server) = crate::helpers::postgres_server() else {
        eprintln!(
            "SKIPPED on SQLite: the migration lock is PostgreSQL's (one process owns a SQLite file's writes at a time)"
        );
        return;
    };
    let fresh = crate::helpers::PgDatabase::create(&server).await;
    let mut settings = crate::helpers::default_settings();
    settings.database.url = Some(fresh.url());
    // A process that must not migrate refuses the empty database, naming the fix.
    let conn = db::connect(&settings).await.unwrap();
    let err = db::prepare(&conn, false).await.unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("not migrated") && msg.contains("coincast migrate"),
        "{msg}"
    );
    // Eight processes' start-ups at once.
    let mut starts = Vec::new();
    for _ in 0..8 {
        let settings = settings.clone();
        starts.push(tokio::spawn(async move {
            let conn = db::connect(&settings).await.unwrap();
            db::prepare(&conn, true).await
        }));
    }
    let known = {
        use migrations::MigratorTrait;
        migrations::Migrator::migrations().len()
    };
    for s in starts {
        assert_eq!(s.await.unwrap().unwrap(), known);
    }
    assert_eq!(db::prepare(&conn, false).await.unwrap(), known);
    let rows = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT COUNT(*) FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(rows as usize, known, "each migration recorded once");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn an_import_of_a_file_with_a_long_name_stores_a_source_that_fits_its_column() {
    let app = spawn_app(Frontend::Fixture).await;
    let dir = tempfile::tempdir().unwrap();
    // 150 characters, multi-byte ones among them (PostgreSQL's VARCHAR(64) counts characters).
    let name = format!("{}_BTC_USDT-1m.json", "é".repeat(60) + &"x".repeat(70));
    let path = dir.path().join(&name);
    std::fs::copy(repo_root().join("server/tests/fixtures/BTC_USDT-1m.json"), &path).unwrap();
    let report = coincast::commands::import::import_file(&app.state.db, &path, &mut |_| {})
        .await
        .unwrap();
    assert!(report.rows > 0);
    let sources: Vec<String> = coincast::db::entities::candle::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.source)
        .collect();
    assert_eq!(sources.len(), report.rows);
    assert!(
        sources
            .iter()
            .all(|s| s.starts_with("import:é") && s.chars().count() == 64)
    );
}

#[tokio::test]
async fn a_listener_whose_connection_drops_reconnects_and_catches_up() {
    if !on_postgres() {
        eprintln!("SKIPPED on SQLite: no listener (a process without jobs polls)");
        return;
    }
    let writer = spawn_app(Frontend::Fixture).await;
    let api = writer.sibling(|s| s.jobs.enabled = false).await;
    let feed = api.state.changes.feed.clone().unwrap();
    until(Duration::from_secs(10), || {
        std::future::ready(feed.is_listening())
    })
    .await;
    api.refresh().await;
    let (mut rx, _) = api.state.published.subscribe();
    // The server ends every listener's connection (a failover, an idle-connection reaper) ...
    let ended = writer
        .state
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert!(ended >= 1, "the listeners' connections: {ended}");
    // ... and a change is committed before (or while) they are back, with nobody told.
    let t = coincast::clock::current_minute() - 1_800;
    db::predictions::insert(&writer.state.db, rows_at(t, 0.5), coincast::clock::now())
        .await
        .unwrap();
    let mut got = Vec::new();
    let took = until(Duration::from_secs(10), || {
        got.extend(drain(&mut rx).remove("prediction").unwrap_or_default());
        std::future::ready(got.len() >= 18)
    })
    .await;
    eprintln!("caught up {took:?} after the listener's connection was ended");
    assert_eq!(got, keys(&[t]));
    until(Duration::from_secs(10), || {
        std::future::ready(feed.is_listening())
    })
    .await;
    let res = api.get("/api/health").await;
    assert_eq!(res.headers()["coincast-changes"], "listen");
}
