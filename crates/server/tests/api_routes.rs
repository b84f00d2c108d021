//! Every `/api/v1` route is in the OpenAPI document, and every documented
//! operation is served. Routes are added only through `api::Api`, which
//! takes `utoipa_axum::routes!` (a handler with its `#[utoipa::path]`);
//! this test checks that nothing bypasses it and that the document and the
//! router agree.

mod common;

use common::spawn_app;
use pingan_store::testing::Kind;
use serde_json::Value;

/// The documented operations, as they were before the routes and the
/// document were registered together (plus the two added since: the
/// document itself and the framework versions).
const EXPECTED: &[&str] = &[
    "DELETE /api/v1/session",
    "GET /api/v1/audit",
    "GET /api/v1/audit/verify",
    "GET /api/v1/callbacks/draws",
    "GET /api/v1/callbacks/draws/{id}",
    "GET /api/v1/callbacks/evidence",
    "GET /api/v1/cases",
    "GET /api/v1/dataSets",
    "GET /api/v1/dataSets/{department}/{region}/{period}",
    "GET /api/v1/flags",
    "GET /api/v1/flags/{id}",
    "GET /api/v1/framework",
    "GET /api/v1/framework/versions",
    "GET /api/v1/openapi.json",
    "GET /api/v1/public/{year}/scores",
    "GET /api/v1/rectify-late",
    "GET /api/v1/rectify/{region}",
    "GET /api/v1/regions",
    "GET /api/v1/reports/{region}",
    "GET /api/v1/reports/{region}/file",
    "GET /api/v1/risk",
    "GET /api/v1/scores",
    "GET /api/v1/surveys/{form_id}/estimates",
    "GET /api/v1/values",
    "GET /api/v1/verifications",
    "GET /api/v1/verifications/photos/{id}",
    "GET /api/v1/verifications/{id}",
    "GET /api/v1/work",
    "POST /api/v1/callbacks/draws",
    "POST /api/v1/callbacks/{draw_id}/{case_id}",
    "POST /api/v1/cases",
    "POST /api/v1/checks",
    "POST /api/v1/dataSets/review",
    "POST /api/v1/dataValueSets",
    "POST /api/v1/events",
    "POST /api/v1/flags/{id}/resolve",
    "POST /api/v1/flags/{id}/verification",
    "POST /api/v1/notices",
    "POST /api/v1/rectify/items/{id}/steps",
    "POST /api/v1/session",
    "POST /api/v1/session/password",
    "POST /api/v1/surveys/{form_id}/responses",
    "POST /api/v1/verifications",
    "POST /api/v1/verifications/draw",
    "POST /api/v1/verifications/records/{id}/confirm",
    "POST /api/v1/verifications/records/{id}/photos",
    "POST /api/v1/verifications/{id}/close",
    "POST /api/v1/verifications/{id}/records",
];

#[test]
fn api_modules_add_routes_only_through_the_documented_router() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for banned in [".route(", "axum::routing", ".nest(", ".merge("] {
            assert!(
                !text.contains(banned),
                "{} uses {banned}: add API routes with routes!() so they are documented",
                path.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_and_the_router_agree() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let (_, doc) = app.get("/api/v1/openapi.json", None).await;
    let mut ops: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {p}", m.to_uppercase()))
        })
        .collect();
    ops.sort();
    assert_eq!(ops, EXPECTED);
    // Each documented operation is served: the router never answers it
    // with its own bare 404 or 405 (a handler's 404 has our JSON shape).
    let cookie = app.cookie("office").await;
    for op in &ops {
        let (method, path) = op.split_once(' ').unwrap();
        let url = format!("{}{}", app.base, fill(path));
        let req = match method {
            "GET" => app.http.get(&url),
            "POST" => app.http.post(&url).json(&serde_json::json!({})),
            "DELETE" => app.http.delete(&url),
            other => panic!("{other}"),
        };
        let r = req.header("cookie", &cookie).send().await.unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_ne!(status, 405, "{op}: not routed for this method");
        assert!(
            status != 404 || body["code"] == "not_found",
            "{op}: no route ({status} {body})"
        );
    }
    // An undocumented path is not served.
    let r = app
        .http
        .get(format!("{}/api/v1/nothing-here", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    app.db.done().await;
}

/// A documented path with its parameters filled in.
fn fill(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').map_or(rest.len(), |j| i + j + 1);
        out.push('1');
        rest = &rest[j..];
    }
    out.push_str(rest);
    out
}
