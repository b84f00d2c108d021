//! 实地核查 (§5.3): the task list with the forms that create tasks by hand
//! or by a random draw, and one task's page where the verification group
//! records a visit (two verifiers, checklist, observed values, position,
//! photos) and sees reported beside observed values.

use super::audit::some;
use super::layout::{self, Frame, Viewer, card};
use crate::AppState;
use crate::auth::Cap;
use crate::field::{TaskBody, TaskDrawBody, TaskQuery, VisitBody};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use pingan_core::num::fmt_num;
use std::collections::BTreeMap;

fn status_tag(s: &str) -> Markup {
    let (class, label) = match s {
        "open" => ("tag warn", "待核查"),
        "recorded" => ("tag primary", "已记录"),
        _ => ("tag ok", "已关闭"),
    };
    html! { span class=(class) { (label) } }
}

#[derive(serde::Deserialize, Default)]
pub struct VerifyQuery {
    pub status: Option<String>,
    pub period: Option<String>,
    pub region: Option<String>,
    pub origin: Option<String>,
    pub ok: Option<String>,
    pub err: Option<String>,
}

fn elements_of(s: &str) -> Vec<String> {
    s.split([',', '，', ' ', '、'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// (department, code, name) of an element, for the task forms.
type ElementOption = (String, String, String);

/// A multiple choice of elements, one group per department.
fn element_select(id: &str, options: &[ElementOption]) -> Markup {
    let mut groups: Vec<(&str, Vec<&ElementOption>)> = Vec::new();
    for o in options {
        match groups.last_mut() {
            Some((d, v)) if *d == o.0.as_str() => v.push(o),
            _ => groups.push((o.0.as_str(), vec![o])),
        }
    }
    html! {
        select id=(id) name="elements" multiple size="8" required {
            @for (dept, items) in &groups {
                optgroup label=(if dept.is_empty() { "（未指定部门）" } else { dept }) {
                    @for (_, code, name) in items {
                        option value=(code) { (name) "（" (code) "）" }
                    }
                }
            }
        }
    }
}

/// GET /verify
pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<VerifyQuery>,
) -> Response {
    let c = &v.0;
    if !c.can(Cap::FieldRead) {
        return layout::error_page(StatusCode::FORBIDDEN, "当前角色无权查看实地核查");
    }
    let tq = TaskQuery {
        status: some(&q.status),
        period: some(&q.period),
        region: some(&q.region),
        origin: some(&q.origin),
        ..Default::default()
    };
    let tasks = match crate::field::list(&state, c, &tq).await {
        Ok(t) => t,
        Err(e) => {
            return layout::error_page(
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                &e.message,
            );
        }
    };
    let tree = match state.tree().await {
        Ok(t) => t,
        Err(e) => return layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.message),
    };
    let latest = state
        .years()
        .await
        .ok()
        .and_then(|y| y.last().copied())
        .map(|y| y.to_string())
        .unwrap_or_default();
    // Every element, grouped by department, for the task forms.
    let options: Vec<ElementOption> = match state.store.known_codes().await {
        Ok(fw) => {
            let mut v: Vec<ElementOption> = fw
                .elements
                .iter()
                .map(|e| (e.department.clone(), e.code.clone(), e.name.clone()))
                .collect();
            v.sort();
            v
        }
        Err(e) => return layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let name = |code: &str| {
        tree.find(code)
            .map(|i| tree.get(i).name.clone())
            .unwrap_or_default()
    };
    let body = html! {
        @if c.can(Cap::Field) {
            div.grid {
                (card("新建核查任务", None, html! {
                    form.stack method="post" action="/verify" id="new-task" {
                        input type="hidden" name="op" value="create";
                        label for="n-region" { "地区代码" }
                        input type="text" id="n-region" name="region" required value=[c.region.clone()];
                        label for="n-period" { "期间" }
                        input type="text" id="n-period" name="period" required value=(latest) placeholder="2024 或 2024-06";
                        label for="n-elements" { "核查数据项（可多选，按住 Ctrl 选择多个）" }
                        (element_select("n-elements", &options))
                        label for="n-note" { "说明" }
                        input type="text" id="n-note" name="note";
                        button.btn.primary type="submit" { "创建" }
                    }
                }))
                (card("随机抽取", None, html! {
                    form.stack method="post" action="/verify" id="draw-tasks" {
                        input type="hidden" name="op" value="draw";
                        label for="d-period" { "期间" }
                        input type="text" id="d-period" name="period" required value=(latest);
                        label for="d-count" { "抽取基层地区数" }
                        input type="number" id="d-count" name="count" min="1" max="1000" value="5" required;
                        label for="d-elements" { "核查数据项（可多选）" }
                        (element_select("d-elements", &options))
                        label for="d-seed" { "随机种子（相同种子抽取结果相同，默认为年度）" }
                        input type="number" id="d-seed" name="seed" min="0";
                        label for="d-region" { "在此地区内抽取（默认本账户范围）" }
                        input type="text" id="d-region" name="region" value=[c.region.clone()];
                        button.btn.primary type="submit" { "抽取并生成任务" }
                    }
                }))
            }
        }
        (card("筛选", None, html! {
            form.inline method="get" action="/verify" id="task-filter" {
                label for="f-status" { "状态" }
                select id="f-status" name="status" {
                    option value="" { "全部" }
                    @for (code, label) in [("open", "待核查"), ("recorded", "已记录"), ("closed", "已关闭")] {
                        option value=(code) selected[some(&q.status).as_deref() == Some(code)] { (label) }
                    }
                }
                label for="f-origin" { "来源" }
                select id="f-origin" name="origin" {
                    option value="" { "全部" }
                    @for (code, label) in [("manual", "人工创建"), ("flag", "异常数据"), ("draw", "随机抽取"), ("cross_team", "交叉核验复核")] {
                        option value=(code) selected[some(&q.origin).as_deref() == Some(code)] { (label) }
                    }
                }
                label for="f-period" { "期间" }
                input type="text" id="f-period" name="period" size="8" value=[some(&q.period)];
                label for="f-region" { "地区代码" }
                input type="text" id="f-region" name="region" size="10" value=[some(&q.region)];
                button.btn.primary type="submit" { "查询" }
            }
            p.muted { "每个任务须由两名实地核查组成员共同完成（双人核查），逐项填写核查清单、实地核查值和现场位置，并上传照片。不同核查组对同一地区同一数据项的核查值相差超过 10% 时，自动生成复核任务。" }
        }))
        (card(&format!("核查任务（共 {} 个）", tasks.len()), None, html! {
            @if tasks.is_empty() {
                div.empty { "没有核查任务" }
            } @else {
                div.table-wrap {
                    table.data id="tasks" data-page-size="50" {
                        thead { tr { th { "编号" } th { "地区" } th { "期间" } th { "数据项" } th { "来源" } th { "状态" } th { "创建" } th { "" } } }
                        tbody {
                            @for t in &tasks {
                                tr data-origin=(t.origin) {
                                    td { (t.id) }
                                    td { (name(&t.region)) br; span.muted { (t.region) } }
                                    td { (t.period) }
                                    td { (t.elements.join("、")) }
                                    td { (t.origin_label()) }
                                    td { (status_tag(&t.status)) }
                                    td { (t.created_by) br; span.muted { (t.created_at) } }
                                    td { a href=(format!("/verify/{}", t.id)) { "查看" } }
                                }
                            }
                        }
                    }
                }
            }
        }))
    };
    layout::page(
        Frame {
            caller: c,
            title: "实地核查",
            active: "/verify",
            crumbs: vec![("实地核查".into(), None)],
            pickers: None,
            banner: layout::outcome(&q.ok, &q.err),
        },
        body,
    )
}

/// POST /verify: create a task, draw tasks, or make one from a flag.
pub async fn action(State(state): State<AppState>, v: Viewer, body: String) -> Response {
    let c = &v.0;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    // A multiple choice sends `elements` once per element chosen.
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "elements")
        .flat_map(|(_, v)| elements_of(v))
        .collect();
    let fields: BTreeMap<String, String> = pairs.into_iter().collect();
    let get = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    match get("op").as_str() {
        "create" => {
            let r = crate::field::create_one(
                &state,
                c,
                TaskBody {
                    region: get("region"),
                    period: get("period"),
                    elements: chosen.clone(),
                    checklist: Vec::new(),
                    note: get("note"),
                },
                "manual",
                None,
            )
            .await;
            match r {
                Ok(t) => layout::back(
                    &format!("/verify/{}", t.id),
                    Ok(format!("已创建核查任务 {}", t.id)),
                ),
                Err(e) => layout::back("/verify", Err(e.message)),
            }
        }
        "draw" => {
            let count = get("count").parse::<usize>().unwrap_or(0);
            let seed = match get("seed").as_str() {
                "" => None,
                s => match s.parse::<u64>() {
                    Ok(x) => Some(x),
                    Err(_) => {
                        return layout::back("/verify", Err(format!("随机种子“{s}”不是非负整数")));
                    }
                },
            };
            let r = crate::field::draw_tasks(
                &state,
                c,
                TaskDrawBody {
                    period: get("period"),
                    count,
                    elements: chosen.clone(),
                    seed,
                    region: Some(get("region")).filter(|r| !r.is_empty()),
                    checklist: Vec::new(),
                },
            )
            .await;
            layout::back(
                "/verify",
                r.map(|d| {
                    format!(
                        "种子 {}：从 {} 个基层地区中抽取 {} 个，生成核查任务 {}",
                        d.seed,
                        d.candidates,
                        d.regions.len(),
                        d.tasks
                            .iter()
                            .map(|t| t.to_string())
                            .collect::<Vec<_>>()
                            .join("、")
                    )
                })
                .map_err(|e| e.message),
            )
        }
        "from_flag" => {
            let id = get("flag").parse::<i64>().unwrap_or(0);
            match crate::field::task_from_flag(&state, c, id, "").await {
                Ok(t) => layout::back(
                    &format!("/verify/{}", t.id),
                    Ok(format!("已根据问题 {id} 生成核查任务 {}", t.id)),
                ),
                Err(e) => layout::back(&format!("/quality/{id}"), Err(e.message)),
            }
        }
        _ => layout::error_page(StatusCode::BAD_REQUEST, "未知的操作"),
    }
}

/// GET /verify/{id}
pub async fn detail(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<VerifyQuery>,
) -> Response {
    let c = &v.0;
    let d = match crate::field::detail(&state, c, id).await {
        Ok(d) => d,
        Err(e) => {
            return layout::error_page(
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::NOT_FOUND),
                &e.message,
            );
        }
    };
    let tree = match state.tree().await {
        Ok(t) => t,
        Err(e) => return layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.message),
    };
    let t = &d.task;
    let region_name = tree
        .find(&t.region)
        .map(|i| tree.get(i).name.clone())
        .unwrap_or_default();
    let may_record = c.can(Cap::Field) && c.is_verifier() && t.status != "closed";
    let fw = match state.store.known_codes().await {
        Ok(f) => f,
        Err(e) => return layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let element_name = |code: &str| -> String {
        fw.element_index(code)
            .map(|i| {
                let el = &fw.elements[i];
                if el.unit.is_empty() {
                    el.name.clone()
                } else {
                    format!("{}（{}）", el.name, el.unit)
                }
            })
            .unwrap_or_else(|| code.to_string())
    };
    let body = html! {
        (card(&format!("核查任务 {}", t.id), None, html! {
            dl.kv {
                dt { "地区" } dd { (region_name) "（" (t.region) "）" }
                dt { "期间" } dd { (t.period) }
                dt { "来源" } dd { (t.origin_label())
                    @if let Some(f) = t.flag_id { "，" a href=(format!("/quality/{f}")) { "问题 " (f) } }
                    @if let Some(p) = t.parent_id { "，" a href=(format!("/verify/{p}")) { "原任务 " (p) } }
                }
                dt { "状态" } dd id="task-status" { (status_tag(&t.status)) }
                @if !t.note.is_empty() { dt { "说明" } dd.reason { (t.note) } }
                dt { "创建" } dd { (t.created_by) "，" (t.created_at) }
            }
        }))
        (card("报送值与核查值", None, html! {
            table.data id="comparisons" {
                thead { tr { th { "数据项" } th.num { "报送值" } th { "各组核查值" } th { "最大差异" } } }
                tbody {
                    @for x in &d.comparisons {
                        tr {
                            td { (x.element_name) br; span.muted { (x.element) } }
                            td.num { (x.reported.map(|v| fmt_num(v, 6)).unwrap_or_else(|| "未报送".into())) }
                            td { @if x.observed.is_empty() { "—" } @for (team, v) in &x.observed { (team) "：" (fmt_num(*v, 6)) " " } }
                            td {
                                @if let Some(df) = x.difference { (format!("{:.1}%", df * 100.0)) }
                                @if x.over_tolerance { " " span.tag.danger { "超过 10%" } }
                            }
                        }
                    }
                }
            }
        }))
        @for r in &d.records {
            (card(&format!("{}：{} 与 {}，{}", r.team, r.verifiers[0], r.verifiers[1], r.recorded_at), None, html! {
                dl.kv {
                    dt { "双人核查" } dd.confirmation {
                        @if let Some(by) = &r.confirmed_by {
                            span.tag.ok { "已确认" } " " (by) " 于 " (r.confirmed_at.clone().unwrap_or_default()) " 确认记录属实"
                        } @else {
                            span.tag.warn { "待确认" } " 待同行核查人员 " (r.partner()) " 确认"
                            @if c.name == r.partner() {
                                form.inline method="post" action=(format!("/verify/{}", t.id)) enctype="multipart/form-data" {
                                    input type="hidden" name="op" value="confirm";
                                    input type="hidden" name="record" value=(r.id);
                                    button.btn.small.primary type="submit" { "我确认以上记录属实" }
                                }
                            }
                        }
                    }
                    dt { "位置" } dd { (format!("北纬 {:.6}，东经 {:.6}", r.latitude, r.longitude)) }
                    dt { "核查清单" } dd {
                        ul.checklist {
                            @for item in &t.checklist {
                                @let ok = r.checklist.get(item).copied().unwrap_or(false);
                                li { (if ok { "✔ " } else { "✘ " }) (item) }
                            }
                        }
                    }
                    dt { "核查值" } dd { @for (e, v) in &r.observed { (element_name(e)) "：" (fmt_num(*v, 6)) "　" } }
                    @if !r.notes.is_empty() { dt { "备注" } dd.reason { (r.notes) } }
                    dt { "照片" } dd {
                        @if r.photos.is_empty() { "无" }
                        div.photos {
                            @for p in &r.photos {
                                figure {
                                    a href=(format!("/api/v1/verifications/photos/{}", p.id)) target="_blank" {
                                        img src=(format!("/api/v1/verifications/photos/{}", p.id)) alt=(p.file_name) width="160" loading="lazy";
                                    }
                                    figcaption.muted { (p.file_name) "，" (if p.size < 1024 { format!("{} 字节", p.size) } else { format!("{} KB", p.size / 1024) }) br; "SHA-256 " code { (p.sha256[..16]) "…" } }
                                }
                            }
                        }
                    }
                }
            }))
        }
        @if may_record {
            (card("填写核查记录", None, html! {
                form.stack method="post" action=(format!("/verify/{}", t.id)) enctype="multipart/form-data" id="record" {
                    input type="hidden" name="op" value="record";
                    label for="r-team" { "核查组" }
                    input type="text" id="r-team" name="team" required placeholder="如 实地核查一组";
                    label { "核查人员（双人核查）" }
                    div.inline {
                        input type="text" name="verifier_a" value=(c.name) readonly;
                        input type="text" id="r-partner" name="verifier_b" required placeholder="同行核查人员的用户名";
                    }
                    fieldset {
                        legend { "核查清单（勾选表示已完成且无问题）" }
                        @for (i, item) in t.checklist.iter().enumerate() {
                            label { input type="checkbox" name=(format!("c.{i}")) value="1"; " " (item) }
                        }
                    }
                    @for e in &t.elements {
                        label for=(format!("o-{e}")) { "核查值：" (element_name(e)) }
                        input type="text" inputmode="decimal" id=(format!("o-{e}")) name=(format!("o.{e}")) required;
                    }
                    label for="r-notes" { "备注" }
                    textarea id="r-notes" name="notes" rows="3" {}
                    label { "现场位置" }
                    div.inline {
                        input type="text" id="r-lat" name="latitude" required placeholder="纬度，如 30.274";
                        input type="text" id="r-lon" name="longitude" required placeholder="经度，如 120.155";
                        button.btn.small type="button" id="locate" { "获取当前位置" }
                    }
                    label for="r-photos" { "照片（JPEG、PNG 或 WebP，每张不超过 6 MB）" }
                    input type="file" id="r-photos" name="photos" multiple accept="image/jpeg,image/png,image/webp";
                    button.btn.primary type="submit" { "保存记录" }
                }
            }))
        }
        @if c.can(Cap::Field) && t.status != "closed" {
            (card("关闭任务", None, html! {
                form.inline method="post" action=(format!("/verify/{}", t.id)) enctype="multipart/form-data" id="close" {
                    input type="hidden" name="op" value="close";
                    label for="x-note" { "核查结论" }
                    input type="text" id="x-note" name="note" size="40" required;
                    button.btn type="submit" { "关闭" }
                }
            }))
        }
    };
    layout::page(
        Frame {
            caller: c,
            title: "核查任务",
            active: "/verify",
            crumbs: vec![
                ("实地核查".into(), Some("/verify".into())),
                (format!("任务 {}", t.id), None),
            ],
            pickers: None,
            banner: layout::outcome(&q.ok, &q.err),
        },
        body,
    )
}

/// POST /verify/{id}: a record with its photos, or closing the task.
/// Photos are checked before the record is saved, so a bad photo leaves
/// nothing behind.
pub async fn submit(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    mut form: Multipart,
) -> Response {
    let c = &v.0;
    let here = format!("/verify/{id}");
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut photos: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        match form.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or_default().to_string();
                let file = f.file_name().map(str::to_string);
                match f.bytes().await {
                    Ok(b) if name == "photos" => {
                        if !b.is_empty() {
                            photos.push((file.unwrap_or_else(|| "照片".into()), b.to_vec()));
                        }
                    }
                    Ok(b) => {
                        fields.insert(name, String::from_utf8_lossy(&b).trim().to_string());
                    }
                    Err(e) => return layout::back(&here, Err(format!("上传中断：{e}"))),
                }
            }
            Ok(None) => break,
            Err(e) => return layout::back(&here, Err(format!("表单无法读取：{e}"))),
        }
    }
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    if get("op") == "confirm" {
        let record = get("record").parse::<i64>().unwrap_or(0);
        let r = crate::field::confirm_in_scope(&state, c, record).await;
        return layout::back(
            &here,
            r.map(|_| format!("已确认核查记录 {record}"))
                .map_err(|e| e.message),
        );
    }
    if get("op") == "close" {
        let r = crate::field::close_in_scope(&state, c, id, &get("note")).await;
        return layout::back(
            &here,
            r.map(|_| "任务已关闭".to_string()).map_err(|e| e.message),
        );
    }
    for (name, bytes) in &photos {
        if bytes.len() > pingan_store::PHOTO_LIMIT {
            return layout::back(&here, Err(format!("照片 {name} 超过 6 MB，未保存任何内容")));
        }
        if pingan_core::field::image_type(bytes).is_none() {
            return layout::back(
                &here,
                Err(format!(
                    "{name} 不是 JPEG、PNG 或 WebP 图片，未保存任何内容"
                )),
            );
        }
    }
    let task = match state.store.task(id).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            return layout::error_page(StatusCode::NOT_FOUND, &format!("核查任务 {id} 不存在"));
        }
        Err(e) => return layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let checklist: BTreeMap<String, bool> = task
        .checklist
        .iter()
        .enumerate()
        .map(|(i, item)| (item.clone(), fields.contains_key(&format!("c.{i}"))))
        .collect();
    let mut observed = BTreeMap::new();
    for e in &task.elements {
        let raw = get(&format!("o.{e}"));
        match raw.parse::<f64>() {
            Ok(x) if x.is_finite() => {
                observed.insert(e.clone(), x);
            }
            _ => {
                return layout::back(
                    &here,
                    Err(format!("{e} 的核查值“{raw}”不是数字，未保存任何内容")),
                );
            }
        }
    }
    let coord = |k: &str, label: &str| -> Result<f64, String> {
        get(k)
            .parse::<f64>()
            .map_err(|_| format!("{label}“{}”不是数字，未保存任何内容", get(k)))
    };
    let (lat, lon) = match (coord("latitude", "纬度"), coord("longitude", "经度")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return layout::back(&here, Err(e)),
    };
    let body = VisitBody {
        team: get("team"),
        verifiers: [c.name.clone(), get("verifier_b")],
        checklist,
        observed,
        notes: get("notes"),
        latitude: lat,
        longitude: lon,
    };
    let outcome = match crate::field::record_in_scope(&state, c, id, body).await {
        Ok(o) => o,
        Err(e) => return layout::back(&here, Err(e.message)),
    };
    let mut kept = 0;
    for (name, bytes) in &photos {
        if let Err(e) =
            crate::field::photo_in_scope(&state, c, outcome.record.id, name, bytes).await
        {
            return layout::back(
                &here,
                Err(format!("记录已保存，但照片 {name} 未能保存：{}", e.message)),
            );
        }
        kept += 1;
    }
    let mut m = format!("核查记录已保存，照片 {kept} 张");
    if let Some(r) = outcome.recheck_task {
        m.push_str(&format!(
            "；与其他核查组的核查值相差超过 10%，已生成复核任务 {r}"
        ));
    }
    layout::back(&here, Ok(m))
}
