//! kill -9 of the real binary mid-work (an import; a replaying server collecting and
//! predicting): the SQLite file stays sound (`integrity_check`), nothing committed is lost, no
//! (coin, interval, ts) or (coin, horizon, made_at) appears twice, no stray files are left, and
//! running the same command again completes the work.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use coincast::commands::import::TXN_ROWS;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

use crate::helpers::{eventually, repo_root};

/// `coincast --data-dir <data> ...` with no settings from the environment and quiet output.
/// `COINCAST_TEST_BIN` names another build of the binary (a copy taken with the test binary).
pub fn coincast(data: &Path) -> Command {
    let bin = std::env::var_os("COINCAST_TEST_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_coincast")), PathBuf::from);
    let mut c = Command::new(bin);
    c.current_dir(repo_root())
        .arg("--data-dir")
        .arg(data)
        .env_remove("COINCAST_CONFIG")
        .env_remove("COINCAST_DATA_DIR")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env("COINCAST__MODELS__DIR", repo_root().join("models/artifacts"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn db_file(data: &Path) -> PathBuf {
    data.join(coincast::db::SQLITE_FILE)
}

async fn open(data: &Path) -> DatabaseConnection {
    Database::connect(format!("sqlite://{}?mode=rw", db_file(data).display()))
        .await
        .unwrap()
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> Result<i64, sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await?
        .ok_or_else(|| sea_orm::DbErr::Custom("no row".into()))?;
    row.try_get_by_index::<i64>(0)
}

/// Polls `sql` (a count) until it reaches `at_least`, while `child` runs; panics if the child
/// ends first or it takes longer than `limit`.
async fn wait_for(child: &mut Child, data: &Path, sql: &str, at_least: i64, limit: Duration) -> i64 {
    let db = tokio::sync::OnceCell::new();
    eventually(limit, || {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the command ended ({status}) before it could be killed mid-work");
        }
        let db = &db;
        async move {
            if !db.initialized() && !db_file(data).exists() {
                return None;
            }
            let db = db.get_or_init(|| open(data)).await;
            scalar(db, sql).await.ok().filter(|&n| n >= at_least)
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{sql} stayed under {at_least}: {e}"))
}

fn kill_9(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL on unix
    child.wait().unwrap();
}

/// The database file is sound, has no duplicate keys, and the data dir has no stray files.
async fn sound(data: &Path) -> DatabaseConnection {
    let db = open(data).await;
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "ok");
    let dup_candles = "SELECT COUNT(*) FROM (SELECT coin, interval_s, ts FROM candles \
                       GROUP BY coin, interval_s, ts HAVING COUNT(*) > 1)";
    assert_eq!(scalar(&db, dup_candles).await.unwrap(), 0);
    let dup_predictions = "SELECT COUNT(*) FROM (SELECT coin, horizon, made_at FROM predictions \
                           GROUP BY coin, horizon, made_at HAVING COUNT(*) > 1)";
    assert_eq!(scalar(&db, dup_predictions).await.unwrap(), 0);
    let name = coincast::db::SQLITE_FILE;
    // The lock of the one process that runs the jobs on this file (`jobs::workers`).
    let allowed = [
        name.to_owned(),
        format!("{name}-wal"),
        format!("{name}-shm"),
        format!("{name}.jobs.lock"),
    ];
    for entry in std::fs::read_dir(data).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(allowed.contains(&file), "a stray file in the data dir: {file}");
    }
    db
}

#[tokio::test]
async fn kill_9_during_an_import_keeps_whole_transactions_and_a_rerun_completes() {
    if crate::helpers::sqlite_only(
        "checks the SQLite file's integrity after kill -9 (PostgreSQL's crash safety is its own)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (file, rows) = crate::import::big_history(dir.path(), 12);
    let rows = rows as i64;
    let started = Instant::now();
    let mut child = coincast(&data).arg("import").arg(&file).spawn().unwrap();
    let seen = wait_for(
        &mut child,
        &data,
        "SELECT COUNT(*) FROM candles",
        1,
        Duration::from_secs(20),
    )
    .await;
    kill_9(&mut child);

    let db = sound(&data).await;
    let committed = scalar(&db, "SELECT COUNT(*) FROM candles").await.unwrap();
    assert!(
        committed >= seen,
        "committed rows were lost: saw {seen}, {committed} left"
    );
    assert!(committed < rows, "the import had finished: make the file bigger");
    assert_eq!(
        committed % TXN_ROWS as i64,
        0,
        "only whole transactions are committed"
    );
    db.close().await.unwrap();

    let status = coincast(&data).arg("import").arg(&file).status().unwrap();
    assert!(status.success());
    let db = sound(&data).await;
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM candles").await.unwrap(), rows);
    eprintln!(
        "kill -9 | import of {rows} rows killed with {committed} committed ({} transactions): integrity ok, no duplicates, rerun -> {rows} rows; {:.1} s",
        committed / TXN_ROWS as i64,
        started.elapsed().as_secs_f64()
    );
}

/// Every stored candle and prediction, for "nothing committed was lost".
async fn rows_of(db: &DatabaseConnection) -> (BTreeSet<String>, BTreeSet<String>) {
    let all = |sql: &'static str| async move {
        db.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.try_get_by_index::<String>(0).unwrap())
            .collect::<BTreeSet<_>>()
    };
    (
        all("SELECT coin || ' ' || interval_s || ' ' || ts || ' ' || close FROM candles").await,
        all("SELECT coin || ' ' || horizon || ' ' || made_at || ' ' || p_up FROM predictions").await,
    )
}

/// Starts `coincast serve --replay` (jobs on, logging at `log`: a `RUST_LOG` filter) and returns
/// it with its log lines.
pub fn serve(data: &Path, log: &str) -> (Child, mpsc::Receiver<String>) {
    let mut child = coincast(data)
        .args(["serve", "--replay", "--host", "127.0.0.1", "--port", "0"])
        .env("RUST_LOG", log)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (child, rx)
}

/// The log lines up to and including the first that contains `what` (panics, with what it saw,
/// after `limit`).
pub fn lines_until(logs: &mpsc::Receiver<String>, what: &str, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match logs.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains(what);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(e) => panic!("no log line with {what:?} ({e}); saw:\n{}", seen.join("\n")),
        }
    }
}

/// Waits for a log line containing `what`.
fn wait_for_log(logs: &mpsc::Receiver<String>, what: &str, limit: Duration) -> String {
    lines_until(logs, what, limit).pop().unwrap_or_default()
}

#[tokio::test]
async fn kill_9_while_serving_keeps_what_was_committed_and_a_restart_completes() {
    if crate::helpers::sqlite_only(
        "checks the SQLite file's integrity after kill -9 (PostgreSQL's crash safety is its own)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let started = Instant::now();
    // Killed while collecting: the default replay's warm-up (five days of 5-minute candles, 1,440
    // a coin, for each of the ten default coins) is stored in one transaction per coin, so a coin
    // has all of it or none.
    let (mut child, _logs) = serve(&data, "info");
    wait_for(
        &mut child,
        &data,
        "SELECT COUNT(*) FROM candles",
        1,
        Duration::from_secs(25),
    )
    .await;
    kill_9(&mut child);
    let db = sound(&data).await;
    let mut per_coin = Vec::new();
    for coin in coincast::coins::DEFAULT {
        let sql = format!("SELECT COUNT(*) FROM candles WHERE coin = '{coin}'");
        let n = scalar(&db, &sql).await.unwrap();
        assert!(n == 0 || n >= 1_440, "{coin}: part of a warm-up ({n} candles)");
        per_coin.push(n);
    }
    db.close().await.unwrap();
    eprintln!(
        "kill -9 | serve --replay killed while collecting: candles per coin {per_coin:?} (all or nothing), integrity ok"
    );

    // Killed while predicting: as soon as the prediction backfill has written a batch.
    let (mut child, _logs) = serve(&data, "info");
    let seen = wait_for(
        &mut child,
        &data,
        "SELECT COUNT(*) FROM predictions WHERE backfilled",
        1,
        Duration::from_secs(25),
    )
    .await;
    kill_9(&mut child);
    let killed_at = started.elapsed();

    let db = sound(&data).await;
    let (candles, predictions) = rows_of(&db).await;
    assert!(
        predictions.len() as i64 >= seen,
        "committed predictions were lost"
    );
    let backfilled = "SELECT COUNT(*) FROM predictions WHERE backfilled";
    let backfilled_before = scalar(&db, backfilled).await.unwrap();
    db.close().await.unwrap();

    // The same command again: the backfill completes, everything from before is still there.
    let (mut child, logs) = serve(&data, "info");
    let line = wait_for_log(&logs, "predictions backfilled", Duration::from_secs(25));
    kill_9(&mut child);
    let db = sound(&data).await;
    let (candles_after, predictions_after) = rows_of(&db).await;
    assert!(
        candles.is_subset(&candles_after),
        "a committed candle was lost or changed"
    );
    assert!(
        predictions.is_subset(&predictions_after),
        "a committed prediction was lost or changed"
    );
    let made = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("made="))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap();
    assert_eq!(
        scalar(&db, backfilled).await.unwrap(),
        backfilled_before + made as i64,
        "the restart's backfill added exactly what it made, none twice"
    );
    eprintln!(
        "kill -9 | serve --replay killed at {:.1} s with {} candles and {} predictions ({backfilled_before} backfilled) committed: integrity ok, no duplicates; restart kept all and backfilled {made} more -> {} predictions; {:.1} s",
        killed_at.as_secs_f64(),
        candles.len(),
        predictions.len(),
        predictions_after.len(),
        started.elapsed().as_secs_f64()
    );
}
