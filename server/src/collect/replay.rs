//! Offline replay: recorded real minute candles served as if they were live, so the whole
//! pipeline (collect, predict, score, show) runs with no internet.
//!
//! Times are shifted by a whole number of minutes: at the first start, the recorded minute
//! `first + warm-up` becomes the current minute, so the warm-up (enough history for the longest
//! model's features) is "already collected" and every later recorded minute arrives one per real
//! minute. The shift is kept in the database (`app_meta`), so a restarted server continues the
//! same timeline instead of rewriting history. When the recording runs out, the replay starts over
//! from its first minute, placed right after its last (a price jump at the seam, logged).
//!
//! Candles replayed are stored with source `replay:<dataset>`, never mistaken for live ones.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use anyhow::Context;
use chrono::DateTime;
use models::history::{self, Bar};
use sea_orm::ConnectionTrait;
use shared::{Coin, ReplayInfo};

use crate::collect::Point;
use crate::collect::sources::SeriesId;
use crate::db::meta;

/// The bundled sample: 8 days of Binance BTC/USDT, LTC/USDT, XRP/USDT minute candles, 2021-05-12 20:41 to
/// 2021-05-20 20:40 UTC (cut from ../shared/data/binance-1m-2021-04_2021-05b; see replay/README.md).
const BUNDLED: &[u8] = include_bytes!("../../replay/binance-1m-2021-05.csv.gz");
/// The daily market closes over the same weeks (gold GC=F, S&P 500 as SPY, oil CL=F, MSCI World as
/// URTH; cut from ../shared/data/macro-daily-yahoo), replayed with the same shift so the models
/// that use market series can predict too.
const BUNDLED_MARKETS: &[u8] = include_bytes!("../../replay/markets-2021-05.csv.gz");
const BUNDLED_ID: &str = "binance-1m-2021-05";
const BUNDLED_NAME: &str = "binance-1m-2021-05 (bundled sample: Binance BTC/USDT, LTC/USDT, XRP/USDT)";

/// History shown as already collected at the first start (the 12 h models need about four days).
const WARM_UP_S: i64 = 5 * crate::clock::DAY_S;

/// A loaded recording.
#[derive(Debug)]
pub struct Replay {
    /// A short id (stored with each replayed candle as `replay:<id>`).
    id: String,
    dataset: String,
    bars: BTreeMap<Coin, Vec<Bar>>,
    /// Daily series replayed beside the candles (series id → points, oldest first).
    series: BTreeMap<SeriesId, Vec<Point>>,
    first: i64,
    last: i64,
    /// The shift last read or set (it changes only when a cycle ends), so readers need no query.
    known_shift: std::sync::Mutex<Option<i64>>,
}

impl Replay {
    /// The replay the settings ask for (`replay.enabled`, `replay.dir`), if any: what `serve`
    /// and `worker` load at start.
    pub fn from_settings(settings: &crate::config::ReplaySettings) -> anyhow::Result<Option<Self>> {
        if !settings.enabled {
            return Ok(None);
        }
        let replay = match &settings.dir {
            Some(dir) => Replay::from_dir(dir)?,
            None => Replay::bundled()?,
        };
        tracing::info!(
            dataset = replay.dataset(),
            "replaying recorded candles instead of live ones"
        );
        Ok(Some(replay))
    }

    /// The sample bundled in the binary.
    pub fn bundled() -> anyhow::Result<Self> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(BUNDLED)
            .read_to_string(&mut text)
            .context("decompressing the bundled replay sample")?;
        let mut replay = Self::from_sample_csv(BUNDLED_ID, BUNDLED_NAME, &text)?;
        let mut markets = String::new();
        flate2::read::GzDecoder::new(BUNDLED_MARKETS)
            .read_to_string(&mut markets)
            .context("decompressing the bundled market series")?;
        for (i, line) in markets.lines().enumerate().skip(1) {
            let mut f = line.split(',');
            let (Some(name), Some(ts), Some(value)) = (f.next(), f.next(), f.next()) else {
                anyhow::bail!("bundled market series line {}: too few fields", i + 1);
            };
            let point = Point {
                ts: ts
                    .parse()
                    .with_context(|| format!("bundled market series line {}", i + 1))?,
                value: value
                    .parse()
                    .with_context(|| format!("bundled market series line {}", i + 1))?,
            };
            let series: SeriesId = name
                .parse()
                .map_err(|e: String| anyhow::anyhow!("bundled market series line {}: {e}", i + 1))?;
            replay.series.entry(series).or_default().push(point);
        }
        Ok(replay)
    }

    /// Minute-candle files in `dir`, in any format `coincast import` reads (feather, JSON, jsongz,
    /// CSV), one coin per file (named in the file name, as `BTC_USDT-1m.feather`). A freqtrade data
    /// folder works as it is: files whose name states another timeframe (`-5m`, `-1h`) are
    /// passed over.
    pub fn from_dir(dir: &Path) -> anyhow::Result<Self> {
        let mut bars: BTreeMap<Coin, Vec<Bar>> = BTreeMap::new();
        let paths = history::candle_files(dir)
            .with_context(|| format!("reading replay folder {}", dir.display()))?
            .into_iter()
            .filter(|p| history::timeframe_in_name(p).is_none_or(|s| s == 60));
        for path in paths {
            let parsed = history::read(&path)?;
            let coin = history::coin_for(&path, &parsed).with_context(|| {
                format!(
                    "{}: cannot tell the coin: name the file as freqtrade does (ETH_USDT-1m.feather)",
                    path.display()
                )
            })?;
            anyhow::ensure!(
                parsed.interval_s == 60,
                "{}: replay needs 1-minute candles, this file has {} s bars",
                path.display(),
                parsed.interval_s
            );
            bars.entry(coin).or_default().extend(parsed.bars);
        }
        let name = dir
            .file_name()
            .map_or_else(|| "files".into(), |n| n.to_string_lossy().into_owned());
        Self::new(format!("dir:{name}"), format!("files in {}", dir.display()), bars)
    }

    fn from_sample_csv(id: &str, name: &str, text: &str) -> anyhow::Result<Self> {
        let mut bars: BTreeMap<Coin, Vec<Bar>> = BTreeMap::new();
        for (i, line) in text.lines().enumerate().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let parse = |k: usize| -> anyhow::Result<f64> {
                f.get(k)
                    .and_then(|v| v.parse::<f64>().ok())
                    .with_context(|| format!("replay sample line {}: field {k}", i + 1))
            };
            let coin: Coin = f
                .first()
                .and_then(|c| c.parse().ok())
                .with_context(|| format!("replay sample line {}: coin", i + 1))?;
            bars.entry(coin).or_default().push(Bar {
                ts: parse(1)? as i64,
                open: parse(2)?,
                high: parse(3)?,
                low: parse(4)?,
                close: parse(5)?,
                volume: parse(6)?,
            });
        }
        Self::new(id.to_owned(), name.to_owned(), bars)
    }

    fn new(id: String, dataset: String, mut bars: BTreeMap<Coin, Vec<Bar>>) -> anyhow::Result<Self> {
        // Characters, not bytes: a folder name's multi-byte character must not be cut (a panic),
        // and `replay:<id>` then fits the 64 characters of a candle's `source` (PostgreSQL's
        // VARCHAR(64) counts characters).
        let id: String = id.chars().take(40).collect();
        for series in bars.values_mut() {
            series.sort_by_key(|b| b.ts);
            series.dedup_by_key(|b| b.ts);
        }
        let first = bars.values().filter_map(|b| b.first()).map(|b| b.ts).min();
        let last = bars.values().filter_map(|b| b.last()).map(|b| b.ts).max();
        let (Some(first), Some(last)) = (first, last) else {
            anyhow::bail!("the replay data {dataset} holds no candles");
        };
        anyhow::ensure!(
            last - first >= 86_400,
            "the replay data {dataset} spans less than a day"
        );
        Ok(Replay {
            id,
            dataset,
            bars,
            series: BTreeMap::new(),
            first,
            last,
            known_shift: std::sync::Mutex::new(None),
        })
    }

    /// Where replayed candles come from (stored as `replay:<id>`).
    pub fn source(&self) -> crate::ids::Origin {
        crate::ids::Origin::Replay(self.id.clone())
    }

    /// The data set's name.
    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    /// The coins it holds.
    pub fn coins(&self) -> impl Iterator<Item = Coin> + '_ {
        self.bars.keys().copied()
    }

    /// The length of one pass through the recording, seconds (whole minutes).
    fn cycle_s(&self) -> i64 {
        self.last - self.first + 60
    }

    /// The shift that makes recorded minute `first + warm-up` the minute of `now`.
    fn initial_shift(&self, now: i64) -> i64 {
        let warm_up = WARM_UP_S.min(self.cycle_s() * 3 / 4);
        now.div_euclid(60) * 60 - (self.first + warm_up)
    }

    /// What `/api/health` and `/api/sources` show.
    pub fn info(&self, shift_s: i64) -> ReplayInfo {
        ReplayInfo {
            dataset: self.dataset.clone(),
            recorded_from: DateTime::from_timestamp(self.first, 0).unwrap_or_default(),
            recorded_to: DateTime::from_timestamp(self.last, 0).unwrap_or_default(),
            shift_seconds: shift_s,
        }
    }

    /// The shift in force: stored, or set now on the first start. Moves to the next cycle when the
    /// recording has run out.
    pub async fn shift(&self, db: &impl ConnectionTrait, now: i64) -> anyhow::Result<i64> {
        let key = self.meta_key();
        let stored = meta::meta_get(db, &key)
            .await?
            .and_then(|v| v.parse::<i64>().ok());
        let mut shift = match stored {
            Some(s) => s,
            None => self.initial_shift(now),
        };
        while now - 60 - shift > self.last {
            shift += self.cycle_s();
            tracing::info!(dataset = %self.dataset, shift, "replay reached the end of its recording: starting over");
        }
        if stored != Some(shift) {
            meta::meta_set(db, &key, &shift.to_string(), now).await?;
        }
        self.remember(shift);
        Ok(shift)
    }

    /// The shift stored by the collector, without setting one (for read-only callers).
    pub async fn stored_shift(&self, db: &impl ConnectionTrait) -> Result<Option<i64>, sea_orm::DbErr> {
        if let Some(shift) = self.known_shift.lock().ok().and_then(|s| *s) {
            return Ok(Some(shift));
        }
        let stored = meta::meta_get(db, &self.meta_key())
            .await?
            .and_then(|v| v.parse().ok());
        if let Some(shift) = stored {
            self.remember(shift);
        }
        Ok(stored)
    }

    fn remember(&self, shift: i64) {
        if let Ok(mut known) = self.known_shift.lock() {
            *known = Some(shift);
        }
    }

    fn meta_key(&self) -> String {
        format!("replay.shift.{}", self.id)
    }

    /// Whether daily series are replayed too.
    pub fn has_series(&self) -> bool {
        !self.series.is_empty()
    }

    /// The series points due by `now` (shifted like the candles), per series id.
    pub fn due_series(&self, shift: i64, now: i64) -> Vec<(SeriesId, Vec<Point>)> {
        self.series
            .iter()
            .map(|(name, points)| {
                let due = points
                    .iter()
                    .filter(|p| p.ts + shift <= now)
                    .map(|p| Point {
                        ts: p.ts + shift,
                        value: p.value,
                    })
                    .collect();
                (*name, due)
            })
            .collect()
    }

    /// The completed minutes of `coin` due by `now` (shifted to show as now), newer than `after`
    /// (shifted time; `None` for everything due). The minute in progress is never included.
    pub fn due(&self, coin: Coin, shift: i64, now: i64, after: Option<i64>) -> Vec<Bar> {
        let Some(bars) = self.bars.get(&coin) else {
            return Vec::new();
        };
        let until = now.div_euclid(60) * 60 - 60 - shift; // last completed minute, recorded time
        let from = after.map_or(i64::MIN, |a| a - shift + 1);
        // The shift of a later cycle maps recorded minutes again; only the current cycle's are due.
        let start = bars.partition_point(|b| b.ts < from);
        let end = bars.partition_point(|b| b.ts <= until);
        bars.get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|b| Bar {
                ts: b.ts + shift,
                ..*b
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_multi_byte_folder_name_makes_a_source_that_fits_its_column() {
        let bar = |ts| Bar {
            ts,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 1.0,
        };
        let bars = BTreeMap::from([(Coin::BTC, vec![bar(1_700_000_000), bar(1_700_086_400)])]);
        let id = format!("dir:{}", "é".repeat(80));
        let r = Replay::new(id, "files".into(), bars).unwrap();
        assert_eq!(r.source().stored().chars().count(), "replay:".len() + 40);
        assert!(r.source().stored().chars().count() <= 64);
    }

    #[test]
    fn the_bundled_sample_loads_with_all_coins() {
        let r = Replay::bundled().unwrap();
        assert_eq!(r.coins().collect::<Vec<_>>(), crate::coins::DEFAULT);
        // 8 days per coin; the three coins' minutes are a couple of minutes apart.
        assert!(
            (8 * 86_400..8 * 86_400 + 300).contains(&r.cycle_s()),
            "{}",
            r.cycle_s()
        );
        assert_eq!(r.bars[&Coin::BTC].len(), 8 * 1440);
    }

    #[test]
    fn minutes_arrive_one_per_minute_after_the_warm_up() {
        let r = Replay::bundled().unwrap();
        let now = 1_800_000_030; // 30 s into a minute
        let shift = r.initial_shift(now);
        let due = r.due(Coin::BTC, shift, now, None);
        // Five days of warm-up are due at once (less the minutes BTC starts after the earliest
        // coin), ending with the last completed minute.
        assert!((5 * 1440 - 5..=5 * 1440).contains(&due.len()), "{}", due.len());
        assert_eq!(due.last().unwrap().ts, now / 60 * 60 - 60);
        assert_eq!(due[0].close, r.bars[&Coin::BTC][0].close);
        let last = due.last().unwrap().ts;
        // A minute later exactly one more is due.
        let next = r.due(Coin::BTC, shift, now + 60, Some(last));
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].ts, last + 60);
        assert!(
            r.due(Coin::BTC, shift, now + 20, Some(last)).is_empty(),
            "the minute in progress is not due"
        );
    }

    #[test]
    fn market_series_are_replayed_with_the_candles_shift() {
        let r = Replay::bundled().unwrap();
        assert!(r.has_series());
        let now = 1_800_000_030;
        let shift = r.initial_shift(now);
        let due = r.due_series(shift, now);
        assert_eq!(
            due.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            ["gold", "sp500", "oil", "msci_world"]
        );
        for (name, points) in &due {
            assert!(
                points.len() >= 20,
                "{name}: {} daily closes before now",
                points.len()
            );
            assert!(points.iter().all(|p| p.ts <= now), "{name}");
        }
    }

    #[test]
    fn a_folder_of_hourly_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/Bitstamp_BTCUSD_1h.csv"
            ),
            dir.path().join("Bitstamp_BTCUSD_1h.csv"),
        )
        .unwrap();
        let err = Replay::from_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("1-minute"), "{err}");
    }
}
