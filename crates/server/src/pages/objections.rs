//! 异议处理 (issue 21): the office reads the objections to a year's
//! published results and answers each — upheld (correct the data, then
//! publish again) or not upheld — with its reasons.

use crate::AppState;
use crate::kit::forms::{Fields, Flash, back};
use crate::kit::layout::{self, Frame};
use crate::kit::{PageResult, Viewer, fmt, pick_year};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::html;
use pingan_service::{ServiceError, cap, objections};

pub fn routes() -> Router<AppState> {
    Router::new().route("/objections", get(page).post(answer))
}

#[derive(serde::Deserialize)]
struct ObjectionQuery {
    year: Option<i32>,
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Query(q): Query<ObjectionQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Publish>()?;
    let year = pick_year(&state.ctx, q.year).await;
    let list = objections::list(&state.ctx, &who, year).await?;
    let tree = state.ctx.tree().await?;
    let body = html! {
        p.muted {
            "公示期内群众和地区对 " a href=(format!("/public/{year}")) { (year) "年公开结果" } " 提出的异议。"
            "认定成立的，写明更正情况（导入更正数据或质量更正后系统已重新计分），再重新公开；"
            "公示期满、异议全部答复且更正后重新公开的，即可正式发布。每次答复记入审计日志。"
        }
        section.card id="publish-actions" {
            form.inline-form method="post" action="/objections" {
                input type="hidden" name="year" value=(year);
                button.btn.small type="submit" name="do" value="republish" { "重新公开（更正后）" }
                button.btn.small.primary type="submit" name="do" value="final" { "正式发布" }
            }
        }
        @if list.is_empty() {
            section.card { h2 { (year) "年暂无异议" } p.muted { "公示期内收到的异议将在这里列出，逐一答复。" } }
        }
        @for o in &list {
            section.card id=(format!("objection-{}", o.id)) data-state=(o.state) {
                h2 { "第 " (o.id) " 号　" (layout::region_name(&tree, &o.region)) }
                p { "提出人：" (o.filed_by) @if !o.contact.is_empty() { "（" (o.contact) "）" } "，" (fmt::local_time(&o.filed_at)) }
                p { (o.content) }
                @if !o.evidence.is_empty() { p.muted { "依据：" (o.evidence) } }
                @if o.state == "open" {
                    form.inline-form method="post" action="/objections" {
                        input type="hidden" name="year" value=(year);
                        input type="hidden" name="id" value=(o.id);
                        label { "答复 " input type="text" name="answer" maxlength="2000" required; }
                        label { "更正情况（成立时必填） " input type="text" name="correction" maxlength="2000"; }
                        button.btn.small.primary type="submit" name="upheld" value="1" { "异议成立" }
                        button.btn.small type="submit" name="upheld" value="0" { "异议不成立" }
                    }
                } @else {
                    p { span class={"tag " (if o.state == "upheld" { "warn" } else { "info" })} { @if o.state == "upheld" { "异议成立" } @else { "异议不成立" } }
                        " " (o.answer) "（" (o.answered_by) "，" (fmt::local_time(&o.answered_at)) "）" }
                    @if !o.correction.is_empty() { p.correction { "更正情况：" (o.correction) } }
                }
            }
        }
    };
    Ok(layout::page(
        Frame {
            caller: c,
            title: "异议处理",
            active: "/objections",
            crumbs: vec![("异议处理".into(), None)],
            pickers: None,
            banner: flash.0,
        },
        body,
    ))
}

async fn answer(State(state): State<AppState>, v: Viewer, body: String) -> PageResult {
    let who = v.0.authorize::<cap::Publish>()?;
    let f = Fields::parse(&body);
    let (shown, year) = super::report::form_year(&f.get("year"));
    let to = format!("/objections?{}", shown.trim_end_matches('&'));
    let result = async {
        let year = year?;
        match f.get("do").as_str() {
            "republish" => {
                let p = pingan_service::publish::publish(
                    &state.ctx,
                    &who,
                    year,
                    pingan_service::publish::WINDOW_DAYS,
                )
                .await?;
                return Ok(format!(
                    "已按更正后的结果重新公开，公示期至 {}",
                    pingan_service::report::beijing(&p.window_ends).0
                ));
            }
            "final" => {
                pingan_service::publish::finalize(&state.ctx, &who, year).await?;
                return Ok(format!("{year} 年测评结果已正式发布"));
            }
            _ => {}
        }
        let id: i64 = f
            .get("id")
            .parse()
            .map_err(|_| ServiceError::invalid("异议编号无效"))?;
        let upheld = f.get("upheld") == "1";
        objections::answer(
            &state.ctx,
            &who,
            id,
            upheld,
            &f.get("answer"),
            &f.get("correction"),
        )
        .await?;
        Ok(format!(
            "已答复第 {id} 号异议：{}",
            if upheld {
                "异议成立，请更正数据后重新公开"
            } else {
                "异议不成立"
            }
        ))
    }
    .await
    .map_err(|e: ServiceError| e.to_string());
    Ok(back(&to, result))
}
