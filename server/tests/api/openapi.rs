use crate::helpers::{Frontend, repo_root};

/// `openapi.yaml` is generated from the code. Regenerate it with
/// `cargo run -p server -- openapi > openapi.yaml` (or run this test with UPDATE_OPENAPI=1).
#[test]
fn openapi_yaml_is_in_sync_with_the_code() {
    let generated = coincast::http::openapi::yaml().unwrap();
    let path = repo_root().join("openapi.yaml");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == generated {
        return;
    }
    // As rust-analyzer's `ensure_file_contents`: rewrite it when asked, and fail either way, so a
    // run that changed the file never passes unnoticed.
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
        panic!("openapi.yaml was out of date and has been rewritten: review and commit it");
    }
    panic!(
        "openapi.yaml is out of date: run `cargo run -p server -- openapi > openapi.yaml` \
         (or UPDATE_OPENAPI=1 cargo test -p server --test api openapi)"
    );
}

#[tokio::test]
async fn the_served_document_is_the_generated_one_and_lists_every_route() {
    // The default deployment's document is the repo's (the suite's own serves three coins).
    let app = crate::helpers::spawn_app_with(Frontend::Fixture, |s| {
        crate::helpers::default_deployment(s);
        s.jobs.enabled = false;
    })
    .await;
    let res = app.get("/api-docs/openapi.json").await;
    assert_eq!(res.status(), 200);
    let served: serde_json::Value = res.json().await.unwrap();
    let generated = serde_json::to_value(coincast::http::openapi::document()).unwrap();
    assert_eq!(served, generated);
    assert_eq!(served["openapi"], "3.1.0");
    let paths = served["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/health"), "{paths:?}");
    assert_eq!(served["paths"]["/api/health"]["get"]["operationId"], "get_health");
}
