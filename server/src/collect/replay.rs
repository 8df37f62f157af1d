//! Offline replay: recorded real candles (1-minute or 5-minute) served as if they were live, so
//! the whole pipeline (collect, predict, score, show) runs with no internet.
//!
//! Times are shifted by a whole number of bars: at the first start, the recorded bar
//! `first + warm-up` becomes the current one, so the warm-up (enough history for the longest
//! model's features) is "already collected" and every later recorded bar arrives when its time
//! has passed (one a minute, or one every 5 minutes). The replay's bar size is the deployment's
//! base (`Replay::bar_seconds`): everything that reads candles reads bars of that size. The shift
//! is kept in the database (`app_meta`), so a restarted server continues the same timeline
//! instead of rewriting history. When the recording runs out, the replay starts over from its
//! first bar, placed right after its last (a price jump at the seam, logged).
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

pub use crate::config::ReplaySample as Sample;

/// What each bundled recording (`replay.sample`, see replay/README.md) is: its name, and its
/// candles with the daily market closes over the same weeks (gold GC=F, S&P 500 as SPY, oil
/// CL=F, MSCI World as URTH; cut from ../shared/data/macro-daily-yahoo), replayed with the same
/// shift so the models that use market series can predict too.
fn sample_name(sample: Sample) -> &'static str {
    match sample {
        Sample::FiveMinutes2025 => {
            "binance-5m-2025-06 (bundled sample: Binance 5-minute candles of BTC, ETH, SOL, XRP, LTC, \
             DOGE, ADA, BCH, LINK and AVAX against USDT, 2025-06-01 to 2025-06-15)"
        }
        Sample::Minutes2021 => "binance-1m-2021-05 (bundled sample: Binance BTC/USDT, LTC/USDT, XRP/USDT)",
    }
}

fn sample_bytes(sample: Sample) -> (&'static [u8], &'static [u8]) {
    match sample {
        Sample::FiveMinutes2025 => (
            include_bytes!("../../replay/binance-5m-2025-06.csv.gz"),
            include_bytes!("../../replay/markets-2025-06.csv.gz"),
        ),
        Sample::Minutes2021 => (
            include_bytes!("../../replay/binance-1m-2021-05.csv.gz"),
            include_bytes!("../../replay/markets-2021-05.csv.gz"),
        ),
    }
}

/// History shown as already collected at the first start (the 12 h models need about four days).
const WARM_UP_S: i64 = 5 * crate::clock::DAY_S;

/// The bar sizes a replay takes: minutes (the live collectors' own) and 5 minutes (freqtrade's
/// usual timeframe, and all the data there is of most coins).
const REPLAYABLE_S: [i64; 2] = [60, 300];

/// A loaded recording.
#[derive(Debug)]
pub struct Replay {
    /// A short id (stored with each replayed candle as `replay:<id>`).
    id: String,
    dataset: String,
    bars: BTreeMap<Coin, Vec<Bar>>,
    /// The candles' bar size, seconds (60 or 300): the deployment's base while it replays.
    interval_s: i64,
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
            None => Replay::bundled(settings.sample)?,
        };
        tracing::info!(
            dataset = replay.dataset(),
            "replaying recorded candles instead of live ones"
        );
        Ok(Some(replay))
    }

    /// A sample bundled in the binary.
    pub fn bundled(sample: Sample) -> anyhow::Result<Self> {
        let (candles, markets_gz) = sample_bytes(sample);
        let mut text = String::new();
        flate2::read::GzDecoder::new(candles)
            .read_to_string(&mut text)
            .context("decompressing the bundled replay sample")?;
        let mut replay = Self::from_sample_csv(sample.id(), sample_name(sample), &text)?;
        let mut markets = String::new();
        flate2::read::GzDecoder::new(markets_gz)
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

    /// Candle files in `dir`, in any format `coincast import` reads (feather, JSON, jsongz, CSV),
    /// one coin per file (named in the file name, as `BTC_USDT-1m.feather`), of 1-minute or
    /// 5-minute candles. A freqtrade data folder works as it is: the finest of those two bar
    /// sizes is replayed (every coin at one bar size); files whose name states another timeframe
    /// (`-1h`), and coarser files beside finer ones, are passed over.
    pub fn from_dir(dir: &Path) -> anyhow::Result<Self> {
        let mut by_size: BTreeMap<i64, BTreeMap<Coin, Vec<Bar>>> = BTreeMap::new();
        let paths = history::candle_files(dir)
            .with_context(|| format!("reading replay folder {}", dir.display()))?
            .into_iter()
            .filter(|p| history::timeframe_in_name(p).is_none_or(|s| REPLAYABLE_S.contains(&s)));
        for path in paths {
            let parsed = history::read(&path)?;
            let coin = history::coin_for(&path, &parsed).with_context(|| {
                format!(
                    "{}: cannot tell the coin: name the file as freqtrade does (ETH_USDT-1m.feather)",
                    path.display()
                )
            })?;
            anyhow::ensure!(
                REPLAYABLE_S.contains(&parsed.interval_s),
                "{}: replay needs 1-minute or 5-minute candles, this file has {} s bars",
                path.display(),
                parsed.interval_s
            );
            by_size
                .entry(parsed.interval_s)
                .or_default()
                .entry(coin)
                .or_default()
                .extend(parsed.bars);
        }
        let name = dir
            .file_name()
            .map_or_else(|| "files".into(), |n| n.to_string_lossy().into_owned());
        let Some((interval_s, bars)) = by_size.pop_first() else {
            anyhow::bail!(
                "the replay folder {} holds no 1-minute or 5-minute candle files",
                dir.display()
            );
        };
        for (coarser, skipped) in by_size {
            let coins: Vec<String> = skipped.keys().map(ToString::to_string).collect();
            tracing::warn!(
                folder = %dir.display(),
                interval_s,
                coarser,
                coins = coins.join(", "),
                "replaying the finest candles only: coarser files are passed over"
            );
        }
        Self::new(
            format!("dir:{name}"),
            format!("files in {}", dir.display()),
            bars,
            interval_s,
        )
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
        let interval_s = bars
            .values()
            .filter_map(|b| {
                b.get(1)
                    .zip(b.first())
                    .map(|(second, first)| second.ts - first.ts)
            })
            .min()
            .unwrap_or(60);
        Self::new(id.to_owned(), name.to_owned(), bars, interval_s)
    }

    fn new(
        id: String,
        dataset: String,
        mut bars: BTreeMap<Coin, Vec<Bar>>,
        interval_s: i64,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            REPLAYABLE_S.contains(&interval_s),
            "the replay data {dataset} has {interval_s} s bars: 1-minute or 5-minute candles replay"
        );
        // Characters, not bytes: a folder name's multi-byte character must not be cut (a panic),
        // and `replay:<id>` then fits the 64 characters of a candle's `source` (PostgreSQL's
        // VARCHAR(64) counts characters).
        let id: String = id.chars().take(40).collect();
        for series in bars.values_mut() {
            series.sort_by_key(|b| b.ts);
            series.dedup_by_key(|b| b.ts);
            if let Some(off) = series.iter().find(|b| b.ts.rem_euclid(interval_s) != 0) {
                anyhow::bail!(
                    "the replay data {dataset}: a candle opens at {}, off its {interval_s} s grid",
                    off.ts
                );
            }
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
            interval_s,
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

    /// Its candles' bar size, seconds (60 or 300): while it replays, the deployment's base (the
    /// finest candles stored; predictions at multiples of it).
    pub fn bar_seconds(&self) -> i64 {
        self.interval_s
    }

    /// The coins it holds.
    pub fn coins(&self) -> impl Iterator<Item = Coin> + '_ {
        self.bars.keys().copied()
    }

    /// The length of one pass through the recording, seconds (whole bars).
    fn cycle_s(&self) -> i64 {
        self.last - self.first + self.interval_s
    }

    /// The shift that makes recorded bar `first + warm-up` the one opening at `now`'s bar (a whole
    /// number of bars, so shifted candles stay on their grid).
    fn initial_shift(&self, now: i64) -> i64 {
        let step = self.interval_s;
        let warm_up = WARM_UP_S.min(self.cycle_s() * 3 / 4).div_euclid(step) * step;
        now.div_euclid(step) * step - (self.first + warm_up)
    }

    /// What `/api/health` and `/api/sources` show.
    pub fn info(&self, shift_s: i64) -> ReplayInfo {
        ReplayInfo {
            dataset: self.dataset.clone(),
            recorded_from: DateTime::from_timestamp(self.first, 0).unwrap_or_default(),
            recorded_to: DateTime::from_timestamp(self.last, 0).unwrap_or_default(),
            shift_seconds: shift_s,
            bar_seconds: u32::try_from(self.interval_s).unwrap_or(60),
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
        while now - self.interval_s - shift > self.last {
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

    /// The completed bars of `coin` due by `now` (shifted to show as now), newer than `after`
    /// (shifted time; `None` for everything due). The bar in progress is never included.
    pub fn due(&self, coin: Coin, shift: i64, now: i64, after: Option<i64>) -> Vec<Bar> {
        let Some(bars) = self.bars.get(&coin) else {
            return Vec::new();
        };
        let step = self.interval_s;
        let until = now.div_euclid(step) * step - step - shift; // last completed bar, recorded time
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
        let bars = BTreeMap::from([(Coin::BTC, vec![bar(1_699_999_980), bar(1_700_086_380)])]);
        let id = format!("dir:{}", "é".repeat(80));
        let r = Replay::new(id, "files".into(), bars, 60).unwrap();
        assert_eq!(r.source().stored().chars().count(), "replay:".len() + 40);
        assert!(r.source().stored().chars().count() <= 64);
    }

    #[test]
    fn the_bundled_samples_load_with_all_their_coins() {
        let r = Replay::bundled(Sample::FiveMinutes2025).unwrap();
        let mut coins = r.coins().collect::<Vec<_>>();
        let mut default = crate::coins::DEFAULT.to_vec();
        coins.sort();
        default.sort();
        assert_eq!(coins, default, "the default sample holds every default coin");
        assert_eq!(r.bar_seconds(), 300);
        assert_eq!(r.cycle_s(), 15 * 86_400);
        for (coin, bars) in &r.bars {
            assert_eq!(bars.len(), 15 * 288, "{coin}: every 5 minutes of 15 days");
        }
        let r = Replay::bundled(Sample::Minutes2021).unwrap();
        assert_eq!(r.coins().collect::<Vec<_>>(), [Coin::BTC, Coin::LTC, Coin::XRP]);
        assert_eq!(r.bar_seconds(), 60);
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
        let r = Replay::bundled(Sample::Minutes2021).unwrap();
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
    fn five_minute_candles_arrive_one_every_five_minutes_after_the_warm_up() {
        let r = Replay::bundled(Sample::FiveMinutes2025).unwrap();
        let now = 1_800_000_030; // 30 s into a minute
        let shift = r.initial_shift(now);
        assert_eq!(shift % 300, 0, "shifted candles stay on the 5-minute grid");
        let due = r.due(Coin::ETH, shift, now, None);
        assert_eq!(due.len(), 5 * 288, "five days of warm-up");
        let last = due.last().unwrap().ts;
        assert_eq!(last, now / 300 * 300 - 300, "the last completed 5-minute candle");
        // The candle in progress (opened at `last + 300`) is due once its five minutes are over.
        let closes = last + 600;
        assert!(r.due(Coin::ETH, shift, closes - 1, Some(last)).is_empty());
        let next = r.due(Coin::ETH, shift, closes, Some(last));
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].ts, last + 300);
    }

    #[test]
    fn market_series_are_replayed_with_the_candles_shift() {
        let r = Replay::bundled(Sample::FiveMinutes2025).unwrap();
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
        assert!(err.contains("1-minute or 5-minute"), "{err}");
    }
}
