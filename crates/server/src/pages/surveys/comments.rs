//! 群众意见 (issue 18): the problems citizens name most in a region, from
//! the questionnaire's free text and the opinion boxes — the words with
//! their counts as a bar chart, example comments, the same per lower
//! region, and for the office a button that puts a word on the problem
//! list with its evidence.

use super::pickers;
use crate::AppState;
use crate::kit::forms::{Fields, Flash, back, urlencode};
use crate::kit::pick_region;
use crate::kit::{Frame, PageError, PageResult, Viewer, card, fmt, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use maud::{Markup, html};
use pingan_core::access::Cap;
use pingan_service::surveys::comments::{self, Comments};
use pingan_service::{ServiceError, cap};
use serde_json::json;
use std::collections::HashSet;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/surveys/comments", get(page))
        .route("/surveys/comments/problem", post(send))
}

#[derive(serde::Deserialize)]
struct CommentsQuery {
    year: Option<i32>,
    region: Option<String>,
}

/// Words shown; the chart shows the first `CHARTED`.
const SHOWN: usize = 30;
const CHARTED: usize = 15;

/// A word and the first words that come with it, for the chart.
fn label(w: &comments::Keyword) -> String {
    match w.related.first() {
        Some(r) => format!("{}·{r}", w.word),
        None => w.word.clone(),
    }
}

/// A comment as an example: at most 80 characters.
fn example(text: &str) -> String {
    if text.chars().count() > 80 {
        text.chars().take(79).chain(['…']).collect()
    } else {
        text.to_string()
    }
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Query(q): Query<CommentsQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Surveys>()?;
    let years = comments::years(&state.ctx).await?;
    let year = q
        .year
        .or(years.first().copied())
        .ok_or_else(|| PageError::not_found("还没有调查问卷或意见箱留言"))?;
    let tree = state.ctx.tree().await?;
    let root = pick_region(c, &tree, &q.region)?;
    let all = comments::comments(&state.ctx, &who, year).await?;
    let here = tree.get(root);
    let k = all.keywords(root, SHOWN);
    let listed = comments::listed(&state.ctx, &who, year).await?;
    let send = c.can(Cap::SurveyManage);
    let link = |code: &str| format!("/surveys/comments?year={year}&region={}", urlencode(code));
    let chart = json!({
        "words": k.words.iter().take(CHARTED).map(label).collect::<Vec<_>>(),
        "counts": k.words.iter().take(CHARTED).map(|w| w.count).collect::<Vec<_>>(),
    });
    let body = html! {
        (card(&format!("{} {} 年群众意见", here.name, year), None, html! {
            p.muted {
                "共 " strong id="comment-count" { (k.comments) } " 条意见（问卷中的意见建议与意见箱留言），"
                "已按平安建设领域词典分词并去除停用词；电话、身份证号在保存前已隐去。"
                "关键词按提及条数与在全省意见中的区分度（TF-IDF）排序，仅 1 条意见提及的词不列出。"
            }
            @if k.words.is_empty() {
                div.empty id="no-words" { "该地区还没有可分析的意见。" }
            } @else {
                (layout::data_script("words-data", &chart))
                div.chart.tall data-chart="words" data-source="words-data" role="img" aria-label="群众意见中提及最多的词" {}
            }
        }))
        @if !k.words.is_empty() {
            (card("关键词与示例意见", None, words_table(&all, &k, &here.code, year, send, &listed)))
        }
        (card("下级地区", None, children(&all, c, &tree, root, &link)))
    };
    let mut crumbs = vec![(
        "群众调查".to_string(),
        Some(format!(
            "/surveys?year={year}&region={}",
            urlencode(&here.code)
        )),
    )];
    let mut path = vec![root];
    while let Some(p) = tree.get(*path.last().unwrap_or(&root)).parent {
        if !c.sees(&tree, p) {
            break;
        }
        path.push(p);
    }
    for (i, &r) in path.iter().rev().enumerate() {
        let last = i + 1 == path.len();
        let name = if last {
            format!("{} 群众意见", tree.get(r).name)
        } else {
            tree.get(r).name.clone()
        };
        crumbs.push((name, (!last).then(|| link(&tree.get(r).code))));
    }
    Ok(layout::page(
        Frame {
            caller: c,
            title: "群众意见",
            active: "/surveys",
            crumbs,
            pickers: Some(pickers("/surveys/comments", &years, year, &here.code)),
            banner: flash.0,
        },
        body,
    ))
}

fn words_table(
    all: &Comments,
    k: &comments::Keywords,
    region: &str,
    year: i32,
    send: bool,
    listed: &HashSet<(String, String)>,
) -> Markup {
    html! {
        div.table-wrap {
            table.data id="words" {
                thead { tr {
                    th { "关键词（同时提及）" } th.num { "提及条数" } th.num { "占比" } th { "示例意见" }
                    @if send { th { "问题清单" } }
                } }
                tbody {
                    @for w in &k.words {
                        tr {
                            td {
                                strong { (w.word) }
                                @if !w.related.is_empty() {
                                    br;
                                    span.muted.related { (w.related.join("、")) }
                                }
                            }
                            td.num { (w.count) }
                            td.num { (fmt::num(w.count as f64 * 100.0 / k.comments.max(1) as f64, 1)) "%" }
                            td {
                                ul.examples {
                                    @for &i in &w.examples {
                                        @let c = all.corpus.comment(i);
                                        li { (example(&c.text)) span.muted { "（" (c.source) "）" } }
                                    }
                                }
                            }
                            @if send {
                                td {
                                    @if listed.contains(&(region.to_string(), format!("群众反映较多：{}", w.word))) {
                                        span.tag.ok { "已列入" }
                                    } @else {
                                        form method="post" action="/surveys/comments/problem" {
                                            input type="hidden" name="year" value=(year);
                                            input type="hidden" name="region" value=(region);
                                            input type="hidden" name="word" value=(w.word);
                                            button.btn.small type="submit" { "列入问题清单" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Each lower region with its comment count and its three words most named.
fn children(
    all: &Comments,
    c: &pingan_service::Caller,
    tree: &pingan_core::RegionTree,
    root: usize,
    link: &dyn Fn(&str) -> String,
) -> Markup {
    let kids: Vec<usize> = tree
        .children(root)
        .iter()
        .copied()
        .filter(|&r| c.sees(tree, r))
        .collect();
    if kids.is_empty() {
        return html! { div.empty { "没有下级地区。" } };
    }
    html! {
        div.table-wrap {
            table.data id="children" {
                thead { tr { th { "地区" } th.num { "意见条数" } th { "提及最多" } } }
                tbody {
                    @for r in kids {
                        @let k = all.keywords(r, 3);
                        tr {
                            td { a href=(link(&tree.get(r).code)) { (tree.get(r).name) } }
                            td.num { (k.comments) }
                            td {
                                @for (i, w) in k.words.iter().enumerate() {
                                    @if i > 0 { "、" }
                                    (w.word) "（" (w.count) "）"
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn send(State(state): State<AppState>, v: Viewer, body: String) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::SurveyManage>()?;
    let f = Fields::parse(&body);
    let (year_s, region, word) = (f.get("year"), f.get("region"), f.get("word"));
    let outcome = async {
        let year: i32 = year_s
            .trim()
            .parse()
            .map_err(|_| ServiceError::invalid("年度应为数字"))?;
        let tree = state.ctx.tree().await?;
        c.region_in_scope(&tree, &region)?;
        let (id, new) = comments::send_problem(&state.ctx, &who, year, &region, &word).await?;
        Ok::<String, ServiceError>(if new {
            format!("已将“{word}”列入 {year} 年问题清单（第 {id} 号）")
        } else {
            format!("“{word}”已在问题清单中（第 {id} 号）")
        })
    }
    .await
    .map_err(|e| e.to_string());
    Ok(back(
        &format!(
            "/surveys/comments?year={}&region={}",
            urlencode(&year_s),
            urlencode(&region)
        ),
        outcome,
    ))
}
