//! 数据报送: a department downloads its Excel template and uploads it
//! filled (seed §3.2). The upload is checked whole first (every bad cell
//! named), then stored in one transaction through the values import, so a
//! retried upload changes nothing.

use super::audit::urlencode;
use super::layout::{self, Frame, Viewer, card};
use crate::AppState;
use crate::auth::{Caller, Cap};
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use pingan_core::access::Role;
use pingan_core::{Framework, Period};
use pingan_input::excel::{TemplateSpec, base_regions, read_template, write_template};
use std::collections::{BTreeSet, HashMap};

#[derive(serde::Deserialize, Default)]
pub struct TemplateQuery {
    pub department: Option<String>,
    /// `2024-06`, several separated by commas, or a year for its twelve months.
    pub periods: Option<String>,
    pub region: Option<String>,
}

/// The departments a caller may submit for: its own, or any for the office.
fn departments(c: &Caller, fw: &Framework) -> Vec<String> {
    if c.is(Role::OfficeAdmin) {
        let set: BTreeSet<String> = fw
            .elements
            .iter()
            .map(|e| e.department.clone())
            .filter(|d| !d.is_empty())
            .collect();
        set.into_iter().collect()
    } else {
        c.department.clone().into_iter().collect()
    }
}

fn parse_periods(s: &str) -> Result<Vec<Period>, String> {
    let mut out = Vec::new();
    for part in s.split([',', '，', ' ']).filter(|p| !p.trim().is_empty()) {
        match part.trim().parse::<Period>() {
            Ok(Period::Year(y)) => out.extend(Period::months(y)),
            Ok(p) => out.push(p),
            Err(e) => return Err(e.to_string()),
        }
    }
    if out.is_empty() {
        return Err("请填写期间，如 2024-06；填年份（2024）则生成 12 个月份工作表".into());
    }
    out.dedup();
    Ok(out)
}

fn page_body(c: &Caller, deps: &[String], latest: Option<i32>, result: Option<Markup>) -> Markup {
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
                input type="text" id="t-periods" name="periods" size="16" required value=(default_period)
                    placeholder="2024-06，或 2024 表示全年 12 个月";
                label for="t-region" { "地区代码" }
                input type="text" id="t-region" name="region" size="10" value=[c.region.clone()] placeholder="默认全部";
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
                input type="text" id="f-period" name="period" size="8" required value=(latest.map(|y| format!("{y}-12")).unwrap_or_default());
                label for="f-region" { "地区代码" }
                input type="text" id="f-region" name="region" size="10" value=[c.region.clone()];
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
fn review_choice(c: &Caller) -> Markup {
    html! {
        @if c.intake(false) == pingan_store::Intake::Direct {
            label { input type="checkbox" name="review" value="1"; " 提交三级审核（不勾选则作为测评办数据直接生效）" }
        }
    }
}

/// What a stored submission means for the review, for the result line.
fn review_note(s: &pingan_store::ImportSummary) -> String {
    if s.review == "pending" && s.data_sets > 0 {
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
fn import_errors(e: pingan_store::StoreError) -> Vec<String> {
    match e {
        pingan_store::StoreError::Input(errs) => errs.0.iter().map(|x| x.to_string()).collect(),
        other => vec![other.to_string()],
    }
}

fn frame<'a>(c: &'a Caller, banner: Option<(&'static str, String)>) -> Frame<'a> {
    Frame {
        caller: c,
        title: "数据报送",
        active: "/submit",
        crumbs: vec![("数据报送".into(), None)],
        pickers: None,
        banner,
    }
}

pub async fn page(State(state): State<AppState>, v: Viewer) -> Response {
    let c = &v.0;
    if !c.can(Cap::Submit) {
        return layout::error_page(
            StatusCode::FORBIDDEN,
            "只有部门报送员和测评办管理员可以报送数据",
        );
    }
    let fw = match state.store.known_codes().await {
        Ok(f) => f,
        Err(e) => return layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let latest = state.years().await.ok().and_then(|y| y.last().copied());
    layout::page(
        frame(c, None),
        page_body(c, &departments(c, &fw), latest, None),
    )
}

pub async fn template(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<TemplateQuery>,
) -> Response {
    let c = &v.0;
    if !c.can(Cap::Submit) {
        return layout::error_page(
            StatusCode::FORBIDDEN,
            "只有部门报送员和测评办管理员可以报送数据",
        );
    }
    let made = async {
        let periods = parse_periods(q.periods.as_deref().unwrap_or(""))?;
        let Scope {
            department,
            fw,
            tree,
            regions,
        } = scope(
            &state,
            c,
            q.department.as_deref(),
            &periods,
            q.region.as_deref(),
        )
        .await?;
        let bytes = write_template(
            &fw,
            &tree,
            &TemplateSpec {
                department: &department,
                periods: &periods,
                regions: &regions,
                prefill: None,
            },
        )?;
        let name = format!(
            "{department}报送模板{}.xlsx",
            periods.first().map(|p| p.to_string()).unwrap_or_default()
        );
        Ok::<_, String>((name, bytes))
    }
    .await;
    match made {
        Ok((name, bytes)) => {
            let mut resp = bytes.into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            );
            if let Ok(v) = HeaderValue::from_str(&format!(
                "attachment; filename=\"template.xlsx\"; filename*=UTF-8''{}",
                urlencode(&name)
            )) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(m) => layout::error_page(StatusCode::UNPROCESSABLE_ENTITY, &m),
    }
}

/// POST /submit: check the whole file, then import it (or only check).
pub async fn upload(State(state): State<AppState>, v: Viewer, mut form: Multipart) -> Response {
    let c = &v.0;
    if !c.can(Cap::Submit) {
        return layout::error_page(
            StatusCode::FORBIDDEN,
            "只有部门报送员和测评办管理员可以报送数据",
        );
    }
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
                    Err(e) => {
                        return layout::error_page(
                            StatusCode::BAD_REQUEST,
                            &format!("上传中断：{e}"),
                        );
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                return layout::error_page(
                    StatusCode::BAD_REQUEST,
                    &format!("上传的表单无法读取：{e}"),
                );
            }
        }
    }
    let fw = match state.store.known_codes().await {
        Ok(f) => f,
        Err(e) => return layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let deps = departments(c, &fw);
    let latest = state.years().await.ok().and_then(|y| y.last().copied());
    let Some((name, bytes)) = file.filter(|f| !f.1.is_empty()) else {
        let r = html! { div.banner.error { "请选择要上传的文件" } };
        return layout::page(frame(c, None), page_body(c, &deps, latest, Some(r)));
    };
    let outcome: Result<String, Vec<String>> = async {
        let tree = state.tree().await.map_err(|e| vec![e.message])?;
        let filled = read_template(&name, &bytes, &fw, &tree)?;
        if !deps.contains(&filled.department) {
            return Err(vec![format!(
                "{name}: 这是部门“{}”的模板，当前账户无权报送该部门的数据",
                filled.department
            )]);
        }
        let mut errs = Vec::new();
        for v in &filled.values {
            if !c.sees(&tree, v.region) {
                errs.push(format!(
                    "{name}: 地区 {} 不在当前账户的数据范围内",
                    tree.get(v.region).code
                ));
            }
            if fw.elements[v.element].department != filled.department {
                errs.push(format!(
                    "{name}: 数据项 {} 不属于部门“{}”",
                    fw.elements[v.element].code, filled.department
                ));
            }
            if errs.len() >= 50 {
                break;
            }
        }
        if !errs.is_empty() {
            errs.dedup();
            return Err(errs);
        }
        if filled.values.is_empty() {
            return Err(vec![format!("{name}: 模板中没有填写任何数值")]);
        }
        let csv = filled.to_values_csv(&fw, &tree);
        let s = state
            .store
            .import_values_as(&name, csv.as_bytes(), dry_run, c.intake(review), &c.actor())
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
            if filled.blank > 0 {
                format!("；留空未报送 {} 格", filled.blank)
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
    layout::page(frame(c, None), page_body(c, &deps, latest, Some(result)))
}

/// More rows than this make a page nobody can fill in; narrow the region.
const FORM_ROWS: usize = 300;

#[derive(serde::Deserialize, Default)]
pub struct FormQuery {
    pub department: Option<String>,
    pub period: Option<String>,
    pub region: Option<String>,
}

/// What the form edits: the department, one period, the base regions.
struct FormScope {
    department: String,
    period: Period,
    regions: Vec<usize>,
    elements: Vec<usize>,
    fw: Framework,
    tree: std::sync::Arc<pingan_core::RegionTree>,
    /// The review state of each region's set (region code → set), where
    /// one entered review.
    sets: HashMap<String, pingan_store::DataSet>,
}

/// What a template or a form covers: a department the caller may report
/// for, the framework of the periods' year, and the base regions under the
/// chosen region (the caller's scope by default).
struct Scope {
    department: String,
    fw: Framework,
    tree: std::sync::Arc<pingan_core::RegionTree>,
    regions: Vec<usize>,
}

async fn scope(
    state: &AppState,
    c: &Caller,
    department: Option<&str>,
    periods: &[Period],
    region: Option<&str>,
) -> Result<Scope, String> {
    let year = periods.iter().map(|p| p.year()).max().unwrap_or(0);
    let fw = state
        .store
        .framework_for_year(year)
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or_else(pingan_core::default_framework);
    let department = department.unwrap_or_default().to_string();
    if !departments(c, &fw).contains(&department) {
        return Err(format!("无权报送部门“{department}”的数据"));
    }
    let tree = state.tree().await.map_err(|e| e.message)?;
    let region = region
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or(c.region.clone());
    let root = match region {
        Some(code) => Some(c.region_in_scope(&tree, &code).map_err(|e| e.message)?),
        None => None,
    };
    let regions = base_regions(&tree, root, periods);
    Ok(Scope {
        department,
        fw,
        tree,
        regions,
    })
}

async fn form_scope(state: &AppState, c: &Caller, q: &FormQuery) -> Result<FormScope, String> {
    let period = q
        .period
        .as_deref()
        .unwrap_or("")
        .trim()
        .parse::<Period>()
        .map_err(|e| e.to_string())?;
    let Scope {
        department,
        fw,
        tree,
        regions,
    } = scope(
        state,
        c,
        q.department.as_deref(),
        &[period],
        q.region.as_deref(),
    )
    .await?;
    if regions.len() > FORM_ROWS {
        return Err(format!(
            "所选范围有 {} 个基层地区，网页表单一次最多 {FORM_ROWS} 个：请填写更小的地区代码，或使用 Excel 模板",
            regions.len()
        ));
    }
    let elements = pingan_input::excel::department_elements(&fw, &department);
    let sets = state
        .store
        .data_sets(&pingan_store::SetFilter {
            period: Some(period.to_string()),
            department: Some(department.clone()),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|d| (d.key.region.clone(), d))
        .collect();
    Ok(FormScope {
        department,
        period,
        regions,
        elements,
        fw,
        tree,
        sets,
    })
}

/// The latest stored value of each (region, element) of the form: one
/// primary-key lookup per region, not a read of the whole year.
async fn current(state: &AppState, s: &FormScope) -> HashMap<(usize, usize), f64> {
    let mut latest: HashMap<(usize, usize), (String, f64)> = HashMap::new();
    let period = s.period.to_string();
    for &r in &s.regions {
        let Ok(rows) = state
            .store
            .values(Some(&s.tree.get(r).code), Some(&period), None)
            .await
        else {
            continue;
        };
        for v in rows {
            let Some(e) = s.fw.element_index(&v.element) else {
                continue;
            };
            let slot = latest.entry((r, e)).or_insert((String::new(), v.value));
            // Latest first, the first source on a tie: as scoring reads them.
            if v.submitted_at > slot.0 {
                *slot = (v.submitted_at, v.value);
            }
        }
    }
    latest.into_iter().map(|(k, (_, v))| (k, v)).collect()
}

fn num_text(v: f64) -> String {
    pingan_core::num::fmt_num(v, 6)
}

/// Why a row cannot be edited, or what stage it is in: shown in the grid.
fn set_cell(set: Option<&pingan_store::DataSet>) -> Markup {
    match set {
        Some(d) if d.state == pingan_core::review::State::Approved => html! {
            span.tag.ok.locked title=(format!("{} 于 {} 三级审核确认后锁定；如需修改，请测评办管理员解锁", d.level3_by.clone().unwrap_or_default(), d.updated_at)) {
                "已锁定"
            }
        },
        Some(d) => html! {
            a href=(format!("/review/set?department={}&region={}&period={}", super::audit::urlencode(&d.key.department), d.key.region, d.key.period)) title=(d.reason) {
                (super::review::state_tag(d.state))
            }
        },
        None => html! {},
    }
}

fn form_body(
    c: &Caller,
    s: &FormScope,
    values: &HashMap<(usize, usize), f64>,
    entered: &HashMap<String, String>,
    result: Option<Markup>,
) -> Markup {
    html! {
        @if let Some(r) = result { (r) }
        (card(&format!("{} {} 数据填报（{} 个地区）", s.department, s.period.label(), s.regions.len()), None, html! {
            form method="post" action="/submit/form" id="entry" {
                input type="hidden" name="department" value=(s.department);
                input type="hidden" name="period" value=(s.period.to_string());
                div.table-wrap {
                    table.data id="entry-grid" {
                        thead { tr {
                            th { "地区" }
                            th { "审核状态" }
                            @for &e in &s.elements {
                                @let el = &s.fw.elements[e];
                                th { (el.name) @if !el.unit.is_empty() { br; span.muted { "（" (el.unit) "）" } } }
                            }
                        } }
                        tbody {
                            @for &r in &s.regions {
                                @let reg = s.tree.get(r);
                                @let set = s.sets.get(&reg.code);
                                @let locked = set.is_some_and(|d| d.state == pingan_core::review::State::Approved);
                                tr {
                                    td { (reg.name) br; span.muted { (reg.code) } }
                                    td { (set_cell(set)) }
                                    @for &e in &s.elements {
                                        @let key = format!("v.{}.{}", reg.code, s.fw.elements[e].code);
                                        @let old = values.get(&(r, e)).map(|v| num_text(*v)).unwrap_or_default();
                                        @let shown = entered.get(&key).cloned().unwrap_or_else(|| old.clone());
                                        td {
                                            input type="text" inputmode="decimal" size="7" name=(key) value=(shown) readonly[locked];
                                            input type="hidden" name=(format!("o.{}.{}", reg.code, s.fw.elements[e].code)) value=(old);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                label { input type="checkbox" name="dry_run" value="1"; " 只检查，不写入（试运行）" }
                " "
                (review_choice(c))
                " "
                button.btn.primary type="submit" { "提交" }
                p.muted { "只提交改动过的格子；留空表示未报送。提交前整体检查，有任何错误都不写入。" }
            }
        }))
    }
}

/// GET /submit/form: the grid of one department, period and region.
pub async fn form_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<FormQuery>,
) -> Response {
    let c = &v.0;
    if !c.can(Cap::Submit) {
        return layout::error_page(
            StatusCode::FORBIDDEN,
            "只有部门报送员和测评办管理员可以报送数据",
        );
    }
    let s = match form_scope(&state, c, &q).await {
        Ok(s) => s,
        Err(m) => return layout::error_page(StatusCode::UNPROCESSABLE_ENTITY, &m),
    };
    let values = current(&state, &s).await;
    layout::page(
        frame(c, None),
        form_body(c, &s, &values, &HashMap::new(), None),
    )
}

/// POST /submit/form: the changed cells, checked whole, then imported.
pub async fn form_submit(State(state): State<AppState>, v: Viewer, body: String) -> Response {
    let c = &v.0;
    if !c.can(Cap::Submit) {
        return layout::error_page(
            StatusCode::FORBIDDEN,
            "只有部门报送员和测评办管理员可以报送数据",
        );
    }
    let fields: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let q = FormQuery {
        department: fields.get("department").cloned(),
        period: fields.get("period").cloned(),
        region: None,
    };
    let s = match form_scope(&state, c, &q).await {
        Ok(s) => s,
        Err(m) => return layout::error_page(StatusCode::UNPROCESSABLE_ENTITY, &m),
    };
    let dry_run = fields.contains_key("dry_run");
    let mut errs = Vec::new();
    let mut csv = String::from("region,period,element,value,source\n");
    let source = s.department.replace([',', '"', '\n', '\r'], " ");
    let mut changed = 0usize;
    for &r in &s.regions {
        let reg = s.tree.get(r);
        for &e in &s.elements {
            let el = &s.fw.elements[e];
            let key = format!("{}.{}", reg.code, el.code);
            let new = fields
                .get(&format!("v.{key}"))
                .map(|x| x.trim())
                .unwrap_or("");
            let old = fields
                .get(&format!("o.{key}"))
                .map(|x| x.trim())
                .unwrap_or("");
            if new == old || new.is_empty() {
                continue;
            }
            match new.parse::<f64>() {
                Ok(v) if v.is_finite() => {
                    changed += 1;
                    csv.push_str(&format!(
                        "{},{},{},{},{source}\n",
                        reg.code,
                        s.period,
                        el.code,
                        v + 0.0
                    ));
                }
                _ => errs.push(format!(
                    "{}（{}）{}：“{new}”不是数字",
                    reg.name, reg.code, el.name
                )),
            }
        }
    }
    let entered: HashMap<String, String> = fields
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("v.").map(|_| (k.clone(), v.clone())))
        .collect();
    let outcome: Result<String, Vec<String>> = if !errs.is_empty() {
        Err(errs)
    } else if changed == 0 {
        Err(vec!["没有改动任何数值".to_string()])
    } else {
        state
            .store
            .import_values_as(
                "网页填报",
                csv.as_bytes(),
                dry_run,
                c.intake(fields.contains_key("review")),
                &c.actor(),
            )
            .await
            .map(|x| {
                format!(
                    "{}：{} 个数值，新增 {}，更新 {}，未变 {}{}",
                    if dry_run {
                        "试运行通过（未写入）"
                    } else {
                        "已提交"
                    },
                    x.rows,
                    x.imported,
                    x.updated,
                    x.ignored,
                    review_note(&x)
                )
            })
            .map_err(import_errors)
    };
    let result = match &outcome {
        Ok(m) => html! { div.banner.ok id="entry-result" { (m) } },
        Err(errs) => html! {
            div.banner.error id="entry-result" {
                "未写入任何数据：" ul.errors { @for e in errs { li { (e) } } }
            }
        },
    };
    // After a real import the form shows the stored values again.
    let (values, entered) = if outcome.is_ok() && !dry_run {
        (current(&state, &s).await, HashMap::new())
    } else {
        (current(&state, &s).await, entered)
    };
    layout::page(
        frame(c, None),
        form_body(c, &s, &values, &entered, Some(result)),
    )
}
