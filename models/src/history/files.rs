//! History on disk: one file in any format [`super`] reads (detected from its bytes, gzip
//! unwrapped), or a whole folder of them laid out as freqtrade keeps its data
//! (`user_data/data/binance/BTC_USDT-5m.feather`).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{History, HistoryError, feather, parse};

/// The most a gzip file may inflate to: far above any candle file (a year of 1-minute candles
/// as JSON is about 40 MB), low enough that a corrupt or hostile file cannot exhaust memory.
pub const MAX_INFLATED_BYTES: u64 = 2 << 30;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// The file names [`candle_files`] picks from a folder.
const EXTENSIONS: [&str; 5] = [".feather", ".json", ".json.gz", ".jsongz", ".csv"];

/// Reads and parses one history file: CryptoDataDownload CSV, freqtrade JSON, its `jsongz`
/// (gzip-compressed JSON) or feather. Errors name the file.
pub fn read(path: &Path) -> Result<History, HistoryError> {
    let named = |e: HistoryError| e.in_file(path.display().to_string());
    let bytes = std::fs::read(path).map_err(|e| named(HistoryError::at(1, format!("cannot read: {e}"))))?;
    read_bytes(&bytes).map_err(named)
}

/// Parses a history file's bytes, detecting the format from them.
pub fn read_bytes(bytes: &[u8]) -> Result<History, HistoryError> {
    if bytes.starts_with(feather::MAGIC) {
        return feather::parse_feather(bytes);
    }
    if bytes.starts_with(GZIP_MAGIC) {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_INFLATED_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| HistoryError::at(1, format!("not a readable gzip file of text: {e}")))?;
        if text.len() as u64 > MAX_INFLATED_BYTES {
            return Err(HistoryError::at(
                1,
                format!("inflates to more than {MAX_INFLATED_BYTES} bytes"),
            ));
        }
        return parse(&text);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| HistoryError::at(1, format!("neither text nor a feather or gzip file: {e}")))?;
    parse(text)
}

/// The candle files directly inside `dir` (a freqtrade `user_data/data/<exchange>` folder or any
/// folder of history files), sorted by name. Sub-folders (freqtrade's `futures/`) are not
/// entered.
pub fn candle_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase());
        if path.is_file() && name.is_some_and(|n| EXTENSIONS.iter().any(|ext| n.ends_with(ext))) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The bar size a freqtrade file name states (`BTC_USDT-5m.feather`: 300), in seconds.
pub fn timeframe_in_name(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_string_lossy();
    let stem = name.split('.').next()?;
    let tf = stem.rsplit('-').next()?;
    let unit = match tf.chars().last()? {
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    tf[..tf.len() - 1]
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(|n| n * unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/freqtrade")
            .join(name)
    }

    #[test]
    fn feather_lz4_feather_zstd_and_jsongz_equal_the_json_row_for_row() {
        let json = read(&fixture("BTC_USDT-5m.json")).unwrap();
        assert_eq!(json.format, super::super::Format::FreqtradeJson);
        assert_eq!(json.bars.len(), 576);
        for name in [
            "binance/BTC_USDT-5m.feather",
            "zstd/BTC_USDT-5m.feather",
            "zstd/BTC_USDT-5m.json.gz",
        ] {
            let other = read(&fixture(name)).unwrap();
            assert_eq!(other.interval_s, 300, "{name}");
            assert_eq!(other.bars, json.bars, "{name}");
        }
        assert_eq!(
            read(&fixture("binance/BTC_USDT-5m.feather")).unwrap().format,
            super::super::Format::FreqtradeFeather
        );
    }

    #[test]
    fn a_folder_reads_as_freqtrade_keeps_it() {
        let files = candle_files(&fixture("binance")).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["BTC_USDT-5m.feather", "XRP_USDT-5m.json.gz"]);
        let xrp = read(&files[1]).unwrap();
        assert_eq!(xrp.bars.len(), 576);
        assert_eq!(timeframe_in_name(&files[0]), Some(300));
        assert_eq!(timeframe_in_name(Path::new("ETH_USDT-1h.json.gz")), Some(3600));
        assert_eq!(timeframe_in_name(Path::new("Bitstamp_BTCUSD_1h.csv")), None);
    }

    #[test]
    fn broken_binary_files_fail_with_a_reason_never_a_panic() {
        let feather = std::fs::read(fixture("binance/BTC_USDT-5m.feather")).unwrap();
        for cut in [8, 100, feather.len() / 2, feather.len() - 10] {
            let err = read_bytes(&feather[..cut]).unwrap_err();
            assert!(!err.message.is_empty());
        }
        let gz = std::fs::read(fixture("zstd/BTC_USDT-5m.json.gz")).unwrap();
        assert!(read_bytes(&gz[..gz.len() / 2]).is_err());
        let err = read(&fixture("missing.feather")).unwrap_err();
        assert!(err.to_string().contains("missing.feather"), "{err}");
    }
}
