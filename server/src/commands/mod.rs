//! One-shot command-line tools: `import` history files, `backfill` Bitstamp history, `train` the
//! models, `retrain` them behind the gate now, and `evaluate` them on other files. Each is a `run` that `main` dispatches to.

pub mod backfill;
pub mod evaluate;
pub mod import;
pub mod retrain;
pub mod train;

use std::path::{Path, PathBuf};

use anyhow::Context;
use models::history::{self, Bar};
use models::series::{self, SeriesSet};

use crate::collect::sources::SeriesId;

/// The candle files among `paths` (folders listed by `models::history::candle_files`) with
/// their coins (any freqtrade pair's base: `ETH_USDT-5m.feather`; a CSV must name a known coin).
/// A file given by name must name its coin; a file found in a folder that does not is passed over
/// with a line saying so.
pub fn candle_inputs(paths: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, shared::Coin)>> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            let coin = history::coin_in_name(path)
                .with_context(|| format!(
                    "{}: cannot tell the coin from the file name: name it as freqtrade does (ETH_USDT-5m.feather) \
                     or after a known coin (Bitstamp_BTCUSD_1h.csv)",
                    path.display()
                ))?;
            out.push((path.clone(), coin));
            continue;
        }
        let files = history::candle_files(path).with_context(|| format!("listing {}", path.display()))?;
        for file in files {
            match history::coin_in_name(&file) {
                Some(coin) => out.push((file, coin)),
                None => eprintln!("{}: no coin in the file name, passed over", file.display()),
            }
        }
    }
    Ok(out)
}

/// A history file's bars and bar size, in any format `models::history::read` takes.
pub fn load(path: &Path) -> anyhow::Result<(Vec<Bar>, i64)> {
    let h = history::read(path)?;
    Ok((h.bars, h.interval_s))
}

/// The daily series files in the `../shared/data` layout, by the series id the collectors store
/// (the same series as `predict::history::MODEL_SERIES`, in its order).
/// S&P 500 history is SPY (the ETF tracking it; its daily changes match the index's closely); the
/// live collector reads ^GSPC itself.
pub const SERIES_FILES: [(SeriesId, &str); 6] = [
    (SeriesId::Gold, "macro-daily-yahoo/GC=F.csv"),
    (SeriesId::Sp500, "macro-daily-yahoo/SPY.csv"),
    (SeriesId::Oil, "macro-daily-yahoo/CL=F.csv"),
    (SeriesId::MsciWorld, "macro-daily-yahoo/URTH.csv"),
    (
        SeriesId::MempoolCount,
        "onchain-macro-daily/upd20210320_22_mempool-count.csv",
    ),
    (
        SeriesId::Tps,
        "onchain-macro-daily/upd20210320_20_transactions-per-second.csv",
    ),
];

/// The external series found under `root` (missing files are left out: plans then skip the
/// feature sets that need them, and the cards say so).
pub fn load_series(root: &Path) -> anyhow::Result<(SeriesSet, Vec<String>)> {
    let mut set = SeriesSet::default();
    let mut sources = Vec::new();
    for (name, file) in SERIES_FILES {
        let path = root.join(file);
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let obs = series::parse_csv(&text).map_err(|e| e.in_file(path.display().to_string()))?;
        set.insert(name.as_str(), &obs);
        sources.push(format!("{name}: {file}"));
    }
    Ok((set, sources))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_series_files_are_the_series_the_models_may_read() {
        let files: Vec<_> = super::SERIES_FILES.iter().map(|(id, _)| *id).collect();
        assert_eq!(files, crate::predict::history::MODEL_SERIES);
    }
}
