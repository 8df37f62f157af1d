//! The sections of a coin's page: prediction cards, history, models card, other coins (the
//! performance section is in `performance.rs`).

use leptos::prelude::*;
use shared::{Coin, Horizon};

use crate::live::{Live, steady};
use crate::ui::Skeleton;
use crate::{api, format};

/// How often the models card re-reads `/api/models` while a retrain runs.
const RETRAIN_POLL: std::time::Duration = std::time::Duration::from_secs(3);
/// How often it re-reads it otherwise, to see a retrain start (a revalidation: 304 when unchanged).
const MODELS_POLL: std::time::Duration = std::time::Duration::from_secs(15);

/// One card per horizon: the newest prediction (UP/DOWN in words and color, P(up), its signal
/// (LONG/SHORT/FLAT) with the confidence against the model's threshold and the walk-forward
/// accuracy at that confidence, made and target times with a countdown, cadence) and its accuracy: live over 7 days beside the
/// walk-forward figure and its baseline. New predictions and scores arrive through the event
/// stream; the countdowns tick, and the cards are re-read, every 20 seconds as well.
#[component]
pub fn PredictionCards(coin: Coin) -> impl IntoView {
    let live = Live::get();
    let predictions = LocalResource::new(move || {
        live.track_predictions();
        api::predictions(coin)
    });
    let models = LocalResource::new(move || {
        live.reconnected.track();
        api::models()
    });
    let now = RwSignal::new(chrono::Utc::now());
    let handle = set_interval_with_handle(
        move || {
            now.set(chrono::Utc::now());
            predictions.refetch();
        },
        std::time::Duration::from_secs(20),
    );
    on_cleanup(move || {
        if let Ok(h) = handle {
            h.clear();
        }
    });
    let shown = steady(predictions);
    let cards_skeleton = || {
        view! {
            <ul class="horizons" aria-busy="true" data-testid="cards-loading">
                <li class="visually-hidden" role="status">"Loading predictions…"</li>
                {Horizon::ALL
                    .into_iter()
                    .map(|h| view! {
                        <li class="horizon-card skeleton-card" aria-hidden="true">
                            <span class="horizon">{h.label()}</span>
                            <span class="skeleton-line"></span>
                            <span class="skeleton-line"></span>
                            <span class="skeleton-line"></span>
                        </li>
                    })
                    .collect_view()}
            </ul>
        }
    };
    view! {
        <Transition fallback=cards_skeleton>
            {move || {
                let preds = shown()?;
                let models = models.get();
                Some(match preds {
                    Err(e) => view! {
                        <p class="error-banner" role="alert">
                            "Predictions unavailable: " {e.to_string()} " "
                            <button type="button" on:click=move |_| predictions.refetch()>"Retry"</button>
                        </p>
                    }
                        .into_any(),
                    Ok(body) => {
                        let now = now.get();
                        mark_first_render();
                        view! {
                            <ul class="horizons" aria-label="Predictions by horizon">
                                {body
                                    .predictions
                                    .into_iter()
                                    .map(|p| {
                                        let card = models
                                            .as_ref()
                                            .and_then(|m| m.as_ref().ok())
                                            .and_then(|m| {
                                                m.models.iter().find(|x| x.coin == p.coin && x.horizon == p.horizon).cloned()
                                            });
                                        card_view(p, card, now)
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                })
            }}
        </Transition>
    }
}

/// Marks the first time the cards show real predictions (`performance.mark`, once per page
/// load): the browser tests read it as the time to first render.
fn mark_first_render() {
    #[cfg(target_arch = "wasm32")]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        static MARKED: AtomicBool = AtomicBool::new(false);
        if !MARKED.swap(true, Ordering::Relaxed) {
            request_animation_frame(|| {
                if let Some(perf) = window().performance() {
                    let _ = perf.mark("coincast:first-render");
                }
            });
        }
    }
}

/// The last 3 hours of predictions at 15-minute rows by the six horizons, with right/wrong marks
/// once scored.
#[component]
pub fn History(coin: Coin) -> impl IntoView {
    let live = Live::get();
    let history = LocalResource::new(move || {
        live.track_predictions();
        api::history(coin)
    });
    let shown = steady(history);
    view! {
        <section class="history" aria-label="Prediction history">
            <h2>"Prediction history"</h2>
            <Transition fallback=|| view! { <Skeleton label="Loading the prediction history…" lines=6/> }>
                {move || {
                    shown().map(|r| match r {
                        Ok(body) if body.predictions.is_empty() => view! {
                            <p class="muted">"No predictions in the last 3 hours yet: they appear as the models run."</p>
                        }
                            .into_any(),
                        Ok(body) => {
                            let rows = format::history_table(&body.predictions);
                            view! {
                                <div class="table-wrap">
                                    <table data-testid="history">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Made (UTC)"</th>
                                                {Horizon::ALL.into_iter().map(|h| view! { <th scope="col">{h.label()}</th> }).collect_view()}
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {rows
                                                .into_iter()
                                                .map(|(t, cells)| {
                                                    view! {
                                                        <tr>
                                                            <th scope="row">{t.format("%H:%M").to_string()}</th>
                                                            {cells
                                                                .into_iter()
                                                                .map(|c| match c {
                                                                    Some(c) => {
                                                                        let (word, class) = format::direction(c.direction);
                                                                        let mark = format::outcome_mark(&c);
                                                                        view! {
                                                                            <td class=class title=format!("P(up) {}", format::percent(c.p_up))>
                                                                                {word} " " <span class="mark">{mark}</span>
                                                                            </td>
                                                                        }
                                                                            .into_any()
                                                                    }
                                                                    None => view! { <td class="muted">"·"</td> }.into_any(),
                                                                })
                                                                .collect_view()}
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="error-banner" role="alert">"History unavailable: " {e.to_string()}</p> }.into_any(),
                    })
                }}
            </Transition>
        </section>
    }
}

/// "6 models for Bitcoin currently running": a row per horizon with the model's type, depth,
/// walk-forward accuracy next to its baseline, the strongest simple rule (majority class,
/// momentum or reversal) and whether the model beats it with its p-value, live accuracy and
/// cadence, and which version serves (shipped or retrained here) with what the last retrain did;
/// above the table, the last retrain's progress, re-read every few seconds while one runs.
#[component]
pub fn ModelsCard(coin: Coin) -> impl IntoView {
    let live = Live::get();
    // Bumped every RETRAIN_POLL while a retrain runs, so its progress can be watched, and every
    // MODELS_POLL otherwise, so a retrain that starts is seen; one timer at a time.
    let poll = RwSignal::new(0u32);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let models = LocalResource::new(move || {
        live.scores.track();
        live.reconnected.track();
        poll.track();
        api::models()
    });
    Effect::new(move |_| {
        let running = models
            .get()
            .is_some_and(|r| r.is_ok_and(|b| b.retrain.is_some_and(|r| r.running)));
        if let Some(previous) = timer.get_value() {
            previous.clear();
        }
        let wait = if running { RETRAIN_POLL } else { MODELS_POLL };
        timer.set_value(set_timeout_with_handle(move || poll.update(|n| *n += 1), wait).ok());
    });
    on_cleanup(move || {
        if let Some(previous) = timer.get_value() {
            previous.clear();
        }
    });
    let shown = steady(models);
    view! {
        <section class="models-card" aria-label="Models">
            <Transition fallback=|| view! { <h2>"Models"</h2> <Skeleton label="Loading the models…" lines=6/> }>
                {move || {
                    shown().map(|r| match r {
                        Ok(body) => {
                            let mine: Vec<_> = body.models.into_iter().filter(|m| m.coin == coin).collect();
                            let retrain = body.retrain.map(|r| {
                                let running = r.running;
                                view! {
                                    <p class="retrain muted" class:running=running data-testid="retrain-status" role="status">
                                        {format::retrain_status(&r)}
                                    </p>
                                }
                            });
                            view! {
                                <h2>{format!("{} models for {} currently running", mine.len(), Live::get().coin_name(coin))}</h2>
                                {retrain}
                                <div class="table-wrap">
                                    <table data-testid="models">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Horizon"</th>
                                                <th scope="col">"Model"</th>
                                                <th scope="col">"Depth"</th>
                                                <th scope="col">"Walk-forward (out of sample)"</th>
                                                <th scope="col">"Strongest simple rule"</th>
                                                <th scope="col">"Live, 7 d"</th>
                                                <th scope="col">"Updated"</th>
                                                <th scope="col">"Version"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {mine
                                                .into_iter()
                                                .map(|m| {
                                                    let wf = format::walk_forward(&m.walk_forward);
                                                    let strongest = format::strongest_baseline(&m.skill);
                                                    let not_beaten = m.skill.strongest_baseline.as_ref().is_some_and(|b| !b.beaten);
                                                    let live = m
                                                        .live
                                                        .iter()
                                                        .find(|a| a.window == shared::AccuracyWindow::Week.as_str())
                                                        .map(format::live_accuracy)
                                                        .unwrap_or_default();
                                                    let version = format::model_version(&m.version, &m.trained_from, &m.trained_to);
                                                    // The newest decision's reason in full, on hover.
                                                    let reason = m
                                                        .version
                                                        .decisions
                                                        .first()
                                                        .or(m.version.gate.as_ref())
                                                        .map(|d| d.reason.clone())
                                                        .unwrap_or_default();
                                                    view! {
                                                        <tr>
                                                            <th scope="row">{m.horizon.label()}</th>
                                                            <td>{format::model_kind(&m.kind)}</td>
                                                            <td>{m.depth}</td>
                                                            <td>{wf}</td>
                                                            <td class:loss=not_beaten data-testid="strongest-baseline">{strongest}</td>
                                                            <td>{live}</td>
                                                            <td>{format::cadence(
                                                                // A replay of 5-minute candles predicts the short horizons every 5 minutes.
                                                                u32::try_from(m.horizon.cadence_on(Live::get().finest_s()) / 60)
                                                                    .unwrap_or(u32::MAX),
                                                            )}</td>
                                                            <td class="version" data-testid="model-version" title=reason>{version}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <p><a href="/about">"How the models work and how their accuracy is measured"</a></p>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="error-banner" role="alert">"Models unavailable: " {e.to_string()}</p> }.into_any(),
                    })
                }}
            </Transition>
        </section>
    }
}

/// The other coins' latest prices and 24 h change, linking to their pages.
#[component]
pub fn OtherCoins(coin: Coin) -> impl IntoView {
    let live = Live::get();
    let prices = LocalResource::new(move || {
        live.prices.track();
        live.reconnected.track();
        api::latest_prices()
    });
    let shown = steady(prices);
    // Sorted by name (A to Z) until a column header is clicked.
    let sort = RwSignal::new((format::PriceSort::Name, true));
    view! {
        <section class="other-coins" aria-label="Other coins">
            <h2>"Other coins"</h2>
            <Transition fallback=|| view! { <Skeleton label="Loading prices…" lines=1/> }>
                {move || {
                    shown().map(|r| match r {
                        Ok(body) if body.prices.iter().all(|p| p.coin == coin) => view! {
                            <p class="muted">"No prices of the other coins stored yet: they appear with the first collected minute."</p>
                        }
                            .into_any(),
                        Ok(body) => {
                            let mut rows: Vec<(String, f64, Option<f64>, Coin)> = body
                                .prices
                                .into_iter()
                                .filter(|p| p.coin != coin)
                                .map(|p| (live.coin_name(p.coin), p.price, p.change_24h_pct, p.coin))
                                .collect();
                            let (key, ascending) = sort.get();
                            format::sort_prices(&mut rows, key, ascending);
                            let header = move |label: &'static str, by: format::PriceSort| {
                                let aria = move || match sort.get() {
                                    (k, true) if k == by => "ascending",
                                    (k, false) if k == by => "descending",
                                    _ => "none",
                                };
                                view! {
                                    <th scope="col" aria-sort=aria>
                                        <button
                                            type="button"
                                            class="sort"
                                            data-sort=label
                                            on:click=move |_| sort.update(|(k, asc)| {
                                                // The same column again turns the order round; a new one starts with its natural order.
                                                *asc = if *k == by { !*asc } else { by == format::PriceSort::Name };
                                                *k = by;
                                            })
                                        >
                                            {label}
                                        </button>
                                    </th>
                                }
                            };
                            view! {
                                <div class="table-wrap">
                                    <table data-testid="other-coins">
                                        <thead>
                                            <tr>
                                                {header("Coin", format::PriceSort::Name)}
                                                {header("Price", format::PriceSort::Price)}
                                                {header("24 h", format::PriceSort::Change)}
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {rows
                                                .into_iter()
                                                .map(|(name, price, change, other)| {
                                                    let class = match change {
                                                        Some(c) if c > 0.0 => "change up",
                                                        Some(c) if c < 0.0 => "change down",
                                                        _ => "change",
                                                    };
                                                    view! {
                                                        <tr data-coin=other.to_string()>
                                                            <th scope="row"><a href=live.coin_path(other)>{name}</a></th>
                                                            <td class="price">{format::usd(price)}</td>
                                                            <td class=class>
                                                                {change.map_or_else(|| "24 h change unknown".to_owned(), |c| format!("{} in 24 h", format::change(c)))}
                                                            </td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="error-banner" role="alert">"Prices unavailable: " {e.to_string()}</p> }.into_any(),
                    })
                }}
            </Transition>
        </section>
    }
}

fn card_view(
    p: shared::LatestPrediction,
    model: Option<shared::ModelInfo>,
    now: chrono::DateTime<chrono::Utc>,
) -> AnyView {
    let horizon = p.horizon;
    let walk_forward = model.map(|m| format!("walk-forward {}", format::walk_forward(&m.walk_forward)));
    let live = format!("live 7 d: {}", format::live_accuracy(&p.accuracy_7d));
    let cadence = format::cadence(p.cadence_minutes);
    match p.prediction {
        Some(pred) => {
            let (word, class) = format::direction(pred.direction);
            let (signal, signal_class, why) = format::signal(&pred);
            let band = pred.band_accuracy.map(|a| {
                format!(
                    "right {} of the time at this confidence (walk-forward)",
                    format::accuracy(a)
                )
            });
            view! {
                <li class=format!("horizon-card {class}") data-horizon=horizon.as_str()>
                    <span class="horizon">{horizon.label()}</span>
                    <span class="direction" data-testid="direction">{word}</span>
                    <span class="p-up">"P(up) " {format::percent(pred.p_up)}</span>
                    <span class="signal" data-testid="signal">
                        <strong class=format!("signal-word {signal_class}")>{signal}</strong> " · " {why}
                    </span>
                    {band.map(|b| view! { <span class="band muted" data-testid="band-accuracy">{b}</span> })}
                    <span class="times">
                        "made " {format::clock(pred.made_at)} " · target " {format::clock(pred.target_at)} " ("
                        {format::countdown(pred.target_at, now)} ")"
                    </span>
                    {pred.backfilled.then(|| view! { <span class="muted">"backfilled from stored history"</span> })}
                    <span class="cadence muted">{cadence}</span>
                    <span class="accuracy live">{live}</span>
                    <span class="accuracy wf muted">{walk_forward}</span>
                </li>
            }
                .into_any()
        }
        None => view! {
            <li class="horizon-card empty" data-horizon=horizon.as_str()>
                <span class="horizon">{horizon.label()}</span>
                <span class="why">
                    {p.not_made_reason.unwrap_or_else(|| "Warming up: no prediction yet.".into())}
                </span>
                <span class="cadence muted">{cadence}</span>
                <span class="accuracy wf muted">{walk_forward}</span>
            </li>
        }
        .into_any(),
    }
}
