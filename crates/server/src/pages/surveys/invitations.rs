//! Invitation links for the survey firm (issue 18): the year's one-time
//! links per township as Excel, a township's links as printable QR codes
//! (SVG, drawn on the server, nothing fetched), one link's QR as an SVG
//! file. The office only: a list of links is a list of answers to give.

use crate::AppState;
use crate::kit::forms::urlencode;
use crate::kit::xlsx::{self, Cell};
use crate::kit::{PageError, PageResult, Viewer, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use maud::{DOCTYPE, PreEscaped, html};
use pingan_service::cap;
use pingan_service::surveys::invite;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/surveys/invitations.xlsx", get(export))
        .route("/surveys/invitations/print", get(print))
        .route("/surveys/invitations/qr.svg", get(qr))
        .route("/surveys/invitations/qr.png", get(qr))
}

#[derive(Deserialize)]
pub struct InviteQuery {
    pub year: i32,
    pub region: Option<String>,
}

/// `http(s)://host` as the browser reached us, for links to print.
fn base(h: &HeaderMap) -> String {
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let proto = h
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{proto}://{host}")
}

fn svg(link: &str, size: u32) -> Result<String, PageError> {
    let code = qrcode::QrCode::with_error_correction_level(link.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| PageError::bad_request(format!("无法生成二维码：{e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(size, size)
        .build())
}

/// The code as a PNG, `scale` pixels a module with the standard quiet zone
/// of four modules: for print shops and chat groups that take no SVG.
fn png(link: &str, scale: usize) -> Result<Vec<u8>, PageError> {
    let code = qrcode::QrCode::with_error_correction_level(link.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| PageError::bad_request(format!("无法生成二维码：{e}")))?;
    let n = code.width();
    let colors = code.to_colors();
    let side = (n + 8) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = ((i % n + 4) * scale, (i / n + 4) * scale);
            for row in pixels[y * side..].chunks_mut(side).take(scale) {
                row[x..x + scale].fill(0);
            }
        }
    }
    let fail = |e: png::EncodingError| PageError::bad_request(format!("无法生成二维码图片：{e}"));
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, side as u32, side as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(fail)?;
    w.write_image_data(&pixels).map_err(fail)?;
    w.finish().map_err(fail)?;
    Ok(out)
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    headers: HeaderMap,
    Query(q): Query<InviteQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::SurveyManage>()?;
    let links = invite::links(
        &state.ctx,
        &who,
        q.year,
        q.region.as_deref().filter(|r| !r.is_empty()),
    )
    .await?;
    let tree = state.ctx.tree().await?;
    let base = base(&headers);
    let rows = links
        .iter()
        .map(|(code, serial, token)| {
            vec![
                Cell::from(code.as_str()),
                layout::region_name(&tree, code).into(),
                Cell::Num(*serial as f64),
                format!("{base}/i/{token}").into(),
            ]
        })
        .collect();
    let headers = ["乡镇代码", "乡镇（街道）", "序号", "邀请链接（一次有效）"];
    let bytes = xlsx::workbook(c, &format!("邀请链接{}", q.year), &headers, rows)?;
    Ok(xlsx::download(
        &format!("survey-invitations-{}.xlsx", q.year),
        bytes,
    ))
}

/// A township's links as QR codes on A4, ten to a page.
async fn print(
    State(state): State<AppState>,
    v: Viewer,
    headers: HeaderMap,
    Query(q): Query<InviteQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::SurveyManage>()?;
    let town = q
        .region
        .clone()
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| PageError::bad_request("请指定乡镇（街道）代码"))?;
    let links = invite::links(&state.ctx, &who, q.year, Some(&town)).await?;
    if links.is_empty() {
        return Err(PageError::not_found(format!(
            "{town} 不在 {} 年抽样方案中",
            q.year
        )));
    }
    let tree = state.ctx.tree().await?;
    let name = layout::region_name(&tree, &town);
    let base = base(&headers);
    let mut cards = Vec::with_capacity(links.len());
    for (_, serial, token) in &links {
        let link = format!("{base}/i/{token}");
        cards.push((serial, svg(&link, 160)?, link, token));
    }
    Ok(Html(
        html! {
            (DOCTYPE)
            html lang="zh-CN" {
                (layout::head(&format!("{name} 调查邀请二维码")))
                body.print-qr {
                    h1 { (name) "（" (town) "）" (q.year) " 年群众安全感调查邀请，共 " (links.len()) " 份" }
                    p.muted.no-print { "每个二维码只能提交一份答卷；请按序号发放并登记。用浏览器打印（A4）。" }
                    div.qr-grid id="qr-grid" {
                        @for (serial, code, link, token) in &cards {
                            figure.qr-card {
                                (PreEscaped(code))
                                figcaption {
                                    strong { "第 " (serial) " 号" } br; span.qr-link { (link) }
                                    span.no-print {
                                        br;
                                        a href=(format!("/surveys/invitations/qr.png?token={}", urlencode(token))) download { "PNG" }
                                        " · "
                                        a href=(format!("/surveys/invitations/qr.svg?token={}", urlencode(token))) download { "SVG" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        .into_string(),
    )
    .into_response())
}

#[derive(Deserialize)]
pub struct QrQuery {
    pub token: String,
}

/// One invitation's QR code as an SVG or PNG file (by the path's suffix).
async fn qr(
    State(state): State<AppState>,
    v: Viewer,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<QrQuery>,
) -> PageResult {
    v.0.authorize::<cap::SurveyManage>()?;
    invite::open(&state.ctx, &q.token).await?;
    let link = format!("{}/i/{}", base(&headers), q.token);
    let (mime, ext, body) = if uri.path().ends_with(".png") {
        ("image/png", "png", png(&link, 8)?)
    } else {
        ("image/svg+xml", "svg", svg(&link, 240)?.into_bytes())
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"invitation-{}.{ext}\"",
                    urlencode(&q.token)
                ),
            ),
        ],
        body,
    )
        .into_response())
}
