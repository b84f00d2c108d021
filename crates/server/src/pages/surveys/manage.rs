//! The office's side of 群众调查: the year's questionnaire, frame, margins
//! and answers uploaded (checked whole, nothing stored on an error), the
//! sampling plan per township with its Excel for the survey firm, a sample
//! size calculator, and applying the estimates as the year's values.

use crate::AppState;
use crate::kit::forms::{Fields, back, urlencode};
use crate::kit::xlsx::{self, Cell};
use crate::kit::{Frame, PageError, PageResult, Viewer, card, fmt, layout};
use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::routing::{get, post};
use maud::{Markup, html};
use pingan_core::access::Cap;
use pingan_core::survey::plan;
use pingan_service::surveys::{self, Plan};
use pingan_service::{ServiceError, cap};
use pingan_store::SurveyPlan;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/surveys/plan", get(plan_page).post(set_plan))
        .route("/surveys/plan.xlsx", get(plan_export))
        .route("/surveys/template.xlsx", get(template))
        .route("/surveys/upload", post(upload))
        .route("/surveys/apply", post(apply))
}

/// The management card on the 群众调查 page (office only).
pub fn tools(year: Option<i32>, region: &str) -> Markup {
    let y = year.unwrap_or_else(fmt::this_year);
    html! {
        (card("调查管理（测评办）", Some(html! {
            a.btn.small href=(format!("/surveys/plan?year={y}")) { "抽样方案" }
            " "
            a.btn.small.export href="/surveys/template.xlsx" download { "下载默认问卷" }
        }), html! {
            form.inline method="post" action="/surveys/upload" enctype="multipart/form-data" id="survey-upload" {
                input type="hidden" name="region" value=(region);
                label for="su-year" { "年度" }
                input type="number" id="su-year" name="year" min="2000" max="2100" value=(y) required style="width: 6em";
                label for="su-kind" { "文件" }
                select id="su-kind" name="kind" {
                    option value="form" { "调查问卷（XLSForm .xlsx）" }
                    option value="frame" { "抽样框（frame.csv）" }
                    option value="margins" { "加权边际（margins.csv）" }
                    option value="responses" { "答卷（responses.csv）" }
                }
                input type="file" id="su-file" name="file" required accept=".xlsx,.csv,text/csv" aria-label="选择文件";
                label { input type="checkbox" name="dry_run" value="1"; " 只检查，不写入（仅答卷）" }
                button.btn.primary type="submit" { "上传" }
            }
            p.muted {
                "顺序：问卷 → 抽样框 → 加权边际（可选）→ 答卷。每个文件先整体检查，有任何错误都不写入并指出行号；"
                "同一份答卷（instance_id 与内容相同）重复上传计为重复，不重复计数。网页上传单个文件不超过 8 MB（约 6 万份答卷），"
                "更大的文件请用命令 pingan import survey-responses，或由调查机构通过 API 分批提交。"
            }
            @if let Some(year) = year {
                form.inline method="get" action="/surveys/invitations/print" id="survey-invite" {
                    input type="hidden" name="year" value=(year);
                    span { "一次性邀请链接：" }
                    a.btn.small.export href=(format!("/surveys/invitations.xlsx?year={year}")) download { "导出全部链接（Excel）" }
                    label for="si-town" { "打印二维码（乡镇代码）" }
                    input type="text" id="si-town" name="region" size="12" required;
                    button.btn.small type="submit" { "打印" }
                    span.muted { "每份邀请只能提交一次；数量取自抽样方案的邀请数。" }
                }
                form.inline method="post" action="/surveys/apply" id="survey-apply" {
                    input type="hidden" name="year" value=(year);
                    input type="hidden" name="region" value=(region);
                    label for="sa-min" { "最少样本" }
                    input type="number" id="sa-min" name="min_n" min="1" value="30" style="width: 5em";
                    button.btn type="submit" { "将 " (year) " 年估计写入测评数据" }
                    span.muted { "样本足够的地区，九项调查指标按加权估计写入（来源“群众调查”），记入操作日志并重新计分。" }
                }
            }
        }))
    }
}

fn back_to(year: &str, region: &str) -> String {
    format!(
        "/surveys?year={}&region={}",
        urlencode(year),
        urlencode(region)
    )
}

fn problems(e: ServiceError) -> String {
    match e {
        ServiceError::Rejected(p) => {
            let shown: Vec<String> = p.iter().take(8).map(|p| p.to_string()).collect();
            format!(
                "未写入任何数据，共 {} 处问题：{}{}",
                p.len(),
                shown.join("；"),
                if p.len() > 8 { "……" } else { "" }
            )
        }
        other => other.to_string(),
    }
}

/// POST /surveys/upload: one survey file for a year.
async fn upload(State(state): State<AppState>, v: Viewer, mut form: Multipart) -> PageResult {
    let c = &v.0;
    c.authorize::<cap::SurveyManage>()?;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut f = Fields(Vec::new());
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let fname = field.file_name().map(str::to_string);
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| PageError::bad_request(format!("上传中断：{e}")))?;
                match fname {
                    Some(n) if name == "file" => file = Some((n, bytes.to_vec())),
                    _ => {
                        f.0.push((name, String::from_utf8_lossy(&bytes).into_owned()))
                    }
                }
            }
            Ok(None) => break,
            Err(e) => return Err(PageError::bad_request(format!("上传的表单无法读取：{e}"))),
        }
    }
    let (year_s, region) = (f.get("year"), f.get("region"));
    let to = back_to(&year_s, &region);
    let outcome = async {
        let year: i32 = year_s.trim().parse().map_err(|_| ServiceError::invalid("年度应为数字"))?;
        let (name, bytes) = file
            .filter(|f| !f.1.is_empty())
            .ok_or_else(|| ServiceError::invalid("请选择要上传的文件"))?;
        let ctx = &state.ctx;
        let manage = c.authorize::<cap::SurveyManage>()?;
        Ok::<String, ServiceError>(match f.get("kind").as_str() {
            "form" => {
                let (yf, new) = surveys::import_form(ctx, &manage, year, &name, &bytes).await?;
                format!(
                    "{}问卷 {}（版本 {}）：{} 道题，计分指标 {} 项",
                    if new { "已导入" } else { "问卷未变：" },
                    yf.form.id,
                    yf.form.version,
                    yf.form.questions.len(),
                    yf.form.elements().len()
                )
            }
            "frame" => format!("已导入抽样框：{} 个乡镇（街道）", surveys::import_frame(ctx, &manage, year, &name, &bytes).await?),
            "margins" => format!("已导入加权边际：{} 行", surveys::import_margins(ctx, &manage, year, &name, &bytes).await?),
            "responses" => {
                let answers = c.authorize::<cap::SurveyAnswers>()?;
                let dry = f.has("dry_run");
                let s = surveys::import_responses(ctx, &answers, year, &name, &bytes, dry).await?;
                format!(
                    "{}{}：{} 行，新答卷 {}（有效 {}，用时过短 {}，必答题未答 {}，不符合约束 {}），重复 {}",
                    if dry { "检查通过（未写入）" } else { "已导入" },
                    name,
                    s.rows,
                    s.imported,
                    s.valid,
                    s.too_fast,
                    s.incomplete,
                    s.constraint,
                    s.duplicates
                )
            }
            _ => return Err(ServiceError::BadRequest("未知的文件类型".into())),
        })
    }
    .await
    .map_err(problems);
    Ok(back(&to, outcome))
}

/// POST /surveys/apply: the estimates become the year's values.
async fn apply(State(state): State<AppState>, v: Viewer, body: String) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::SurveyManage>()?;
    let f = Fields::parse(&body);
    let (year_s, region) = (f.get("year"), f.get("region"));
    let outcome = async {
        let year: i32 = year_s
            .trim()
            .parse()
            .map_err(|_| ServiceError::invalid("年度应为数字"))?;
        let min_n: usize = match f.get("min_n").trim() {
            "" => 30,
            s => s
                .parse()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| ServiceError::invalid("最少样本应为 1 到 100000 之间的整数"))?,
        };
        let s = surveys::apply(&state.ctx, &who, year, min_n, false).await?;
        Ok::<String, ServiceError>(format!(
            "已写入 {year} 年调查估计：新增 {}，更新 {}，未变 {}（来源“群众调查”，已重新计分）",
            s.imported, s.updated, s.ignored
        ))
    }
    .await
    .map_err(problems);
    Ok(back(&back_to(&year_s, &region), outcome))
}

/// The default questionnaire as an XLSForm workbook.
async fn template(v: Viewer) -> PageResult {
    v.0.authorize::<cap::SurveyManage>()?;
    let bytes = pingan_input::survey::write_form(&pingan_core::survey::default::sheets())
        .map_err(|e| PageError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok(xlsx::download("survey-form.xlsx", bytes))
}

#[derive(Deserialize, Default)]
pub struct PlanQuery {
    pub year: Option<i32>,
    /// The size calculator's inputs.
    pub margin: Option<String>,
    pub confidence: Option<String>,
    pub deff: Option<String>,
    pub rate: Option<String>,
}

fn calculator(q: &PlanQuery, year: i32) -> Markup {
    let v = |s: &Option<String>, d: &str| {
        s.clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| d.to_string())
    };
    let (m, cf, d, r) = (
        v(&q.margin, "0.03"),
        v(&q.confidence, "0.95"),
        v(&q.deff, "1.5"),
        v(&q.rate, "0.893"),
    );
    let num = |s: &str, what: &str| {
        s.trim()
            .parse::<f64>()
            .map_err(|_| format!("{what}应为数字，而不是“{s}”"))
    };
    let result = q.margin.as_ref().map(|_| -> Result<u64, String> {
        plan::size(
            num(&m, "误差范围")?,
            num(&cf, "置信水平")?,
            None,
            num(&d, "设计效应")?,
            num(&r, "应答率")?,
        )
    });
    html! {
        form.inline method="get" action="/surveys/plan" id="size-calc" {
            input type="hidden" name="year" value=(year);
            label for="c-margin" { "误差范围" } input type="text" id="c-margin" name="margin" size="5" value=(m);
            label for="c-conf" { "置信水平" } input type="text" id="c-conf" name="confidence" size="5" value=(cf);
            label for="c-deff" { "设计效应" } input type="text" id="c-deff" name="deff" size="4" value=(d);
            label for="c-rate" { "应答率" } input type="text" id="c-rate" name="rate" size="5" value=(r);
            button.btn.small type="submit" { "计算" }
        }
        @match result {
            Some(Ok(n)) => { p id="size-result" { "每个估计单位约需 " strong { (n) } " 份答卷（按比例 50% 的最保守情形）。乘以要单独估计的单位数（如县数）即总样本量。" } }
            Some(Err(e)) => { div.banner.error id="size-result" { (e) } }
            None => { p.muted { "误差范围 0.03 表示 ±3 个百分点；设计效应为加权与分层带来的方差放大倍数。" } }
        }
    }
}

async fn plan_page(
    State(state): State<AppState>,
    v: Viewer,
    flash: crate::kit::forms::Flash,
    Query(q): Query<PlanQuery>,
) -> PageResult {
    let c = &v.0;
    c.authorize::<cap::Surveys>()?;
    let years = surveys::survey_years(&state.ctx).await?;
    let year = q
        .year
        .or(years.first().copied())
        .unwrap_or_else(fmt::this_year);
    let tree = state.ctx.tree().await?;
    let plan = surveys::year_plan(&state.ctx, year).await;
    let manage = c.can(Cap::SurveyManage);
    let current = plan
        .as_ref()
        .ok()
        .and_then(|p| p.as_ref().as_ref())
        .map(|p| p.params.clone());
    let body = html! {
        @if manage {
            (card(&format!("{year} 年抽样方案参数"), None, html! {
                form.inline method="post" action="/surveys/plan" id="plan-form" {
                    input type="hidden" name="year" value=(year);
                    label for="p-size" { "总样本量" }
                    input type="number" id="p-size" name="size" min="1" required size="8" value=(current.as_ref().map_or(100_000, |p| p.size));
                    label for="p-alloc" { "分配方式" }
                    select id="p-alloc" name="allocation" {
                        option value="proportional" selected[current.as_ref().is_none_or(|p| p.allocation == "proportional")] { "按人口比例" }
                        option value="equal" selected[current.as_ref().is_some_and(|p| p.allocation == "equal")] { "各乡镇平均" }
                    }
                    label for="p-min" { "每乡镇最少" }
                    input type="number" id="p-min" name="min" min="0" size="4" value=(current.as_ref().map_or(30, |p| p.min_per));
                    label for="p-rate" { "预计应答率" }
                    input type="text" id="p-rate" name="rate" size="6" value=(current.as_ref().map_or("0.893".to_string(), |p| p.response_rate.clone()));
                    button.btn.primary type="submit" { "保存方案" }
                }
                p.muted { "每个乡镇先得 min(最少样本, 人口)，其余按人口比例（或平均）以最大余数法分配，不超过人口；邀请数 = ⌈目标 ÷ 应答率⌉。与命令 pingan survey plan 结果一致。" }
            }))
        }
        (card("样本量计算", None, calculator(&q, year)))
        @match plan.as_ref().map(|p| p.as_ref().as_ref()) {
            Ok(Some(p)) => { (plan_table(p, &tree, c, year)) }
            Ok(None) => { (card(&format!("{year} 年抽样方案"), None, html! { div.empty id="no-plan" { "尚未制定 " (year) " 年抽样方案" } })) }
            Err(e) => { (card(&format!("{year} 年抽样方案"), None, html! { div.banner.warn { (e.to_string()) } })) }
        }
    };
    Ok(layout::page(
        Frame {
            caller: c,
            title: "抽样方案",
            active: "/surveys",
            crumbs: vec![
                ("群众调查".into(), Some(format!("/surveys?year={year}"))),
                ("抽样方案".into(), None),
            ],
            pickers: None,
            banner: flash.0,
        },
        body,
    ))
}

fn plan_table(
    p: &Plan,
    tree: &pingan_core::RegionTree,
    c: &pingan_service::Caller,
    year: i32,
) -> Markup {
    let rows: Vec<_> = p.rows.iter().filter(|r| c.sees(tree, r.region)).collect();
    let (target, invitations): (u64, u64) = rows
        .iter()
        .fold((0, 0), |(t, i), r| (t + r.target, i + r.invitations));
    let parent = |i: usize| {
        tree.get(i)
            .parent
            .map(|p| tree.get(p).name.clone())
            .unwrap_or_default()
    };
    card(
        &format!(
            "{year} 年抽样方案：{} 个乡镇（街道），目标 {target} 份，邀请 {invitations} 份",
            rows.len()
        ),
        Some(
            html! { a.btn.small.export href=(format!("/surveys/plan.xlsx?year={year}")) download { "导出 Excel" } },
        ),
        html! {
            p.muted {
                "总样本量 " (p.params.size) "，" (if p.params.allocation == "equal" { "各乡镇平均" } else { "按人口比例" }) "分配，每乡镇最少 "
                (p.params.min_per) "，预计应答率 " (p.params.response_rate) "。制定人 " (p.params.made_by) "，" (fmt::local_time(&p.params.made_at)) "。"
            }
            div.table-wrap {
                table.data id="plan" data-page-size="50" data-filter="true" {
                    thead { tr {
                        th data-sort="text" { "代码" } th data-sort="text" { "乡镇（街道）" } th data-sort="text" { "所属县（区）" }
                        th.num data-sort="num" { "16 岁以上人口" } th.num data-sort="num" { "目标样本" } th.num data-sort="num" { "发放邀请" }
                    } }
                    tbody {
                        @for r in &rows {
                            @let reg = tree.get(r.region);
                            tr { td { (reg.code) } td { (reg.name) } td { (parent(r.region)) } td.num { (r.population) } td.num { (r.target) } td.num { (r.invitations) } }
                        }
                    }
                }
            }
        },
    )
}

/// POST /surveys/plan: set the year's plan parameters.
async fn set_plan(State(state): State<AppState>, v: Viewer, body: String) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::SurveyManage>()?;
    let f = Fields::parse(&body);
    let year_s = f.get("year");
    let outcome = async {
        let year: i32 = year_s
            .trim()
            .parse()
            .map_err(|_| ServiceError::invalid("年度应为数字"))?;
        let int = |name: &str, what: &str| -> Result<i64, ServiceError> {
            f.get(name)
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ServiceError::invalid(format!("{what}应为非负整数")))
        };
        let p = surveys::set_plan(
            &state.ctx,
            &who,
            SurveyPlan {
                year,
                size: int("size", "总样本量")?,
                allocation: f.get("allocation"),
                min_per: int("min", "每乡镇最少样本")?,
                response_rate: f.get("rate").trim().to_string(),
                made_by: String::new(),
                made_at: String::new(),
            },
        )
        .await?;
        let invitations: u64 = p.rows.iter().map(|r| r.invitations).sum();
        Ok::<String, ServiceError>(format!(
            "已保存 {year} 年抽样方案：{} 个乡镇（街道），目标 {} 份，邀请 {invitations} 份",
            p.rows.len(),
            p.params.size
        ))
    }
    .await
    .map_err(problems);
    Ok(back(
        &format!("/surveys/plan?year={}", urlencode(&year_s)),
        outcome,
    ))
}

/// The plan per township as Excel, for the survey firm.
async fn plan_export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<PlanQuery>,
) -> PageResult {
    let c = &v.0;
    c.authorize::<cap::Surveys>()?;
    let year = q
        .year
        .ok_or_else(|| PageError::bad_request("缺少年度（year）"))?;
    let p = surveys::year_plan(&state.ctx, year).await?;
    let p = p
        .as_ref()
        .as_ref()
        .ok_or_else(|| PageError::not_found(format!("尚未制定 {year} 年抽样方案")))?;
    let tree = state.ctx.tree().await?;
    let rows = p
        .rows
        .iter()
        .filter(|r| c.sees(&tree, r.region))
        .map(|r| {
            let reg = tree.get(r.region);
            let parent = reg.parent.map(|i| tree.get(i));
            vec![
                Cell::from(reg.code.as_str()),
                reg.name.as_str().into(),
                parent.map_or(String::new(), |p| p.code.clone()).into(),
                parent.map_or(String::new(), |p| p.name.clone()).into(),
                Cell::Num(r.population as f64),
                Cell::Num(r.target as f64),
                Cell::Num(r.invitations as f64),
            ]
        })
        .collect();
    let headers = [
        "地区代码",
        "乡镇（街道）",
        "县（区）代码",
        "县（区）",
        "16岁以上人口",
        "目标样本",
        "发放邀请",
    ];
    let bytes = xlsx::workbook(c, &format!("抽样方案{year}"), &headers, rows)?;
    Ok(xlsx::download(&format!("survey-plan-{year}.xlsx"), bytes))
}
