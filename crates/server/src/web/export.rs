//! Excel (.xlsx) exports of the tables on the pages, with Chinese headers
//! and the same access rules as the pages they come from.

use super::audit::{AuditQuery, entries};
use super::dashboard::{Place, children_results, scope};
use super::layout::{self, Viewer};
use crate::AppState;
use crate::auth::Cap;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pingan_core::access::Role;
use pingan_core::framework::view;
use rust_xlsxwriter::{Format, Workbook};

enum Cell {
    Text(String),
    Num(f64),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}
impl From<f64> for Cell {
    fn from(x: f64) -> Cell {
        Cell::Num(x)
    }
}
impl From<usize> for Cell {
    fn from(x: usize) -> Cell {
        Cell::Num(x as f64)
    }
}
impl From<Option<f64>> for Cell {
    fn from(x: Option<f64>) -> Cell {
        x.map_or(Cell::Text(String::new()), Cell::Num)
    }
}

fn workbook(sheet: &str, headers: &[&str], rows: Vec<Vec<Cell>>) -> Result<Vec<u8>, String> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    ws.set_name(sheet).map_err(e)?;
    let bold = Format::new().set_bold();
    for (j, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, j as u16, *h, &bold)
            .map_err(e)?;
        ws.set_column_width(j as u16, 14).map_err(e)?;
    }
    for (i, row) in rows.iter().enumerate() {
        for (j, c) in row.iter().enumerate() {
            let (r, col) = (i as u32 + 1, j as u16);
            match c {
                Cell::Text(s) => ws.write_string(r, col, s).map(|_| ()),
                Cell::Num(x) if x.is_finite() => ws.write_number(r, col, *x).map(|_| ()),
                Cell::Num(_) => Ok(()),
            }
            .map_err(e)?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(e)?;
    book.save_to_buffer().map_err(e)
}

fn file(name: &str, bytes: Vec<u8>) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    // RFC 6266: an ASCII fallback and the UTF-8 Chinese name.
    let disposition = format!(
        "attachment; filename=\"export.xlsx\"; filename*=UTF-8''{}",
        super::audit::urlencode(name)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[derive(serde::Deserialize, Default)]
pub struct ExportQuery {
    region: Option<String>,
    period: Option<String>,
    /// The framework in force for this year (the latest when omitted).
    year: Option<i32>,
    user: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    action: Option<String>,
    object: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

pub async fn xlsx(
    State(state): State<AppState>,
    v: Viewer,
    Path(name): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Response {
    let c = &v.0;
    let forbidden = || layout::error_page(StatusCode::FORBIDDEN, "当前角色无权导出该表");
    let made: Result<(String, Vec<u8>), Response> = match name.as_str() {
        "ranking.xlsx" | "region.xlsx" => {
            if !c.can(Cap::Scores) {
                return forbidden();
            }
            let place = Place {
                region: q.region.clone(),
                period: q.period.clone(),
                preview: None,
            };
            let s = match scope(&state, c, &place).await {
                Ok(s) => s,
                Err(r) => return r,
            };
            let region = s.tree.get(s.region).name.clone();
            if name == "ranking.xlsx" {
                let mut kids = match children_results(&state, c, &s, s.region).await {
                    Ok(k) => k,
                    Err(r) => return r,
                };
                kids.sort_by_key(|r| r.rank);
                let dims: Vec<String> = kids
                    .first()
                    .map(|r| r.dimensions.iter().map(|d| d.name.clone()).collect())
                    .unwrap_or_default();
                let mut headers = vec![
                    "排名",
                    "地区代码",
                    "地区",
                    "总分",
                    "等级",
                    "一票否决",
                    "后三位",
                ];
                headers.extend(dims.iter().map(String::as_str));
                let rows = kids
                    .iter()
                    .map(|r| {
                        let mut row: Vec<Cell> = vec![
                            r.rank.into(),
                            r.region.as_str().into(),
                            r.name.as_str().into(),
                            r.total.into(),
                            r.grade.as_str().into(),
                            (if r.veto { "是" } else { "否" }).into(),
                            (if r.bottom { "是" } else { "否" }).into(),
                        ];
                        row.extend(r.dimensions.iter().map(|d| Cell::Num(d.points)));
                        row
                    })
                    .collect();
                workbook("排名", &headers, rows)
                    .map(|b| (format!("{region}{}年排名.xlsx", s.year), b))
                    .map_err(|e| layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e))
            } else {
                let me = match state
                    .store
                    .region_score(s.period(), s.code(), &c.actor())
                    .await
                {
                    Ok(Some(m)) => m,
                    Ok(None) => return layout::error_page(StatusCode::NOT_FOUND, "没有测评结果"),
                    Err(e) => return super::dashboard::scores_error(e),
                };
                let peers = match s.tree.get(s.region).parent {
                    Some(p) => children_results(&state, c, &s, p).await.unwrap_or_default(),
                    None => Vec::new(),
                };
                let ranks = super::region::indicator_ranks(&me, &peers);
                let rows = me
                    .indicators
                    .iter()
                    .enumerate()
                    .map(|(k, i)| {
                        vec![
                            i.code.as_str().into(),
                            i.name.as_str().into(),
                            i.value.into(),
                            i.unit.as_str().into(),
                            i.points.into(),
                            i.max.into(),
                            ranks[k].map(|r| r.0 as f64).into(),
                            i.reasons.join("；").into(),
                            super::region::status(i)
                                .iter()
                                .map(|s| s.1)
                                .collect::<Vec<_>>()
                                .join("、")
                                .into(),
                        ]
                    })
                    .collect();
                workbook(
                    "指标得分",
                    &[
                        "代码",
                        "指标",
                        "数值",
                        "单位",
                        "得分",
                        "满分",
                        "同级排名",
                        "扣分原因",
                        "状态",
                    ],
                    rows,
                )
                .map(|b| (format!("{region}{}年指标得分.xlsx", s.year), b))
                .map_err(|e| layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e))
            }
        }
        "framework.xlsx" => {
            if !c.can(Cap::Structure) {
                return forbidden();
            }
            let fw = match state
                .store
                .framework_for_year(q.year.unwrap_or(i32::MAX))
                .await
            {
                Ok(Some(f)) => f,
                Ok(None) => return layout::error_page(StatusCode::NOT_FOUND, "没有指标体系"),
                Err(e) => return super::dashboard::scores_error(e),
            };
            let t = view::tree(&fw);
            let mut rows = Vec::new();
            for d in &t.dimensions {
                for m in &d.domains {
                    for i in &m.indicators {
                        rows.push(vec![
                            d.name.as_str().into(),
                            m.name.as_str().into(),
                            i.code.as_str().into(),
                            i.name.as_str().into(),
                            i.effective_weight.into(),
                            i.max.into(),
                            i.unit.as_str().into(),
                            i.department.as_str().into(),
                            i.definition.as_str().into(),
                            i.formula.as_str().into(),
                            i.rule_text.as_str().into(),
                            (if i.provisional { "待定" } else { "" }).into(),
                        ]);
                    }
                }
            }
            workbook(
                "指标体系",
                &[
                    "维度",
                    "领域",
                    "代码",
                    "指标",
                    "综合权重",
                    "满分",
                    "单位",
                    "责任部门",
                    "定义",
                    "公式",
                    "计分规则",
                    "备注",
                ],
                rows,
            )
            .map(|b| (format!("{}.xlsx", t.name), b))
            .map_err(|e| layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e))
        }
        "flags.xlsx" => {
            if !c.can(Cap::Quality) {
                return forbidden();
            }
            let wq = super::quality::QualityQuery {
                status: q.status.clone(),
                kind: q.kind.clone(),
                period: q.period.clone(),
                region: q.region.clone(),
                ..Default::default()
            };
            let (tree, flags) =
                match crate::quality::list(&state, c, &super::quality::to_query(&wq)).await {
                    Ok(x) => x,
                    Err(e) => {
                        return layout::error_page(StatusCode::UNPROCESSABLE_ENTITY, &e.message);
                    }
                };
            let fw = match state.store.known_codes().await {
                Ok(f) => f,
                Err(e) => {
                    return layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
                }
            };
            let rows = flags
                .iter()
                .map(|f| {
                    let region = tree
                        .find(&f.region)
                        .map(|i| tree.get(i).name.clone())
                        .unwrap_or_default();
                    let element = fw
                        .element_index(&f.element)
                        .map(|i| fw.elements[i].name.clone())
                        .unwrap_or_default();
                    vec![
                        Cell::Num(f.id as f64),
                        f.region.as_str().into(),
                        region.into(),
                        f.element.as_str().into(),
                        element.into(),
                        f.period.as_str().into(),
                        f.kind.label().into(),
                        f.rule.as_str().into(),
                        f.score.into(),
                        f.message.as_str().into(),
                        super::quality::status_label(&f.status).into(),
                        f.resolution.as_str().into(),
                        f.corrected_value.into(),
                    ]
                })
                .collect();
            workbook(
                "待核查问题",
                &[
                    "编号",
                    "地区代码",
                    "地区",
                    "数据项代码",
                    "数据项",
                    "期间",
                    "类型",
                    "规则",
                    "分值",
                    "说明",
                    "状态",
                    "处理说明",
                    "更正后数值",
                ],
                rows,
            )
            .map(|b| ("数据质量问题.xlsx".to_string(), b))
            .map_err(|e| layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e))
        }
        "progress.xlsx" => {
            if !(c.can(Cap::Quality) || c.can(Cap::Submit)) {
                return forbidden();
            }
            let years = state
                .years()
                .await
                .map(|y| y.as_ref().clone())
                .unwrap_or_default();
            let year = q.year.or(years.last().copied()).unwrap_or(2024);
            let b = match super::progress::board(&state, c, year).await {
                Ok(b) => b,
                Err(e) => return layout::error_page(StatusCode::UNPROCESSABLE_ENTITY, &e.message),
            };
            let mut rows = Vec::new();
            for d in &b.departments {
                for p in &b.periods {
                    let cell = &b.cells[&(d.clone(), *p)];
                    let names = |v: &mut dyn Iterator<Item = usize>| {
                        v.map(|i| b.tree.get(i).name.clone())
                            .collect::<Vec<_>>()
                            .join("、")
                    };
                    rows.push(vec![
                        d.as_str().into(),
                        p.to_string().into(),
                        cell.expected.into(),
                        cell.submitted.into(),
                        cell.missing.len().into(),
                        cell.late.len().into(),
                        names(&mut cell.missing.iter().copied()).into(),
                        names(&mut cell.late.iter().map(|x| x.0)).into(),
                        cell.approved().into(),
                        cell.in_review.len().into(),
                        cell.returned.len().into(),
                    ]);
                }
            }
            workbook(
                "报送进度",
                &[
                    "部门",
                    "期间",
                    "应报地区数",
                    "已报地区数",
                    "缺报数",
                    "逾期数",
                    "缺报地区",
                    "逾期地区",
                    "已审核数",
                    "审核中数",
                    "退回待重报数",
                ],
                rows,
            )
            .map(|b| (format!("{year}年报送进度.xlsx"), b))
            .map_err(|e| layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e))
        }
        "audit.xlsx" => {
            if !c.can(Cap::Ledger) {
                return forbidden();
            }
            let aq = AuditQuery {
                user: q.user.clone(),
                action: q.action.clone(),
                object: q.object.clone(),
                from: q.from.clone(),
                to: q.to.clone(),
                page: None,
                verify: None,
            };
            let all = match entries(&state, &aq).await {
                Ok(a) => a,
                Err(e) => return layout::error_page(StatusCode::UNPROCESSABLE_ENTITY, &e.message),
            };
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
            workbook(
                "操作日志",
                &[
                    "序号",
                    "时间（UTC）",
                    "用户",
                    "操作",
                    "对象",
                    "详情",
                    "理由",
                    "来源",
                    "哈希",
                ],
                rows,
            )
            .map(|b| ("操作日志.xlsx".to_string(), b))
            .map_err(|e| layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e))
        }
        "users.xlsx" => {
            if !(c.is(Role::SystemAdmin) || c.is(Role::SecurityAdmin)) {
                return forbidden();
            }
            let users = match state.store.users().await {
                Ok(u) => u,
                Err(e) => return super::dashboard::scores_error(e),
            };
            let rows = users
                .iter()
                .map(|u| {
                    vec![
                        u.username.as_str().into(),
                        u.roles
                            .iter()
                            .map(|r| r.label())
                            .collect::<Vec<_>>()
                            .join("、")
                            .into(),
                        u.region.clone().unwrap_or_else(|| "全省".into()).into(),
                        u.department.clone().unwrap_or_default().into(),
                        (if u.disabled { "停用" } else { "" }).into(),
                        u.locked_until.clone().unwrap_or_default().into(),
                        u.created_at.as_str().into(),
                    ]
                })
                .collect();
            workbook(
                "用户",
                &[
                    "用户名",
                    "角色",
                    "数据范围",
                    "部门",
                    "停用",
                    "锁定至",
                    "创建时间",
                ],
                rows,
            )
            .map(|b| ("用户.xlsx".to_string(), b))
            .map_err(|e| layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, &e))
        }
        _ => return layout::error_page(StatusCode::NOT_FOUND, "没有这个导出"),
    };
    match made {
        Ok((n, b)) => file(&n, b),
        Err(r) => r,
    }
}
