use crate::helpers::{Frontend, spawn_app};

/// Every `src="..."`/`href="..."` in an HTML page.
fn asset_refs(html: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            if let Some(end) = rest.find('"') {
                refs.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
    refs
}

#[tokio::test]
async fn the_docs_ui_and_all_its_assets_are_served_locally() {
    let app = spawn_app(Frontend::Fixture).await;
    let res = app.get("/docs/").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let refs = asset_refs(&html);
    assert!(
        refs.len() >= 3,
        "expected the UI's scripts and styles, found {refs:?}"
    );
    for r in &refs {
        assert!(
            !r.starts_with("http") && !r.starts_with("//"),
            "external asset {r}"
        );
        let path = format!("/docs/{}", r.trim_start_matches("./"));
        let asset = app.get(&path).await;
        assert_eq!(asset.status(), 200, "{path}");
        let body = asset.bytes().await.unwrap();
        assert!(!body.is_empty(), "{path}");
    }
    // The initializer points the UI at our document, not at a remote one.
    let init = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api-docs/openapi.json"), "{init}");
}

#[tokio::test]
async fn docs_without_a_trailing_slash_leads_to_the_ui() {
    let app = spawn_app(Frontend::Fixture).await;
    let res = app.get("/docs").await;
    assert!(
        res.status().is_redirection() || res.status() == 200,
        "{}",
        res.status()
    );
}
