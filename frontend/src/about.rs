//! The About page: how coincast works, its data, the baselines, what the signals' trading figures
//! do and do not promise, every model's card, and the evaluation report (walk-forward table,
//! reliability diagrams, accuracy vs coverage) drawn from `/api/models`.

use leptos::prelude::*;
use shared::{Coin, ModelInfo};

use crate::confidence::ModelConfidence;
use crate::live::{Live, steady};
use crate::ui::{Skeleton, set_title};
use crate::{api, format};

/// How coincast works, its data, every model's card figures, and why shuffled splits mislead.
#[component]
pub fn About() -> impl IntoView {
    set_title("About · coincast");
    let live = Live::get();
    let models = LocalResource::new(move || {
        live.reconnected.track();
        api::models()
    });
    let shown = steady(models);
    view! {
        <section class="about">
            <h1>"About coincast"</h1>
            <p>
                "coincast predicts whether Bitcoin, Litecoin and Ripple will be higher or lower after 30 minutes, \
                 1, 2, 4, 6 and 12 hours. Every minute it collects prices; a model per coin and horizon reads only \
                 what was known at that moment and says UP or DOWN with a probability. When the horizon has \
                 passed, the prediction is scored against the real price, and every page shows how often the \
                 models were right, next to what always guessing the more frequent direction would score."
            </p>
            <h2>"Data"</h2>
            <ul>
                <li>"Minute candles (price and volume) from Bitstamp, every minute."</li>
                <li>"Bitcoin mempool size and transactions per second (mempool.space, blockchain.info), every 15 minutes."</li>
                <li>"Tweets per day per coin (bitinfocharts), every 15 minutes, while the source exists."</li>
                <li>"Daily closes of gold, the S&P 500, oil and MSCI World (Yahoo Finance), every 15 minutes."</li>
                <li>"Without internet, the server replays recorded real history and says so at the bottom of every page."</li>
            </ul>
            <p>"The strip at the bottom of every page shows each source's state: hover or focus one for its details."</p>
            <h2>"How accuracy is measured"</h2>
            <p>
                "Short-horizon direction is hard: honest results are 51-58%. Each model was evaluated \
                 walk-forward: trained only on the past, tested on the next block, rolled forward, with the rows \
                 whose labels overlap the test block purged. Every accuracy stands next to the baseline (always \
                 guessing the direction that was more frequent on the earlier selection folds), its 95% interval \
                 and its sample size. Neighbouring rows share most of their future (two 12 h labels an hour apart \
                 overlap by 11 hours), so the interval is computed over the effective sample size, shown as \
                 \"≈ n independent\": often a tenth of the rows or fewer."
            </p>
            <p>
                "The last column shows what the same model scores on a shuffled random split. It flatters: with \
                 shuffling, rows from just before and just after every test row sit in the training data, and \
                 their overlapping futures give the answer away. Tools that publish 80% are usually measuring \
                 that. The figure is shown only to explain the difference; it never appears as accuracy."
            </p>
            <p>
                "A model can beat the majority class merely by learning a simpler rule. So every model is also \
                 compared with momentum (UP if the last bar rose) and its reversal (DOWN if the last bar rose) on \
                 the same rows. Which rule is strongest is fixed on the earlier selection folds, before any test \
                 row is scored. The models card on each coin page names it and says whether the model beats it \
                 by more than chance: a paired test of the two on the same rows, with a Newey-West (HAC) variance \
                 that allows for the overlap, and Holm's correction across every served model (a bot picks \
                 among all of them, so luck gets many tries; Benjamini-Hochberg's figure is shown beside it). \
                 Most do not: that is the measurement working, not failing."
            </p>
            <h2 id="trading-figures">"Signals and trading figures: what they do and do not promise"</h2>
            <p>
                "Each prediction has a confidence, |P(up) - 0.5| x 2 (0 a coin toss, 1 certainty), and a signal: \
                 LONG or SHORT when the confidence reaches the model's threshold, FLAT (stay out) below it. The \
                 performance section of each coin page shows what following those signals would have returned. \
                 Read those figures for what they are:"
            </p>
            <ul data-testid="trading-caveats">
                <li>
                    <strong>"Past, not future."</strong>
                    " They are what the signals would have earned over periods that are over. Markets change; a \
                     model that earned yesterday can lose tomorrow."
                </li>
                <li>
                    <strong>"After the stated costs only."</strong>
                    " Each position enters at the open of the first candle after the prediction is published (a \
                     bot acts after it reads it, not at the close that made it) and exits at the open one horizon \
                     later, paying the stated fee (by default Binance's spot taker fee, 10 bps) and 2 bps of \
                     slippage on entry and on exit. Larger fees, wider spreads, funding for short positions, taxes \
                     and a market that moves when you trade are not in them. The break-even fee says how much cost a strategy could \
                     bear; where it is below what you pay, it loses money for you."
                </li>
                <li>
                    <strong>"One position at a time."</strong>
                    " A position is held for the whole horizon and signals made while it is open are skipped, so \
                     no return is counted twice. A bot that trades every signal, or exits early, gets other results."
                </li>
                <li>
                    <strong>"The threshold was chosen on earlier data."</strong>
                    " Each model's confidence threshold was picked on walk-forward folds before the ones the \
                     figures are scored on, never on the scored ones: otherwise the best-looking threshold \
                     would flatter the results. Still, one model per coin and horizon was kept out of several \
                     tried, which flatters: the deflated Sharpe ratio says how likely the figure beats what the \
                     best of every configuration tried would show by luck, and the probability of backtest \
                     overfitting how likely the chosen threshold is no better than the others."
                </li>
                <li>
                    <strong>"Compared with holding the coin."</strong>
                    " Buy-and-hold and the momentum rule are traded over the same periods with the same costs. \
                     Where a model's return after fees is zero or below, the page says it earns nothing."
                </li>
                <li>
                    <strong>"Live figures are small samples."</strong>
                    " The live record counts only this server's own scored predictions (never backfilled ones), \
                     so it starts empty and grows by a few trades a day: a handful of trades says little either \
                     way. When the server replays recorded prices that the model was trained on, its live \
                     figures are in-sample and the page says so."
                </li>
                <li>
                    <strong>"Not advice."</strong>
                    " coincast is a measurement of models, not a recommendation to buy or sell anything. Trading \
                     crypto-currencies can lose all of the money put in."
                </li>
            </ul>
            <Transition fallback=|| view! { <Skeleton label="Loading the models…" lines=10/> }>
                {move || {
                    shown().map(|r| match r {
                        Ok(body) => {
                            let mut coins: Vec<Coin> = Vec::new();
                            for m in &body.models {
                                if !coins.contains(&m.coin) {
                                    coins.push(m.coin);
                                }
                            }
                            let per_coin = coins
                                .into_iter()
                                .map(|coin| {
                                    let mine: Vec<ModelInfo> = body.models.iter().filter(|m| m.coin == coin).cloned().collect();
                                    view! { <CoinEvaluation coin=coin models=mine/> }
                                })
                                .collect_view();
                            view! {
                                <h2>"The models"</h2>
                                <ModelTable models=body.models.clone()/>
                                <h2>"Calibration and confidence"</h2>
                                <p>
                                    "A reliability diagram bins the walk-forward test rows by the predicted P(up) \
                                     and shows how often UP really happened: a calibrated model sits on the \
                                     diagonal (bigger dots, more rows; bins under 30 rows are dots off the line). Accuracy vs coverage keeps only the most \
                                     confident predictions: if confidence means something, accuracy rises as \
                                     coverage falls, with fewer rows behind each figure."
                                </p>
                                {per_coin}
                            }
                                .into_any()
                        }
                        Err(e) => view! {
                            <p class="error-banner" role="alert">"Models unavailable: " {e.to_string()}</p>
                        }
                            .into_any(),
                    })
                }}
            </Transition>
            <h2>"For programs"</h2>
            <p>
                "Everything on these pages comes from the JSON API: see the "
                <a href="/docs/" rel="external">"API documentation"</a> "."
            </p>
        </section>
    }
}

/// Every model's card: type, data, features and the walk-forward figures.
#[component]
fn ModelTable(models: Vec<ModelInfo>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table data-testid="all-models">
                <thead>
                    <tr>
                        <th scope="col">"Model"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Features"</th>
                        <th scope="col">"Trained on"</th>
                        <th scope="col">"Tested (walk-forward)"</th>
                        <th scope="col">"Accuracy [95% CI]"</th>
                        <th scope="col">"Baseline"</th>
                        <th scope="col">"n (≈ independent)"</th>
                        <th scope="col">"Shuffled split"</th>
                    </tr>
                </thead>
                <tbody>
                    {models
                        .into_iter()
                        .map(|m| {
                            let mut read = vec!["price".to_owned(), "volume".to_owned()];
                            if !m.cross_section.is_empty() {
                                let coins: Vec<&str> = m.cross_section.iter().map(|c| c.ticker()).collect();
                                read.push(format!("cross-section of {}", coins.join(" ")));
                            }
                            read.extend(m.series.iter().cloned());
                            let features = format!("{} ({})", m.features, read.join(", "));
                            view! {
                                <tr>
                                    <th scope="row">{m.id.clone()}</th>
                                    <td>{format::model_kind(&m.kind)}</td>
                                    <td>{features}</td>
                                    <td>{format!("{} to {}", m.trained_from, m.trained_to)}</td>
                                    <td>{format!("{} to {}", m.walk_forward.test_from, m.walk_forward.test_to)}</td>
                                    <td>
                                        {format!(
                                            "{} [{:.1}-{:.1}%]",
                                            format::accuracy(m.walk_forward.accuracy),
                                            100.0 * m.walk_forward.wilson_low,
                                            100.0 * m.walk_forward.wilson_high
                                        )}
                                    </td>
                                    <td>{format::accuracy(m.walk_forward.baseline_accuracy)}</td>
                                    <td>
                                        {match m.walk_forward.n_effective {
                                            Some(eff) => format!("{} (≈ {eff:.0})", m.walk_forward.n),
                                            None => m.walk_forward.n.to_string(),
                                        }}
                                    </td>
                                    <td class="muted">{format::accuracy(m.shuffled_split_accuracy)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

const PW: f64 = 300.0;
const PH: f64 = 180.0;
const ML: f64 = 40.0;
const MB: f64 = 30.0;
/// Reliability bins with fewer rows are drawn as dots off the line.
const MIN_BIN_ROWS: u32 = 30;

/// One coin's reliability diagram and accuracy-vs-coverage plot, a legend, and the numbers.
#[component]
fn CoinEvaluation(coin: Coin, models: Vec<ModelInfo>) -> impl IntoView {
    let confidence = models.clone();
    let reliability = models
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let bins = &m.walk_forward.reliability;
            let max_n = bins.iter().map(|b| b.n).max().unwrap_or(1).max(1);
            let points: Vec<(f64, f64)> = bins.iter().map(|b| (b.mean_predicted, b.observed_up)).collect();
            let xy = format::plot(&points, (0.0, 1.0), (0.0, 1.0), PW, PH);
            // The line joins the bins with enough rows to mean something; the rest are dots only.
            let solid: Vec<(f64, f64)> = xy
                .iter()
                .zip(bins)
                .filter(|(_, b)| b.n >= MIN_BIN_ROWS)
                .map(|(p, _)| *p)
                .collect();
            let dots = xy
                .iter()
                .zip(bins)
                .map(|((x, y), b)| {
                    let r = 1.5 + 4.5 * (f64::from(b.n) / f64::from(max_n)).sqrt();
                    let title = format!(
                        "{}: predicted {}, UP {} of {} rows",
                        m.horizon.label(),
                        format::percent(b.mean_predicted),
                        format::percent(b.observed_up),
                        b.n
                    );
                    view! { <circle cx=format!("{x:.1}") cy=format!("{y:.1}") r=format!("{r:.1}")><title>{title}</title></circle> }
                })
                .collect_view();
            view! { <g class=format!("series h{}", i + 1)><path d=format::svg_path(&solid)></path>{dots}</g> }
        })
        .collect_view();
    let coverage = models
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let curve = &m.walk_forward.accuracy_vs_coverage;
            let points: Vec<(f64, f64)> = curve.iter().map(|c| (c.coverage, c.accuracy)).collect();
            let xy = format::plot(&points, (0.0, 1.0), (0.4, 0.7), PW, PH);
            let dots = xy
                .iter()
                .zip(curve)
                .map(|((x, y), c)| {
                    let title = format!(
                        "{}: top {} most confident, {} right of {}",
                        m.horizon.label(),
                        format::percent(c.coverage),
                        format::accuracy(c.accuracy),
                        c.n
                    );
                    view! { <circle cx=format!("{x:.1}") cy=format!("{y:.1}") r="3"><title>{title}</title></circle> }
                })
                .collect_view();
            view! { <g class=format!("series h{}", i + 1)><path d=format::svg_path(&xy)></path>{dots}</g> }
        })
        .collect_view();
    let legend = models
        .iter()
        .enumerate()
        .map(|(i, m)| view! { <li><span class=format!("swatch h{}", i + 1) aria-hidden="true"></span>{m.horizon.label()}</li> })
        .collect_view();
    let levels: Vec<f64> = models
        .first()
        .map(|m| {
            m.walk_forward
                .accuracy_vs_coverage
                .iter()
                .map(|c| c.coverage)
                .collect()
        })
        .unwrap_or_default();
    let rows = models
        .iter()
        .map(|m| {
            let cells = m
                .walk_forward
                .accuracy_vs_coverage
                .iter()
                .map(|c| view! { <td>{format!("{} (n={})", format::accuracy(c.accuracy), c.n)}</td> })
                .collect_view();
            view! { <tr><th scope="row">{m.horizon.label()}</th>{cells}</tr> }
        })
        .collect_view();
    let name = crate::live::Live::get().coin_name(coin);
    let x_ticks = [0.0, 0.25, 0.5, 0.75, 1.0];
    view! {
        <section class="evaluation" data-coin=coin.to_string() aria-label=format!("{name} evaluation")>
            <h3>{name.clone()}</h3>
            <div class="plots">
                <Plot
                    testid="reliability"
                    label=format!("Reliability diagram of the {name} models")
                    caption="Predicted P(up) (across) vs how often UP happened (up)"
                >
                    {axes(&x_ticks, &x_ticks, (0.0, 1.0), (0.0, 1.0))}
                    <line class="reference" x1="0" y1=format!("{PH}") x2=format!("{PW}") y2="0"></line>
                    {reliability}
                </Plot>
                <Plot
                    testid="coverage"
                    label=format!("Accuracy vs coverage of the {name} models")
                    caption="Share of predictions kept, most confident first (across) vs accuracy (up); dashed: 50%"
                >
                    {axes(&x_ticks, &[0.4, 0.5, 0.6, 0.7], (0.0, 1.0), (0.4, 0.7))}
                    <line
                        class="reference"
                        x1="0"
                        y1=format!("{:.1}", PH * 2.0 / 3.0)
                        x2=format!("{PW}")
                        y2=format!("{:.1}", PH * 2.0 / 3.0)
                    ></line>
                    {coverage}
                </Plot>
            </div>
            <ul class="legend" aria-label="Horizons">{legend}</ul>
            <details>
                <summary>"Accuracy vs coverage in numbers"</summary>
                <div class="table-wrap">
                    <table data-testid="coverage-table">
                        <thead>
                            <tr>
                                <th scope="col">"Horizon"</th>
                                {levels.iter().map(|l| view! { <th scope="col">{format!("top {}", format::percent(*l))}</th> }).collect_view()}
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </details>
            <ModelConfidence models=confidence />
        </section>
    }
}

/// A plot of `PW` x `PH` with room for tick labels, and its caption.
#[component]
fn Plot(testid: &'static str, label: String, caption: &'static str, children: Children) -> impl IntoView {
    view! {
        <figure>
            <svg
                class="eval-plot"
                data-testid=testid
                viewBox=format!("0 0 {} {}", PW + ML + 24.0, PH + MB + 10.0)
                role="img"
                aria-label=label
            >
                <g transform=format!("translate({ML},5)")>{children()}</g>
            </svg>
            <figcaption>{caption}</figcaption>
        </figure>
    }
}

/// Grid lines and tick labels for a plot of `PW` x `PH` (in the plot's translated group).
fn axes(x_ticks: &[f64], y_ticks: &[f64], x: (f64, f64), y: (f64, f64)) -> impl IntoView + use<> {
    let xs = x_ticks
        .iter()
        .map(|&t| {
            let px = (t - x.0) / (x.1 - x.0) * PW;
            view! {
                <line class="grid" x1=format!("{px:.1}") y1="0" x2=format!("{px:.1}") y2=format!("{PH}")></line>
                <text class="tick" x=format!("{px:.1}") y=format!("{}", PH + 16.0) text-anchor="middle">{format::percent(t)}</text>
            }
        })
        .collect_view();
    let ys = y_ticks
        .iter()
        .map(|&t| {
            let py = PH - (t - y.0) / (y.1 - y.0) * PH;
            view! {
                <line class="grid" x1="0" y1=format!("{py:.1}") x2=format!("{PW}") y2=format!("{py:.1}")></line>
                <text class="tick" x="-6" y=format!("{:.1}", py + 4.0) text-anchor="end">{format::percent(t)}</text>
            }
        })
        .collect_view();
    view! { {xs} {ys} }
}
