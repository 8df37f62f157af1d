//! Reading price history files in the formats people actually have, into [`Bar`]s.
//!
//! - CryptoDataDownload CSV (`Bitstamp_BTCUSD_1h.csv`): a banner line, then
//!   `Date,Symbol,Open,High,Low,Close,Volume <COIN>,Volume USD`, newest row first, dates like
//!   `2019-09-30 11-PM` (12-hour clock, UTC).
//! - freqtrade JSON (`BTC_USDT-5m.json`): `[[open_time_ms, open, high, low, close, volume], ...]`,
//!   also gzip-compressed (freqtrade's `jsongz`, `BTC_USDT-5m.json.gz`).
//! - freqtrade feather (`BTC_USDT-5m.feather`, its default): Arrow IPC, lz4 or zstd ([`feather`]).
//!
//! [`read`] takes a file in any of them; [`candle_files`] lists a folder of them. All give bars sorted oldest first with the bar size detected from the data. Any bad row fails
//! the whole file with its line (or element) number: a file is read completely or not at all.

mod feather;
mod files;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use shared::Coin;

pub use files::{MAX_INFLATED_BYTES, candle_files, read, read_bytes, timeframe_in_name};

/// One OHLCV bar. `ts` is the bar's open time in Unix seconds (UTC); volume is in the base coin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub ts: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// The formats [`parse`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CryptoDataDownloadCsv,
    FreqtradeJson,
    FreqtradeFeather,
}

/// A parsed history file.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub format: Format,
    /// The bar size in seconds: the most common step between consecutive bars.
    pub interval_s: i64,
    /// The symbol when the file names it (CSV `Symbol` column), e.g. `BTCUSD`.
    pub symbol: Option<String>,
    /// Oldest first, no duplicates.
    pub bars: Vec<Bar>,
}

/// Why a file could not be read. `line` is 1-based (for JSON: the 1-based element number).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}line {line}: {message}", .context.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct HistoryError {
    pub context: Option<String>,
    pub line: usize,
    pub message: String,
}

impl HistoryError {
    pub(crate) fn at(line: usize, message: impl Into<String>) -> Self {
        HistoryError {
            context: None,
            line,
            message: message.into(),
        }
    }

    /// The same error naming the file it came from.
    pub fn in_file(mut self, name: impl Into<String>) -> Self {
        self.context = Some(name.into());
        self
    }
}

/// Detects the text format (CSV or JSON) from the content and parses it; [`read_bytes`] also takes
/// feather and gzip.
pub fn parse(text: &str) -> Result<History, HistoryError> {
    match text.trim_start().chars().next() {
        Some('[') => parse_freqtrade_json(text),
        Some(_) => parse_cryptodatadownload_csv(text),
        None => Err(HistoryError::at(1, "the file is empty")),
    }
}

/// Parses a CryptoDataDownload CSV export.
pub fn parse_cryptodatadownload_csv(text: &str) -> Result<History, HistoryError> {
    let mut lines = text.lines().enumerate();
    let mut header = None;
    for (i, line) in lines.by_ref() {
        if line.starts_with("Date,") || line.starts_with("date,") || line.starts_with("unix,") {
            header = Some((i, line));
            break;
        }
        if i >= 2 {
            break;
        }
    }
    let (header_idx, header) = header.ok_or_else(|| {
        HistoryError::at(
            1,
            "no `Date,Symbol,Open,High,Low,Close,...` header in the first lines",
        )
    })?;
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    let find = |name: &str| columns.iter().position(|c| c.eq_ignore_ascii_case(name));
    let (Some(date), Some(open), Some(high), Some(low), Some(close)) = (
        find("Date"),
        find("Open"),
        find("High"),
        find("Low"),
        find("Close"),
    ) else {
        return Err(HistoryError::at(
            header_idx + 1,
            format!("missing OHLC columns in header {header:?}"),
        ));
    };
    let symbol_col = find("Symbol");
    // The base-coin volume is the first `Volume ...` column that is not USD.
    let volume = columns
        .iter()
        .position(|c| c.starts_with("Volume") && !c.ends_with("USD") && !c.ends_with("USDT"))
        .ok_or_else(|| HistoryError::at(header_idx + 1, "no base-coin volume column"))?;

    let mut bars = Vec::new();
    let mut symbol = None;
    for (i, line) in lines {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() < columns.len() {
            return Err(HistoryError::at(
                n,
                format!("expected {} fields, found {}", columns.len(), fields.len()),
            ));
        }
        let number = |col: usize, what: &str| -> Result<f64, HistoryError> {
            let v: f64 = fields[col]
                .parse()
                .map_err(|_| HistoryError::at(n, format!("{what} {:?} is not a number", fields[col])))?;
            if v.is_finite() && v >= 0.0 {
                Ok(v)
            } else {
                Err(HistoryError::at(
                    n,
                    format!("{what} {v} is not a non-negative number"),
                ))
            }
        };
        let ts = parse_cdd_date(fields[date]).map_err(|m| HistoryError::at(n, m))?;
        let bar = Bar {
            ts,
            open: number(open, "open")?,
            high: number(high, "high")?,
            low: number(low, "low")?,
            close: number(close, "close")?,
            volume: number(volume, "volume")?,
        };
        check_bar(&bar).map_err(|m| HistoryError::at(n, m))?;
        if symbol.is_none() {
            symbol = symbol_col.map(|c| fields[c].to_owned());
        }
        bars.push(bar);
    }
    finish(Format::CryptoDataDownloadCsv, symbol, bars)
}

/// `2019-09-30 11-PM` (12-hour clock), `2019-09-30 23:00:00` or a plain date.
fn parse_cdd_date(s: &str) -> Result<i64, String> {
    let bad = || format!("date {s:?} is not like `2019-09-30 11-PM`");
    if let Some((day, hour)) = s.split_once(' ')
        && let Some((h, ampm)) = hour.split_once('-')
    {
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| bad())?;
        let h: u32 = h.parse().map_err(|_| bad())?;
        let h24 = match (h, ampm) {
            (12, "AM") => 0,
            (1..=11, "AM") => h,
            (12, "PM") => 12,
            (1..=11, "PM") => h + 12,
            _ => return Err(bad()),
        };
        let time = NaiveTime::from_hms_opt(h24, 0, 0).ok_or_else(bad)?;
        return Ok(NaiveDateTime::new(day, time).and_utc().timestamp());
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Ok(dt.and_utc().timestamp());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_time(NaiveTime::MIN).and_utc().timestamp())
        .map_err(|_| bad())
}

/// Parses a freqtrade JSON candle file.
pub fn parse_freqtrade_json(text: &str) -> Result<History, HistoryError> {
    let rows: Vec<serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| HistoryError::at(e.line(), format!("not a JSON array: {e}")))?;
    let mut bars = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let n = i + 1;
        let fields = row.as_array().filter(|a| a.len() >= 6).ok_or_else(|| {
            HistoryError::at(
                n,
                format!("candle {n} is not [time, open, high, low, close, volume]"),
            )
        })?;
        let number = |k: usize, what: &str| -> Result<f64, HistoryError> {
            let v = match &fields[k] {
                serde_json::Value::Number(x) => x.as_f64(),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            };
            v.filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| {
                HistoryError::at(
                    n,
                    format!("candle {n}: {what} {} is not a non-negative number", fields[k]),
                )
            })
        };
        let ms = number(0, "open time")?;
        let bar = Bar {
            ts: (ms / 1000.0).floor() as i64,
            open: number(1, "open")?,
            high: number(2, "high")?,
            low: number(3, "low")?,
            close: number(4, "close")?,
            volume: number(5, "volume")?,
        };
        check_bar(&bar).map_err(|m| HistoryError::at(n, format!("candle {n}: {m}")))?;
        bars.push(bar);
    }
    finish(Format::FreqtradeJson, None, bars)
}

fn check_bar(bar: &Bar) -> Result<(), String> {
    if bar.open <= 0.0 || bar.close <= 0.0 || bar.low <= 0.0 {
        return Err("prices must be positive".into());
    }
    if bar.high < bar.low || bar.high < bar.open.min(bar.close) || bar.low > bar.open.max(bar.close) {
        return Err(format!(
            "inconsistent candle: open {} high {} low {} close {}",
            bar.open, bar.high, bar.low, bar.close
        ));
    }
    Ok(())
}

fn finish(format: Format, symbol: Option<String>, mut bars: Vec<Bar>) -> Result<History, HistoryError> {
    if bars.is_empty() {
        return Err(HistoryError::at(1, "the file holds no candles"));
    }
    bars.sort_by_key(|b| b.ts);
    bars.dedup_by_key(|b| b.ts);
    let interval_s = detect_interval(&bars)
        .ok_or_else(|| HistoryError::at(1, "cannot tell the bar size from one candle"))?;
    Ok(History {
        format,
        interval_s,
        symbol,
        bars,
    })
}

/// The most common positive step between consecutive bars.
pub fn detect_interval(bars: &[Bar]) -> Option<i64> {
    let mut counts = std::collections::BTreeMap::<i64, usize>::new();
    for w in bars.windows(2) {
        *counts.entry(w[1].ts - w[0].ts).or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|(s, _)| *s > 0)
        .max_by_key(|(_, n)| *n)
        .map(|(s, _)| s)
}

/// Aggregates bars of `from_s` seconds into bars of `to_s` seconds aligned to multiples of `to_s`
/// (Unix time). Only complete buckets are kept: a bucket missing any of its bars is dropped, so a
/// gap stays a gap.
pub fn resample(bars: &[Bar], from_s: i64, to_s: i64) -> Vec<Bar> {
    if to_s == from_s {
        return bars.to_vec();
    }
    if from_s <= 0 || to_s % from_s != 0 {
        return Vec::new();
    }
    let per = (to_s / from_s) as usize;
    let mut out = Vec::new();
    let mut i = 0;
    while i < bars.len() {
        let start = bars[i].ts.div_euclid(to_s) * to_s;
        let mut j = i;
        while j < bars.len() && bars[j].ts < start + to_s {
            j += 1;
        }
        let group = &bars[i..j];
        if group.len() == per && group[0].ts == start {
            out.push(Bar {
                ts: start,
                open: group[0].open,
                high: group.iter().map(|b| b.high).fold(f64::MIN, f64::max),
                low: group.iter().map(|b| b.low).fold(f64::MAX, f64::min),
                close: group[per - 1].close,
                volume: group.iter().map(|b| b.volume).sum(),
            });
        }
        i = j;
    }
    out
}

/// The coin a history file is about: from its file name, else from the CSV's symbol.
pub fn coin_for(path: &std::path::Path, parsed: &History) -> Option<Coin> {
    coin_in_name(path).or_else(|| parsed.symbol.as_deref().and_then(coin_in))
}

/// The coin a file name mentions (`Bitstamp_BTCUSD_1h.csv`, `XRP_USDT-1m.json`). A freqtrade
/// name (`<BASE>_<QUOTE>-<timeframe>`) names it exactly: `WBTC_USDT-5m.feather` is not BTC.
pub fn coin_in_name(path: &std::path::Path) -> Option<Coin> {
    let name = path.file_name()?.to_string_lossy();
    match freqtrade_base(&name) {
        Some(base) => Coin::from_ticker(&base.to_ascii_uppercase()),
        None => coin_in(&name),
    }
}

/// The base of a freqtrade candle file's pair: `ETH` of `ETH_USDT-5m.feather`.
pub fn freqtrade_base(name: &str) -> Option<&str> {
    let stem = name.split('.').next()?;
    let (pair, timeframe) = stem.rsplit_once('-')?;
    let (base, quote) = pair.split_once('_')?;
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
    (word(base) && word(quote) && timeframe.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .then_some(base)
}

fn coin_in(s: &str) -> Option<Coin> {
    let upper = s.to_ascii_uppercase();
    shared::KNOWN_COINS
        .iter()
        .map(|k| k.coin)
        .find(|c| upper.contains(c.ticker()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Cut from ../shared/data/bitstamp-1h/Bitstamp_BTCUSD_1h.csv (newest first, as in the file).
    const CSV: &str = "Timestamps are UTC timezone,https://www.CryptoDataDownload.com
Date,Symbol,Open,High,Low,Close,Volume BTC,Volume USD
2019-09-30 11-PM,BTCUSD,8245.75,8318.63,8237.95,8298.45,174.22,1442533.53
2019-09-30 10-PM,BTCUSD,8253.08,8305.49,8222.87,8245.75,151.43,1251711.35
2019-09-30 12-PM,BTCUSD,8253.08,8305.49,8222.87,8245.75,151.43,1251711.35
2019-09-30 12-AM,BTCUSD,8253.08,8305.49,8222.87,8245.75,151.43,1251711.35
";

    #[test]
    fn reads_cryptodatadownload_csv_oldest_first_with_12_hour_clock() {
        let h = parse(CSV).unwrap();
        assert_eq!(h.format, Format::CryptoDataDownloadCsv);
        assert_eq!(h.symbol.as_deref(), Some("BTCUSD"));
        let base = NaiveDate::from_ymd_opt(2019, 9, 30)
            .unwrap()
            .and_time(NaiveTime::MIN)
            .and_utc()
            .timestamp();
        let ts: Vec<i64> = h.bars.iter().map(|b| (b.ts - base) / 3600).collect();
        assert_eq!(ts, [0, 12, 22, 23]);
        assert_eq!(h.bars[3].close, 8298.45);
        assert_eq!(h.bars[3].volume, 174.22);
    }

    #[test]
    fn reads_freqtrade_json_and_detects_the_bar_size() {
        // The first candles of ../shared/data/binance-5m-1h-2020-12_2021-07/BTC_USDT-5m.json.
        let json = "[[1606780800000,19695.87,19720.0,19578.96,19607.03,794.500517],\
                     [1606781100000,19607.02,19607.02,19505.9,19537.95,710.941254],\
                     [1606781400000,19539.64,19601.0,19530.03,19567.99,251.34441]]";
        let h = parse(json).unwrap();
        assert_eq!(h.format, Format::FreqtradeJson);
        assert_eq!(h.interval_s, 300);
        assert_eq!(h.bars[0].ts, 1_606_780_800);
        assert_eq!(h.bars[2].close, 19567.99);
    }

    #[test]
    fn resampling_keeps_only_complete_buckets() {
        let bar = |ts: i64, c: f64| Bar {
            ts,
            open: c,
            high: c + 1.0,
            low: c - 1.0,
            close: c,
            volume: 1.0,
        };
        // 5-minute bars from 00:00 to 00:25, then one lonely bar at 00:35.
        let mut bars: Vec<Bar> = (0..6).map(|k| bar(k * 300, 10.0 + k as f64)).collect();
        bars.push(bar(2100, 50.0));
        let out = resample(&bars, 300, 900);
        assert_eq!(out.len(), 2, "00:30-00:45 lacks two of its bars");
        assert_eq!(
            out[0],
            Bar {
                ts: 0,
                open: 10.0,
                high: 13.0,
                low: 9.0,
                close: 12.0,
                volume: 3.0
            }
        );
        assert_eq!(out[1].ts, 900);
        assert_eq!(out[1].close, 15.0);
        assert!(resample(&bars, 300, 700).is_empty(), "not a multiple");
    }

    #[test]
    fn a_bad_row_fails_the_whole_file_naming_its_line() {
        let bad = CSV.replace("8245.75,151.43", "eight,151.43");
        let err = parse(&bad).unwrap_err().in_file("btc.csv");
        assert_eq!(err.line, 4);
        assert!(
            err.to_string().starts_with("btc.csv: line 4: close \"eight\""),
            "{err}"
        );

        let err = parse("[[1606780800000,1,2,0.5,1.5,3],[1606781100000,1,2,0.5]]").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse("[[1606780800000,1,2,0.5,1.5,3],[1606781100000,1,0.9,0.5,1.5,3]]").unwrap_err();
        assert!(err.message.contains("inconsistent"), "{err}");
        assert!(parse("").is_err());
        assert!(parse("[]").is_err());
    }
}
