//! One collection run: fetch from an upstream (or the replay), store what it said, and record
//! how it went in the source's health row. Scheduling and retries are `jobs`' business.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use models::history::Bar;
use sea_orm::DatabaseConnection;
use shared::Coin;

use crate::clock::{Clock, MINUTE_S};
use crate::coins::Coins;
use crate::collect::replay::Replay;
use crate::collect::sources::{SeriesId, SourceId};
use crate::collect::{self as collectors, Point, bitinfocharts, bitstamp, blockchain, mempool, yahoo};
use crate::config::UpstreamSettings;
use crate::db;
use crate::ids::Origin;

/// A source whose collection failed (already recorded in its health row).
#[derive(Debug, thiserror::Error)]
#[error("{id}: {message}")]
pub struct SourceError {
    pub id: SourceId,
    pub message: String,
}

/// Everything a collection run needs.
pub struct Collectors {
    pub db: DatabaseConnection,
    client: reqwest::Client,
    upstream: UpstreamSettings,
    replay: Option<Arc<Replay>>,
    /// The coins collected (`[[coins]]`; the default list until [`Collectors::with_coins`]).
    coins: Coins,
    /// What "now" is: which minutes are due, what counts as from the future, when a row was
    /// fetched.
    clock: Clock,
}

/// Most minutes one candle run asks for: a run after a long outage heals up to this much; older
/// holes are for `coincast backfill`.
const MAX_HEAL_MINUTES: i64 = 1000;
/// Minutes re-requested on every run, so a missed run or a late correction heals itself.
const OVERLAP_MINUTES: i64 = 5;
/// Minutes asked for when nothing is stored yet: the two hours the 30 min to 2 h models need.
const FIRST_RUN_MINUTES: i64 = 120;

impl Collectors {
    pub fn new(
        db: DatabaseConnection,
        upstream: UpstreamSettings,
        replay: Option<Arc<Replay>>,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let client = collectors::http_client(Duration::from_millis(upstream.timeout_ms))?;
        Ok(Collectors {
            db,
            client,
            upstream,
            replay,
            coins: Coins::default(),
            clock,
        })
    }

    /// The same collectors for the configured coins.
    pub fn with_coins(mut self, coins: Coins) -> Self {
        self.coins = coins;
        self
    }

    /// The clock the collectors (and the jobs that run them) read.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The recording replayed instead of live candles, if any.
    pub fn replay(&self) -> Option<&Arc<Replay>> {
        self.replay.as_ref()
    }

    /// The bar size of the candles collected (see [`base_s`]).
    pub fn base_s(&self) -> i64 {
        crate::collect::base_s(self.replay.as_deref())
    }

    /// The chain sources: mempool.space's mempool and two blockchain.info charts.
    pub async fn chain(&self) -> Vec<Result<(), SourceError>> {
        vec![
            self.mempool().await,
            self.chart(SeriesId::Tps, "transactions-per-second").await,
            self.chart(SeriesId::MempoolCount, "mempool-count").await,
        ]
    }

    /// Tweets per day of every coin.
    pub async fn all_tweets(&self) -> Vec<Result<(), SourceError>> {
        let mut out = Vec::new();
        let coins = self.coins.all().iter();
        for c in coins.filter(|c| SeriesId::TWEET_COINS.contains(&c.coin)) {
            out.push(self.tweets(c.coin, &c.name).await);
        }
        out
    }

    /// The Yahoo market series.
    pub async fn markets(&self) -> Vec<Result<(), SourceError>> {
        let mut out = Vec::new();
        for series in SeriesId::MARKETS {
            out.push(self.market(series).await);
        }
        out
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.upstream.timeout_ms)
    }

    /// Runs `fetch` for `source`, records the outcome in its health row and logs it. `fetch`
    /// returns the newest data time it stored. The health row gets the short public form of a
    /// failure ([`public_message`]); the log line and the returned error keep the whole chain.
    async fn track<F>(&self, source: SourceId, fetch: F) -> Result<(), SourceError>
    where
        F: Future<Output = anyhow::Result<Option<i64>>>,
    {
        let fail = |message: String| SourceError { id: source, message };
        match fetch.await {
            Ok(latest) => {
                tracing::info!(source = %source, latest_data_at = latest, "collected");
                db::status::record_success(&self.db, source, latest, self.clock.now())
                    .await
                    .map_err(|e| fail(format!("recording success: {e}")))
            }
            Err(e) => {
                let message = format!("{e:#}");
                let public = public_message(&e);
                tracing::warn!(source = %source, error = %message, public = %public, "collection failed");
                if let Err(db) = db::status::record_failure(&self.db, source, &public, self.clock.now()).await
                {
                    tracing::error!(source = %source, error = %db, "could not record the failure");
                }
                Err(fail(message))
            }
        }
    }

    /// Minute candles of every coin: Bitstamp's, or the replay's due minutes (and its series).
    pub async fn candles(&self) -> Vec<Result<(), SourceError>> {
        let mut out = Vec::new();
        match &self.replay {
            Some(replay) => {
                let held: Vec<Coin> = replay.coins().collect();
                for coin in self
                    .coins
                    .all()
                    .iter()
                    .map(|c| c.coin)
                    .filter(|c| held.contains(c))
                {
                    let source = SourceId::Replay(coin);
                    out.push(self.track(source, self.replay_candles(replay, coin)).await);
                }
                if replay.has_series() {
                    out.push(
                        self.track(SourceId::ReplayMarkets, self.replay_series(replay))
                            .await,
                    );
                }
            }
            None => {
                for c in self.coins.all() {
                    out.push(
                        self.track(
                            SourceId::Bitstamp(c.coin),
                            self.bitstamp_candles(c.coin, &c.bitstamp),
                        )
                        .await,
                    );
                }
            }
        }
        out
    }

    async fn latest_candle(&self, coin: Coin) -> anyhow::Result<Option<i64>> {
        Ok(db::candles::latest_of(&self.db, coin, self.base_s())
            .await?
            .map(|c| c.ts))
    }

    async fn bitstamp_candles(&self, coin: Coin, pair: &str) -> anyhow::Result<Option<i64>> {
        let now_minute = self.clock.current_minute();
        let missing = match self.latest_candle(coin).await? {
            Some(ts) => (now_minute - ts) / MINUTE_S,
            None => FIRST_RUN_MINUTES,
        };
        let limit = (missing + OVERLAP_MINUTES).clamp(OVERLAP_MINUTES, MAX_HEAL_MINUTES);
        let bars = bitstamp::fetch_minutes(
            &self.client,
            &self.upstream.bitstamp,
            pair,
            limit,
            None,
            self.timeout(),
            self.clock.now(),
        )
        .await?;
        self.store_candles(coin, &bars, &Origin::BITSTAMP).await
    }

    async fn replay_candles(&self, replay: &Replay, coin: Coin) -> anyhow::Result<Option<i64>> {
        let now = self.clock.now();
        let shift = replay.shift(&self.db, now).await?;
        let after = self.latest_candle(coin).await?;
        let bars = replay.due(coin, shift, now, after);
        let source = replay.source();
        self.store_candles(coin, &bars, &source).await
    }

    async fn replay_series(&self, replay: &Replay) -> anyhow::Result<Option<i64>> {
        let now = self.clock.now();
        let shift = replay.shift(&self.db, now).await?;
        let mut latest = None;
        for (series, points) in replay.due_series(shift, now) {
            latest = latest.max(self.store_points(series, &replay.source(), &points).await?);
        }
        Ok(latest)
    }

    async fn store_candles(&self, coin: Coin, bars: &[Bar], origin: &Origin) -> anyhow::Result<Option<i64>> {
        if bars.is_empty() {
            return Ok(None);
        }
        // Whatever the source (Bitstamp parses this too; the replay is shifted to now), nothing
        // from the future or before 2009 is stored: the whole run is refused, as for a bad number.
        collectors::check_candle_times(bars, self.clock.now())?;
        // One transaction: readers see a run's candles all at once, never half of a long
        // catch-up, and each new minute's `price` event commits with it (never a minute without
        // its event). Serialized with the other writers of events, so ids commit in order.
        let (Some(first), Some(last)) = (bars.iter().map(|b| b.ts).min(), bars.iter().map(|b| b.ts).max())
        else {
            return Ok(None);
        };
        let now = self.clock.now();
        let bars = bars.to_vec();
        let source = origin.stored();
        let base_s = self.base_s();
        db::serialized(&self.db, move |txn| {
            Box::pin(async move {
                db::candles::upsert_candles(txn, coin, base_s, &bars, &source, now, &mut |_| {}).await?;
                db::events::record_prices(txn, coin, base_s, first, last, now).await
            })
        })
        .await
        .context("storing candles and their price events")?;
        Ok(Some(last))
    }

    async fn store_points(
        &self,
        series: SeriesId,
        origin: &Origin,
        points: &[Point],
    ) -> anyhow::Result<Option<i64>> {
        collectors::check_point_times(points, self.clock.now())?;
        db::series::upsert_series(&self.db, series, &origin.stored(), points, self.clock.now())
            .await
            .with_context(|| format!("storing {series}"))?;
        Ok(points.iter().map(|p| p.ts).max())
    }

    /// GETs a path of an upstream and returns the body.
    async fn get(&self, base: &str, path: &str) -> Result<String, collectors::FetchError> {
        collectors::get_text(&self.client, &collectors::join(base, path), self.timeout()).await
    }

    async fn mempool(&self) -> Result<(), SourceError> {
        self.track(SourceId::Mempool, async {
            let body = self.get(&self.upstream.mempool, "api/mempool").await?;
            let m = mempool::parse(&body)?;
            let ts = self.clock.current_minute();
            let point = |value| [Point { ts, value }];
            self.store_points(
                SeriesId::MempoolSpaceCount,
                &Origin::Upstream("mempool.space"),
                &point(m.count),
            )
            .await?;
            self.store_points(
                SeriesId::MempoolSpaceVsize,
                &Origin::Upstream("mempool.space"),
                &point(m.vsize),
            )
            .await
        })
        .await
    }

    /// A blockchain.info chart, ten days of it (idempotent upserts make the overlap harmless).
    async fn chart(&self, series: SeriesId, chart: &str) -> Result<(), SourceError> {
        self.track(SourceId::Blockchain(series), async {
            let path = format!("charts/{chart}?timespan=10days&format=json");
            let body = self.get(&self.upstream.blockchain, &path).await?;
            let points = blockchain::parse(&body)?;
            self.store_points(series, &Origin::Upstream("blockchain.info"), &points)
                .await
        })
        .await
    }

    async fn tweets(&self, coin: Coin, name: &str) -> Result<(), SourceError> {
        self.track(SourceId::Bitinfocharts(coin), async {
            let body = self
                .get(&self.upstream.bitinfocharts, &bitinfocharts::page(name))
                .await?;
            let points = bitinfocharts::parse(&body)?;
            self.store_points(
                SeriesId::Tweets(coin),
                &Origin::Upstream("bitinfocharts"),
                &points,
            )
            .await
        })
        .await
    }

    async fn market(&self, series: SeriesId) -> Result<(), SourceError> {
        self.track(SourceId::Yahoo(series), async {
            let symbol = series.yahoo_symbol().context("not a Yahoo series")?;
            let path = format!(
                "v8/finance/chart/{}?interval=1d&range=1mo",
                symbol.replace('^', "%5E")
            );
            let body = self.get(&self.upstream.yahoo, &path).await?;
            let (answered, points) = yahoo::parse(&body)?;
            if answered != symbol {
                return Err(anyhow::Error::from(collectors::FetchError::Malformed(format!(
                    "asked for {symbol}, Yahoo answered {answered}"
                ))));
            }
            self.store_points(series, &Origin::Upstream("yahoo"), &points)
                .await
        })
        .await
    }
}

/// The short, stable description of a failed collection that `/api/sources` shows: the
/// [`FetchError::public`](collectors::FetchError::public) form when fetching or parsing failed,
/// "storage error" when the database did, "internal error" otherwise. Never a URL, a payload
/// excerpt or a library's error chain.
pub fn public_message(e: &anyhow::Error) -> String {
    if let Some(fetch) = e.chain().find_map(|c| c.downcast_ref::<collectors::FetchError>()) {
        fetch.public()
    } else if e.chain().any(|c| c.downcast_ref::<sea_orm::DbErr>().is_some()) {
        "storage error".to_owned()
    } else {
        "internal error".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_described_publicly_without_their_chain() {
        let transport = anyhow::Error::from(collectors::FetchError::Transport(
            "error sending request for url (http://10.0.0.1/api): tcp connect error: refused".into(),
        ))
        .context("fetching");
        assert_eq!(public_message(&transport), "connection failed");
        let db =
            anyhow::Error::from(sea_orm::DbErr::Custom("disk I/O error".into())).context("storing candles");
        assert_eq!(public_message(&db), "storage error");
        assert_eq!(
            public_message(&anyhow::anyhow!("something else")),
            "internal error"
        );
    }
}
