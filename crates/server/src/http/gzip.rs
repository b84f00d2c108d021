//! Response bodies kept between requests with a gzip copy made once, and
//! sent compressed to clients that accept it.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// A body kept as is and gzip'd, compressed once when it is kept rather
/// than on every request.
#[derive(Clone)]
pub struct Kept {
    pub raw: Bytes,
    pub gzip: Bytes,
}

impl Kept {
    pub fn new(raw: Bytes) -> Kept {
        use std::io::Write;
        let mut z = flate2::write::GzEncoder::new(
            Vec::with_capacity(raw.len() / 8),
            flate2::Compression::new(6),
        );
        // Writing to a Vec cannot fail.
        let gzip = z
            .write_all(&raw)
            .and_then(|_| z.finish())
            .map(Bytes::from)
            .unwrap_or_default();
        Kept { raw, gzip }
    }
}

pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            parts.next().is_some_and(|n| n.trim() == "gzip")
                && parts.all(|p| p.trim().replace(' ', "") != "q=0")
        })
}

/// A kept body with its content type, gzip'd for clients that accept it.
pub fn body_for(body: &Kept, gzip: bool, mime: &'static str) -> Response {
    let vary = (header::VARY, HeaderValue::from_static("accept-encoding"));
    let kind = (header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if gzip && !body.gzip.is_empty() {
        (
            [
                kind,
                vary,
                (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            ],
            body.gzip.clone(),
        )
            .into_response()
    } else {
        ([kind, vary], body.raw.clone()).into_response()
    }
}
