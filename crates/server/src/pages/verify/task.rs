//! One field verification task: its comparisons, records, photos and
//! confirmations, and the forms that record a visit or close the task.

use super::status_tag;
use crate::AppState;
use crate::kit::forms::{Flash, back};
use crate::kit::{Frame, PageResult, Viewer, card, fmt, layout};
use axum::extract::{Multipart, Path, State};
use maud::html;
use pingan_core::access::Cap;
use pingan_core::labels::TaskStatus;
use pingan_core::num::fmt_num;
use pingan_service::field;
use pingan_service::{cap, structure};
use pingan_store::NewRecord;
use std::collections::BTreeMap;

/// GET /verify/{id}
pub(super) async fn detail(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Path(id): Path<i64>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::FieldRead>()?;
    let d = field::detail(&state.ctx, &who, id).await?;
    let tree = state.ctx.tree().await?;
    let t = &d.task;
    let region_name = tree
        .find(&t.region)
        .map(|i| tree.get(i).name.clone())
        .unwrap_or_default();
    let may_record = c.can(Cap::FieldRecord) && t.status != TaskStatus::Closed;
    let fw = structure::known_codes(&state.ctx).await?;
    let me = c.name();
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
                dt { "期间" } dd { (t.period.parse::<pingan_core::Period>().map_or(t.period.clone(), |p| p.label())) }
                dt { "来源" } dd { (t.origin.label())
                    @if let Some(f) = t.flag_id { "，" a href=(format!("/quality/{f}")) { "问题 " (f) } }
                    @if let Some(p) = t.parent_id { "，" a href=(format!("/verify/{p}")) { "原任务 " (p) } }
                }
                dt { "状态" } dd id="task-status" { (status_tag(t.status)) }
                @if !t.note.is_empty() { dt { "说明" } dd.reason { (t.note) } }
                dt { "创建" } dd { (t.created_by) "，" (fmt::local_time(&t.created_at)) }
            }
        }))
        (card("报送值与核查值", None, html! {
            table.data id="comparisons" {
                thead { tr { th { "数据项" } th.num { "报送值" } th { "各组核查值" } th { "最大差异" } } }
                tbody {
                    @for x in &d.comparisons {
                        tr {
                            td title=(x.element) { (x.element_name) }
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
            (card(&format!("{}：{} 与 {}，{}", r.team, r.verifiers[0], r.verifiers[1], fmt::local_time(&r.recorded_at)), None, html! {
                dl.kv {
                    dt { "双人核查" } dd.confirmation {
                        @if let Some(by) = &r.confirmed_by {
                            span.tag.ok { "已确认" } " " (by) " 于 " (r.confirmed_at.clone().unwrap_or_default()) " 确认记录属实"
                        } @else {
                            span.tag.warn { "待确认" } " 待同行核查人员 " (r.partner()) " 确认"
                            @if me == r.partner() {
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
                        input type="text" name="verifier_a" value=(me) readonly;
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
        @if c.can(Cap::Field) && t.status != TaskStatus::Closed {
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
    Ok(layout::page(
        Frame {
            caller: c,
            title: "核查任务",
            active: "/verify",
            crumbs: vec![
                ("实地核查".into(), Some("/verify".into())),
                (format!("任务 {}", t.id), None),
            ],
            pickers: None,
            banner: flash.0,
        },
        body,
    ))
}

/// POST /verify/{id}: a record with its photos, or closing the task.
/// Photos are checked before the record is saved, so a bad photo leaves
/// nothing behind.
pub(super) async fn submit(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    mut form: Multipart,
) -> PageResult {
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
                    Err(e) => return Ok(back(&here, Err(format!("上传中断：{e}")))),
                }
            }
            Ok(None) => break,
            Err(e) => return Ok(back(&here, Err(format!("表单无法读取：{e}")))),
        }
    }
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let said =
        |r: Result<String, pingan_service::ServiceError>| back(&here, r.map_err(|e| e.to_string()));
    match get("op").as_str() {
        "confirm" => {
            let who = match c.authorize::<cap::FieldRecord>() {
                Ok(w) => w,
                Err(e) => return Ok(said(Err(e))),
            };
            let record = get("record").parse::<i64>().unwrap_or(0);
            let r = field::confirm(&state.ctx, &who, record).await;
            return Ok(said(r.map(|_| format!("已确认核查记录 {record}"))));
        }
        "close" => {
            let who = match c.authorize::<cap::Field>() {
                Ok(w) => w,
                Err(e) => return Ok(said(Err(e))),
            };
            let r = field::close(&state.ctx, &who, id, &get("note")).await;
            return Ok(said(r.map(|_| "任务已关闭".to_string())));
        }
        _ => {}
    }
    let who = match c.authorize::<cap::FieldRecord>() {
        Ok(w) => w,
        Err(e) => return Ok(said(Err(e))),
    };
    for (name, bytes) in &photos {
        if bytes.len() > field::PHOTO_LIMIT {
            return Ok(back(
                &here,
                Err(format!("照片 {name} 超过 6 MB，未保存任何内容")),
            ));
        }
        if pingan_core::field::image_type(bytes).is_none() {
            return Ok(back(
                &here,
                Err(format!(
                    "{name} 不是 JPEG、PNG 或 WebP 图片，未保存任何内容"
                )),
            ));
        }
    }
    let reader = c.authorize::<cap::FieldRead>()?;
    let task = field::detail(&state.ctx, &reader, id).await?.task;
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
                return Ok(back(
                    &here,
                    Err(format!("{e} 的核查值“{raw}”不是数字，未保存任何内容")),
                ));
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
        (Err(e), _) | (_, Err(e)) => return Ok(back(&here, Err(e))),
    };
    let record = NewRecord {
        team: get("team"),
        verifiers: [c.name(), get("verifier_b")],
        checklist,
        observed,
        notes: get("notes"),
        latitude: lat,
        longitude: lon,
    };
    let outcome = match field::record(&state.ctx, &who, id, record).await {
        Ok(o) => o,
        Err(e) => return Ok(back(&here, Err(e.to_string()))),
    };
    let mut kept = 0;
    for (name, bytes) in &photos {
        if let Err(e) = field::add_photo(&state.ctx, &who, outcome.record.id, name, bytes).await {
            return Ok(back(
                &here,
                Err(format!("记录已保存，但照片 {name} 未能保存：{e}")),
            ));
        }
        kept += 1;
    }
    let mut m = format!("核查记录已保存，照片 {kept} 张");
    if let Some(r) = outcome.recheck_task {
        m.push_str(&format!(
            "；与其他核查组的核查值相差超过 10%，已生成复核任务 {r}"
        ));
    }
    Ok(back(&here, Ok(m)))
}
