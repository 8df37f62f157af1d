//! Pure formatting and routing helpers, kept out of components so they are unit-tested natively.

use shared::Coin;

/// The coin a client path names (`/Litecoin`, `/litecoin`, `/LTC/...`), if any.
pub fn coin_from_path(path: &str) -> Option<Coin> {
    path.trim_start_matches('/').split('/').next()?.parse().ok()
}

/// The canonical page path of a coin: `/Bitcoin`.
pub fn coin_path(coin: Coin) -> String {
    format!("/{}", coin.name())
}

/// A duration in seconds as people say it: `42 s`, `5 min`, `3 h 12 min`, `2 d 4 h`.
pub fn duration(seconds: u64) -> String {
    let (d, h, m) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coin_paths_parse_names_and_tickers_in_any_case() {
        assert_eq!(coin_from_path("/Bitcoin"), Some(Coin::Btc));
        assert_eq!(coin_from_path("/litecoin"), Some(Coin::Ltc));
        assert_eq!(coin_from_path("/XRP/history"), Some(Coin::Xrp));
        assert_eq!(coin_from_path("/"), None);
        assert_eq!(coin_from_path("/Dogecoin"), None);
        assert_eq!(coin_path(Coin::Xrp), "/Ripple");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(300), "5 min");
        assert_eq!(duration(3600), "1 h");
        assert_eq!(duration(3 * 3600 + 12 * 60 + 5), "3 h 12 min");
        assert_eq!(duration(2 * 86_400 + 4 * 3600), "2 d 4 h");
        assert_eq!(duration(86_400 + 59), "1 d");
    }
}
