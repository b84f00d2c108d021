//! Reading forms and queries, and the post-redirect-get round trip.

use axum::response::{IntoResponse, Redirect, Response};

/// A query parameter's trimmed text, when there is any.
pub fn some(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A posted form's fields, in order (a name may repeat).
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &str) -> Fields {
        Fields(
            form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    /// The value of `name` when it is there and not empty.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name)).filter(|s| !s.is_empty())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}

/// After a form: back to `path` (a page of ours) with the outcome in the
/// query, which the page shows as its banner (post, redirect, get).
pub fn back(path: &str, result: Result<String, String>) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    let url = match result {
        Ok(m) => format!("{path}{sep}ok={}", urlencode(&m)),
        Err(e) => format!("{path}{sep}err={}", urlencode(&e)),
    };
    Redirect::to(&url).into_response()
}

/// The banner for a page reached through `back`: an error wins.
pub fn outcome(ok: &Option<String>, err: &Option<String>) -> Option<(&'static str, String)> {
    match (some(ok), some(err)) {
        (_, Some(e)) => Some(("error", e)),
        (Some(m), _) => Some(("ok", m)),
        _ => None,
    }
}

/// Only a path of ours: never `//host` or `https://…` (an open redirect).
pub fn own_path(next: Option<&str>, default: &str) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => default.into(),
    }
}
