//! The price chart, drawn as SVG by the app itself.

use leptos::prelude::*;
use shared::Coin;

use crate::live::Live;
use crate::{api, format};

/// The chart's range (index into `CHART_RANGES`) and resolution chosen, kept app-wide so they
/// survive the page being rebuilt and switching coins.
#[derive(Clone, Copy)]
pub struct ChartChoice {
    range: RwSignal<usize>,
    resolution: RwSignal<Option<&'static str>>,
}

impl Default for ChartChoice {
    fn default() -> Self {
        ChartChoice {
            range: RwSignal::new(1),
            resolution: RwSignal::new(None),
        }
    }
}

const CHART_W: f64 = 800.0;
const CHART_H: f64 = 260.0;

/// The coin's price over a selectable range, drawn as SVG by the app itself (works offline), with
/// a hover crosshair (time and price) and markers where 1 h predictions were made (every 15
/// minutes), colored by outcome once scored.
#[component]
pub fn PriceChart(coin: Coin) -> impl IntoView {
    let live = Live::get();
    let ChartChoice { range, resolution } = use_context::<ChartChoice>().unwrap_or_default();
    let hover = RwSignal::new(None::<usize>);
    let data = LocalResource::new(move || {
        // New minutes arrive as price events; a reconnect re-reads everything.
        live.prices.track();
        live.reconnected.track();
        let (_, span, _, _) = format::CHART_RANGES[range.get()];
        let resolution = format::chart_resolution(range.get(), resolution.get());
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
                    <div class="chart-controls">
    <div class="ranges" role="group" aria-label="Range">
                        {format::CHART_RANGES
                            .iter()
                            .enumerate()
                            .map(|(i, (label, _, _, _))| view! {
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
                    <div class="ranges" role="group" aria-label="Resolution">
                        {move || {
                            let offered = format::CHART_RANGES[range.get()].3;
                            let current = format::chart_resolution(range.get(), resolution.get());
                            offered
                                .iter()
                                .map(|r| view! {
                                    <button
                                        type="button"
                                        class="range resolution"
                                        aria-pressed=(current == *r).to_string()
                                        title=format!("one point per {r}")
                                        on:click=move |_| {
                                            hover.set(None);
                                            resolution.set(Some(r));
                                        }
                                    >
                                        {*r}
                                    </button>
                                })
                                .collect_view()
                        }}
                    </div>
                </div>
    </div>
                <Transition fallback=|| view! {
                    <div class="chart-skeleton" role="status" aria-busy="true" data-testid="skeleton">
                        <span class="visually-hidden">"Loading prices…"</span>
                    </div>
                }>
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
                                let n_points = points.len();
                                let cross = move || hover.get().and_then(|i| pts.get(i).copied());
                                view! {
                                    <p class="chart-readout" data-testid="chart-readout">
                                        {move || label().unwrap_or_else(|| "Hover or touch the chart, or focus it and use the arrow keys, to read a price.".into())}
                                    </p>
                                    <svg
                                        class="chart"
                                        data-testid="chart"
                                        viewBox=format!("0 0 {CHART_W} {CHART_H}")
                                        preserveAspectRatio="none"
                                        role="img"
                                        tabindex="0"
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
                                        on:keydown=move |ev| {
                                            if let Some(next) = format::chart_key(&ev.key(), hover.get_untracked(), n_points) {
                                                ev.prevent_default();
                                                hover.set(next);
                                            }
                                        }
                                        on:blur=move |_| hover.set(None)
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
                </Transition>
            </section>
        }
}
