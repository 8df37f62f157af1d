//! Pure formatting and routing helpers, kept out of components so they are unit-tested natively.

use chrono::{DateTime, Utc};
use shared::{AccuracyStats, Coin, Direction, Horizon, Outcome, Prediction};

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

/// A USD price with precision that suits its size: `$44,640.87`, `$292.43`, `$1.5436`.
pub fn usd(price: f64) -> String {
    let decimals = if price >= 100.0 { 2 } else { 4 };
    let text = format!("{price:.decimals$}");
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("${grouped}.{frac}")
}

/// A signed percentage change: `+2.19%`, `-0.51%`.
pub fn change(pct: f64) -> String {
    format!("{pct:+.2}%")
}

/// A model kind in words: `logistic` → `logistic regression`, `mlp-32-16` → `feed-forward net (32, 16)`.
pub fn model_kind(kind: &str) -> String {
    match kind.strip_prefix("mlp-") {
        Some(layers) => format!("feed-forward net ({})", layers.replace('-', ", ")),
        None if kind == "logistic" => "logistic regression".into(),
        None => kind.into(),
    }
}

/// A chart range: its label, span in seconds, the resolution shown first, and the resolutions
/// offered (each gives between 24 and 2,880 bars: readable, and under the API's 5,000-bar cap).
pub const CHART_RANGES: [(&str, i64, &str, &[&str]); 4] = [
    ("6 h", 6 * 3600, "1m", &["1m", "5m", "15m"]),
    ("24 h", 86_400, "5m", &["1m", "5m", "15m", "1h"]),
    ("7 d", 7 * 86_400, "1h", &["5m", "15m", "1h"]),
    ("30 d", 30 * 86_400, "1h", &["15m", "1h", "1d"]),
];

/// The resolution to ask for: the one chosen when the range offers it, else the range's default.
pub fn chart_resolution(range: usize, chosen: Option<&'static str>) -> &'static str {
    let (_, _, default, offered) = CHART_RANGES[range.min(CHART_RANGES.len() - 1)];
    chosen.filter(|c| offered.contains(c)).unwrap_or(default)
}

/// Where the hovered point moves on a key press in the chart (arrows, Home/End, Escape).
/// `None` for keys the chart leaves alone.
pub fn chart_key(key: &str, current: Option<usize>, len: usize) -> Option<Option<usize>> {
    if len == 0 {
        return None;
    }
    let last = len - 1;
    let at = current.unwrap_or(last).min(last);
    Some(match key {
        "ArrowLeft" => Some(if current.is_none() {
            last
        } else {
            at.saturating_sub(1)
        }),
        "ArrowRight" => Some((at + 1).min(last)),
        "PageUp" => Some(at.saturating_sub(len.div_ceil(10))),
        "PageDown" => Some((at + len.div_ceil(10)).min(last)),
        "Home" => Some(0),
        "End" => Some(last),
        "Escape" => None,
        _ => return None,
    })
}

/// Maps points from data space (`x` and `y` ranges) into a `width` x `height` SVG box (y up).
pub fn plot(points: &[(f64, f64)], x: (f64, f64), y: (f64, f64), width: f64, height: f64) -> Vec<(f64, f64)> {
    points
        .iter()
        .map(|&(px, py)| {
            (
                (px - x.0) / (x.1 - x.0) * width,
                height - (py.clamp(y.0, y.1) - y.0) / (y.1 - y.0) * height,
            )
        })
        .collect()
}

/// An SVG path through points: `M x,y L x,y ...`.
pub fn svg_path(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .enumerate()
        .map(|(i, (px, py))| format!("{}{px:.1},{py:.1}", if i == 0 { "M" } else { "L" }))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The CSS class and the words for a data source's state.
pub fn source_state(state: shared::SourceState) -> (&'static str, &'static str) {
    use shared::SourceState;
    match state {
        SourceState::Ok => ("ok", "ok"),
        SourceState::Failing => ("failing", "failing"),
        SourceState::Stale => ("stale", "stale: no new data for too long"),
        SourceState::Pending => ("pending", "not collected yet"),
        SourceState::Disabled => ("disabled", "not collected in this mode"),
    }
}

/// A walk-forward result beside its baseline and sample size: `55.2% vs 51.8% baseline (n=5531)`.
pub fn walk_forward(wf: &shared::WalkForwardSummary) -> String {
    format!(
        "{} vs {} baseline (n={})",
        accuracy(wf.accuracy),
        accuracy(wf.baseline_accuracy),
        wf.n
    )
}

/// A price line laid out in a `width` x `height` box: the SVG path, each point's (x, y), and the
/// price range shown (padded 5%).
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    pub path: String,
    pub points: Vec<(f64, f64)>,
    pub low: f64,
    pub high: f64,
    pub t0: i64,
    pub t1: i64,
}

/// Lays out closes `(unix seconds, price)` (oldest first) in the box; `None` with fewer than two.
pub fn line_chart(series: &[(i64, f64)], width: f64, height: f64) -> Option<LineChart> {
    let (first, last) = (series.first()?, series.last()?);
    if series.len() < 2 || last.0 <= first.0 {
        return None;
    }
    let lo = series.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    let hi = series.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 1e-6);
    let (low, high) = (lo - pad, hi + pad);
    let x = |t: i64| (t - first.0) as f64 / (last.0 - first.0) as f64 * width;
    let y = |v: f64| height - (v - low) / (high - low) * height;
    let points: Vec<(f64, f64)> = series.iter().map(|&(t, v)| (x(t), y(v))).collect();
    let path = svg_path(&points);
    Some(LineChart {
        path,
        points,
        low,
        high,
        t0: first.0,
        t1: last.0,
    })
}

/// The index of the point nearest to `x` (points sorted by x).
pub fn nearest(points: &[(f64, f64)], x: f64) -> Option<usize> {
    let i = points.partition_point(|p| p.0 < x);
    match (i.checked_sub(1), points.get(i)) {
        (Some(a), Some(b)) => Some(if x - points[a].0 <= b.0 - x { a } else { i }),
        (Some(a), None) => Some(a),
        (None, Some(_)) => Some(i),
        (None, None) => None,
    }
}

/// A probability as a whole percentage: `57%`.
pub fn percent(p: f64) -> String {
    format!("{:.0}%", 100.0 * p)
}

/// An accuracy with one decimal: `54.2%`.
pub fn accuracy(p: f64) -> String {
    format!("{:.1}%", 100.0 * p)
}

/// The words and CSS class of a direction: never color alone.
pub fn direction(d: Direction) -> (&'static str, &'static str) {
    match d {
        Direction::Up => ("▲ UP", "up"),
        Direction::Down => ("▼ DOWN", "down"),
    }
}

/// How often a horizon's prediction is renewed.
pub fn cadence(minutes: u32) -> String {
    match minutes {
        1 => "updated every minute".into(),
        m => format!("updated every {m} minutes"),
    }
}

/// A time of day in UTC: `14:05 UTC`.
pub fn clock(t: DateTime<Utc>) -> String {
    t.format("%H:%M UTC").to_string()
}

/// Time left until `target`: `in 42 min`, `in 3 h 5 min`, or `due` once passed.
pub fn countdown(target: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let left = (target - now).num_seconds();
    if left <= 0 {
        "due".into()
    } else {
        format!("in {}", duration(((left + 59) / 60 * 60) as u64))
    }
}

/// Live accuracy as a card shows it: `54.2% [50.1-58.3%] vs 51.0% baseline, n=412`.
pub fn live_accuracy(a: &AccuracyStats) -> String {
    match (a.accuracy, a.wilson_low, a.wilson_high, a.baseline_accuracy) {
        (Some(acc), Some(lo), Some(hi), Some(base)) if a.n > 0 => format!(
            "{} [{:.1}-{:.1}%] vs {} baseline, n={}",
            accuracy(acc),
            100.0 * lo,
            100.0 * hi,
            accuracy(base),
            a.n
        ),
        _ => "no scored live predictions yet".into(),
    }
}

/// One cell of the history table.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryCell {
    pub direction: Direction,
    pub p_up: f64,
    /// `Some(true)` right, `Some(false)` wrong, `None` not scored (yet, or unscorable).
    pub correct: Option<bool>,
    pub unscorable: bool,
}

/// The history table: one row per prediction time (newest first), one column per horizon in
/// `Horizon::ALL` order.
pub fn history_table(predictions: &[Prediction]) -> Vec<(DateTime<Utc>, [Option<HistoryCell>; 6])> {
    let mut rows: Vec<(DateTime<Utc>, [Option<HistoryCell>; 6])> = Vec::new();
    for p in predictions {
        let Some(col) = Horizon::ALL.iter().position(|h| *h == p.horizon) else {
            continue;
        };
        let row = match rows.iter().position(|(t, _)| *t == p.made_at) {
            Some(i) => i,
            None => {
                rows.push((p.made_at, Default::default()));
                rows.len() - 1
            }
        };
        rows[row].1[col] = Some(HistoryCell {
            direction: p.direction,
            p_up: p.p_up,
            correct: p.correct,
            unscorable: p.outcome == Outcome::Unscorable,
        });
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows
}

/// The mark of a scored cell: `✓` right, `✗` wrong, `–` unscorable, nothing while pending.
pub fn outcome_mark(cell: &HistoryCell) -> &'static str {
    match (cell.correct, cell.unscorable) {
        (Some(true), _) => "✓",
        (Some(false), _) => "✗",
        (None, true) => "–",
        (None, false) => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn cards_say_direction_in_words_and_percentages_plainly() {
        assert_eq!(direction(Direction::Up), ("▲ UP", "up"));
        assert_eq!(direction(Direction::Down), ("▼ DOWN", "down"));
        assert_eq!(percent(0.5649), "56%");
        assert_eq!(accuracy(0.55178), "55.2%");
        assert_eq!(cadence(1), "updated every minute");
        assert_eq!(cadence(15), "updated every 15 minutes");
        assert_eq!(clock(at("2026-11-24T09:05:59Z")), "09:05 UTC");
    }

    #[test]
    fn prices_group_thousands_and_changes_carry_a_sign() {
        assert_eq!(usd(44640.87), "$44,640.87");
        assert_eq!(usd(292.432), "$292.43");
        assert_eq!(usd(1.54361), "$1.5436");
        assert_eq!(usd(1_234_567.0), "$1,234,567.00");
        assert_eq!(change(2.191), "+2.19%");
        assert_eq!(change(-0.511), "-0.51%");
    }

    fn pred(horizon: Horizon, made_at: &str, p_up: f64, correct: Option<bool>) -> Prediction {
        Prediction {
            id: 1,
            coin: Coin::Btc,
            horizon,
            direction: Direction::from_p_up(p_up),
            p_up,
            confidence: shared::confidence(p_up),
            signal: shared::Signal::from_p_up(p_up, 0.1),
            signal_threshold: Some(0.1),
            band_accuracy: None,
            made_at: at(made_at),
            target_at: at(made_at) + chrono::Duration::minutes(i64::from(horizon.minutes())),
            published_at: at(made_at) + chrono::Duration::seconds(20),
            valid_until: at(made_at) + chrono::Duration::minutes(i64::from(horizon.cadence_minutes())),
            reference_price: 1.0,
            model_id: "m".into(),
            backfilled: false,
            outcome: if correct.is_some() {
                Outcome::Scored
            } else {
                Outcome::Pending
            },
            realized_price: None,
            correct,
        }
    }

    #[test]
    fn the_history_table_has_a_row_per_time_and_a_column_per_horizon() {
        let rows = history_table(&[
            pred(Horizon::H1, "2026-11-24T09:00:00Z", 0.6, Some(true)),
            pred(Horizon::M30, "2026-11-24T09:15:00Z", 0.4, None),
            pred(Horizon::H12, "2026-11-24T09:00:00Z", 0.3, Some(false)),
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, at("2026-11-24T09:15:00Z"), "newest first");
        let cell = rows[0].1[0].as_ref().unwrap();
        assert_eq!((cell.direction, outcome_mark(cell)), (Direction::Down, ""));
        assert!(rows[0].1[1..].iter().all(Option::is_none));
        assert_eq!(outcome_mark(rows[1].1[1].as_ref().unwrap()), "✓");
        assert_eq!(outcome_mark(rows[1].1[5].as_ref().unwrap()), "✗");
    }

    #[test]
    fn model_kinds_read_as_words() {
        assert_eq!(model_kind("logistic"), "logistic regression");
        assert_eq!(model_kind("mlp-32-16"), "feed-forward net (32, 16)");
        assert_eq!(model_kind("gbt"), "gbt");
    }

    #[test]
    fn a_line_chart_spans_its_box_and_finds_the_nearest_point() {
        let c = line_chart(&[(0, 10.0), (50, 20.0), (100, 15.0)], 200.0, 100.0).unwrap();
        assert_eq!(c.points.len(), 3);
        assert_eq!(c.points[0].0, 0.0);
        assert_eq!(c.points[2].0, 200.0);
        assert!(c.points[1].1 < c.points[0].1, "higher prices are higher up");
        assert!((c.low - 9.5).abs() < 1e-9 && (c.high - 20.5).abs() < 1e-9);
        assert!(c.path.starts_with("M0.0,") && c.path.contains(" L100.0,"));
        assert_eq!(nearest(&c.points, 40.0), Some(0));
        assert_eq!(nearest(&c.points, 60.0), Some(1));
        assert_eq!(nearest(&c.points, 500.0), Some(2));
        assert_eq!(line_chart(&[(0, 1.0)], 10.0, 10.0), None);
    }

    #[test]
    fn countdowns_round_up_to_the_minute_and_end_at_due() {
        let now = at("2026-11-24T09:00:30Z");
        assert_eq!(countdown(at("2026-11-24T09:30:00Z"), now), "in 30 min");
        assert_eq!(countdown(at("2026-11-24T12:05:00Z"), now), "in 3 h 5 min");
        assert_eq!(countdown(at("2026-11-24T09:00:00Z"), now), "due");
    }

    #[test]
    fn live_accuracy_shows_interval_baseline_and_n_or_says_there_is_none() {
        let mut a = AccuracyStats {
            window: "7d".into(),
            out_of_sample: true,
            n: 412,
            hits: 223,
            accuracy: Some(223.0 / 412.0),
            wilson_low: Some(0.493),
            wilson_high: Some(0.589),
            brier: Some(0.249),
            baseline_accuracy: Some(0.51),
        };
        assert_eq!(live_accuracy(&a), "54.1% [49.3-58.9%] vs 51.0% baseline, n=412");
        a.n = 0;
        a.accuracy = None;
        assert_eq!(live_accuracy(&a), "no scored live predictions yet");
    }

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

    #[test]
    fn chart_resolutions_fall_back_to_the_range_default_when_not_offered() {
        assert_eq!(chart_resolution(0, None), "1m");
        assert_eq!(chart_resolution(0, Some("15m")), "15m");
        assert_eq!(
            chart_resolution(0, Some("1d")),
            "1m",
            "a day bar in a 6 h chart is not offered"
        );
        assert_eq!(
            chart_resolution(3, Some("1m")),
            "1h",
            "30 d of minutes would pass the 5,000-bar cap"
        );
        for (label, span, default, offered) in CHART_RANGES {
            assert!(offered.contains(&default), "{label}");
            for r in offered {
                let seconds = match *r {
                    "1m" => 60,
                    "5m" => 300,
                    "15m" => 900,
                    "1h" => 3600,
                    "1d" => 86_400,
                    other => panic!("{other}"),
                };
                let bars = span / seconds;
                assert!((24..=2880).contains(&bars), "{label} at {r}: {bars} bars");
            }
        }
    }

    #[test]
    fn chart_keys_move_the_readout_point_within_the_line() {
        assert_eq!(
            chart_key("ArrowLeft", None, 10),
            Some(Some(9)),
            "the first press starts at the newest"
        );
        assert_eq!(chart_key("ArrowLeft", Some(4), 10), Some(Some(3)));
        assert_eq!(chart_key("ArrowLeft", Some(0), 10), Some(Some(0)));
        assert_eq!(chart_key("ArrowRight", Some(9), 10), Some(Some(9)));
        assert_eq!(chart_key("ArrowRight", Some(3), 10), Some(Some(4)));
        assert_eq!(chart_key("PageUp", Some(50), 100), Some(Some(40)));
        assert_eq!(chart_key("PageDown", Some(95), 100), Some(Some(99)));
        assert_eq!(chart_key("Home", Some(5), 10), Some(Some(0)));
        assert_eq!(chart_key("End", None, 10), Some(Some(9)));
        assert_eq!(chart_key("Escape", Some(5), 10), Some(None));
        assert_eq!(
            chart_key("a", Some(5), 10),
            None,
            "other keys are left to the browser"
        );
        assert_eq!(chart_key("ArrowLeft", None, 0), None);
    }

    #[test]
    fn plots_map_data_into_the_box_with_y_up_and_clamp_outliers() {
        let p = plot(
            &[(0.0, 0.0), (0.5, 0.5), (1.0, 2.0)],
            (0.0, 1.0),
            (0.0, 1.0),
            200.0,
            100.0,
        );
        assert_eq!(p, vec![(0.0, 100.0), (100.0, 50.0), (200.0, 0.0)]);
        assert_eq!(svg_path(&p), "M0.0,100.0 L100.0,50.0 L200.0,0.0");
        assert_eq!(svg_path(&[]), "");
    }

    #[test]
    fn source_states_have_words_not_only_colors() {
        use shared::SourceState;
        assert_eq!(source_state(SourceState::Failing), ("failing", "failing"));
        assert_eq!(
            source_state(SourceState::Disabled).1,
            "not collected in this mode"
        );
    }

    /// WCAG 2 contrast ratio of two `#rrggbb` colors (1 to 21).
    fn contrast(a: &str, b: &str) -> Option<f64> {
        fn luminance(hex: &str) -> Option<f64> {
            let hex = hex.strip_prefix('#')?;
            if hex.len() != 6 {
                return None;
            }
            let channel = |i: usize| -> Option<f64> {
                let c = f64::from(u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()?) / 255.0;
                Some(if c <= 0.04045 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                })
            };
            Some(0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?)
        }
        let (la, lb) = (luminance(a)?, luminance(b)?);
        Some((la.max(lb) + 0.05) / (la.min(lb) + 0.05))
    }

    /// The custom properties of the light theme (`:root`) and the dark one (the media query).
    fn theme_colors(dark: bool) -> std::collections::HashMap<String, String> {
        let css = include_str!("../style.css");
        let block = if dark {
            let start = css.find("prefers-color-scheme: dark").expect("a dark theme");
            let root = css[start..].find(":root").expect(":root in the dark theme");
            &css[start + root..]
        } else {
            &css[css.find(":root").unwrap()..]
        };
        let block = &block[block.find('{').unwrap() + 1..];
        let block = &block[..block.find('}').unwrap()];
        block
            .split(';')
            .map(|d| match d.rfind("*/") {
                Some(end) => &d[end + 2..],
                None => d,
            })
            .filter_map(|d| d.trim().split_once(':'))
            .filter(|(k, _)| k.trim().starts_with("--"))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    }

    #[test]
    fn both_themes_meet_wcag_aa_contrast() {
        assert!((contrast("#000000", "#ffffff").unwrap() - 21.0).abs() < 1e-9);
        assert_eq!(contrast("#777", "#fff"), None);
        for dark in [false, true] {
            let c = theme_colors(dark);
            let get = |k: &str| {
                c.get(k)
                    .unwrap_or_else(|| panic!("{k} in the {} theme", if dark { "dark" } else { "light" }))
            };
            // Text: 4.5:1 (WCAG 2 AA, normal size).
            for (fg, bg) in [
                ("--fg", "--bg"),
                ("--fg", "--card"),
                ("--muted", "--bg"),
                ("--muted", "--card"),
                ("--up", "--card"),
                ("--down", "--card"),
                ("--up", "--bg"),
                ("--down", "--bg"),
                ("--accent", "--card"),
                ("--accent", "--bg"),
                ("--on-accent", "--accent"),
            ] {
                let ratio = contrast(get(fg), get(bg)).unwrap();
                assert!(ratio >= 4.5, "{fg} on {bg} (dark: {dark}): {ratio:.2}");
            }
            // Lines and marks in charts: 3:1 (non-text contrast).
            for series in ["--h1", "--h2", "--h3", "--h4", "--h5", "--h6"] {
                let ratio = contrast(get(series), get("--card")).unwrap();
                assert!(ratio >= 3.0, "{series} on --card (dark: {dark}): {ratio:.2}");
            }
        }
    }
}
