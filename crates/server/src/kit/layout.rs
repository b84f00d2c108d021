//! The page frame: left navigation, breadcrumb, pickers, banner.

use super::assets;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use pingan_core::access::Cap;
use pingan_service::Caller;

/// The navigation a caller may use, in order: (path, label).
pub fn nav(c: &Caller) -> Vec<(&'static str, &'static str)> {
    let entries: [(Cap, &str, &str); 15] = [
        (Cap::Scores, "/", "测评总览"),
        (Cap::Structure, "/framework", "指标体系"),
        (Cap::Submit, "/submit", "数据报送"),
        (Cap::Progress, "/progress", "报送进度"),
        (Cap::Quality, "/quality", "数据质量"),
        (Cap::ReviewBoard, "/review", "数据审核"),
        (Cap::FieldRead, "/verify", "实地核查"),
        (Cap::Callbacks, "/callbacks", "回访抽查"),
        (Cap::Surveys, "/surveys", "群众调查"),
        (Cap::Rectify, "/rectify", "整改督办"),
        (Cap::Notices, "/consequences", "约谈与奖惩"),
        (Cap::Publish, "/objections", "异议处理"),
        (Cap::Publish, "/effect", "效果评估"),
        (Cap::Ledger, "/audit", "操作日志"),
        (Cap::Users, "/users", "用户管理"),
    ];
    let mut v: Vec<(&'static str, &'static str)> = vec![("/work", "工作台")];
    v.extend(
        entries
            .into_iter()
            .filter(|(cap, _, _)| c.can(*cap))
            .map(|(_, path, label)| (path, label)),
    );
    if c.can(Cap::Scores) {
        v.push(("/map", "平安热力图"));
        v.push(("/risk", "风险预警"));
        v.push(("/events", "网格事件"));
        v.push(("/search", "搜索"));
        v.push(("/downloads", "下载中心"));
    }
    // Interviewers and the office typing paper questionnaires in.
    if c.can(Cap::SurveyAnswers) {
        v.push(("/collect/", "问卷采集"));
    }
    v.push(("/help", "帮助"));
    v.push(("/password", "修改密码"));
    v
}

pub struct Frame<'a> {
    pub caller: &'a Caller,
    pub title: &'a str,
    /// The active navigation entry.
    pub active: &'a str,
    /// Breadcrumb: label and link (none for the current page).
    pub crumbs: Vec<(String, Option<String>)>,
    pub pickers: Option<Markup>,
    pub banner: Option<(&'static str, String)>,
}

impl<'a> Frame<'a> {
    /// A page of the navigation entry `active`, its title its only crumb.
    pub fn simple(caller: &'a Caller, title: &'a str, active: &'a str) -> Frame<'a> {
        Frame {
            caller,
            title,
            active,
            crumbs: vec![(title.to_string(), None)],
            pickers: None,
            banner: None,
        }
    }

    pub fn banner(mut self, banner: Option<(&'static str, String)>) -> Frame<'a> {
        self.banner = banner;
        self
    }
}

pub fn page(f: Frame<'_>, body: Markup) -> Response {
    page_with_head(f, html! {}, body)
}

/// `page` with more in its head (a web app manifest).
pub fn page_with_head(f: Frame<'_>, more_head: Markup, body: Markup) -> Response {
    let nav = nav(f.caller);
    let roles: Vec<&str> = f.caller.roles.iter().map(|r| r.label()).collect();
    let name = f.caller.name();
    Html(
        html! {
            (DOCTYPE)
            html lang="zh-CN" {
                head { (head(f.title)) (more_head) }
                body {
                    div.layout {
                        aside.side {
                            div.brand { "平安建设测评平台" }
                            nav {
                                @for (href, label) in &nav {
                                    a href=(href) class=[(*href == f.active).then_some("active")] { (label) }
                                }
                            }
                        }
                        div.main {
                            header.topbar {
                                div.crumb {
                                    @for (i, (label, link)) in f.crumbs.iter().enumerate() {
                                        @if i > 0 { span.sep { "/" } }
                                        @match link {
                                            Some(l) => a href=(l) { (label) },
                                            None => span { (label) },
                                        }
                                    }
                                }
                                div.user {
                                    button.btn.small.no-print type="button" data-print title="打印本页（A4）" { "打印" }
                                    " "
                                    span title=(roles.join("、")) { (name) "（" (roles.join("、")) "）" }
                                    " "
                                    form method="post" action="/logout" {
                                        button.btn.small type="submit" id="logout" { "退出" }
                                    }
                                }
                            }
                            @if let Some(p) = &f.pickers { div.pickers { (p) } }
                            main.content {
                                // On paper only: what this is, whose view, when.
                                div.print-head {
                                    h1 { "平安建设测评平台 · " (f.title) }
                                    p {
                                        "数据范围：" (f.caller.region.as_deref().unwrap_or("全省"))
                                        @if let Some(d) = &f.caller.department { " · " (d) }
                                        " · 打印人：" (name)
                                        " · 生成时间：" (super::fmt::local_time(&pingan_store::now()))
                                    }
                                }
                                @if let Some((kind, text)) = &f.banner {
                                    div class={"banner " (kind)} { (text) }
                                }
                                (body)
                            }
                        }
                    }
                    script src=(assets::url("echarts.min.js")) {}
                    script src=(assets::url("app.js")) {}
                }
            }
        }
        .into_string(),
    )
    .into_response()
}

pub fn head(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · 平安建设测评平台" }
        link rel="stylesheet" href=(assets::url("app.css"));
    }
}

/// JSON for a chart, safe inside a `<script>` element.
pub fn data_script(id: &str, value: &serde_json::Value) -> Markup {
    let text = value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    html! { script type="application/json" id=(id) { (PreEscaped(text)) } }
}

/// A card with a title, optional tools on the right, and a body.
pub fn card(title: &str, tools: Option<Markup>, body: Markup) -> Markup {
    html! {
        section.card {
            h2 { (title) @if let Some(t) = tools { span.tools { (t) } } }
            div.body { (body) }
        }
    }
}

/// A region's name by code, the code itself when unknown.
pub fn region_name(tree: &pingan_core::RegionTree, code: &str) -> String {
    tree.find(code)
        .map(|i| tree.get(i).name.clone())
        .unwrap_or_else(|| code.to_string())
}
