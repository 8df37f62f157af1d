//! `coincast import <path>...`: loads history files (CryptoDataDownload CSV, freqtrade JSON) into
//! `candles`. The format and bar size are detected (`models::history`); the coin comes from the
//! file name or the CSV's symbol. A file is parsed whole before anything is written, so a bad row
//! refuses the file with nothing written. The rows are then written in transactions of
//! [`TXN_ROWS`], [`TXN_PAUSE`] apart, so a running server's writers (collections, predictions)
//! wait for one of them at most, never for the whole file (SQLite has one writer). Rows are upserted: importing the same
//! file twice changes nothing, and an interrupted import (killed mid-way) is completed by running it
//! again.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use models::history;
use sea_orm::DatabaseConnection;
use shared::Coin;

use crate::cli::ImportArgs;
use crate::clock;
use crate::collect::Point;
use crate::collect::sources::SeriesId;
use crate::db;

/// Rows per write transaction: a few hundred milliseconds of holding SQLite's write lock.
pub const TXN_ROWS: usize = 10_000;
/// The pause between two transactions. A writer waiting for the lock (SQLite's busy handler)
/// retries at most every 100 ms: without a pause it would almost never find the lock free
/// between one commit and the next begin, and would wait for the whole file after all.
pub const TXN_PAUSE: std::time::Duration = std::time::Duration::from_millis(150);

/// The `source` stored with imported rows: `import:<file name>`, cut to the column's width.
fn import_source(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    crate::ids::Origin::Import(name.into_owned()).stored()
}

/// What one file import did.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub coin: Coin,
    pub interval_s: i64,
    pub rows: usize,
    pub seconds: f64,
}

impl ImportReport {
    /// Throughput, rows per second.
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.seconds.max(1e-9)
    }
}

/// Imports one file: parse it completely, then write it in transactions of [`TXN_ROWS`].
pub async fn import_file(
    db: &DatabaseConnection,
    path: &Path,
    progress: &mut (dyn FnMut(usize) + Send),
) -> anyhow::Result<ImportReport> {
    let started = Instant::now();
    let parsed = history::read(path)?;
    let coin = history::coin_for(path, &parsed).with_context(|| {
        format!(
            "{}: cannot tell the coin: name the file as freqtrade does (ETH_USDT-5m.feather) or after a known coin",
            path.display()
        )
    })?;
    let source = import_source(path);
    for (i, chunk) in parsed.bars.chunks(TXN_ROWS).enumerate() {
        if i > 0 {
            tokio::time::sleep(TXN_PAUSE).await;
        }
        let txn = db::begin_write(db).await?;
        db::candles::upsert_candles(
            &txn,
            coin,
            parsed.interval_s,
            chunk,
            &source,
            clock::now(),
            progress,
        )
        .await
        .with_context(|| format!("{}: writing candles", path.display()))?;
        txn.commit().await?;
    }
    Ok(ImportReport {
        coin,
        interval_s: parsed.interval_s,
        rows: parsed.bars.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What importing one series file did.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesImport {
    pub rows: usize,
    pub seconds: f64,
}

/// Imports a daily or sampled series file (Yahoo CSV, blockchain.com chart CSV) as `series`,
/// parsed whole first (a bad line rejects the whole file, nothing written), then written in
/// transactions of [`TXN_ROWS`].
pub async fn import_series(
    db: &DatabaseConnection,
    series: SeriesId,
    path: &Path,
) -> anyhow::Result<SeriesImport> {
    let started = Instant::now();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let obs = models::series::parse_csv(&text).map_err(|e| e.in_file(path.display().to_string()))?;
    let points: Vec<Point> = obs
        .iter()
        .map(|o| Point {
            ts: o.ts,
            value: o.value,
        })
        .collect();
    let source = import_source(path);
    for (i, chunk) in points.chunks(TXN_ROWS).enumerate() {
        if i > 0 {
            tokio::time::sleep(TXN_PAUSE).await;
        }
        let txn = db::begin_write(db).await?;
        db::series::upsert_series(&txn, series, &source, chunk, clock::now()).await?;
        txn.commit().await?;
    }
    Ok(SeriesImport {
        rows: points.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `coincast import`: every file, with a progress spinner for candle files.
pub async fn run(db: &DatabaseConnection, args: &ImportArgs) -> anyhow::Result<()> {
    if let Some(series) = args.series {
        for path in &args.paths {
            let report = import_series(db, series, path).await?;
            println!(
                "{}: {} points of {series} in {:.2} s",
                path.display(),
                report.rows,
                report.seconds
            );
        }
        return Ok(());
    }
    let mut paths = Vec::new();
    for path in &args.paths {
        if path.is_dir() {
            paths.extend(
                super::candle_inputs(std::slice::from_ref(path))?
                    .into_iter()
                    .map(|(p, _)| p),
            );
        } else {
            paths.push(path.clone());
        }
    }
    for path in &paths {
        let bar = indicatif::ProgressBar::new_spinner().with_message(path.display().to_string());
        let mut progress = |n: usize| bar.inc(n as u64);
        let report = import_file(db, path, &mut progress).await?;
        bar.finish_and_clear();
        println!(
            "{}: {} {} s bars of {} in {:.2} s ({:.0} rows/s)",
            path.display(),
            report.rows,
            report.interval_s,
            report.coin,
            report.seconds,
            report.rows_per_second()
        );
    }
    Ok(())
}
