//! `coincast import <path>...`: loads history files (CryptoDataDownload CSV, freqtrade JSON) into
//! `candles`. The format and bar size are detected (`models::history`); the coin comes from the
//! file name or the CSV's symbol. A file is imported whole or not at all (one transaction), and
//! rows are upserted, so importing the same file twice changes nothing.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use models::history::{self, Bar, History};
use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, EntityTrait, TransactionTrait};
use shared::Coin;

use crate::entities::candle;

/// Rows per INSERT statement (11 columns: well under SQLite's and PostgreSQL's bind limits).
const BATCH: usize = 1000;

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

/// The coin a history file is about: from its file name, else from the CSV's symbol.
pub fn coin_for(path: &Path, parsed: &History) -> Option<Coin> {
    coin_in_name(path).or_else(|| parsed.symbol.as_deref().and_then(coin_in))
}

/// The coin a file name mentions (`Bitstamp_BTCUSD_1h.csv`, `XRP_USDT-1m.json`).
pub fn coin_in_name(path: &Path) -> Option<Coin> {
    coin_in(&path.file_name()?.to_string_lossy())
}

fn coin_in(s: &str) -> Option<Coin> {
    let upper = s.to_ascii_uppercase();
    Coin::ALL.into_iter().find(|c| upper.contains(c.ticker()))
}

/// Upserts bars of one coin and bar size inside an open transaction or connection.
pub async fn upsert_candles<C: sea_orm::ConnectionTrait>(
    conn: &C,
    coin: Coin,
    interval_s: i64,
    bars: &[Bar],
    source: &str,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<(), sea_orm::DbErr> {
    let fetched_at = chrono::Utc::now().timestamp();
    let interval = i32::try_from(interval_s).unwrap_or(i32::MAX);
    for chunk in bars.chunks(BATCH) {
        let models = chunk.iter().map(|b| candle::ActiveModel {
            coin: sea_orm::Set(coin.ticker().to_owned()),
            interval_s: sea_orm::Set(interval),
            ts: sea_orm::Set(b.ts),
            open: sea_orm::Set(b.open),
            high: sea_orm::Set(b.high),
            low: sea_orm::Set(b.low),
            close: sea_orm::Set(b.close),
            volume: sea_orm::Set(b.volume),
            source: sea_orm::Set(source.to_owned()),
            fetched_at: sea_orm::Set(fetched_at),
        });
        candle::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([
                    candle::Column::Coin,
                    candle::Column::IntervalS,
                    candle::Column::Ts,
                ])
                .update_columns([
                    candle::Column::Open,
                    candle::Column::High,
                    candle::Column::Low,
                    candle::Column::Close,
                    candle::Column::Volume,
                    candle::Column::Source,
                    candle::Column::FetchedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        progress(chunk.len());
    }
    Ok(())
}

/// Imports one file: parse it completely, then write it in one transaction.
pub async fn import_file(
    db: &DatabaseConnection,
    path: &Path,
    progress: &mut (dyn FnMut(usize) + Send),
) -> anyhow::Result<ImportReport> {
    let started = Instant::now();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let parsed = history::parse(&text).map_err(|e| e.in_file(path.display().to_string()))?;
    let coin = coin_for(path, &parsed).with_context(|| {
        format!(
            "{}: cannot tell the coin (no BTC, LTC or XRP in the name or symbol)",
            path.display()
        )
    })?;
    let source = format!(
        "import:{}",
        path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    );
    let txn = db.begin().await?;
    upsert_candles(&txn, coin, parsed.interval_s, &parsed.bars, &source, progress)
        .await
        .with_context(|| format!("{}: writing candles", path.display()))?;
    txn.commit().await?;
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

/// Imports a daily or sampled series file (Yahoo CSV, blockchain.com chart CSV) as `series`, in
/// one transaction: a bad line rejects the whole file.
pub async fn import_series(
    db: &DatabaseConnection,
    series: &str,
    path: &Path,
) -> anyhow::Result<SeriesImport> {
    let started = Instant::now();
    anyhow::ensure!(
        !series.is_empty()
            && series.len() <= 64
            && series.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "a series id is 1 to 64 letters, digits or underscores, not {series:?}"
    );
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let obs = models::series::parse_csv(&text).map_err(|e| e.in_file(path.display().to_string()))?;
    let points: Vec<crate::collectors::Point> = obs
        .iter()
        .map(|o| crate::collectors::Point {
            ts: o.ts,
            value: o.value,
        })
        .collect();
    let source = format!(
        "import:{}",
        path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    );
    let mut source = source;
    source.truncate(64);
    let txn = db.begin().await?;
    crate::store::upsert_series(&txn, series, &source, &points).await?;
    txn.commit().await?;
    Ok(SeriesImport {
        rows: points.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
