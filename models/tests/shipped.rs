//! The shipped models: every ONNX file in `models/artifacts` loads in tract, matches its card's
//! sha256, and reproduces the trainer's probability on its golden input to 1e-5; every card holds
//! the baselines and the strategy evaluation, and a card without them still parses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use models::card::ModelCard;
use models::features::FEATURE_VERSION;
use models::metrics::ChosenOn;
use models::onnx::OnnxModel;
use models::strategy::{DEFAULT_FEE_BPS, DEFAULT_SLIPPAGE_BPS, MAX_EQUITY_POINTS, THRESHOLD_GRID};
use models::train::read_cards;
use sha2::{Digest, Sha256};
use shared::{Coin, Horizon};

#[test]
fn every_shipped_model_reproduces_its_golden_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    let cards = read_cards(&dir).unwrap();
    // Every coin coincast knows (the ten of shared::KNOWN_COINS), in ticker order.
    let mut coins: Vec<Coin> = shared::KNOWN_COINS.iter().map(|k| k.coin).collect();
    coins.sort();
    let expected: Vec<(Coin, Horizon)> = coins
        .into_iter()
        .flat_map(|c| Horizon::ALL.into_iter().map(move |h| (c, h)))
        .collect();
    let found: Vec<(Coin, Horizon)> = cards.iter().map(|c| (c.coin, c.horizon)).collect();
    assert_eq!(found, expected, "one model per coin and horizon");
    for card in &cards {
        let bytes = std::fs::read(dir.join(&card.onnx_file)).unwrap();
        assert_eq!(
            format!("{:x}", Sha256::digest(&bytes)),
            card.onnx_sha256,
            "{}",
            card.id
        );
        assert_eq!(card.features.version, FEATURE_VERSION, "{}", card.id);
        assert_eq!(card.features.names.len(), card.golden.input.len(), "{}", card.id);
        let model = OnnxModel::from_bytes(&bytes, card.golden.input.len()).unwrap();
        let p = model.predict(std::slice::from_ref(&card.golden.input)).unwrap()[0];
        assert!(
            (p - card.golden.p_up).abs() < 1e-5,
            "{}: tract {p} vs trainer {}",
            card.id,
            card.golden.p_up
        );
        let m = &card.walk_forward.metrics;
        assert!(
            m.n > 0 && m.wilson_low <= m.accuracy && m.accuracy <= m.wilson_high,
            "{}",
            card.id
        );
    }
}

#[test]
fn every_card_holds_the_baselines_and_the_strategy_evaluation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    for card in read_cards(&dir).unwrap() {
        let m = &card.walk_forward.metrics;
        let (momentum, reversal) = (m.momentum_accuracy.unwrap(), m.reversal_accuracy.unwrap());
        assert!((momentum + reversal - 1.0).abs() < 1e-12, "{}", card.id);
        // The rules were fixed on the selection folds, before the test rows: the strongest there
        // need not be the strongest here.
        let strongest = m.strongest_baseline.unwrap();
        let fixed = m.baselines.expect("the rules as fixed");
        assert_eq!(fixed.chosen_on, ChosenOn::SelectionFolds, "{}", card.id);
        assert_eq!(strongest.name, fixed.strongest, "{}", card.id);
        assert!(
            [m.baseline_accuracy, momentum, reversal]
                .iter()
                .any(|a| (a - strongest.accuracy).abs() < 1e-12),
            "{}",
            card.id
        );
        // Overlap-aware evidence: HAC lags of at least the horizon in rows, fewer effective rows
        // than rows, the naive binomial value kept apart.
        assert!(m.lags.unwrap() >= 2, "{}", card.id);
        assert!(m.n_effective.unwrap() <= m.n as f64 && strongest.n_effective.is_some());
        assert!(m.p_value_binomial.is_some() && strongest.p_value_binomial.is_some());
        assert!(card.training.up_rate.is_some_and(|r| (0.0..=1.0).contains(&r)));
        let s = card.strategy.as_ref().unwrap();
        assert!(THRESHOLD_GRID.contains(&s.threshold), "{}", card.id);
        assert_eq!(s.threshold, s.threshold_choice.threshold);
        assert!(
            s.threshold_choice.to < card.walk_forward.test_from,
            "{}: chosen before",
            card.id
        );
        assert_eq!(
            (s.fee_bps, s.slippage_bps),
            (DEFAULT_FEE_BPS, DEFAULT_SLIPPAGE_BPS)
        );
        let e = s.evidence.expect("the Sharpe ratio's evidence");
        assert!(
            e.sharpe_se > 0.0 && (0.0..=1.0).contains(&e.deflated_sharpe),
            "{}",
            card.id
        );
        assert_eq!(e.trials, card.selection.len() * THRESHOLD_GRID.len());
        assert_eq!(s.rows, m.n, "{}: the same rows", card.id);
        assert_eq!(s.buy_and_hold.trades, 1);
        for run in [&s.long_short, &s.long_flat, &s.buy_and_hold, &s.momentum] {
            assert!(!run.equity.is_empty() && run.equity.len() <= MAX_EQUITY_POINTS);
            assert!(run.equity.windows(2).all(|w| w[0].t <= w[1].t));
            assert!((0.0..=1.0).contains(&run.max_drawdown));
        }
    }
}

#[test]
fn a_card_written_before_the_strategy_and_baselines_still_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    let text = std::fs::read_to_string(dir.join("BTC-1h.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json.as_object_mut().unwrap().remove("strategy");
    for path in ["/walk_forward/metrics", "/shuffled_split"] {
        let m = json.pointer_mut(path).unwrap().as_object_mut().unwrap();
        for key in ["momentum_accuracy", "reversal_accuracy", "strongest_baseline"] {
            m.remove(key);
        }
    }
    let card: ModelCard = serde_json::from_value(json).unwrap();
    assert!(card.strategy.is_none());
    assert!(card.walk_forward.metrics.strongest_baseline.is_none());
}
