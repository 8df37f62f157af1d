//! Line charts drawn as SVG by the app itself (works offline): the reusable [`LineChart`] with
//! labelled value and time axes, a legend, and a hover and keyboard readout; the price chart and
//! the equity curves of the performance section both use it.

use leptos::prelude::*;
use shared::Coin;

use crate::api;
use crate::format::{self, Frame, ValueAxis};
use crate::live::Live;

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

/// The plot's SVG box; it is stretched to the element's size (`preserveAspectRatio="none"`), and
/// the axis labels sit outside it in SVGs of their own, so text is never stretched.
const CHART_W: f64 = 800.0;
const CHART_H: f64 = 260.0;
/// Labelled levels on the value axis and times on the time axis, at most.
const VALUE_TICKS: usize = 6;
const TIME_TICKS: usize = 6;

/// One line of a [`LineChart`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its name in the legend and the readout (empty for a chart's only line).
    pub name: &'static str,
    /// The CSS class of its path (`line` is the accent color).
    pub class: &'static str,
    /// `(unix seconds, value)`, oldest first.
    pub points: Vec<(i64, f64)>,
}

/// A dot on a [`LineChart`] at a time and value, with a tooltip.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub t: i64,
    pub v: f64,
    pub class: &'static str,
    pub title: String,
}

/// Lines over time with a labelled value axis (USD or return) and time axis (UTC), grid lines, a
/// legend when there are several lines, and a readout of the values at the hovered, touched or
/// keyboard-selected time (arrows, PageUp/PageDown, Home/End, Escape), following the first line's
/// points. `testid` names the plot (`<testid>-readout` its readout).
#[component]
pub fn LineChart(
    /// The lines; the first one leads the readout.
    series: Vec<Series>,
    /// How the values read.
    axis: ValueAxis,
    /// What the chart shows, for screen readers (its range is appended).
    label: String,
    /// `data-testid` of the plot.
    testid: &'static str,
    /// Dots over the lines.
    #[prop(optional)]
    markers: Vec<Marker>,
    /// An extra class for the figure (`compact` draws a lower chart).
    #[prop(optional)]
    class: &'static str,
    /// What the readout says before anything is selected.
    #[prop(default = "Hover or touch the chart, or focus it and use the arrow keys, to read a value.")]
    hint: &'static str,
) -> impl IntoView {
    let slices: Vec<&[(i64, f64)]> = series.iter().map(|s| s.points.as_slice()).collect();
    let Some(frame) = Frame::around(&slices, CHART_W, CHART_H) else {
        return view! { <p class="muted">"Not enough points to draw yet."</p> }.into_any();
    };
    let hover = RwSignal::new(None::<usize>);
    let lead: Vec<(i64, f64)> = series
        .first()
        .map(|s| s.points.iter().copied().filter(|p| p.1.is_finite()).collect())
        .unwrap_or_default();
    let points = frame.points(&lead);
    let n_points = points.len();
    let value_ticks = frame.value_ticks(axis, VALUE_TICKS);
    let time_ticks = frame.time_ticks(TIME_TICKS);
    let grid = value_ticks
        .iter()
        .map(|t| (0.0, t.at * CHART_H, CHART_W, t.at * CHART_H))
        .chain(time_ticks.iter().map(|t| (t.at * CHART_W, 0.0, t.at * CHART_W, CHART_H)))
        .map(|(x1, y1, x2, y2)| {
            view! {
                <line class="grid" x1=format!("{x1:.1}") y1=format!("{y1:.1}") x2=format!("{x2:.1}") y2=format!("{y2:.1}")></line>
            }
        })
        .collect_view();
    let y_labels = value_ticks
        .iter()
        .map(|t| {
            view! {
                <text x="100%" dx="-6" y=format!("{:.2}%", 100.0 * t.at) dy="0.35em" text-anchor="end">
                    {t.label.clone()}
                </text>
            }
        })
        .collect_view();
    let x_labels = time_ticks
        .iter()
        .map(|t| {
            // Labels at the edges lean inwards rather than being cut off.
            let anchor = match t.at {
                a if a < 0.04 => "start",
                a if a > 0.96 => "end",
                _ => "middle",
            };
            view! {
                <text x=format!("{:.2}%", 100.0 * t.at) y="1.1em" text-anchor=anchor>{t.label.clone()}</text>
            }
        })
        .collect_view();
    let lines = series
        .iter()
        .map(|s| view! { <path class=s.class d=format::svg_path(&frame.points(&s.points))></path> })
        .collect_view();
    let dots = markers
        .iter()
        .filter(|m| m.t >= frame.t0 && m.t <= frame.t1 && m.v.is_finite())
        .map(|m| {
            view! {
                <circle class=format!("marker {}", m.class) cx=format!("{:.1}", frame.x(m.t)) cy=format!("{:.1}", frame.y(m.v)) r="3.5">
                    <title>{m.title.clone()}</title>
                </circle>
            }
        })
        .collect_view();
    let legend = (series.len() > 1).then(|| {
        view! {
            <ul class="legend chart-legend">
                {series
                    .iter()
                    .map(|s| view! { <li><span class=format!("swatch {}", s.class) aria-hidden="true"></span>{s.name}</li> })
                    .collect_view()}
            </ul>
        }
    });
    let lines_data: Vec<(&'static str, Vec<(i64, f64)>)> =
        series.iter().map(|s| (s.name, s.points.clone())).collect();
    let readout = move || {
        let (t, _) = *lead.get(hover.get()?)?;
        let at = chrono::DateTime::from_timestamp(t, 0)?;
        let values: Vec<String> = lines_data
            .iter()
            .filter_map(|(name, pts)| {
                let v = axis.value(format::value_at(pts, t)?);
                Some(if name.is_empty() { v } else { format!("{name} {v}") })
            })
            .collect();
        Some(format!(
            "{} · {}",
            at.format("%Y-%m-%d %H:%M UTC"),
            values.join(" · ")
        ))
    };
    let pts = points.clone();
    let cross = move || hover.get().and_then(|i| pts.get(i).copied());
    let aria = format!(
        "{label}, {} to {}, {} to {}",
        axis.value(frame.low),
        axis.value(frame.high),
        format::time_tick(frame.t0, 86_400),
        format::time_tick(frame.t1, 86_400)
    );
    view! {
        <figure class=format!("line-chart {class}")>
            <p class="chart-readout" data-testid=format!("{testid}-readout")>
                {move || readout().unwrap_or_else(|| hint.into())}
            </p>
            <div class="plot-frame">
                <svg class="axis value-axis" aria-hidden="true">{y_labels}</svg>
                <svg
                    class="chart"
                    data-testid=testid
                    viewBox=format!("0 0 {CHART_W} {CHART_H}")
                    preserveAspectRatio="none"
                    role="img"
                    tabindex="0"
                    aria-label=aria
                    on:pointermove=move |ev| {
                        use leptos::wasm_bindgen::JsCast;
                        // The plot itself, whichever line or dot is under the pointer.
                        let Some(plot) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
                            return;
                        };
                        let rect = plot.get_bounding_client_rect();
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
                    {grid}
                    {lines}
                    {dots}
                    {move || cross().map(|(x, y)| view! {
                        <line class="crosshair" x1=format!("{x:.1}") x2=format!("{x:.1}") y1="0" y2=format!("{CHART_H}")></line>
                        <circle class="dot" cx=format!("{x:.1}") cy=format!("{y:.1}") r="4"></circle>
                    })}
                </svg>
                <span></span>
                <svg class="axis time-axis" aria-hidden="true">{x_labels}</svg>
            </div>
            {legend}
        </figure>
    }
    .into_any()
}

/// The coin's price over a selectable range and resolution, with labelled USD and UTC axes and
/// markers where 1 h predictions were made (every 15 minutes), colored by outcome once scored.
#[component]
pub fn PriceChart(coin: Coin) -> impl IntoView {
    let live = Live::get();
    let ChartChoice { range, resolution } = use_context::<ChartChoice>().unwrap_or_default();
    let data = LocalResource::new(move || {
        // New minutes arrive as price events; a reconnect re-reads everything.
        live.prices.track();
        live.reconnected.track();
        let (_, span, _, _) = format::CHART_RANGES[range.get()];
        let resolution = format::chart_resolution(range.get(), resolution.get(), live.finest_s());
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
                <h2>{Live::get().coin_name(coin)} " price (USD)"</h2>
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
                                    on:click=move |_| range.set(i)
                                >
                                    {*label}
                                </button>
                            })
                            .collect_view()}
                    </div>
                    <div class="ranges" role="group" aria-label="Resolution">
                        {move || {
                            let finest = live.finest_s();
                            let offered = format::chart_resolutions(range.get(), finest);
                            let current = format::chart_resolution(range.get(), resolution.get(), finest);
                            offered
                                .into_iter()
                                .map(|r| view! {
                                    <button
                                        type="button"
                                        class="range resolution"
                                        aria-pressed=(current == r).to_string()
                                        title=format!("one point per {r}")
                                        on:click=move |_| resolution.set(Some(r))
                                    >
                                        {r}
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
                        Ok((candles, _)) if candles.candles.len() < 2 => {
                            view! { <p class="muted">"Not enough prices stored for this range yet."</p> }.into_any()
                        }
                        Ok((candles, markers)) => {
                            let line = Series {
                                name: "",
                                class: "line",
                                points: candles.candles.iter().map(|c| (c.t.timestamp(), c.c)).collect(),
                            };
                            let marks = markers
                                .iter()
                                .map(|p| {
                                    let (word, _) = format::direction(p.direction);
                                    Marker {
                                        t: p.made_at.timestamp(),
                                        v: p.reference_price,
                                        class: match p.correct {
                                            Some(true) => "right",
                                            Some(false) => "wrong",
                                            None => "pending",
                                        },
                                        title: format!(
                                            "{} {} at {}{}",
                                            word,
                                            format::percent(p.p_up),
                                            format::clock(p.made_at),
                                            match p.correct { Some(true) => ", right", Some(false) => ", wrong", None => "" }
                                        ),
                                    }
                                })
                                .collect();
                            view! {
                                <LineChart
                                    series=vec![line]
                                    axis=ValueAxis::Usd
                                    label=format!("{} price", Live::get().coin_name(coin))
                                    testid="chart"
                                    markers=marks
                                    hint="Hover or touch the chart, or focus it and use the arrow keys, to read a price."
                                />
                                <p class="chart-scale muted">
                                    "Price in USD (left), time in UTC (below) · markers: 1 h predictions (green right, red wrong, grey pending)"
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
