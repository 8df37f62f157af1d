//! `coincast backfill`: minute-candle history from Bitstamp in pages of up to 1000 candles, with a
//! pause between pages, retries with backoff, and a cursor in `app_meta` so an interrupted
//! backfill resumes where it stopped.

use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use sea_orm::DatabaseConnection;
use shared::Coin;

use crate::collectors::{self, FetchError, bitstamp};
use crate::import::upsert_candles;
use crate::store;

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
    pub retries: u32,
}

impl Backfill<'_> {
    fn cursor_key(coin: Coin, from: i64, to: i64) -> String {
        format!("backfill.{}.{from}.{to}", coin.ticker())
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
        let key = Self::cursor_key(coin, from, to);
        let stored = store::meta_get(self.db, &key)
            .await?
            .and_then(|v| v.parse::<i64>().ok());
        let resumed = stored.is_some();
        let mut cursor = stored.unwrap_or(from);
        let (mut pages, mut rows) = (0, 0);
        while cursor <= to {
            let limit = ((to - cursor) / 60 + 1).min(PAGE);
            let url = collectors::join(
                self.base_url,
                &bitstamp::ohlc_path(coin, limit as u32, Some(cursor)),
            );
            let bars = self.fetch_page(&url).await.with_context(|| {
                format!("backfill of {coin} stopped at {cursor}; run the same command again to resume")
            })?;
            let bars: Vec<_> = bars
                .into_iter()
                .filter(|b| b.ts >= cursor && b.ts <= to)
                .collect();
            if !bars.is_empty() {
                upsert_candles(self.db, coin, 60, &bars, "bitstamp", &mut |_| {}).await?;
            }
            rows += bars.len();
            pages += 1;
            // An empty page (before the pair was listed, or an exchange outage) moves on a page.
            cursor = bars.last().map_or(cursor + limit * 60, |b| b.ts + 60);
            store::meta_set(self.db, &key, &cursor.to_string()).await?;
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

    async fn fetch_page(&self, url: &str) -> Result<Vec<models::history::Bar>, FetchError> {
        let mut delay = Duration::from_millis(500);
        let mut attempt = 0;
        loop {
            let result = async {
                let body = collectors::get_text(self.client, url, self.timeout).await?;
                Ok::<_, FetchError>(bitstamp::parse_ohlc(&body)?.1)
            }
            .await;
            match result {
                Ok(bars) => return Ok(bars),
                Err(e) if attempt < self.retries => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "backfill page failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Today's last completed minute, for a backfill without `--to`.
pub fn last_completed_minute() -> i64 {
    Utc::now().timestamp().div_euclid(60) * 60 - 60
}
