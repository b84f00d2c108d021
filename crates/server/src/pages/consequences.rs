//! 约谈与奖惩 (issue 21): the year's bottom three with their 约谈 records
//! (date, who, the minutes as a file), the 通报批评 deductions taken from
//! a later year's total, and who may be named 先进 under the seed's rule.

use crate::AppState;
use crate::kit::forms::{Flash, back};
use crate::kit::layout::{self, Frame};
use crate::kit::upload::AnyForm;
use crate::kit::{PageResult, Viewer, fmt, pick_year, xlsx};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use maud::html;
use pingan_core::consequence::DEFAULT_DEDUCTION;
use pingan_service::consequences::{self, InterviewInput};
use pingan_service::{ServiceError, cap};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/consequences", get(page).post(act))
        .route("/consequences/minutes/{id}", get(minutes))
}

#[derive(serde::Deserialize)]
struct YearQuery {
    year: Option<i32>,
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Query(q): Query<YearQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Notices>()?;
    let year = pick_year(&state.ctx, q.year).await;
    let k = consequences::year(&state.ctx, &who, year).await?;
    let tree = state.ctx.tree().await?;
    let name = |code: &str| layout::region_name(&tree, code);
    let barred = k.eligible.iter().filter(|(_, ok)| !ok).count();
    let body = html! {
        section.card id="bottom-three" {
            h2 { (year) "年全省排名后三位的市、县（由省委政法委主要领导约谈主要负责人）" }
            @if k.bottom.is_empty() { p.muted { "本年度没有测评结果，或同级地区不足 4 个。" } } @else {
                table.data.compact {
                    thead { tr { th { "地区" } th { "总分" } th { "全省同级排名" } th { "上年是否后三位" } th { "约谈" } } }
                    tbody {
                        @for (r, before) in &k.bottom {
                            @let done = k.interviews.iter().filter(|i| i.region == r.region).count();
                            tr data-region=(r.region) {
                                td { a href=(format!("/region/{}?period={year}", r.region)) { (r.name) } }
                                td.num { (fmt::fixed(r.total)) }
                                td { (r.level_rank) " / " (r.level_peers) }
                                td { @match before { Some(true) => span.tag.danger { "是" }, Some(false) => "否", None => "无上年结果" } }
                                td { @if done > 0 { span.tag.ok { "已约谈 " (done) " 次" } } @else { span.tag.warn { "未约谈" } } }
                            }
                        }
                    }
                }
            }
        }
        section.card id="interviews" {
            h2 { "约谈记录" }
            @if k.interviews.is_empty() { p.muted { "尚无约谈记录。" } } @else {
                table.data.compact {
                    thead { tr { th { "地区" } th { "日期" } th { "约谈人" } th { "被约谈人" } th { "要点" } th { "纪要" } } }
                    tbody {
                        @for i in &k.interviews {
                            tr {
                                td { (name(&i.region)) }
                                td { (i.held_on) }
                                td { (i.interviewer) }
                                td { (i.interviewee) }
                                td { (i.summary) }
                                td { a href=(format!("/consequences/minutes/{}", i.id)) { (i.file_name) } }
                            }
                        }
                    }
                }
            }
            form.stack method="post" action="/consequences" enctype="multipart/form-data" id="interview-form" {
                input type="hidden" name="year" value=(year);
                input type="hidden" name="do" value="interview";
                label { "地区 " select name="region" {
                    @for (r, _) in &k.bottom { option value=(r.region) { (r.name) } }
                    @for (r, _) in k.eligible.iter().filter(|(r, _)| !r.level_bottom) { option value=(r.region) { (r.name) } }
                } }
                label { "约谈日期 " input type="date" name="held_on" required; }
                label { "约谈人 " input type="text" name="interviewer" maxlength="200" required; }
                label { "被约谈人 " input type="text" name="interviewee" maxlength="200" required; }
                label { "约谈要点 " textarea name="summary" rows="3" maxlength="2000" required {} }
                label { "约谈纪要（PDF、Word 或图片，不超过 10 MB） " input type="file" name="minutes" accept=".pdf,.docx,.jpg,.jpeg,.png" required; }
                button.btn.primary type="submit" { "登记约谈" }
            }
        }
        section.card id="deductions" {
            h2 { "通报批评与扣分" }
            p.muted { "整改不力的地区，经复查后通报批评，并从下一年度测评总分中扣减；扣分在该年度的得分明细中列明理由。" }
            @if k.deductions.is_empty() { p.muted { (year) " 年总分尚无扣分。" } } @else {
                table.data.compact {
                    thead { tr { th { "地区" } th { "扣分" } th { "理由" } th { "整改年度" } th { "登记人" } } }
                    tbody {
                        @for d in &k.deductions {
                            tr { td { (name(&d.region)) } td.num { (fmt::num(d.points, 2)) } td { (d.reason) } td { (d.from_year) } td { (d.recorded_by) } }
                        }
                    }
                }
            }
            @if !k.late.is_empty() {
                p { (year) " 年问题清单中逾期未完成整改的地区（复查后可通报批评并扣分）：" }
                table.data.compact id="late-regions" {
                    thead { tr { th { "地区" } th { "逾期未完成事项" } th { "通报批评" } } }
                    tbody {
                        @for (region, n) in &k.late {
                            tr data-region=(region) {
                                td { a href=(format!("/rectify/{region}?year={year}")) { (name(region)) } }
                                td.num { (n) }
                                td {
                                    form.inline-form method="post" action="/consequences" enctype="multipart/form-data" {
                                        input type="hidden" name="year" value=(year);
                                        input type="hidden" name="do" value="deduct";
                                        input type="hidden" name="region" value=(region);
                                        input type="hidden" name="to_year" value=(year + 1);
                                        input type="hidden" name="reason" value=(format!("{year}年测评发现的问题逾期未完成整改（{n} 项），通报批评"));
                                        label { "扣 " input type="text" name="points" inputmode="decimal" size="4" value=(fmt::num(DEFAULT_DEDUCTION, 1)); " 分" }
                                        button.btn.small type="submit" { "从 " (year + 1) " 年总分中扣减" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form.inline-form method="post" action="/consequences" enctype="multipart/form-data" id="deduction-form" {
                input type="hidden" name="year" value=(year);
                input type="hidden" name="do" value="deduct";
                label { "地区 " select name="region" { @for (r, _) in &k.eligible { option value=(r.region) { (r.name) } } } }
                label { "从 " input type="number" name="to_year" value=(year + 1) min=(year + 1) style="width:6em"; " 年总分中扣 " }
                label { input type="text" name="points" inputmode="decimal" size="5" required; " 分" }
                label { "理由 " input type="text" name="reason" maxlength="500" required; }
                button.btn.small.primary type="submit" { "通报批评并扣分" }
            }
        }
        section.card id="advanced" {
            h2 { "平安建设先进地区评选资格" }
            p { "连续两年排名后三位的市、县不得评为先进地区。本年度不具备资格的 " strong { (barred) } " 个：" }
            ul {
                @for (r, _) in k.eligible.iter().filter(|(_, ok)| !ok) {
                    li data-region=(r.region) { (r.name) "（" (year - 1) "、" (year) " 年均排名后三位）" }
                }
            }
        }
    };
    Ok(layout::page(
        Frame {
            caller: c,
            title: "约谈与奖惩",
            active: "/consequences",
            crumbs: vec![("约谈与奖惩".into(), None)],
            pickers: None,
            banner: flash.0,
        },
        body,
    ))
}

async fn act(State(state): State<AppState>, v: Viewer, form: AnyForm) -> PageResult {
    let who = v.0.authorize::<cap::Notices>()?;
    let file = form.files("minutes").into_iter().next();
    let f = form.fields;
    let (shown, year) = super::report::form_year(&f.get("year"));
    let to = format!("/consequences?{}", shown.trim_end_matches('&'));
    let result = async {
        let year = year?;
        let ctx = &state.ctx;
        if f.get("do") == "deduct" {
            let to_year: i32 = f
                .get("to_year")
                .trim()
                .parse()
                .map_err(|_| ServiceError::invalid("扣分年度应为数字"))?;
            let points: f64 =
                f.get("points").trim().parse().map_err(|_| {
                    ServiceError::invalid(format!("扣分“{}”不是数字", f.get("points")))
                })?;
            let notes = consequences::deduct(
                ctx,
                &who,
                to_year,
                &f.get("region"),
                points,
                &f.get("reason"),
                year,
            )
            .await?;
            return Ok(format!(
                "已登记：从 {to_year} 年总分中扣 {} 分{}",
                fmt::num(points, 2),
                if notes.is_empty() {
                    "，已重新计分".to_string()
                } else {
                    format!("（{}）", notes.join("；"))
                }
            ));
        }
        let input = InterviewInput {
            region: f.get("region"),
            held_on: f.get("held_on"),
            interviewer: f.get("interviewer"),
            interviewee: f.get("interviewee"),
            summary: f.get("summary"),
            minutes: file,
        };
        consequences::add_interview(ctx, &who, year, &input).await?;
        Ok("已登记约谈".to_string())
    }
    .await
    .map_err(|e: ServiceError| e.to_string());
    Ok(back(&to, result))
}

async fn minutes(State(state): State<AppState>, v: Viewer, Path(id): Path<i64>) -> PageResult {
    let who = v.0.authorize::<cap::Notices>()?;
    let (meta, bytes) = consequences::minutes(&state.ctx, &who, id).await?;
    let mime = pingan_core::rectify::evidence_type(&bytes).unwrap_or("application/octet-stream");
    Ok(xlsx::download_as(&meta.file_name, mime, bytes))
}
