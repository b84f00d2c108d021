//! Static files served from the binary: our own CSS and JS, and the npm
//! libraries build.rs fetched from the lockfile. Each URL carries a hash of
//! the content, so browsers may keep them for a year and never ask again.

use crate::http::{Kept, accepts_gzip, body_for};
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;

struct Asset {
    name: &'static str,
    mime: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        mime: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/app.css"),
    },
    // The documents' page (GB/T 9704), shared with `pingan report --format html`.
    Asset {
        name: "doc.css",
        mime: "text/css; charset=utf-8",
        bytes: pingan_report::html::CSS.as_bytes(),
    },
    Asset {
        name: "app.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/app.js"),
    },
    // The questionnaire's expressions, evaluated as the server does
    // (tests/expr_parity.rs), for the answering pages.
    Asset {
        name: "survey.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/survey.js"),
    },
    Asset {
        name: "answer.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/answer.js"),
    },
    // The interviewer's page: outbox and sync (its service worker is
    // served by the page module, with this release's file list).
    Asset {
        name: "collect.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/collect.js"),
    },
    Asset {
        name: "echarts.min.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!(concat!(
            env!("PINGAN_UI_MODULES"),
            "/echarts/dist/echarts.min.js"
        )),
    },
];

struct Prepared {
    version: String,
    body: Kept,
}

fn prepared() -> &'static [Prepared] {
    static P: OnceLock<Vec<Prepared>> = OnceLock::new();
    P.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| Prepared {
                version: pingan_store::sha256_hex(a.bytes)[..12].to_string(),
                body: Kept::new(axum::body::Bytes::from_static(a.bytes)),
            })
            .collect()
    })
}

/// `/static/<hash>/<name>` for a page to link.
pub fn url(name: &str) -> String {
    let i = ASSETS.iter().position(|a| a.name == name).unwrap_or(0);
    format!("/static/{}/{}", prepared()[i].version, ASSETS[i].name)
}

pub fn routes() -> axum::Router<crate::AppState> {
    axum::Router::new()
        .route("/static/{version}/{name}", axum::routing::get(serve))
        // Browsers ask for it on their own; answer without a 404 in the log.
        .route(
            "/favicon.ico",
            axum::routing::get(|| async { StatusCode::NO_CONTENT }),
        )
}

async fn serve(Path((version, name)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let p = &prepared()[i];
    // An old hash still gets the file, but must not be kept for long.
    let cache = if p.version == version {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut resp = body_for(&p.body, accepts_gzip(&headers), ASSETS[i].mime);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}
