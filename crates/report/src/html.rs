//! A document as HTML: the `article` the print view shows inside the
//! app's page, and a page of its own (CSS and charts inside) for
//! `pingan report --format html`, which opens in any browser offline.

use crate::ReportError;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use pingan_core::report::doc::{Block, Doc, Table};

/// The print stylesheet (GB/T 9704's page), served as `doc.css` too.
pub const CSS: &str = include_str!("../assets/doc.css");

fn table(t: &Table) -> Markup {
    html! {
        table.doc-table id=[(!t.id.is_empty()).then_some(&t.id)] {
            thead { tr { @for h in &t.head { th { (h) } } } }
            tbody {
                @for r in &t.rows {
                    tr data-indicator=[(!r.key.is_empty()).then_some(&r.key)] {
                        @for c in &r.cells {
                            @if c.right { td.num { (c.text) } } @else { td { (c.text) } }
                        }
                    }
                }
            }
        }
    }
}

/// The document as an `article.doc-sheet`; charts as inline SVG where a
/// CJK font could be registered (the browser draws the text with its own).
pub fn article(doc: &Doc) -> Markup {
    let region = doc.property("pingan-region").unwrap_or("");
    let year = doc.property("pingan-year").unwrap_or("");
    // The SVG's text is drawn by the browser; the registered family only
    // measures it, so any CJK family will do, and a generic one without.
    let family = crate::charts::font().unwrap_or("sans-serif");
    html! {
        article.doc-sheet id="report" data-region=(region) data-year=(year) {
            @for b in &doc.blocks {
                @match b {
                    Block::Masthead { organ, number } => {
                        p.doc-masthead style=(format!("font-size: {}pt", crate::masthead_pt(organ))) { (organ) }
                        p.doc-number id="notice-number" { (number) }
                    }
                    Block::Title(t) => h1.doc-title { (t) },
                    Block::Addressee(t) => p.doc-addressee { (t) },
                    Block::Heading { key, text } => h2.doc-h1 data-section=(key) { (text) },
                    Block::Subheading(t) => h3.doc-h2 { (t) },
                    Block::Para { id, text } => p.doc-p id=[(!id.is_empty()).then_some(id)] { (text) },
                    Block::RunIn { lead, text } => p.doc-p.suggestion { span.doc-h2 { (lead) } (text) },
                    Block::Table(t) => (table(t)),
                    Block::Chart(c) => {
                        figure.doc-chart data-chart=(c.id) role="img" aria-label=(c.caption) {
                            @match crate::charts::svg(c, family) {
                                Ok(svg) => (PreEscaped(svg)),
                                Err(e) => span.muted { "图表未能生成：" (e.to_string()) },
                            }
                        }
                        p.doc-caption { (c.caption) }
                    }
                    Block::Signature { organ, date } => {
                        p.doc-sign.first { (organ) }
                        p.doc-sign { (date) }
                    }
                    Block::Colophon { copy_to, printer, date } => {
                        div.doc-colophon {
                            p { "抄送：" (copy_to) }
                            p { span { (printer) } span { (date) "印发" } }
                        }
                    }
                    Block::Ledger { seq, hash, text } => {
                        p.doc-note id="report-ledger" data-seq=(seq) data-hash=(hash) { (text) }
                    }
                }
            }
        }
    }
}

/// A page of its own: the stylesheet inside, nothing fetched.
pub fn page(doc: &Doc) -> Result<String, ReportError> {
    Ok(html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (doc.title) }
                style { (PreEscaped(CSS)) }
            }
            body.report-doc { (article(doc)) }
        }
    }
    .into_string())
}
