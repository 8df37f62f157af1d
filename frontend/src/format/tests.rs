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
    assert_eq!(usd_fixed(44500.0, 0), "$44,500");
    assert_eq!(usd_fixed(-1234.5, 1), "-$1,234.5");
    assert_eq!(usd_fixed(-0.0001, 2), "$0.00");
    assert_eq!(usd(292.432), "$292.43");
    assert_eq!(usd(1.54361), "$1.5436");
    assert_eq!(usd(1_234_567.0), "$1,234,567.00");
    assert_eq!(change(2.191), "+2.19%");
    assert_eq!(change(-0.511), "-0.51%");
}

fn pred(horizon: Horizon, made_at: &str, p_up: f64, correct: Option<bool>) -> Prediction {
    Prediction {
        id: 1,
        coin: Coin::BTC,
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
fn a_calibration_says_which_way_it_moved_the_probabilities() {
    let mut c = shared::Calibration {
        method: "platt".into(),
        a: 0.6,
        b: -0.05,
        rows: 2400,
        log_loss_before: 0.6934,
        log_loss_after: 0.6925,
    };
    let text = calibration(&c);
    assert!(
        text.starts_with("platt (a = 0.60, b = -0.05) on 2400 earlier rows"),
        "{text}"
    );
    assert!(text.contains("over-confident"), "{text}");
    assert!(text.ends_with("log loss 0.6934 to 0.6925"), "{text}");
    c.a = 1.3;
    assert!(calibration(&c).contains("under-confident"));
}

#[test]
fn model_kinds_read_as_words() {
    assert_eq!(model_kind("logistic"), "logistic regression");
    assert_eq!(model_kind("mlp-32-16"), "feed-forward net (32, 16)");
    assert_eq!(model_kind("gbm-d3"), "gradient-boosted trees (depth 3)");
    assert_eq!(
        model_kind("gbm-d3 pooled"),
        "gradient-boosted trees (depth 3), learnt from every coin"
    );
    assert_eq!(model_kind("gbt"), "gbt");
}

#[test]
fn a_frame_spans_its_box_and_finds_the_nearest_point() {
    let series = [(0, 10.0), (50, 20.0), (100, 15.0)];
    let f = Frame::around(&[&series], 200.0, 100.0).unwrap();
    let points = f.points(&series);
    assert_eq!(points.len(), 3);
    assert_eq!(points[0].0, 0.0);
    assert_eq!(points[2].0, 200.0);
    assert!(points[1].1 < points[0].1, "higher values are higher up");
    assert!((f.low - 9.5).abs() < 1e-9 && (f.high - 20.5).abs() < 1e-9);
    let path = svg_path(&points);
    assert!(path.starts_with("M0.0,") && path.contains(" L100.0,"));
    assert_eq!(nearest(&points, 40.0), Some(0));
    assert_eq!(nearest(&points, 60.0), Some(1));
    assert_eq!(nearest(&points, 500.0), Some(2));
    assert_eq!(Frame::around(&[&[(0, 1.0)]], 10.0, 10.0), None);
    assert_eq!(Frame::around(&[], 10.0, 10.0), None);
    // Several series share one frame; a flat line still gets a range.
    let other = [(-100, 30.0), (0, 30.0)];
    let f = Frame::around(&[&series, &other], 300.0, 100.0).unwrap();
    assert_eq!((f.t0, f.t1), (-100, 100));
    assert!(f.high > 30.0 && f.low < 10.0);
    let flat = Frame::around(&[&[(0, 1.0), (10, 1.0)]], 10.0, 10.0).unwrap();
    assert!(flat.high > flat.low);
    assert_eq!(value_at(&series, 49), Some(10.0));
    assert_eq!(value_at(&series, 50), Some(20.0));
    assert_eq!(value_at(&series, -1), None);
}

#[test]
fn value_axes_tick_at_round_levels_with_the_decimals_they_need() {
    let (ticks, step) = value_ticks(43_812.0, 45_377.0, 5);
    assert_eq!(step, 500.0);
    assert_eq!(ticks, vec![44_000.0, 44_500.0, 45_000.0]);
    assert_eq!(ValueAxis::Usd.tick(44_500.0, step), "$44,500");
    let (ticks, step) = value_ticks(42_000.0, 55_500.0, 6);
    assert_eq!((ticks.len(), step), (6, 2500.0));
    assert_eq!(ValueAxis::Usd.tick(ticks[0], step), "$42,500");
    assert_eq!(ValueAxis::Usd.tick(1.25, 0.25), "$1.25");
    assert_eq!(ValueAxis::Equity.tick(1.25, 0.25), "+25%");
    let (ticks, step) = value_ticks(1.512, 1.566, 5);
    assert!((step - 0.02).abs() < 1e-12);
    assert_eq!(ticks.len(), 3);
    assert_eq!(ValueAxis::Usd.tick(ticks[0], step), "$1.52");
    assert_eq!(ValueAxis::Equity.tick(1.2, 0.1), "+20%");
    assert_eq!(ValueAxis::Equity.tick(0.975, 0.005), "-2.5%");
    assert_eq!(ValueAxis::Equity.tick(1.0, 0.05), "0%");
    assert_eq!(ValueAxis::Equity.value(1.0321), "+3.2%");
    assert_eq!(ValueAxis::Usd.value(292.432), "$292.43");
    assert_eq!(value_ticks(1.0, 1.0, 5).0, Vec::<f64>::new());
    // A frame labels its levels from the top, inside the box.
    let f = Frame::around(&[&[(0, 0.8), (10, 1.3)]], 10.0, 10.0).unwrap();
    let ticks = f.value_ticks(ValueAxis::Equity, 5);
    assert_eq!(
        ticks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
        ["-20%", "0%", "+20%"]
    );
    assert!(ticks.iter().all(|t| (0.0..=1.0).contains(&t.at)));
    assert!(ticks[0].at > ticks[2].at, "higher levels nearer the top");
}

#[test]
fn time_axes_tick_at_round_times_labelled_for_their_step() {
    let t0 = at("2021-05-14T09:07:00Z").timestamp();
    // 24 hours: every 6 hours, midnight labelled with its date.
    let (ticks, step) = time_ticks(t0, t0 + 86_400, 6);
    assert_eq!(step, 6 * 3600);
    let labels: Vec<String> = ticks.iter().map(|t| time_tick(*t, step)).collect();
    assert_eq!(labels, ["12:00", "18:00", "May 15", "06:00"]);
    // 6 hours: hourly.
    let (ticks, step) = time_ticks(t0, t0 + 6 * 3600, 6);
    assert_eq!((step, ticks.len()), (7200, 3));
    assert_eq!(time_tick(ticks[0], step), "10:00");
    // 30 days: weekly on Mondays.
    let (ticks, step) = time_ticks(t0, t0 + 30 * 86_400, 6);
    assert_eq!(step, 7 * 86_400);
    assert_eq!(time_tick(ticks[0], step), "May 17");
    assert!(
        ticks.iter().all(|t| (t.div_euclid(86_400) + 3) % 7 == 0),
        "Mondays"
    );
    // Eight months: month starts (every other month from January).
    let from = at("2019-02-12T13:00:00Z").timestamp();
    let to = at("2019-10-01T00:00:00Z").timestamp();
    let (ticks, step) = time_ticks(from, to, 6);
    let labels: Vec<String> = ticks.iter().map(|t| time_tick(*t, step)).collect();
    assert_eq!(labels, ["Mar 2019", "May 2019", "Jul 2019", "Sep 2019"]);
    for (ticks, _) in [time_ticks(t0, t0 + 7 * 86_400, 6), time_ticks(from, to, 6)] {
        assert!(ticks.len() <= 6 && ticks.len() >= 2);
    }
    assert_eq!(time_ticks(5, 5, 6).0, Vec::<i64>::new());
    // A frame places them from the left.
    let f = Frame::around(&[&[(t0, 1.0), (t0 + 86_400, 2.0)]], 10.0, 10.0).unwrap();
    let ticks = f.time_ticks(6);
    assert!(ticks.windows(2).all(|w| w[0].at < w[1].at));
    assert!(ticks.iter().all(|t| (0.0..=1.0).contains(&t.at)));
}

#[test]
fn signals_state_confidence_against_the_threshold_and_flat_says_why() {
    let mut p = pred(Horizon::H1, "2026-11-24T09:00:00Z", 0.655, None);
    p.signal_threshold = Some(0.25);
    p.signal = Signal::from_p_up(p.p_up, 0.25);
    assert_eq!(signal(&p), ("LONG", "long", "confidence 0.31 ≥ 0.25".into()));
    p.p_up = 0.45;
    p.confidence = shared::confidence(0.45);
    p.signal = Signal::from_p_up(0.45, 0.25);
    assert_eq!(
        signal(&p),
        (
            "FLAT",
            "flat",
            "confidence 0.10 < 0.25: below the model's threshold".into()
        )
    );
    p.p_up = 0.2;
    p.confidence = shared::confidence(0.2);
    p.signal = Signal::from_p_up(0.2, 0.25);
    assert_eq!(signal(&p).0, "SHORT");
    p.signal_threshold = None;
    p.signal = Signal::Flat;
    assert!(signal(&p).2.contains("no signal threshold"));
}

#[test]
fn a_walk_forward_figure_says_how_many_independent_rows_it_rests_on() {
    let mut wf = shared::WalkForwardSummary {
        out_of_sample: true,
        test_from: "2019-02-12".into(),
        test_to: "2019-09-30".into(),
        n: 5531,
        n_effective: Some(2758.4),
        accuracy: 0.552,
        wilson_low: 0.53,
        wilson_high: 0.57,
        baseline_accuracy: 0.518,
        p_value: 0.01,
        p_value_binomial: Some(0.001),
        momentum_accuracy: None,
        reversal_accuracy: None,
        brier: 0.25,
        log_loss: 0.69,
        accuracy_vs_coverage: Vec::new(),
        reliability: Vec::new(),
        confidence_deciles: Vec::new(),
    };
    assert_eq!(
        walk_forward(&wf),
        "55.2% vs 51.8% baseline (n=5531, ≈ 2758 independent)"
    );
    wf.n_effective = Some(5531.0);
    assert_eq!(walk_forward(&wf), "55.2% vs 51.8% baseline (n=5531)");
}

#[test]
fn the_strongest_baseline_is_named_and_a_model_that_does_not_beat_it_is_told_so() {
    let mut skill = Skill {
        model_id: "m".into(),
        accuracy: 0.53,
        baseline_accuracy: 0.51,
        p_value: 0.01,
        n: 5000,
        n_effective: Some(640.0),
        beats_baseline: true,
        out_of_sample: true,
        strongest_baseline: Some(shared::StrongestBaseline {
            name: BaselineRule::Momentum,
            accuracy: 0.521,
            p_value: 0.31,
            p_value_holm: Some(1.0),
            p_value_bh: None,
            n_effective: None,
            beaten: false,
        }),
    };
    assert_eq!(
        strongest_baseline(&skill),
        "momentum (UP if the last bar rose) 52.1%: the model does not beat it (p = 0.310; Holm-corrected across the models: p = 1.000)"
    );
    skill.strongest_baseline = Some(shared::StrongestBaseline {
        name: BaselineRule::Reversal,
        accuracy: 0.505,
        p_value: 0.0002,
        p_value_holm: Some(0.0036),
        p_value_bh: Some(0.0018),
        n_effective: Some(412.4),
        beaten: true,
    });
    assert_eq!(
        strongest_baseline(&skill),
        "reversal (DOWN if the last bar rose) 50.5%: the model beats it (p < 0.001, paired test over ≈ 412 independent rows; Holm-corrected across the models: p = 0.004, Benjamini-Hochberg: p = 0.002)"
    );
    skill.strongest_baseline = None;
    assert!(strongest_baseline(&skill).contains("majority class only"));
}

fn result(trades: u32, gross: f64, net: f64, break_even: Option<f64>) -> StrategyResult {
    StrategyResult {
        trades,
        hit_rate: (trades > 0).then_some(0.55),
        gross_return: gross,
        net_return: net,
        sharpe: 0.8,
        max_drawdown: 0.233,
        turnover_per_year: 100.0,
        exposure: 0.1,
        break_even_fee_bps: break_even,
        equity: Vec::new(),
    }
}

#[test]
fn trading_figures_say_plainly_when_a_model_earns_nothing_after_fees() {
    let hold = result(1, 1.318, 1.314, Some(1000.0));
    let loses = result(249, 0.342, -0.184, Some(5.9));
    assert_eq!(
        earnings_verdict(&loses, &hold),
        "After fees this model earns nothing: following its signals returned -18.4% (+34.2% before fees) over 249 trades."
    );
    let even = result(10, 0.02, 0.0, Some(10.0));
    assert!(earnings_verdict(&even, &hold).starts_with("After fees this model earns nothing"));
    let earns = result(229, 0.759, 0.113, Some(12.3));
    assert_eq!(
        earnings_verdict(&earns, &hold),
        "Following the signals returned +11.3% after fees (+75.9% before) over 229 trades; holding the coin returned +131.4%, more than the signals."
    );
    assert!(earnings_verdict(&result(0, 0.0, 0.0, None), &hold).starts_with("No trades"));
    assert_eq!(
        strategy_cells(&loses),
        ["-18.4%", "+34.2%", "0.80", "23.3%", "249", "55.0%", "5.9 bps"].map(String::from)
    );
    assert_eq!(break_even(Some(-0.25)), "none: it loses before costs");
    assert_eq!(break_even(Some(1000.0)), "over 1,000 bps");
    assert_eq!(break_even(None), "–");
    assert_eq!(signed_pct(-0.0001), "0.0%");
    assert_eq!(bps(10.0), "10");
    assert_eq!(bps(2.5), "2.5");
}

fn performance(live: shared::StrategyFigures) -> ModelPerformance {
    ModelPerformance {
        coin: Coin::BTC,
        horizon: Horizon::H1,
        model_id: "m".into(),
        threshold: Some(0.4),
        fee_bps: 10.0,
        slippage_bps: 0.0,
        fee_source: "Binance taker fee".into(),
        walk_forward: None,
        live,
        live_out_of_sample: true,
    }
}

#[test]
fn costs_are_stated_and_the_live_record_says_when_it_has_nothing_or_little() {
    let figures = |n: u32, trades: u32| shared::StrategyFigures {
        from: (n > 0).then(|| at("2026-11-20T10:00:00Z")),
        to: (n > 0).then(|| at("2026-11-24T09:00:00Z")),
        n,
        long_short: result(trades, 0.01, -0.004, Some(4.0)),
        long_flat: result(trades, 0.0, 0.0, None),
        buy_and_hold: result(1, 0.02, 0.018, Some(90.0)),
        momentum: None,
        sharpe_se: None,
        deflated_sharpe: None,
        pbo: None,
    };
    let mut evidenced = figures(40, 6);
    assert_eq!(strategy_evidence(&evidenced), None);
    (evidenced.sharpe_se, evidenced.deflated_sharpe, evidenced.pbo) = (Some(1.9), Some(0.12), Some(0.55));
    assert_eq!(
        strategy_evidence(&evidenced).unwrap(),
        format!(
            "Sharpe {:.2} ± 1.90; deflated Sharpe 0.12 given every configuration tried (it may be luck); probability that the threshold choice is overfit 55% (no better than chance).",
            evidenced.long_short.sharpe
        )
    );
    let mut m = performance(figures(0, 0));
    assert_eq!(costs(&m), "after 10 bps per side: Binance taker fee");
    assert!(live_summary(&m).starts_with("No scored live predictions yet"));
    m.live = figures(40, 0);
    assert!(live_summary(&m).starts_with(
        "No live trades yet: 40 scored live predictions from 2026-11-20 10:00 to 2026-11-24 09:00 UTC"
    ));
    m.live = figures(40, 6);
    let text = live_summary(&m);
    assert!(text.starts_with("6 live trades (40 scored predictions"), "{text}");
    assert!(
        text.contains("-0.4% after fees") && text.contains("luck alone"),
        "{text}"
    );
    m.slippage_bps = 2.0;
    assert_eq!(
        costs(&m),
        "after 10 bps fee and 2 bps slippage per side: Binance taker fee"
    );
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
        n_effective: 7,
        hits: 223,
        accuracy: Some(223.0 / 412.0),
        wilson_low: Some(0.493),
        wilson_high: Some(0.589),
        brier: Some(0.249),
        baseline_accuracy: Some(0.51),
    };
    assert_eq!(
        live_accuracy(&a),
        "54.1% [49.3-58.9%] vs 51.0% baseline, n=412 (≈ 7 independent)"
    );
    a.out_of_sample = false;
    a.n_effective = 412;
    assert_eq!(
        live_accuracy(&a),
        "54.1% [49.3-58.9%] vs 51.0% baseline, n=412 (in-sample: on rows the model trained on)"
    );
    a.n = 0;
    a.accuracy = None;
    assert_eq!(live_accuracy(&a), "no scored live predictions yet");
}

fn decision(decision: GateDecision, p: Option<f64>) -> GateDecisionInfo {
    GateDecisionInfo {
        decided_at: "2026-12-06T03:00:00Z".into(),
        challenger_id: "BTC-1h-new".into(),
        champion_id: "BTC-1h-old".into(),
        decision,
        reason: String::new(),
        window_from: "2026-11-29T03:00:00Z".into(),
        window_to: "2026-12-06T03:00:00Z".into(),
        n: 168,
        champion_log_loss: p.map(|_| 0.693),
        challenger_log_loss: p.map(|_| 0.690),
        champion_accuracy: None,
        challenger_accuracy: None,
        dm_statistic: None,
        p_value: p,
        champion_in_sample: false,
    }
}

#[test]
fn the_models_card_says_where_a_model_came_from_and_what_the_last_retrain_did() {
    const FROM: &str = "2024-01-01";
    const TO: &str = "2025-03-31T23:00:00+00:00";
    let mut v = ModelVersion {
        origin: ModelOrigin::Shipped,
        trained_at: "2025-03-31T12:00:00+00:00".into(),
        promoted_at: None,
        gate: Some(decision(GateDecision::Promoted, Some(0.0004))),
        decisions: Vec::new(),
        live_by_version: Vec::new(),
    };
    assert_eq!(
        model_version(&v, FROM, TO),
        "shipped, trained on 2024-01-01 to 2025-03-31 · replaced the previous model (p < 0.001) · not retrained here yet"
    );
    v.decisions.push(decision(GateDecision::Kept, Some(0.4123)));
    assert_eq!(
        model_version(&v, FROM, TO),
        "shipped, trained on 2024-01-01 to 2025-03-31 · replaced the previous model (p < 0.001) · last retrain 2026-12-06 03:00 UTC: kept the previous model: the new one was not better (p = 0.412)"
    );
    v.origin = ModelOrigin::Retrained;
    v.promoted_at = Some("2026-12-13T03:01:00Z".into());
    v.decisions
        .insert(0, decision(GateDecision::Promoted, Some(0.01)));
    assert_eq!(
        model_version(&v, FROM, TO),
        "retrained here on 2024-01-01 to 2025-03-31, serving since 2026-12-13 03:01 UTC · last retrain 2026-12-06 03:00 UTC: replaced the previous model (p = 0.010)"
    );
    v.decisions[0] = decision(GateDecision::Kept, None);
    assert!(model_version(&v, FROM, TO).ends_with("kept the previous model: no new one could be trained"));
    v.decisions[0] = decision(GateDecision::Promoted, Some(0.51));
    assert!(
        model_version(&v, FROM, TO)
            .ends_with("replaced the previous model on a tie (p = 0.510; why on hover)"),
        "{}",
        model_version(&v, FROM, TO)
    );
    let mut r = RetrainStatus {
        running: true,
        started_at: "2026-12-06T03:00:00Z".into(),
        finished_at: None,
        done: 5,
        total: 18,
        promoted: 1,
        step: "BTC 4h: training the challenger".into(),
    };
    assert_eq!(
        retrain_status(&r),
        "Retraining now: 5 of 18 done · BTC 4h: training the challenger"
    );
    r.running = false;
    r.finished_at = Some("2026-12-06T03:04:10Z".into());
    r.done = 18;
    assert_eq!(
        retrain_status(&r),
        "Last retrain finished 2026-12-06 03:04 UTC: 1 of 18 new models replaced the running ones"
    );
}

#[test]
fn other_coins_sort_by_name_price_or_change_with_unknown_changes_last() {
    let rows = || {
        vec![
            ("Ripple".to_owned(), 0.5, Some(-1.0), ()),
            ("bitcoin".to_owned(), 60_000.0, None, ()),
            ("Litecoin".to_owned(), 80.0, Some(2.0), ()),
        ]
    };
    let names =
        |r: &[(String, f64, Option<f64>, ())]| r.iter().map(|x| x.0.clone()).collect::<Vec<_>>().join(",");
    let mut r = rows();
    sort_prices(&mut r, PriceSort::Name, true);
    assert_eq!(names(&r), "bitcoin,Litecoin,Ripple");
    sort_prices(&mut r, PriceSort::Name, false);
    assert_eq!(names(&r), "Ripple,Litecoin,bitcoin");
    sort_prices(&mut r, PriceSort::Price, false);
    assert_eq!(names(&r), "bitcoin,Litecoin,Ripple");
    sort_prices(&mut r, PriceSort::Change, false);
    assert_eq!(names(&r), "Litecoin,Ripple,bitcoin");
    sort_prices(&mut r, PriceSort::Change, true);
    assert_eq!(names(&r), "Ripple,Litecoin,bitcoin");
}

#[test]
fn coin_paths_parse_names_and_tickers_in_any_case() {
    let served = |coins: &[(Coin, &str)]| CoinsResponse {
        coins: coins
            .iter()
            .map(|&(coin, name)| shared::CoinInfo {
                coin,
                name: name.into(),
                horizons: vec![],
                models_beating_baseline: 0,
            })
            .collect(),
    };
    let three = served(&[
        (Coin::BTC, "Bitcoin"),
        (Coin::LTC, "Litecoin"),
        (Coin::XRP, "Ripple"),
    ]);
    assert_eq!(coin_from_path("/Bitcoin", Some(&three)), Some(Coin::BTC));
    assert_eq!(coin_from_path("/litecoin", Some(&three)), Some(Coin::LTC));
    assert_eq!(coin_from_path("/XRP/history", Some(&three)), Some(Coin::XRP));
    assert_eq!(coin_from_path("/", Some(&three)), None);
    assert_eq!(coin_from_path("/Dogecoin", Some(&three)), None, "not served");
    let pepe = Coin::from_ticker("PEPE").unwrap();
    let other = served(&[(Coin::BCH, "Bitcoin Cash"), (pepe, "Pepe")]);
    assert_eq!(coin_from_path("/Bitcoin-Cash", Some(&other)), Some(Coin::BCH));
    assert_eq!(coin_from_path("/pepe", Some(&other)), Some(pepe));
    // Before the server has listed its coins: the coins coincast knows only.
    assert_eq!(coin_from_path("/Dogecoin", None), Some(Coin::DOGE));
    assert_eq!(coin_from_path("/about", None), None);
    assert_eq!(coin_from_path("/PEPE", None), None);
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
    assert_eq!(chart_resolution(0, None, 60), "1m");
    assert_eq!(chart_resolution(0, Some("15m"), 60), "15m");
    assert_eq!(
        chart_resolution(0, Some("1d"), 60),
        "1m",
        "a day bar in a 6 h chart is not offered"
    );
    assert_eq!(
        chart_resolution(3, Some("1m"), 60),
        "1h",
        "30 d of minutes would pass the 5,000-bar cap"
    );
    // A replay of 5-minute candles: no 1-minute bars anywhere.
    assert_eq!(chart_resolutions(0, 300), ["5m", "15m"]);
    assert_eq!(chart_resolution(0, None, 300), "5m");
    assert_eq!(chart_resolution(1, Some("1m"), 300), "5m");
    assert_eq!(chart_resolution(2, None, 300), "1h");
    for range in 0..CHART_RANGES.len() {
        assert!(!chart_resolutions(range, 300).is_empty());
    }
    for (label, span, default, offered) in CHART_RANGES {
        assert!(offered.contains(&default), "{label}");
        for r in offered {
            let seconds = resolution_seconds(r).unwrap_or_else(|| panic!("{r}"));
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
    let css = include_str!("../../style.css");
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
