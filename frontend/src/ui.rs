//! The app's smallest shared pieces, used by every page: the loading skeleton and the page
//! title. A leaf: it imports no other module of the app.

use leptos::prelude::*;

/// Sets the document's title (one per page, so tabs and history read well).
pub fn set_title(title: &str) {
    document().set_title(title);
}

/// Grey blocks where a section's content will appear, announced as loading to screen readers.
#[component]
pub fn Skeleton(
    /// What is loading, for screen readers.
    label: &'static str,
    /// Grey lines to draw.
    #[prop(default = 3)]
    lines: usize,
) -> impl IntoView {
    view! {
        <div class="skeleton" role="status" aria-busy="true" data-testid="skeleton">
            <span class="visually-hidden">{label}</span>
            {(0..lines).map(|_| view! { <span class="skeleton-line" aria-hidden="true"></span> }).collect_view()}
        </div>
    }
}
