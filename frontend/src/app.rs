//! Routes and pages.

use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_params_map};
use leptos_router::path;
use shared::{Coin, DataMode, HealthStatus, Horizon};

use crate::{api, format};

/// The whole app: header with the coin buttons, the routed page, and the status footer.
#[component]
pub fn App() -> impl IntoView {
    // UI choices that outlive any page rebuild (the chart's range, index into CHART_RANGES).
    provide_context(ChartRange(RwSignal::new(1)));
    view! {
        <Router>
            <Header/>
            <main id="main">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=|| view! { <Redirect path="/Bitcoin"/> }/>
                    <Route path=path!("/about") view=About/>
                    <Route path=path!("/:coin") view=CoinPage/>
                </Routes>
            </main>
            <StatusFooter/>
        </Router>
    }
}

/// The header: the name and one button per coin. The router turns clicks on these links into
/// client-side navigation, so switching coins never reloads the page.
#[component]
fn Header() -> impl IntoView {
    let location = use_location();
    let current = move || format::coin_from_path(&location.pathname.get());
    view! {
        <header class="site-header">
            <a class="brand" href="/Bitcoin">"coincast"</a>
            <nav class="coin-nav" aria-label="Coins">
                {Coin::ALL
                    .into_iter()
                    .map(|coin| {
                        view! {
                            <a
                                class="coin-button"
                                data-coin=coin.ticker()
                                href=format::coin_path(coin)
                                aria-current=move || (current() == Some(coin)).then_some("page")
                            >
                                {coin.name()}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
            <a class="about-link" href="/about">"About"</a>
        </header>
    }
}

/// A coin's page. It is rebuilt only when the coin changes: the sections are built untracked, so
/// a signal their constructors read (a chart's range, say) cannot rebuild the whole page.
#[component]
fn CoinPage() -> impl IntoView {
    let params = use_params_map();
    let coin = Memo::new(move |_| params.read().get("coin").and_then(|c| c.parse::<Coin>().ok()));
    move || {
        match coin.get() {
        Some(coin) => untrack(move || {
            view! {
                <section class="coin-page" data-coin=coin.ticker()>
                    <h1>{coin.name()} " " <span class="ticker">"(" {coin.ticker()} ")"</span></h1>
                    <p class="lede">
                        "Will " {coin.name()} " go UP or DOWN? One prediction per horizon, each with its accuracy \
                         measured out of sample next to a majority-class baseline."
                    </p>
                    <PredictionCards coin=coin/>
                    <PriceChart coin=coin/>
                    <History coin=coin/>
                    <ModelsCard coin=coin/>
                    <OtherCoins coin=coin/>
                </section>
            }
        })
        .into_any(),
        None => view! { <NotFound/> }.into_any(),
    }
    }
}

/// One card per horizon: the newest prediction (UP/DOWN in words and color, P(up), made and
/// target times with a countdown, cadence) and its accuracy: live over 7 days beside the
/// walk-forward figure and its baseline. Refreshed every 20 seconds.
#[component]
fn PredictionCards(coin: Coin) -> impl IntoView {
    let predictions = LocalResource::new(move || api::predictions(coin));
    let models = LocalResource::new(api::models);
    let now = RwSignal::new(chrono::Utc::now());
    let handle = set_interval_with_handle(
        move || {
            now.set(chrono::Utc::now());
            predictions.refetch();
        },
        std::time::Duration::from_secs(20),
    );
    // New predictions and scores arrive through the event stream: refresh at once.
    let stream = StoredValue::new_local(api::subscribe(move |kind| {
        if kind != "price" {
            predictions.refetch();
        }
    }));
    on_cleanup(move || {
        if let Ok(h) = handle {
            h.clear();
        }
        stream.update_value(|s| *s = None);
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted" data-testid="cards-loading">"Loading predictions…"</p> }>
            {move || {
                let preds = predictions.get()?;
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
        </Suspense>
    }
}

/// The chart range chosen, kept app-wide so it survives the page being rebuilt.
#[derive(Clone, Copy)]
struct ChartRange(RwSignal<usize>);

const CHART_W: f64 = 800.0;
const CHART_H: f64 = 260.0;

/// The coin's price over a selectable range, drawn as SVG by the app itself (works offline), with
/// a hover crosshair (time and price) and markers where 1 h predictions were made (every 15
/// minutes), colored by outcome once scored.
#[component]
fn PriceChart(coin: Coin) -> impl IntoView {
    let range = use_context::<ChartRange>().map_or_else(|| RwSignal::new(1usize), |r| r.0);
    let hover = RwSignal::new(None::<usize>);
    let data = LocalResource::new(move || {
        let (_, span, resolution) = format::CHART_RANGES[range.get()];
        async move {
            let from = chrono::Utc::now().timestamp() - span;
            let candles = api::candles(coin, resolution, from).await?;
            let markers = api::markers(coin, "1h", from)
                .await
                .map(|h| h.predictions)
                .unwrap_or_default();
            Ok::<_, api::ApiClientError>((candles, markers))
        }
    });
    view! {
        <section class="price-chart" aria-label="Price chart">
            <div class="chart-head">
                <h2>{coin.name()} " price (USD)"</h2>
                <div class="ranges" role="group" aria-label="Range">
                    {format::CHART_RANGES
                        .iter()
                        .enumerate()
                        .map(|(i, (label, _, _))| view! {
                            <button
                                type="button"
                                class="range"
                                aria-pressed=move || (range.get() == i).to_string()
                                on:click=move |_| {
                                    hover.set(None);
                                    range.set(i);
                                }
                            >
                                {*label}
                            </button>
                        })
                        .collect_view()}
                </div>
            </div>
            <Suspense fallback=|| view! { <div class="chart-skeleton" aria-busy="true"></div> }>
                {move || {
                    data.get().map(|r| match r {
                        Err(e) => view! { <p class="error-banner" role="alert">"Prices unavailable: " {e.to_string()}</p> }.into_any(),
                        Ok((candles, markers)) => {
                            let series: Vec<(i64, f64)> = candles.candles.iter().map(|c| (c.t.timestamp(), c.c)).collect();
                            let Some(chart) = format::line_chart(&series, CHART_W, CHART_H) else {
                                return view! { <p class="muted">"Not enough prices stored for this range yet."</p> }.into_any();
                            };
                            let points = chart.points.clone();
                            let span = (chart.t1 - chart.t0) as f64;
                            let marks: Vec<_> = markers
                                .iter()
                                .filter(|p| p.made_at.timestamp() >= chart.t0 && p.made_at.timestamp() <= chart.t1)
                                .map(|p| {
                                    let x = (p.made_at.timestamp() - chart.t0) as f64 / span * CHART_W;
                                    let y = CHART_H - (p.reference_price - chart.low) / (chart.high - chart.low) * CHART_H;
                                    let class = match p.correct {
                                        Some(true) => "marker right",
                                        Some(false) => "marker wrong",
                                        None => "marker pending",
                                    };
                                    let (word, _) = format::direction(p.direction);
                                    let title = format!(
                                        "{} {} at {}{}",
                                        word,
                                        format::percent(p.p_up),
                                        format::clock(p.made_at),
                                        match p.correct { Some(true) => ", right", Some(false) => ", wrong", None => "" }
                                    );
                                    view! { <circle class=class cx=format!("{x:.1}") cy=format!("{y:.1}") r="3.5"><title>{title}</title></circle> }
                                })
                                .collect();
                            let times: Vec<_> = candles.candles.iter().map(|c| (c.t, c.c)).collect();
                            let label = move || {
                                hover.get().and_then(|i| times.get(i).copied()).map(|(t, c)| {
                                    format!("{} · {}", t.format("%Y-%m-%d %H:%M UTC"), format::usd(c))
                                })
                            };
                            let pts = points.clone();
                            let cross = move || hover.get().and_then(|i| pts.get(i).copied());
                            view! {
                                <p class="chart-readout" data-testid="chart-readout">
                                    {move || label().unwrap_or_else(|| "Hover or touch the chart to read a price.".into())}
                                </p>
                                <svg
                                    class="chart"
                                    data-testid="chart"
                                    viewBox=format!("0 0 {CHART_W} {CHART_H}")
                                    preserveAspectRatio="none"
                                    role="img"
                                    aria-label=format!("{} price, {} to {}", coin.name(), format::usd(chart.low), format::usd(chart.high))
                                    on:pointermove=move |ev| {
                                        let target = event_target::<web_sys::Element>(&ev);
                                        let rect = target.get_bounding_client_rect();
                                        if rect.width() > 0.0 {
                                            let x = (f64::from(ev.client_x()) - rect.left()) / rect.width() * CHART_W;
                                            hover.set(format::nearest(&points, x));
                                        }
                                    }
                                    on:pointerleave=move |_| hover.set(None)
                                >
                                    <path class="line" d=chart.path.clone()></path>
                                    {marks}
                                    {move || cross().map(|(x, y)| view! {
                                        <line class="crosshair" x1=format!("{x:.1}") x2=format!("{x:.1}") y1="0" y2=format!("{CHART_H}")></line>
                                        <circle class="dot" cx=format!("{x:.1}") cy=format!("{y:.1}") r="4"></circle>
                                    })}
                                </svg>
                                <p class="chart-scale muted">
                                    {format!("{} – {} · markers: 1 h predictions (green right, red wrong, grey pending)", format::usd(chart.low), format::usd(chart.high))}
                                </p>
                            }
                                .into_any()
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// The last 3 hours of predictions at 15-minute rows by the six horizons, with right/wrong marks
/// once scored.
#[component]
fn History(coin: Coin) -> impl IntoView {
    let history = LocalResource::new(move || api::history(coin));
    view! {
        <section class="history" aria-label="Prediction history">
            <h2>"Prediction history"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading history…"</p> }>
                {move || {
                    history.get().map(|r| match r {
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
            </Suspense>
        </section>
    }
}

/// "6 models for Bitcoin currently running": a row per horizon with the model's type, depth,
/// walk-forward accuracy next to its baseline, live accuracy and cadence.
#[component]
fn ModelsCard(coin: Coin) -> impl IntoView {
    let models = LocalResource::new(api::models);
    view! {
        <section class="models-card" aria-label="Models">
            <Suspense fallback=|| view! { <p class="muted">"Loading models…"</p> }>
                {move || {
                    models.get().map(|r| match r {
                        Ok(body) => {
                            let mine: Vec<_> = body.models.into_iter().filter(|m| m.coin == coin).collect();
                            view! {
                                <h2>{format!("{} models for {} currently running", mine.len(), coin.name())}</h2>
                                <div class="table-wrap">
                                    <table data-testid="models">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Horizon"</th>
                                                <th scope="col">"Model"</th>
                                                <th scope="col">"Depth"</th>
                                                <th scope="col">"Walk-forward (out of sample)"</th>
                                                <th scope="col">"Live, 7 d"</th>
                                                <th scope="col">"Updated"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {mine
                                                .into_iter()
                                                .map(|m| {
                                                    let wf = format!(
                                                        "{} vs {} baseline (n={})",
                                                        format::accuracy(m.walk_forward.accuracy),
                                                        format::accuracy(m.walk_forward.baseline_accuracy),
                                                        m.walk_forward.n
                                                    );
                                                    let live = m
                                                        .live
                                                        .iter()
                                                        .find(|a| a.window == "7d")
                                                        .map(format::live_accuracy)
                                                        .unwrap_or_default();
                                                    view! {
                                                        <tr>
                                                            <th scope="row">{m.horizon.label()}</th>
                                                            <td>{format::model_kind(&m.kind)}</td>
                                                            <td>{m.depth}</td>
                                                            <td>{wf}</td>
                                                            <td>{live}</td>
                                                            <td>{format::cadence(m.horizon.cadence_minutes())}</td>
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
            </Suspense>
        </section>
    }
}

/// How coincast works, its data, every model's card figures, and why shuffled splits mislead.
#[component]
fn About() -> impl IntoView {
    let models = LocalResource::new(api::models);
    view! {
        <section class="about">
            <h1>"About coincast"</h1>
            <p>
                "coincast predicts whether Bitcoin, Litecoin and Ripple will be higher or lower after 30 minutes, 1, 2,                  4, 6 and 12 hours. Every minute it collects prices; a model per coin and horizon reads only what was                  known at that moment and says UP or DOWN with a probability. When the horizon has passed, the                  prediction is scored against the real price, and the page shows how often the models were right."
            </p>
            <h2>"Data"</h2>
            <ul>
                <li>"Minute candles (price and volume) from Bitstamp, every minute."</li>
                <li>"Bitcoin mempool size and transactions per second (mempool.space, blockchain.info), every 15 minutes."</li>
                <li>"Tweets per day per coin (bitinfocharts), every 15 minutes, while the source exists."</li>
                <li>"Daily closes of gold, the S&P 500, oil and MSCI World (Yahoo Finance), every 15 minutes."</li>
                <li>"Without internet, the server replays recorded real history and says so at the bottom of every page."</li>
            </ul>
            <h2>"How accuracy is measured"</h2>
            <p>
                "Short-horizon direction is hard: honest results are 51-58%. Each model was evaluated walk-forward:                  trained only on the past, tested on the next block, rolled forward, with the overlapping rows purged.                  Every accuracy stands next to the baseline (always guessing the more frequent direction of the same                  rows) and its sample size. The last column shows what the same model scores on a shuffled random                  split: near-copies of every test row sit in the training data, so the figure flatters; tools that                  publish 80% are usually measuring that."
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading models…"</p> }>
                {move || {
                    models.get().map(|r| match r {
                        Ok(body) => view! {
                            <div class="table-wrap">
                                <table data-testid="all-models">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Model"</th>
                                            <th scope="col">"Type"</th>
                                            <th scope="col">"Trained on"</th>
                                            <th scope="col">"Walk-forward [95% CI]"</th>
                                            <th scope="col">"Baseline"</th>
                                            <th scope="col">"n"</th>
                                            <th scope="col">"Shuffled split"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {body
                                            .models
                                            .into_iter()
                                            .map(|m| view! {
                                                <tr>
                                                    <th scope="row">{m.id.clone()}</th>
                                                    <td>{format::model_kind(&m.kind)}</td>
                                                    <td>{format!("{} to {}", m.trained_from, m.trained_to)}</td>
                                                    <td>
                                                        {format!(
                                                            "{} [{:.1}-{:.1}%]",
                                                            format::accuracy(m.walk_forward.accuracy),
                                                            100.0 * m.walk_forward.wilson_low,
                                                            100.0 * m.walk_forward.wilson_high
                                                        )}
                                                    </td>
                                                    <td>{format::accuracy(m.walk_forward.baseline_accuracy)}</td>
                                                    <td>{m.walk_forward.n}</td>
                                                    <td class="muted">{format::accuracy(m.shuffled_split_accuracy)}</td>
                                                </tr>
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }
                            .into_any(),
                        Err(e) => view! { <p class="error-banner" role="alert">"Models unavailable: " {e.to_string()}</p> }.into_any(),
                    })
                }}
            </Suspense>
            <p>"For programs: the " <a href="/docs/" rel="external">"API documentation"</a> "."</p>
        </section>
    }
}

/// The other coins' latest prices and 24 h change, linking to their pages.
#[component]
fn OtherCoins(coin: Coin) -> impl IntoView {
    let prices = LocalResource::new(api::latest_prices);
    view! {
        <section class="other-coins" aria-label="Other coins">
            <h2>"Other coins"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading prices…"</p> }>
                {move || {
                    prices.get().map(|r| match r {
                        Ok(body) => view! {
                            <ul>
                                {body
                                    .prices
                                    .into_iter()
                                    .filter(|p| p.coin != coin)
                                    .map(|p| {
                                        let change = p.change_24h_pct;
                                        let class = match change {
                                            Some(c) if c > 0.0 => "change up",
                                            Some(c) if c < 0.0 => "change down",
                                            _ => "change",
                                        };
                                        view! {
                                            <li data-coin=p.coin.ticker()>
                                                <a href=format::coin_path(p.coin)>{p.coin.name()}</a>
                                                " " <span class="price">{format::usd(p.price)}</span> " "
                                                <span class=class>
                                                    {change.map_or_else(|| "24 h change unknown".to_owned(), |c| format!("{} in 24 h", format::change(c)))}
                                                </span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any(),
                        Err(e) => view! { <p class="error-banner" role="alert">"Prices unavailable: " {e.to_string()}</p> }.into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}

fn card_view(
    p: shared::LatestPrediction,
    model: Option<shared::ModelInfo>,
    now: chrono::DateTime<chrono::Utc>,
) -> AnyView {
    let horizon = p.horizon;
    let walk_forward = model.map(|m| {
        format!(
            "walk-forward {} vs {} baseline (n={})",
            format::accuracy(m.walk_forward.accuracy),
            format::accuracy(m.walk_forward.baseline_accuracy),
            m.walk_forward.n
        )
    });
    let live = format!("live 7 d: {}", format::live_accuracy(&p.accuracy_7d));
    let cadence = format::cadence(p.cadence_minutes);
    match p.prediction {
        Some(pred) => {
            let (word, class) = format::direction(pred.direction);
            view! {
                <li class=format!("horizon-card {class}") data-horizon=horizon.as_str()>
                    <span class="horizon">{horizon.label()}</span>
                    <span class="direction" data-testid="direction">{word}</span>
                    <span class="p-up">"P(up) " {format::percent(pred.p_up)}</span>
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

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="not-found">
            <h1>"Page not found"</h1>
            <p>"coincast has pages for " <a href="/Bitcoin">"Bitcoin"</a> ", " <a href="/Litecoin">"Litecoin"</a>
               " and " <a href="/Ripple">"Ripple"</a> "."</p>
        </section>
    }
}

/// The footer shows what `/api/health` says: proof that data flows browser <- API <- database.
#[component]
fn StatusFooter() -> impl IntoView {
    let health = LocalResource::new(api::health);
    view! {
        <footer class="status" data-testid="status">
            <Suspense fallback=|| view! { <span class="muted">"Checking the API…"</span> }>
                {move || {
                    health
                        .get()
                        .map(|result| match result {
                            Ok(h) => {
                                let db = if h.database.reachable {
                                    format!("{} database reachable", h.database.backend)
                                } else {
                                    format!("{} database unreachable", h.database.backend)
                                };
                                let class = match h.status {
                                    HealthStatus::Ok => "health ok",
                                    HealthStatus::Degraded => "health degraded",
                                };
                                let mode = match &h.mode {
                                    DataMode::Live => "live data".to_owned(),
                                    DataMode::Replay(r) => format!(
                                        "replaying recorded history ({}, {} to {}), not today's market",
                                        r.dataset,
                                        r.recorded_from.format("%Y-%m-%d"),
                                        r.recorded_to.format("%Y-%m-%d"),
                                    ),
                                };
                                let replaying = matches!(h.mode, DataMode::Replay(_));
                                let failing = (!h.failing_sources.is_empty())
                                    .then(|| format!(" · sources with problems: {}", h.failing_sources.join(", ")));
                                view! {
                                    <span class=class data-testid="health">
                                        "API v" {h.version} " · " {db} " · up "
                                        {format::duration(h.uptime_seconds)} {failing}
                                    </span>
                                    <span class="mode" class:replay=replaying data-testid="data-mode">{mode}</span>
                                }
                                    .into_any()
                            }
                            Err(e) => view! {
                                <span class="health error" role="alert">{e.to_string()}</span>
                            }
                                .into_any(),
                        })
                }}
            </Suspense>
            <a class="docs-link" href="/docs/" rel="external">"API docs"</a>
        </footer>
    }
}
