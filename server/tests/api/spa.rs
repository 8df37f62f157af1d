use crate::helpers::{FIXTURE_INDEX, Frontend, spawn_app};

#[tokio::test]
async fn client_routes_get_the_apps_index_html() {
    let app = spawn_app(Frontend::Fixture).await;
    for path in ["/", "/Bitcoin", "/litecoin", "/Ripple", "/some/deep/route"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
        assert_eq!(res.text().await.unwrap(), FIXTURE_INDEX, "{path}");
    }
}

#[tokio::test]
async fn assets_have_their_mime_types_and_are_cached_for_good() {
    let app = spawn_app(Frontend::Fixture).await;
    for (path, mime) in [
        ("/assets/0123abcd/frontend_bg.wasm", "application/wasm"),
        ("/assets/0123abcd/frontend.js", "text/javascript"),
        ("/assets/0123abcd/style.css", "text/css"),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let ct = res.headers()["content-type"].to_str().unwrap();
        assert!(ct.starts_with(mime), "{path}: {ct}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert!(res.headers().contains_key("etag"), "{path}");
    }
}

#[tokio::test]
async fn a_missing_file_is_a_404_not_the_app() {
    let app = spawn_app(Frontend::Fixture).await;
    let res = app.get("/assets/0123abcd/missing.js").await;
    assert_eq!(res.status(), 404);
    let res = app.get("/favicon.ico").await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn an_unchanged_index_is_revalidated_with_its_etag() {
    let app = spawn_app(Frontend::Fixture).await;
    let first = app.get("/").await;
    let etag = first.headers()["etag"].clone();
    let again = app
        .client
        .get(format!("{}/", app.address))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}
