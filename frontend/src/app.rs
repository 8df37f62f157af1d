//! Routes, the header, the coin page's frame and the shared skeletons.

use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_params_map};
use leptos_router::path;

use crate::about::About;
use crate::chart::{ChartChoice, PriceChart};
use crate::coin::{History, ModelsCard, OtherCoins, PredictionCards};
use crate::format;
use crate::live::{ApiDownBanner, Live, StatusStrip};
use crate::performance::Performance;
use crate::ui::{Skeleton, set_title};

/// The whole app: header with the coin buttons, the routed page, and the status strip.
#[component]
pub fn App() -> impl IntoView {
    Live::provide();
    // UI choices that outlive any page rebuild (the chart's range and resolution).
    provide_context(ChartChoice::default());
    view! {
        <Router>
            <a class="skip-link" href="#main" on:click=skip_to_content>"Skip to content"</a>
            <Header/>
            <main id="main" tabindex="-1">
                <ApiDownBanner/>
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=FirstCoin/>
                    <Route path=path!("/about") view=About/>
                    <Route path=path!("/:coin") view=CoinPage/>
                </Routes>
            </main>
            <StatusStrip/>
        </Router>
    }
}

/// The header: the name and one button per served coin (`GET /api/coins`). The router turns
/// clicks on these links into client-side navigation, so switching coins never reloads the page.
#[component]
fn Header() -> impl IntoView {
    let location = use_location();
    let live = Live::get();
    let current = move || {
        live.coins
            .with(|c| format::coin_from_path(&location.pathname.get(), c.as_ref()))
    };
    view! {
        <header class="site-header">
            <a class="brand" href="/">"coincast"</a>
            <nav class="coin-nav" aria-label="Coins">
                {move || {
                    live.coins
                        .get()
                        .filter(|served| served.coins.len() <= format::COIN_BUTTONS_MAX)
                        .map(|served| {
                            served
                                .coins
                                .into_iter()
                                .map(|info| {
                                    let coin = info.coin;
                                    let href = shared::page_path(&info.name);
                                    view! {
                                        <a
                                            class="coin-button"
                                            data-coin=coin.to_string()
                                            href=href
                                            aria-current=move || (current() == Some(coin)).then_some("page")
                                        >
                                            {info.name}
                                        </a>
                                    }
                                })
                                .collect_view()
                        })
                }}
                {move || {
                    live.coins
                        .get()
                        .filter(|served| served.coins.len() > format::COIN_BUTTONS_MAX)
                        .map(|served| view! { <CoinMenu served=served current=Signal::derive(current)/> })
                }}
            </nav>
            <a
                class="about-link"
                href="/about"
                aria-current=move || (location.pathname.get() == "/about").then_some("page")
            >
                "About"
            </a>
        </header>
    }
}

/// More coins than buttons fit on a phone: one native menu (the phone's own picker), the current
/// coin selected; choosing one navigates without a reload.
#[component]
fn CoinMenu(served: shared::CoinsResponse, current: Signal<Option<shared::Coin>>) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let paths: Vec<(String, String)> = served
        .coins
        .iter()
        .map(|c| (c.coin.to_string(), shared::page_path(&c.name)))
        .collect();
    let on_change = move |ev: leptos::ev::Event| {
        let ticker = event_target_value(&ev);
        if let Some((_, path)) = paths.iter().find(|(t, _)| *t == ticker) {
            navigate(path, Default::default());
        }
    };
    view! {
        <label class="coin-menu">
            <span class="visually-hidden">"Coin"</span>
            <select class="coin-select" on:change=on_change prop:value=move || current.get().map(|c| c.to_string()).unwrap_or_default()>
                <option value="" disabled=true>"Choose a coin"</option>
                {served
                    .coins
                    .into_iter()
                    .map(|c| view! { <option value=c.coin.to_string()>{format!("{} ({})", c.name, c.coin)}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}

/// A coin's page. It is rebuilt only when the coin changes: the sections are built untracked, so
/// a signal their constructors read (a chart's range, say) cannot rebuild the whole page.
#[component]
fn CoinPage() -> impl IntoView {
    let params = use_params_map();
    let live = Live::get();
    // `None` until the server has listed its coins; then the served coin the path names, if any.
    let coin = Memo::new(move |_| {
        let segment = params.read().get("coin").unwrap_or_default();
        live.coins
            .with(|served| served.as_ref().map(|s| format::coin_from_path(&segment, Some(s))))
    });
    move || {
        match coin.get() {
        None => view! { <Skeleton label="Loading the coins…" lines=4/> }.into_any(),
        Some(Some(coin)) => untrack(move || {
            let name = live.coin_name(coin);
            set_title(&format!("{name} ({}) UP or DOWN · coincast", coin.ticker()));
            view! {
                <section class="coin-page" data-coin=coin.to_string()>
                    <h1>{name.clone()} " " <span class="ticker">"(" {coin.to_string()} ")"</span></h1>
                    <p class="lede">
                        "Will " {name.clone()} " go UP or DOWN? One prediction per horizon, each with its \
                         accuracy measured out of sample next to the simplest rules (majority class, momentum, reversal), \
                         and what trading its signals would have earned after costs."
                    </p>
                    {move || {
                        live.coins.with(|served| {
                            served
                                .as_ref()
                                .and_then(|s| s.get(coin))
                                .filter(|info| info.models_beating_baseline == 0)
                                .map(|info| view! {
                                    <p class="no-edge" data-testid="no-edge" role="note">
                                        {format!(
                                            "None of {}'s {} models has beaten the strongest simple rule (majority, momentum or reversal) \
                                             out of sample once corrected for the number of models compared: read its predictions as \
                                             no better than that rule.",
                                            info.name,
                                            info.horizons.len()
                                        )}
                                    </p>
                                })
                        })
                    }}
                    <PredictionCards coin=coin/>
                    <PriceChart coin=coin/>
                    <History coin=coin/>
                    <ModelsCard coin=coin/>
                    <Performance coin=coin/>
                    <OtherCoins coin=coin/>
                </section>
            }
        })
        .into_any(),
        Some(None) => view! { <NotFound/> }.into_any(),
    }
    }
}

/// `/`: the first served coin's page, once the server has listed them.
#[component]
fn FirstCoin() -> impl IntoView {
    let live = Live::get();
    move || {
        live.coins.with(|served| {
            served
                .as_ref()
                .and_then(|s| s.coins.first())
                .map(|first| view! { <Redirect path=shared::page_path(&first.name)/> })
        })
    }
}

/// The skip link moves the keyboard focus to the page's content (the router would otherwise take
/// the `#main` link as a navigation).
fn skip_to_content(ev: web_sys::MouseEvent) {
    use leptos::wasm_bindgen::JsCast;
    ev.prevent_default();
    if let Some(main) = document()
        .get_element_by_id("main")
        .and_then(|m| m.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = main.focus();
    }
}

#[component]
fn NotFound() -> impl IntoView {
    set_title("Page not found · coincast");
    view! {
        <section class="not-found">
            <h1>"Page not found"</h1>
            <p>"coincast has pages for the coins it serves: "
                {move || {
                    Live::get().coins.get().map(|served| {
                        served
                            .coins
                            .into_iter()
                            .map(|c| {
                                let href = shared::page_path(&c.name);
                                view! { <a href=href>{c.name}</a> " " }
                            })
                            .collect_view()
                    })
                }}
            </p>
        </section>
    }
}
