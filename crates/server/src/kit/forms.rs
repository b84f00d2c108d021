//! Reading forms and queries, and the post-redirect-get round trip.

use crate::http::{cookie, set_cookie_named};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
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

/// The cookie that carries a form's outcome to the page it returns to.
pub const FLASH: &str = "pingan_flash";

/// After a form: back to `path` (a page of ours), the outcome in a
/// one-time cookie the page shows as its banner (post, redirect, get).
/// Never in the URL: a link could then put any words in our banner.
pub fn back(path: &str, result: Result<String, String>) -> Response {
    let (kind, m) = match result {
        Ok(m) => ("ok", m),
        Err(e) => ("err", e),
    };
    // A cookie holds about 4 KB; a long list of problems is cut short.
    let m: String = if m.chars().count() > 600 {
        m.chars().take(599).chain(['…']).collect()
    } else {
        m
    };
    let value = format!("{kind}.{}", urlencode(&m));
    let mut r = Redirect::to(path).into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie_named(FLASH, &value, 120));
    r
}

/// The outcome `back` left for this page, if any: an error or a message.
pub struct Flash(pub Option<(&'static str, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Flash {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Flash, Self::Rejection> {
        Ok(Flash(flash_of(&parts.headers)))
    }
}

pub fn flash_of(h: &axum::http::HeaderMap) -> Option<(&'static str, String)> {
    let raw = cookie(h, FLASH)?;
    let (kind, text) = raw.split_once('.')?;
    let kind = match kind {
        "ok" => "ok",
        "err" => "error",
        _ => return None,
    };
    let text: String = form_urlencoded::parse(format!("m={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    Some((kind, text)).filter(|(_, t)| !t.trim().is_empty())
}

/// Only a path of ours: never `//host` or `https://…` (an open redirect).
pub fn own_path(next: Option<&str>, default: &str) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => default.into(),
    }
}

/// Suggestions for a period field (`input list=…`): the months, quarters
/// and whole year of `year` and the year before, newest first, each with
/// its Chinese label. The field still takes anything typed.
pub fn period_options(id: &str, year: Option<i32>) -> maud::Markup {
    let years: Vec<i32> = year.map(|y| vec![y, y - 1]).unwrap_or_default();
    maud::html! {
        datalist id=(id) {
            @for y in &years {
                option value=(y) { (y) "年（全年）" }
                @for q in (1..=4).rev() { option value=(format!("{y}Q{q}")) { (y) "年第" (q) "季度" } }
                @for m in (1..=12).rev() { option value=(format!("{y}-{m:02}")) { (y) "年" (m) "月" } }
            }
        }
    }
}

/// Where a region sits, below the province: 清湾市 › 梧门区.
fn path(tree: &pingan_core::RegionTree, i: usize) -> String {
    let mut names = vec![tree.get(i).name.as_str()];
    let mut at = tree.get(i).parent;
    while let Some(p) = at {
        if tree.get(p).parent.is_none() {
            break;
        }
        names.push(tree.get(p).name.as_str());
        at = tree.get(p).parent;
    }
    names.reverse();
    names.join(" › ")
}

/// Suggestions for a region code field: the regions the caller may see
/// above the base level (a county official: the county), in the tree's
/// order, each by its place in the tree and its level (typing a name or a
/// code finds it).
pub fn region_options(
    id: &str,
    tree: &pingan_core::RegionTree,
    c: &pingan_service::Caller,
) -> maud::Markup {
    let shown: Vec<usize> = (0..tree.len())
        .filter(|&i| !tree.children(i).is_empty() && c.sees(tree, i))
        .take(500)
        .collect();
    maud::html! {
        datalist id=(id) {
            @for i in shown {
                @let r = tree.get(i);
                option value=(r.code) { (path(tree, i)) "（" (r.level.label()) "）" }
            }
        }
    }
}
