//! Signals and trading figures in words: a prediction's signal, the strongest simple rule, costs
//! and break-even, a strategy's cells, the earnings verdict and its evidence, the live ledger.

use super::*;

/// A prediction's signal: its word, CSS class, and why (`confidence 0.31 ≥ 0.25`; FLAT says the
/// confidence is below the model's threshold, or that the model has none).
pub fn signal(p: &Prediction) -> (&'static str, &'static str, String) {
    let (word, class) = match p.signal {
        Signal::Long => ("LONG", "long"),
        Signal::Short => ("SHORT", "short"),
        Signal::Flat => ("FLAT", "flat"),
    };
    let why = match (p.signal, p.signal_threshold) {
        (_, None) => "this model has no signal threshold: stay out".to_owned(),
        (Signal::Flat, Some(t)) => format!(
            "confidence {:.2} < {t:.2}: below the model's threshold",
            p.confidence
        ),
        (_, Some(t)) => format!("confidence {:.2} ≥ {t:.2}", p.confidence),
    };
    (word, class, why)
}

/// The words and CSS class of a direction: never color alone.
pub fn direction(d: Direction) -> (&'static str, &'static str) {
    match d {
        Direction::Up => ("▲ UP", "up"),
        Direction::Down => ("▼ DOWN", "down"),
    }
}

/// A simple rule's name: `momentum (UP if the last bar rose)`.
pub fn baseline_rule(rule: BaselineRule) -> &'static str {
    match rule {
        BaselineRule::Majority => "majority class (always the more frequent direction)",
        BaselineRule::Momentum => "momentum (UP if the last bar rose)",
        BaselineRule::Reversal => "reversal (DOWN if the last bar rose)",
    }
}

/// The strongest simple rule next to the model, plainly: `momentum (…) 52.1%: the model does not
/// beat it (p = 0.310)`.
pub fn strongest_baseline(skill: &Skill) -> String {
    match &skill.strongest_baseline {
        Some(b) => format!(
            "{} {}: {} ({})",
            baseline_rule(b.name),
            accuracy(b.accuracy),
            if b.beaten {
                "the model beats it"
            } else {
                "the model does not beat it"
            },
            {
                let mut evidence = p_value(b.p_value);
                if let Some(n) = b.n_effective {
                    evidence.push_str(&format!(", paired test over ≈ {n:.0} independent rows"));
                }
                if let Some(holm) = b.p_value_holm {
                    evidence.push_str(&format!("; Holm-corrected across the models: {}", p_value(holm)));
                }
                if let Some(bh) = b.p_value_bh {
                    evidence.push_str(&format!(", Benjamini-Hochberg: {}", p_value(bh)));
                }
                evidence
            }
        ),
        None => "not recorded for this model (compared with the majority class only)".into(),
    }
}

/// The costs the trading figures are after: `after 10 bps per side: Binance spot taker fee`.
pub fn costs(m: &ModelPerformance) -> String {
    if m.slippage_bps > 0.0 {
        format!(
            "after {} bps fee and {} bps slippage per side: {}",
            bps(m.fee_bps),
            bps(m.slippage_bps),
            m.fee_source
        )
    } else {
        format!("after {} bps per side: {}", bps(m.fee_bps), m.fee_source)
    }
}

/// The cost per side at which a strategy breaks even: `12.3 bps`, or that it loses before costs.
pub fn break_even(fee_bps: Option<f64>) -> String {
    match fee_bps {
        None => "–".into(),
        Some(x) if x < 0.0 => "none: it loses before costs".into(),
        Some(x) if x >= 1000.0 => "over 1,000 bps".into(),
        Some(x) => format!("{x:.1} bps"),
    }
}

/// One strategy's numbers as the performance table shows them: net, gross, Sharpe, maximum
/// drawdown, trades, hit rate, break-even fee.
pub fn strategy_cells(r: &StrategyResult) -> [String; 7] {
    [
        signed_pct(r.net_return),
        signed_pct(r.gross_return),
        format!("{:.2}", r.sharpe),
        format!("{:.1}%", 100.0 * r.max_drawdown),
        r.trades.to_string(),
        r.hit_rate.map_or_else(|| "–".into(), accuracy),
        break_even(r.break_even_fee_bps),
    ]
}

/// What following the signals earned, said plainly: nothing (net return at or below 0), or how
/// it compares with holding the coin.
pub fn earnings_verdict(long_short: &StrategyResult, hold: &StrategyResult) -> String {
    let (net, gross) = (
        signed_pct(long_short.net_return),
        signed_pct(long_short.gross_return),
    );
    if long_short.trades == 0 {
        "No trades: no prediction in this period was confident enough to act on.".into()
    } else if long_short.net_return <= 0.0 {
        format!(
            "After fees this model earns nothing: following its signals returned {net} ({gross} before fees) over {} trades.",
            long_short.trades
        )
    } else {
        format!(
            "Following the signals returned {net} after fees ({gross} before) over {} trades; holding the coin returned {}{}.",
            long_short.trades,
            signed_pct(hold.net_return),
            if long_short.net_return < hold.net_return {
                ", more than the signals"
            } else {
                ""
            }
        )
    }
}

/// How much of the walk-forward Sharpe ratio can be luck: its standard error, the deflated Sharpe
/// ratio and the probability of backtest overfitting of the threshold, when the card has them.
pub fn strategy_evidence(f: &StrategyFigures) -> Option<String> {
    let (se, dsr) = (f.sharpe_se?, f.deflated_sharpe?);
    let mut text = format!(
        "Sharpe {:.2} ± {se:.2}; deflated Sharpe {dsr:.2} given every configuration tried ({})",
        f.long_short.sharpe,
        if dsr >= 0.95 {
            "unlikely to be luck alone"
        } else {
            "it may be luck"
        }
    );
    if let Some(pbo) = f.pbo {
        text.push_str(&format!(
            "; probability that the threshold choice is overfit {:.0}%{}",
            100.0 * pbo,
            if pbo >= 0.5 {
                " (no better than chance)"
            } else {
                ""
            }
        ));
    }
    text.push('.');
    Some(text)
}

/// What the live record holds so far: none yet, no trades yet, or its trades and dates, with a
/// warning about small samples.
pub fn live_summary(m: &ModelPerformance) -> String {
    let live = &m.live;
    let period = match (live.from, live.to) {
        (Some(from), Some(to)) => format!(
            " from {} to {}",
            from.format("%Y-%m-%d %H:%M"),
            to.format("%Y-%m-%d %H:%M UTC")
        ),
        _ => String::new(),
    };
    if live.n == 0 {
        "No scored live predictions yet: the live record starts with the first one.".into()
    } else if live.long_short.trades == 0 {
        format!(
            "No live trades yet: {} scored live predictions{period}, none confident enough to act on.",
            live.n
        )
    } else {
        format!(
            "{} live trades ({} scored predictions{period}): {} after fees ({} before), buy-and-hold {}.{}",
            live.long_short.trades,
            live.n,
            signed_pct(live.long_short.net_return),
            signed_pct(live.long_short.gross_return),
            signed_pct(live.buy_and_hold.net_return),
            if live.long_short.trades < 100 {
                " So few trades say little: luck alone moves them a lot."
            } else {
                ""
            }
        )
    }
}
