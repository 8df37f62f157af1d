//! The coin page's performance section: what following each model's signals earned after costs,
//! walk-forward and live, per horizon, with equity curves drawn by the shared [`LineChart`].

use leptos::prelude::*;
use shared::{Coin, Horizon, ModelPerformance, StrategyFigures};

use crate::api;
use crate::chart::{LineChart, Series};
use crate::format::{self, ValueAxis};
use crate::live::{Live, steady};
use crate::ui::Skeleton;

/// Per horizon: an overview row (long-short after costs against buy-and-hold, break-even fee,
/// live trades) that also picks the horizon shown below it: the costs stated, a plain verdict
/// (earns nothing after fees, or how it compares with holding the coin), the walk-forward equity
/// curve beside buy-and-hold, the numbers of each strategy, and the live record (in-sample and
/// no-trade cases said so). Re-read when predictions are scored.
#[component]
pub fn Performance(coin: Coin) -> impl IntoView {
    let live = Live::get();
    let performance = LocalResource::new(move || {
        live.scores.track();
        live.reconnected.track();
        api::performance(coin)
    });
    let shown = steady(performance);
    let chosen = RwSignal::new(Horizon::ALL[0]);
    view! {
        <section class="performance" aria-label="Performance after costs" data-testid="performance">
            <h2>"Following the signals: returns after costs"</h2>
            <p class="muted">
                "What trading each model's signals would have returned: LONG buys, SHORT sells short, FLAT \
                 stays out; one position at a time, held for the horizon, paying the fee on entry and on exit. \
                 Walk-forward figures come from periods the model never trained on; live figures from this \
                 server's own scored predictions. Past returns, not a promise: "
                <a href="/about#trading-figures">"what these figures do and do not say"</a>
                "."
            </p>
            <Transition fallback=|| view! { <Skeleton label="Loading the trading figures…" lines=8/> }>
                {move || {
                    shown().map(|r| match r {
                        Err(e) => view! {
                            <p class="error-banner" role="alert">"Trading figures unavailable: " {e.to_string()}</p>
                        }
                            .into_any(),
                        Ok(body) => {
                            let mine: Vec<ModelPerformance> = body.models.into_iter().filter(|m| m.coin == coin).collect();
                            if mine.is_empty() {
                                return view! { <p class="muted">"No trading figures for this coin's models yet."</p> }.into_any();
                            }
                            let overview = mine.clone();
                            view! {
                                <Overview models=overview chosen=chosen/>
                                {move || {
                                    let h = chosen.get();
                                    mine.iter().find(|m| m.horizon == h).cloned().map(|m| view! { <Detail m=m/> })
                                }}
                            }
                                .into_any()
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

/// A row per horizon; its button shows that horizon's details.
#[component]
fn Overview(models: Vec<ModelPerformance>, chosen: RwSignal<Horizon>) -> impl IntoView {
    let rows = models
        .into_iter()
        .map(|m| {
            let h = m.horizon;
            let (wf, hold, even) = match &m.walk_forward {
                Some(wf) => (
                    format::signed_pct(wf.long_short.net_return),
                    format::signed_pct(wf.buy_and_hold.net_return),
                    format::break_even(wf.long_short.break_even_fee_bps),
                ),
                None => ("–".into(), "–".into(), "–".into()),
            };
            let loses = m
                .walk_forward
                .as_ref()
                .is_some_and(|wf| wf.long_short.net_return <= 0.0);
            let live = match m.live.long_short.trades {
                0 => "no trades yet".to_owned(),
                n => format!(
                    "{} ({n} trades)",
                    format::signed_pct(m.live.long_short.net_return)
                ),
            };
            view! {
                <tr data-horizon=h.as_str()>
                    <th scope="row">
                        <button
                            type="button"
                            class="range"
                            aria-pressed=move || (chosen.get() == h).to_string()
                            on:click=move |_| chosen.set(h)
                        >
                            {h.label()}
                        </button>
                    </th>
                    <td class:loss=loses>{wf}{loses.then_some(" (earns nothing)")}</td>
                    <td>{hold}</td>
                    <td>{even}</td>
                    <td>{live}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table data-testid="performance-overview">
                <caption>"Long-short after costs, by horizon: choose one for its equity curve and numbers"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Horizon"</th>
                        <th scope="col">"Walk-forward, after costs"</th>
                        <th scope="col">"Buy-and-hold"</th>
                        <th scope="col">"Break-even fee"</th>
                        <th scope="col">"Live"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// One model's trading figures: costs, verdict, equity curves and numbers, walk-forward and live.
#[component]
fn Detail(m: ModelPerformance) -> impl IntoView {
    let Some(threshold) = m.threshold else {
        return view! {
            <div class="perf-detail" data-horizon=m.horizon.as_str()>
                <h3>{m.horizon.label()} " model"</h3>
                <p>"This model was trained before signal thresholds existed: it has no trading figures."</p>
            </div>
        }
        .into_any();
    };
    let costs = format!(
        "Figures {}. Signals at confidence ≥ {threshold:.2}, a threshold chosen on earlier walk-forward folds than the ones scored here.",
        format::costs(&m)
    );
    let walk_forward = match m.walk_forward.clone() {
        Some(wf) => {
            let verdict = format::earnings_verdict(&wf.long_short, &wf.buy_and_hold);
            let loses = wf.long_short.net_return <= 0.0;
            view! {
                <h4>"Walk-forward (out of sample) " <span class="muted">{period(&wf)}</span></h4>
                <p class="verdict" class:loss=loses data-testid="verdict">{verdict}</p>
                {format::strategy_evidence(&wf).map(|e| view! { <p class="muted" data-testid="evidence">{e}</p> })}
                {curves(&wf, "equity-chart", format!("Walk-forward equity of the {} model's signals after costs", m.horizon.label()))}
                <StrategyTable figures=wf/>
            }
                .into_any()
        }
        None => {
            view! { <p class="muted">"This model's card has no walk-forward trading figures."</p> }.into_any()
        }
    };
    let live = m.live.clone();
    let has_trades = live.long_short.trades > 0;
    view! {
        <div class="perf-detail" data-horizon=m.horizon.as_str()>
            <h3>{m.horizon.label()} " model " <span class="muted">{m.model_id.clone()}</span></h3>
            <p class="costs" data-testid="costs">{costs}</p>
            {walk_forward}
            <h4>"Live: this server's own scored predictions " <span class="muted">{live_period(&live)}</span></h4>
            {(!m.live_out_of_sample).then(|| view! {
                <p class="warning" data-testid="in-sample">
                    "In-sample: the replayed prices lie inside this model's training span, so these live figures \
                     were made on data the model learned from and say nothing about the future."
                </p>
            })}
            <p data-testid="live-summary">{format::live_summary(&m)}</p>
            {(live.long_short.equity.len() >= 2).then(|| {
                curves(&live, "live-equity-chart", format!("Live equity of the {} model's signals after costs", m.horizon.label()))
            })}
            {has_trades.then(|| view! { <StrategyTable figures=live.clone()/> })}
        </div>
    }
    .into_any()
}

/// The long-short equity curve after costs beside buy-and-hold's.
fn curves(figures: &StrategyFigures, testid: &'static str, label: String) -> impl IntoView + use<> {
    let series = vec![
        Series {
            name: "signals, long-short",
            class: "line",
            points: format::equity_points(&figures.long_short),
        },
        Series {
            name: "buy-and-hold",
            class: "hold",
            points: format::equity_points(&figures.buy_and_hold),
        },
    ];
    view! {
        <LineChart
            series=series
            axis=ValueAxis::Equity
            label=label
            testid=testid
            class="compact"
            hint="Return so far after costs: hover, touch or use the arrow keys on the chart to read it."
        />
    }
}

/// `2019-02-12 to 2019-10-01, 5,531 predictions`.
fn period(f: &StrategyFigures) -> String {
    match (f.from, f.to) {
        (Some(from), Some(to)) => format!(
            "{} to {}, {} predictions",
            from.format("%Y-%m-%d"),
            to.format("%Y-%m-%d"),
            f.n
        ),
        _ => format!("{} predictions", f.n),
    }
}

/// The live period, or nothing before the first scored prediction.
fn live_period(f: &StrategyFigures) -> String {
    if f.n == 0 { String::new() } else { period(f) }
}

/// Each strategy's numbers over one period.
#[component]
fn StrategyTable(figures: StrategyFigures) -> impl IntoView {
    let rows = [
        Some(("Signals, long-short", figures.long_short)),
        Some(("Signals, long only", figures.long_flat)),
        Some(("Buy-and-hold", figures.buy_and_hold)),
        figures.momentum.map(|r| ("Momentum rule", r)),
    ]
    .into_iter()
    .flatten()
    .map(|(name, r)| {
        let cells = format::strategy_cells(&r);
        let loses = r.net_return <= 0.0;
        view! {
            <tr>
                <th scope="row">{name}</th>
                <td class:loss=loses>{cells[0].clone()}</td>
                {cells[1..].iter().map(|c| view! { <td>{c.clone()}</td> }).collect_view()}
            </tr>
        }
    })
    .collect_view();
    view! {
        <div class="table-wrap">
            <table class="numbers" data-testid="strategy-numbers">
                <thead>
                    <tr>
                        <th scope="col">"Strategy"</th>
                        <th scope="col">"Net, after costs"</th>
                        <th scope="col">"Gross"</th>
                        <th scope="col">"Sharpe"</th>
                        <th scope="col">"Max drawdown"</th>
                        <th scope="col">"Trades"</th>
                        <th scope="col">"Hit rate"</th>
                        <th scope="col">"Break-even fee"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
