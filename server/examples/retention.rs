//! `scripts/retention` runs this: a simulated month (or `--days N`) of replay mode at accelerated
//! time, through the library, then the database size and this process's memory.
//!
//! Every simulated minute does what the jobs of a replay server write, with the clock passed in:
//! the replayed minute candles of the three coins (`db::candles::upsert_candles`), one prediction
//! row per model due (the live tick's rows; real tract inference every `--infer-every` minutes,
//! the same row shape otherwise: the subject is storage, not inference speed), scoring
//! (`predict::score::score_due`, every 5 minutes), apalis's job rows (one `Done` row per candles and predict tick,
//! one per maintenance tick, as the job table gets them), and every 15 minutes the `maintenance`
//! job's pruning (`Runner::maintenance`) with the given retention.
//!
//! Usage: `cargo run -p server --release --example retention -- [--days 30]
//!   [--predictions-days 7] [--candles-days 14] [--infer-every 60] [--dir DIR]`

#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use coincast::clock::Clock;
use coincast::clock::{DAY_S, MINUTE_S};
use coincast::collect::replay::Replay;
use coincast::collect::run::Collectors;
use coincast::config::{RetentionSettings, Settings};
use coincast::db;
use coincast::jobs::Runner;
use coincast::predict::registry::Registry;
use coincast::predict::{score, tick};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

struct Args {
    days: i64,
    predictions_days: i64,
    candles_days: i64,
    infer_every: i64,
    dir: Option<PathBuf>,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        days: 30,
        predictions_days: 7,
        candles_days: 14,
        infer_every: 60,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--days" => a.days = value.parse()?,
            "--predictions-days" => a.predictions_days = value.parse()?,
            "--candles-days" => a.candles_days = value.parse()?,
            "--infer-every" => a.infer_every = value.parse::<i64>()?.max(1),
            "--dir" => a.dir = Some(PathBuf::from(value)),
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    Ok(a)
}

/// `VmRSS` and `VmHWM` (peak) of this process, KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The SQLite file with its WAL, bytes.
fn db_bytes(dir: &Path) -> u64 {
    ["coincast.db", "coincast.db-wal", "coincast.db-shm"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

async fn count(db: &DatabaseConnection, table: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) FROM {table}"),
        ))
        .await?
        .context("COUNT returned no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn report(db: &DatabaseConnection, dir: &Path, day: f64, started: Instant) -> anyhow::Result<()> {
    let (rss, peak) = memory_kib();
    println!(
        "day {day:>5.1}  candles {:>7}  predictions {:>7}  jobs {:>6}  status {:>3}  db {:>6.1} MiB  rss {:>5.1} MiB (peak {:>5.1})  {:>4} s",
        count(db, "candles").await?,
        count(db, "predictions").await?,
        count(db, "Jobs").await?,
        count(db, "source_status").await?,
        db_bytes(dir) as f64 / 1_048_576.0,
        rss as f64 / 1024.0,
        peak as f64 / 1024.0,
        started.elapsed().as_secs()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let temp = tempfile::tempdir()?;
    let dir = a.dir.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let mut settings: Settings = Settings::defaults()?.build()?.try_deserialize()?;
    settings.data_dir = dir.clone();
    let conn = db::open(&settings).await?;
    apalis_sqlite::SqliteStorage::setup(conn.get_sqlite_connection_pool()).await?;
    // The minute sample: a new candle every minute, as live collection stores them.
    let replay = Arc::new(Replay::bundled(coincast::config::ReplaySample::Minutes2021)?);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/artifacts");
    // The models of the coins the minute sample holds (BTC, LTC and XRP).
    let coins: Vec<shared::Coin> = replay.coins().collect();
    let registry = Registry::load_serving(&root, &coins)?;
    let kept = coincast::predict::minutes::MinuteCache::default();
    let mut runner = Runner::collecting(Collectors::new(
        conn.clone(),
        settings.upstream.clone(),
        None,
        Clock::system(),
    )?);
    runner.retention = RetentionSettings {
        predictions_days: a.predictions_days,
        candles_days: a.candles_days,
        ..RetentionSettings::default()
    };
    println!(
        "simulating {} days of replay: retention predictions {} d, candles {} d, Done jobs {} h, other jobs {} d; inference every {} min",
        a.days,
        a.predictions_days,
        a.candles_days,
        runner.retention.done_jobs_hours,
        runner.retention.failed_jobs_days,
        a.infer_every
    );
    let started = Instant::now();
    let start = coincast::clock::current_minute();
    let models = registry.all();
    let source = replay.source().stored();
    let mut job_id: u64 = 0;
    let mut insert_job = |t: i64, queue: &str| {
        job_id += 1;
        // apalis stores the encoded tick and its metadata; a similar size.
        format!(
            "('{{\"timestamp\":{t}}}', 'sim-{job_id:012}', '{queue}', 'Done', 1, 25, {t}, 'Ok(())', {t}, {t}, '{{}}')"
        )
    };
    for i in 0..a.days * DAY_S / MINUTE_S {
        let t = start + i * MINUTE_S;
        // The candles job at second 5: the replay's completed minutes.
        let shift = replay.shift(&conn, t + 5).await?;
        for coin in replay.coins() {
            let latest = db::candles::latest_of(&conn, coin, 60).await?.map(|c| c.ts);
            let bars = replay.due(coin, shift, t + 5, latest);
            db::candles::upsert_candles(&conn, coin, 60, &bars, &source, t + 5, &mut |_| {}).await?;
        }
        // The predict job at second 20: the models due, then scoring.
        if i % a.infer_every == 0 {
            tick::tick(&conn, &registry, &kept, 60, t, t + 20).await?;
        }
        let mut closes = std::collections::HashMap::new();
        for coin in replay.coins() {
            let close = db::candles::latest_of(&conn, coin, 60)
                .await?
                .map_or(1.0, |c| c.close);
            closes.insert(coin, close);
        }
        let mut rows = Vec::new();
        for m in models.iter().filter(|m| tick::due(m.card.horizon, 60, t)) {
            let reference = closes.get(&m.card.coin).copied().unwrap_or(1.0);
            rows.push(db::predictions::new_row(
                m.card.coin,
                m.card.horizon,
                t,
                0.5,
                reference,
                &m.card.id,
                false,
            ));
        }
        db::predictions::insert(&conn, rows, t + 20).await?;
        // Scoring every 5 minutes scores the same rows with fewer empty queries.
        if t % 300 == 0 {
            score::score_due(&conn, 60, t + 20).await?;
        }
        let mut values = vec![
            insert_job(t + 5, "coincast::candles"),
            insert_job(t + 20, "coincast::predict"),
        ];
        // The maintenance job on the slow cron.
        if t % 900 == 0 {
            runner.maintenance(t + 10).await?;
            values.push(insert_job(t + 10, "coincast::maintenance"));
        }
        conn.execute_unprepared(&format!(
            "INSERT INTO Jobs (job, id, job_type, status, attempts, max_attempts, run_at, last_result, lock_at, done_at, metadata) VALUES {}",
            values.join(", ")
        ))
        .await?;
        if (i + 1) % (DAY_S / MINUTE_S) == 0 {
            report(&conn, &dir, (i + 1) as f64 * 60.0 / DAY_S as f64, started).await?;
        }
    }
    conn.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    println!("final (after a WAL checkpoint):");
    report(&conn, &dir, a.days as f64, started).await?;
    Ok(())
}
