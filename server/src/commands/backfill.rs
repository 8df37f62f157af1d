//! `coincast backfill`: minute-candle history from Bitstamp in pages of up to 1000 candles, with a
//! pause between pages, retries with backoff, and a cursor in `app_meta` so an interrupted
//! backfill resumes where it stopped.

use std::time::Duration;

use anyhow::Context;
use sea_orm::DatabaseConnection;
use shared::Coin;

use crate::cli::BackfillArgs;
use crate::clock::{self, MINUTE_S};
use crate::collect::{self, FetchError, bitstamp};
use crate::config::Settings;
use crate::db;
use crate::ids::Origin;
use crate::jobs::retry;

/// Retries of a failed page before the backfill stops (to be resumed by running it again).
pub const RETRIES: usize = 4;
/// The wait before the first retry of a page.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Candles per page (Bitstamp's maximum).
pub const PAGE: i64 = 1000;

/// What one coin's backfill did.
#[derive(Debug, Clone, PartialEq)]
pub struct BackfillReport {
    pub coin: Coin,
    pub pages: usize,
    pub rows: usize,
    /// True when it continued an earlier, interrupted run.
    pub resumed: bool,
    pub seconds: f64,
}

/// A backfill of one coin over `[from, to]` (Unix seconds, minute-aligned).
pub struct Backfill<'a> {
    pub db: &'a DatabaseConnection,
    pub base_url: &'a str,
    pub client: &'a reqwest::Client,
    pub timeout: Duration,
    pub pause: Duration,
    pub retries: usize,
    /// Where each coin's Bitstamp pair is configured.
    pub coins: &'a crate::coins::Coins,
}

impl Backfill<'_> {
    /// The resume cursor's key: the coin and the start, not the end (which defaults to "now",
    /// so a rerun of the same command line resumes rather than starting over).
    fn cursor_key(coin: Coin, from: i64) -> String {
        format!("backfill.{}.{from}", coin.ticker())
    }

    /// Runs (or resumes) the backfill; `progress` gets the cursor after each page.
    pub async fn run(
        &self,
        coin: Coin,
        from: i64,
        to: i64,
        progress: &mut dyn FnMut(i64),
    ) -> anyhow::Result<BackfillReport> {
        let started = std::time::Instant::now();
        anyhow::ensure!(from < to, "backfill: --from must be before --to");
        let key = Self::cursor_key(coin, from);
        let stored = db::meta::meta_get(self.db, &key)
            .await?
            .and_then(|v| v.parse::<i64>().ok());
        let resumed = stored.is_some();
        let mut cursor = stored.unwrap_or(from);
        let (mut pages, mut rows) = (0, 0);
        while cursor <= to {
            let limit = ((to - cursor) / MINUTE_S + 1).min(PAGE);
            let bars = self.fetch_page(coin, limit, cursor).await.with_context(|| {
                format!("backfill of {coin} stopped at {cursor}; run the same command again to resume")
            })?;
            let bars: Vec<_> = bars
                .into_iter()
                .filter(|b| b.ts >= cursor && b.ts <= to)
                .collect();
            if !bars.is_empty() {
                db::candles::upsert_candles(
                    self.db,
                    coin,
                    MINUTE_S,
                    &bars,
                    &Origin::BITSTAMP.stored(),
                    clock::now(),
                    &mut |_| {},
                )
                .await?;
            }
            rows += bars.len();
            pages += 1;
            // An empty page (before the pair was listed, or an exchange outage) moves on a page.
            cursor = bars.last().map_or(cursor + limit * MINUTE_S, |b| b.ts + MINUTE_S);
            db::meta::meta_set(self.db, &key, &cursor.to_string(), clock::now()).await?;
            progress(cursor);
            if cursor <= to && !self.pause.is_zero() {
                tokio::time::sleep(self.pause).await;
            }
        }
        Ok(BackfillReport {
            coin,
            pages,
            rows,
            resumed,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    async fn fetch_page(
        &self,
        coin: Coin,
        limit: i64,
        start: i64,
    ) -> Result<Vec<models::history::Bar>, FetchError> {
        let pair = self.coins.get(coin).map_or_else(
            || format!("{}usd", coin.ticker().to_ascii_lowercase()),
            |c| c.bitstamp.clone(),
        );
        retry::with_backoff("backfill page", self.retries, FIRST_BACKOFF, || {
            bitstamp::fetch_minutes(
                self.client,
                self.base_url,
                &pair,
                limit,
                Some(start),
                self.timeout,
                clock::now(),
            )
        })
        .await
    }
}

/// `coincast backfill`: every asked coin over the asked days, with a progress bar.
pub async fn run(db: &DatabaseConnection, args: BackfillArgs, settings: &Settings) -> anyhow::Result<()> {
    let from = args
        .from
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp());
    let to = match args.to {
        Some(day) => day.and_hms_opt(23, 59, 0).map_or(0, |t| t.and_utc().timestamp()),
        None => clock::last_completed_minute(),
    };
    let timeout = Duration::from_millis(settings.upstream.timeout_ms);
    let client = collect::http_client(timeout)?;
    let job = Backfill {
        db,
        base_url: &settings.upstream.bitstamp,
        client: &client,
        timeout,
        pause: Duration::from_millis(args.pause_ms),
        retries: RETRIES,
        coins: &settings.coins,
    };
    let coins = if args.coins.is_empty() {
        settings.coins.collected()
    } else {
        args.coins
    };
    for coin in coins {
        let bar = indicatif::ProgressBar::new(u64::try_from((to - from) / MINUTE_S + 1).unwrap_or(0))
            .with_message(format!("{coin} minutes"));
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} ({eta} left)")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let mut progress =
            |cursor: i64| bar.set_position(u64::try_from((cursor - from) / MINUTE_S).unwrap_or(0));
        let report = job.run(coin, from, to, &mut progress).await?;
        bar.finish_and_clear();
        println!(
            "{coin}: {} candles in {} pages, {:.1} s{}",
            report.rows,
            report.pages,
            report.seconds,
            if report.resumed { " (resumed)" } else { "" }
        );
    }
    Ok(())
}
