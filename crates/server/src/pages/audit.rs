//! 操作日志: the ledger for supervisors and the audit admin — filter by
//! user, action, time and object, verify the hash chain, export.

use crate::AppState;
use crate::kit::forms::{some, urlencode};
use crate::kit::xlsx::{self, Cell};
use crate::kit::{Frame, PageResult, Viewer, card, fmt, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::html;
use pingan_service::audit::{self, LedgerQuery};
use pingan_service::{Caller, cap};
use pingan_store::Entry;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(page))
        .route("/export/audit.xlsx", get(export))
}

#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    pub user: Option<String>,
    pub action: Option<String>,
    pub object: Option<String>,
    /// A date (2024-06-01) or a timestamp; inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<usize>,
    pub verify: Option<String>,
}

const PAGE: usize = 50;

/// The entries a query selects, newest first.
async fn entries(
    state: &AppState,
    c: &Caller,
    q: &AuditQuery,
) -> Result<Vec<Entry>, crate::kit::PageError> {
    let who = c.authorize::<cap::Ledger>()?;
    let mut all = audit::entries(
        &state.ctx,
        &who,
        &LedgerQuery {
            from: some(&q.from),
            to: some(&q.to),
            user: some(&q.user),
            action: some(&q.action),
            object: some(&q.object),
        },
    )
    .await?;
    all.reverse();
    Ok(all)
}

async fn page(State(state): State<AppState>, v: Viewer, Query(q): Query<AuditQuery>) -> PageResult {
    let c = &v.0;
    let all = entries(&state, c, &q).await?;
    let banner = if q.verify.is_some() {
        let who = c.authorize::<cap::Ledger>()?;
        match audit::verify(&state.ctx, &who, None).await {
            Ok(v) if v.ok => Some((
                "ok",
                format!(
                    "校验通过：{} 条记录的哈希链完整（{}），链头 {}",
                    v.entries,
                    v.algorithm,
                    &v.head[..v.head.len().min(16)]
                ),
            )),
            Ok(v) => Some((
                "error",
                format!(
                    "校验失败：{}",
                    v.problem.map(|p| p.message).unwrap_or_default()
                ),
            )),
            Err(e) => Some(("error", format!("校验出错：{e}"))),
        }
    } else {
        None
    };
    let pages = all.len().div_ceil(PAGE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let shown = &all[(page - 1) * PAGE..(page * PAGE).min(all.len())];
    let query = |p: usize| {
        let mut s = format!("/audit?page={p}");
        for (k, v) in [
            ("user", &q.user),
            ("action", &q.action),
            ("object", &q.object),
            ("from", &q.from),
            ("to", &q.to),
        ] {
            if let Some(v) = some(v) {
                s.push_str(&format!("&{k}={}", urlencode(&v)));
            }
        }
        s
    };
    let export = query(1).replacen("/audit?page=1", "/export/audit.xlsx?", 1);
    let body = html! {
        (card("筛选", None, html! {
            form.inline method="get" action="/audit" id="audit-filter" {
                label for="f-user" { "用户" } input type="text" id="f-user" name="user" value=[some(&q.user)] size="10";
                label for="f-action" { "操作" } input type="text" id="f-action" name="action" value=[some(&q.action)] size="12" placeholder="如 login";
                label for="f-object" { "对象" } input type="text" id="f-object" name="object" value=[some(&q.object)] size="14";
                label for="f-from" { "起" } input type="date" id="f-from" name="from" value=[some(&q.from)];
                label for="f-to" { "止" } input type="date" id="f-to" name="to" value=[some(&q.to)];
                button.btn.primary type="submit" { "查询" }
                a.btn href="/audit" { "重置" }
            }
        }))
        (card(&format!("操作日志（共 {} 条）", all.len()), Some(html! {
            a.btn.small href="/audit?verify=1" id="verify" { "校验哈希链" }
            a.btn.small.export href=(export) download { "导出 Excel" }
        }), html! {
            @if all.is_empty() {
                div.empty { "没有符合条件的记录" }
            } @else {
                div.table-wrap {
                    table.data id="audit" {
                        thead { tr { th.num { "序号" } th { "时间（北京时间）" } th { "用户" } th { "操作" } th { "对象" } th { "详情" } th { "来源" } } }
                        tbody {
                            @for e in shown {
                                tr {
                                    td.num { (e.id) }
                                    td { (fmt::local_time(&e.at)) }
                                    td { (e.user) }
                                    td title=(e.action) { (action_label(&e.action)) }
                                    td { (e.object) }
                                    td { (detail_fields(&e.detail)) @if !e.reason.is_empty() { br; "理由：" (e.reason) } }
                                    td { (e.client) }
                                }
                            }
                        }
                    }
                }
                div.pager {
                    "第 " (page) " / " (pages) " 页"
                    @if page > 1 { a.btn.small href=(query(page - 1)) { "上一页" } }
                    @if page < pages { a.btn.small href=(query(page + 1)) { "下一页" } }
                }
            }
        }))
    };
    Ok(layout::page(
        Frame::simple(c, "操作日志", "/audit").banner(banner),
        body,
    ))
}

/// The entries a query selects, as Excel.
async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    let all = entries(&state, &v.0, &q).await?;
    let rows = all
        .iter()
        .map(|e| {
            vec![
                Cell::Num(e.id as f64),
                e.at.as_str().into(),
                e.user.as_str().into(),
                e.action.as_str().into(),
                e.object.as_str().into(),
                e.detail.as_str().into(),
                e.reason.as_str().into(),
                e.client.as_str().into(),
                e.hash.as_str().into(),
            ]
        })
        .collect();
    let headers = [
        "序号",
        "时间（UTC）",
        "用户",
        "操作",
        "对象",
        "详情",
        "理由",
        "来源",
        "哈希",
    ];
    let bytes = xlsx::workbook(&v.0, "操作日志", &headers, rows)?;
    Ok(xlsx::download("操作日志.xlsx", bytes))
}

/// The Chinese name of a ledger action (its code when unknown).
fn action_label(code: &str) -> String {
    code.parse::<pingan_core::labels::LedgerAction>()
        .map(|a| a.label().to_string())
        .unwrap_or_else(|_| code.to_string())
}

/// A field of an entry's detail as a reader knows it.
fn field_name(key: &str) -> &str {
    match key {
        "file" => "文件",
        "rows" => "行数",
        "imported" => "新增",
        "updated" => "更新",
        "ignored" => "未变",
        "sha256" => "校验值",
        "period" => "期间",
        "year" | "years" => "年度",
        "region" | "regions" => "地区",
        "department" => "部门",
        "roles" => "角色",
        "reason" => "原因",
        "before" => "修改前",
        "after" => "修改后",
        "review" => "审核",
        "data_sets" => "数据集",
        "framework" => "指标体系",
        "framework_version" => "版本",
        "tasks" => "任务",
        "origin" => "来源",
        "draw" => "抽取",
        "case" => "案件",
        "result" => "结果",
        "note" => "说明",
        "must_change_password" => "首次登录须改密码",
        "import_id" => "导入编号",
        "count" => "数量",
        "action" => "操作",
        "sets" => "数据集",
        "value" => "数值",
        "element" => "数据项",
        "previous_sha256" => "原校验值",
        "resolved_before" => "此前已处理",
        "cleared" => "不再出现、移出队列",
        "approved_values" => "生效数据",
        "cases" => "案件数",
        "drawn" => "抽取数",
        "eligible" => "可抽取数",
        "found" => "发现",
        "new" => "新增",
        "rate" => "比例",
        "seed" => "随机种子",
        "year_from" => "起始年度",
        "status" => "状态",
        "kind" => "类型",
        "flag" => "问题编号",
        "task" => "任务",
        "record" => "核查记录",
        "recheck_task" => "复核任务",
        "observed" => "实测值",
        "latitude" => "纬度",
        "longitude" => "经度",
        "photo" => "照片",
        "mime" => "文件类型",
        "size" => "大小",
        "name" => "名称",
        "source" => "数据来源",
        "team" => "核查组",
        "verifiers" => "核查人员",
        "conflicts" => "冲突",
        "expires_at" => "到期时间",
        "end" => "结束",
        "at" => "时间",
        "hash" | "head" => "哈希",
        "backend" => "数据库",
        "table" | "tables" => "数据表",
        "columns" => "列",
        "pingan_backup" => "备份格式",
        _ => key,
    }
}

/// An entry's detail as labelled fields instead of raw JSON (long values
/// shortened; the export keeps the JSON whole).
fn detail_fields(detail: &str) -> maud::Markup {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(detail)
    else {
        return html! { span.muted { (detail) } };
    };
    // An empty field says nothing (a login's empty reason).
    let fields: Vec<(&String, &serde_json::Value)> = map
        .iter()
        .filter(|(_, v)| !matches!(v, serde_json::Value::String(s) if s.is_empty()))
        .collect();
    html! {
        span.muted.detail {
            @for (i, (k, v)) in fields.iter().enumerate() {
                @if i > 0 { "；" }
                (field_name(k)) "：" (shorten(show(k, v)))
            }
        }
    }
}

fn shorten(s: String) -> String {
    if s.chars().count() > 80 {
        s.chars().take(79).chain(['…']).collect()
    } else {
        s
    }
}

/// A field's value as a reader knows it: role and review codes by their
/// names, nested fields (before / after) labelled too.
fn show(key: &str, v: &serde_json::Value) -> String {
    use serde_json::Value;
    let role = |code: &str| {
        code.trim()
            .parse::<pingan_core::access::Role>()
            .map(|r| r.label().to_string())
            .unwrap_or_else(|_| code.to_string())
    };
    match (key, v) {
        ("roles", Value::Array(a)) => a
            .iter()
            .map(|r| role(r.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("、"),
        ("roles", Value::String(s)) => s.split(',').map(role).collect::<Vec<_>>().join("、"),
        ("review", Value::String(s)) => s
            .parse::<pingan_core::labels::ValueState>()
            .map(|x| x.label().to_string())
            .unwrap_or_else(|_| s.clone()),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Bool(true)) => "是".into(),
        (_, Value::Bool(false)) => "否".into(),
        (_, Value::Null) => "—".into(),
        (_, Value::Array(a)) if a.iter().all(|x| !x.is_object() && !x.is_array()) => a
            .iter()
            .map(|x| show(key, x))
            .collect::<Vec<_>>()
            .join("、"),
        (_, Value::Object(m)) => {
            let fields: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}：{}", field_name(k), show(k, v)))
                .collect();
            format!("（{}）", fields.join("，"))
        }
        (_, other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    /// Details read as a person says them: no raw JSON, no codes, nothing
    /// for an empty field.
    #[test]
    fn details_in_words() {
        let html = super::detail_fields(
            r#"{"reason":"","years":[2023,2024],"review":"pending","after":{"roles":"expert,collector","region":null}}"#,
        )
        .into_string();
        assert!(!html.contains("原因"), "{html}");
        assert!(html.contains("年度：2023、2024"), "{html}");
        assert!(
            html.contains("审核：待审核") || html.contains("审核：审核中"),
            "{html}"
        );
        assert!(
            html.contains("角色：专家评审组、数据采集组") && html.contains("地区：—"),
            "{html}"
        );
        assert!(!html.contains('{') && !html.contains('['), "{html}");
    }
}
