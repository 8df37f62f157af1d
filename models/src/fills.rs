//! Following published signals on candles as a bot can: each signal acts at the open of the
//! first candle that starts after it was published, the position is held for the horizon and
//! closed at the open of the first candle at or after its entry plus the horizon; positions never
//! overlap. This is the rule `integrations/freqtrade`'s strategy trades by, so freqtrade's own
//! backtester (an engine nobody here wrote) can check coincast's ledger trade by trade.
//!
//! - A signal published at `p` acts at the candle opening at `c` when the candle before opened
//!   before `p` and `p <= c`: of several in that span, the newest counts (a bot polling at the
//!   candle's open sees only it), then a FLAT one (or a SHORT one when long-only) makes no trade.
//!   Signals at or before the first candle's open, or after the last one's, are not traded.
//! - A signal while a position is open is skipped; one whose entry candle is the previous
//!   position's exit candle opens a new position there.
//! - With `c` the cost per side as a fraction (fee plus slippage), a long returns
//!   `close (1 - c) / (open (1 + c)) - 1` and a short `1 - close (1 + c) / (open (1 - c))`: costs
//!   charged on the traded amounts, as freqtrade charges its fees.
//! - A position whose exit candle is past the data is left out (it has no exit price).

use shared::Signal;

/// Seconds from a prediction's time to its publication that the fills assume (the engine stores
/// and serves a tick's predictions a few seconds after its minute; `coincast evaluate
/// --publish-delay-s` sets another).
pub const PUBLISH_DELAY_S: i64 = 5;

use crate::history::Bar;
use crate::strategy::Costs;

/// One position taken on candles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    /// The entry candle's open time (Unix seconds).
    pub open_ts: i64,
    /// The exit candle's open time.
    pub close_ts: i64,
    pub short: bool,
    /// The entry candle's open price.
    pub open_rate: f64,
    /// The exit candle's open price.
    pub close_rate: f64,
    /// The net return after costs on both sides.
    pub profit_ratio: f64,
}

/// The net return of a position from `open` to `close` at `cost` per side (a fraction).
pub fn net_return(open: f64, close: f64, short: bool, cost: f64) -> f64 {
    if short {
        1.0 - close * (1.0 + cost) / (open * (1.0 - cost))
    } else {
        close * (1.0 - cost) / (open * (1.0 + cost)) - 1.0
    }
}

/// The positions `signals` (publication time, signal; in the order published) make on `candles`
/// (oldest first, each `ts` its open time) held for `horizon_s`.
pub fn follow(
    candles: &[Bar],
    signals: &[(i64, Signal)],
    horizon_s: i64,
    costs: Costs,
    long_only: bool,
) -> Vec<Fill> {
    let cost = (costs.fee_bps + costs.slippage_bps) / 1e4;
    let mut out = Vec::new();
    let mut free_at = i64::MIN;
    let mut next = 0;
    for (i, candle) in candles.iter().enumerate() {
        // The signals published in (previous open, this open]: the newest counts.
        let mut newest = None;
        while let Some(&(published, signal)) = signals.get(next) {
            if published > candle.ts {
                break;
            }
            if i > 0 && published > candles[i - 1].ts {
                newest = Some(signal);
            }
            next += 1;
        }
        let short = match newest {
            Some(Signal::Long) => false,
            Some(Signal::Short) if !long_only => true,
            _ => continue,
        };
        if candle.ts < free_at {
            continue;
        }
        let due = candle.ts.saturating_add(horizon_s);
        let Some(exit) = candles[i..].iter().find(|c| c.ts >= due) else {
            break;
        };
        out.push(Fill {
            open_ts: candle.ts,
            close_ts: exit.ts,
            short,
            open_rate: candle.open,
            close_rate: exit.open,
            profit_ratio: net_return(candle.open, exit.open, short, cost),
        });
        free_at = exit.ts;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candle(ts: i64, open: f64) -> Bar {
        Bar {
            ts,
            open,
            high: open + 1.0,
            low: open - 1.0,
            close: open + 0.5,
            volume: 1.0,
        }
    }

    const NO_COST: Costs = Costs {
        fee_bps: 0.0,
        slippage_bps: 0.0,
    };

    #[test]
    fn signals_act_at_the_next_open_and_close_at_the_open_a_horizon_later() {
        // 5-minute candles at 0, 300, ..., 3000 (the one at 1500 missing), opens 100, 101, ...
        let candles: Vec<Bar> = (0..11)
            .filter(|i| *i != 5)
            .map(|i| candle(i * 300, 100.0 + i as f64))
            .collect();
        let signals = [
            (0, Signal::Long),     // at the first open: nothing before it to act on
            (5, Signal::Short),    // overtaken by the newer one before the 600 open
            (299, Signal::Long),   // acts at 300
            (600, Signal::Short),  // a position is open until 900: skipped
            (901, Signal::Flat),   // newest before 1200: no trade
            (902, Signal::Flat),   //
            (1201, Signal::Short), // the 1500 candle is missing: acts at 1800
            (1801, Signal::Long),  // acts at 2100, while that short is open: skipped
            (2401, Signal::Long),  // acts at 2700; its exit (3300) is past the data
        ];
        let fills = follow(&candles, &signals, 600, NO_COST, false);
        assert_eq!(
            fills,
            [
                Fill {
                    open_ts: 300,
                    close_ts: 900,
                    short: false,
                    open_rate: 101.0,
                    close_rate: 103.0,
                    profit_ratio: 103.0 / 101.0 - 1.0,
                },
                Fill {
                    open_ts: 1800,
                    close_ts: 2400,
                    short: true,
                    open_rate: 106.0,
                    close_rate: 108.0,
                    profit_ratio: 1.0 - 108.0 / 106.0,
                },
            ]
        );
        // Long-only: the short is not taken, so the long at 2100 is (nothing open then).
        let long_only = follow(&candles, &signals, 600, NO_COST, true);
        assert_eq!(
            long_only.iter().map(|f| (f.open_ts, f.short)).collect::<Vec<_>>(),
            [(300, false), (2100, false)]
        );
    }

    #[test]
    fn back_to_back_positions_and_costs_on_the_traded_amounts() {
        let candles: Vec<Bar> = (0..6).map(|i| candle(i * 300, 100.0)).collect();
        let signals = [(1, Signal::Long), (301, Signal::Short), (601, Signal::Short)];
        let costs = Costs {
            fee_bps: 10.0,
            slippage_bps: 2.0,
        };
        let fills = follow(&candles, &signals, 600, costs, false);
        assert_eq!(
            fills
                .iter()
                .map(|f| (f.open_ts, f.close_ts, f.short))
                .collect::<Vec<_>>(),
            [(300, 900, false), (900, 1500, true)],
            "the first short came while the long was open; the second enters at the long's exit candle"
        );
        let c = 0.0012;
        assert!((fills[0].profit_ratio - ((1.0 - c) / (1.0 + c) - 1.0)).abs() < 1e-15);
        assert!((fills[1].profit_ratio - (1.0 - (1.0 + c) / (1.0 - c))).abs() < 1e-15);
        assert!(
            fills[0].profit_ratio < -2.0 * c * 0.99,
            "a flat price loses both sides' costs"
        );
    }
}
