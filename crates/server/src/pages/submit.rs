//! 数据报送: a department downloads its Excel template and uploads it
//! filled (seed §3.2). The upload is checked whole first (every bad cell
//! named), then stored in one transaction through the values import, so a
//! retried upload changes nothing.

use crate::AppState;
use crate::kit::xlsx;
use crate::kit::{Frame, PageError, PageResult, Viewer, card, layout};
use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::access::Cap;
use pingan_service::values::{self, ImportOptions};
use pingan_service::{Caller, ServiceError, cap, structure, submit};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/submit", get(page).post(upload))
        .route("/submit/template.xlsx", get(template))
}

#[derive(serde::Deserialize, Default)]
pub struct TemplateQuery {
    pub department: Option<String>,
    /// `2024-06`, several separated by commas, or a year for its twelve months.
    pub periods: Option<String>,
    pub region: Option<String>,
}

fn page_body(
    c: &Caller,
    tree: &pingan_core::RegionTree,
    deps: &[String],
    latest: Option<i32>,
    result: Option<Markup>,
) -> Markup {
    let default_period = latest.map(|y| format!("{y}-12")).unwrap_or_default();
    html! {
        @if let Some(r) = result { (r) }
        (card("下载报送模板", None, html! {
            form.inline method="get" action="/submit/template.xlsx" id="template" {
                label for="t-dept" { "部门" }
                select id="t-dept" name="department" {
                    @for d in deps { option value=(d) { (d) } }
                }
                label for="t-periods" { "期间" }
                (crate::kit::forms::period_options("period-options", latest))
                (crate::kit::forms::region_options("region-options", tree, c))
                input type="text" id="t-periods" name="periods" size="16" required list="period-options" value=(default_period)
                    placeholder="2024-06，或 2024 表示全年 12 个月";
                label for="t-region" { "地区代码" }
                input type="text" id="t-region" name="region" size="10" list="region-options" value=[c.region.clone()] placeholder="默认全部";
                button.btn.primary type="submit" { "下载模板" }
            }
            p.muted { "模板每个期间一个工作表，每行一个基层地区，每列一个本部门的数据项（中文名称和单位）。只填数字，未报送的留空；不要改动表头、工作表名或隐藏的 _codes 工作表。" }
        }))
        (card("网页填报", None, html! {
            form.inline method="get" action="/submit/form" id="open-form" {
                label for="f-dept" { "部门" }
                select id="f-dept" name="department" {
                    @for d in deps { option value=(d) { (d) } }
                }
                label for="f-period" { "期间" }
                input type="text" id="f-period" name="period" size="8" required list="period-options" value=(latest.map(|y| format!("{y}-12")).unwrap_or_default());
                label for="f-region" { "地区代码" }
                input type="text" id="f-region" name="region" size="10" list="region-options" value=[c.region.clone()];
                button.btn type="submit" { "打开表单" }
            }
            p.muted { "在网页上直接填写一个期间的数据（一次最多 300 个基层地区）。" }
        }))
        (card("上传填好的模板", None, html! {
            form.stack method="post" action="/submit" enctype="multipart/form-data" id="upload" {
                label for="u-file" { "文件（.xlsx）" }
                input type="file" id="u-file" name="file" required accept=".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
                label { input type="checkbox" name="dry_run" value="1"; " 只检查，不写入（试运行）" }
                (review_choice(c))
                button.btn.primary type="submit" { "上传" }
            }
            p.muted { "上传后先整体检查：有任何错误都不写入，并逐个列出出错的单元格；全部正确才在一个事务中写入，来源记为本部门。同一文件重复上传不会重复记录。" }
        }))
    }
}

/// The office may send its own uploads through the review; a department's
/// always go through it, so it gets no choice.
pub(super) fn review_choice(c: &Caller) -> Markup {
    html! {
        @if c.can(Cap::DirectImport) {
            label { input type="checkbox" name="review" value="1"; " 提交三级审核（不勾选则作为测评办数据直接生效）" }
        }
    }
}

/// What a stored submission means for the review, for the result line.
pub(super) fn review_note(s: &pingan_service::imports::ImportSummary) -> String {
    if s.review == pingan_core::labels::ValueState::Pending && s.data_sets > 0 {
        format!(
            "；涉及 {} 个数据集，{}三级审核，审核通过后计入正式得分",
            s.data_sets,
            if s.dry_run { "将进入" } else { "已进入" }
        )
    } else {
        String::new()
    }
}

/// An import's refusal as the lines the page lists.
pub(super) fn import_errors(e: ServiceError) -> Vec<String> {
    match e {
        ServiceError::Rejected(problems) => problems.iter().map(|p| p.to_string()).collect(),
        other => vec![other.to_string()],
    }
}

pub(super) fn frame(c: &Caller) -> Frame<'_> {
    Frame::simple(c, "数据报送", "/submit")
}

async fn page(State(state): State<AppState>, v: Viewer) -> PageResult {
    let c = &v.0;
    c.authorize::<cap::Submit>()?;
    let fw = structure::known_codes(&state.ctx).await?;
    let latest = state.ctx.latest_year().await;
    let tree = state.ctx.tree().await?;
    Ok(layout::page(
        frame(c),
        page_body(c, &tree, &submit::departments(c, &fw), latest, None),
    ))
}

async fn template(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<TemplateQuery>,
) -> PageResult {
    let who = v.0.authorize::<cap::Submit>()?;
    let made = submit::template(
        &state.ctx,
        &who,
        q.department.as_deref(),
        q.periods.as_deref().unwrap_or(""),
        q.region.as_deref(),
    )
    .await;
    match made {
        Ok((name, bytes)) => Ok(xlsx::download(&name, bytes)),
        Err(e) => Err(PageError::unprocessable(e)),
    }
}

/// POST /submit: check the whole file, then import it (or only check).
async fn upload(State(state): State<AppState>, v: Viewer, mut form: Multipart) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Submit>()?;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut dry_run = false;
    let mut review = false;
    loop {
        match form.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or_default().to_string();
                let fname = f.file_name().unwrap_or("上传文件.xlsx").to_string();
                match f.bytes().await {
                    Ok(b) if name == "file" => file = Some((fname, b.to_vec())),
                    Ok(_) if name == "dry_run" => dry_run = true,
                    Ok(_) if name == "review" => review = true,
                    Ok(_) => {}
                    Err(e) => return Err(PageError::bad_request(format!("上传中断：{e}"))),
                }
            }
            Ok(None) => break,
            Err(e) => return Err(PageError::bad_request(format!("上传的表单无法读取：{e}"))),
        }
    }
    let fw = structure::known_codes(&state.ctx).await?;
    let deps = submit::departments(c, &fw);
    let latest = state.ctx.latest_year().await;
    let tree = state.ctx.tree().await?;
    let Some((name, bytes)) = file.filter(|f| !f.1.is_empty()) else {
        let r = html! { div.banner.error { "请选择要上传的文件" } };
        return Ok(layout::page(
            frame(c),
            page_body(c, &tree, &deps, latest, Some(r)),
        ));
    };
    let outcome: Result<String, Vec<String>> = async {
        let (batch, blank) = submit::workbook(&state.ctx, &who, &name, &bytes)
            .await
            .map_err(import_errors)?;
        let s = values::import(
            &state.ctx,
            &who,
            batch,
            ImportOptions {
                dry_run,
                review,
                ..Default::default()
            },
        )
        .await
        .map_err(import_errors)?;
        Ok(format!(
            "{}{}：共 {} 个数值，新增 {}，更新 {}，未变 {}{}{}",
            if dry_run {
                "试运行通过（未写入）"
            } else {
                "已导入"
            },
            name,
            s.rows,
            s.imported,
            s.updated,
            s.ignored,
            if blank > 0 {
                format!("；留空未报送 {blank} 格")
            } else {
                String::new()
            },
            review_note(&s)
        ))
    }
    .await;
    let result = match &outcome {
        Ok(m) => html! { div.banner.ok id="upload-result" { (m) } },
        Err(errs) => html! {
            div.banner.error id="upload-result" {
                "未写入任何数据，请改正以下 " (errs.len()) " 处后重新上传："
                ul.errors { @for e in errs { li { (e) } } }
            }
        },
    };
    Ok(layout::page(
        frame(c),
        page_body(c, &tree, &deps, latest, Some(result)),
    ))
}
