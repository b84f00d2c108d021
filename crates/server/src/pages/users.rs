//! 用户管理 under 三员分立: the system admin creates accounts (business
//! roles only) and resets passwords; the security admin sets roles and
//! scopes and locks or unlocks accounts. Neither can do the other's job, and
//! neither sees the ledger (the audit admin's).

use crate::AppState;
use crate::kit::forms::{Fields, Flash, back};
use crate::kit::xlsx::{self, Cell};
use crate::kit::{Frame, PageResult, Viewer, card, fmt, layout};
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::html;
use pingan_core::access::{ALL_ROLES, Cap, Role};
use pingan_service::users::{self, NewUser};
use pingan_service::{ServiceError, cap};
use pingan_store::User;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(page).post(action))
        .route("/export/users.xlsx", get(export))
}

fn state_tags(u: &User) -> Vec<(&'static str, &'static str)> {
    let now = pingan_store::now();
    let mut v = Vec::new();
    if u.disabled {
        v.push(("danger", "停用"));
    }
    if u.locked_until.as_deref().is_some_and(|t| t > now.as_str()) {
        v.push(("danger", "锁定"));
    }
    if u.must_change_password {
        v.push(("warn", "须改密"));
    }
    if u.totp {
        v.push(("primary", "动态口令"));
    }
    if v.is_empty() {
        v.push(("ok", "正常"));
    }
    v
}

fn role_boxes(prefix: &str, roles: &[Role], admins: bool) -> maud::Markup {
    html! {
        @for r in ALL_ROLES.iter().filter(|r| admins || !r.is_separated_admin()) {
            label style="white-space:nowrap" {
                input type="checkbox" name="role" value=(r.code()) id=(format!("{prefix}-{}", r.code())) checked[roles.contains(r)];
                (r.label())
            }
            " "
        }
    }
}

async fn page(State(state): State<AppState>, v: Viewer, flash: Flash) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Users>()?;
    let users = users::list(&state.ctx, &who).await?;
    let tree = state.ctx.tree().await.ok();
    let region_name = |code: &Option<String>| match code {
        None => "全省".to_string(),
        Some(code) => tree
            .as_ref()
            .and_then(|t| t.find(code).map(|i| format!("{}（{code}）", t.get(i).name)))
            .unwrap_or_else(|| code.clone()),
    };
    let sys = c.can(Cap::Accounts);
    let sec = c.can(Cap::RoleGrant);
    let banner = flash.0;
    let me = c.name();
    let body = html! {
        @if sys {
            (card("新建用户", None, html! {
                form.inline method="post" action="/users" id="add-user" {
                    input type="hidden" name="op" value="add";
                    label for="new-username" { "用户名" } input type="text" id="new-username" name="username" required size="12";
                    label for="new-password" { "初始密码" } input type="password" id="new-password" name="password" required size="14";
                    label for="new-region" { "地区代码" } input type="text" id="new-region" name="region" size="8" placeholder="空=全省";
                    label for="new-department" { "部门" } input type="text" id="new-department" name="department" size="8" placeholder="报送员必填";
                    span { (role_boxes("new", &[], false)) }
                    button.btn.primary type="submit" { "创建" }
                }
                p.muted { "新用户首次登录须修改密码。系统管理员、安全管理员、审计管理员三类角色只能由安全管理员授予（三员分立）。" }
            }))
        }
        (card(&format!("用户（共 {} 个）", users.len()), Some(html! {
            a.btn.small.export href="/export/users.xlsx" download { "导出 Excel" }
        }), html! {
            div.table-wrap {
                table.data id="users" data-filter="true" data-page-size="20" {
                    thead { tr { th data-sort="text" { "用户名" } th { "角色" } th { "数据范围" } th { "部门" } th { "状态" } th data-sort="text" { "创建时间" } th { "操作" } } }
                    tbody {
                        @for u in &users {
                            tr data-user=(u.username) {
                                td { (u.username) }
                                td { @for r in &u.roles { span.tag.info { (r.label()) } " " } }
                                td { (region_name(&u.region)) }
                                td { (u.department.clone().unwrap_or_default()) }
                                td { @for (cls, t) in state_tags(u) { span class={"tag " (cls)} { (t) } " " } }
                                td { (fmt::local_time(&u.created_at)) }
                                td {
                                    @if !users::manageable(u) && u.username != me {
                                        span.muted title=(users::ADMIN_ACCOUNTS) { "仅限服务器命令行管理" }
                                    }
                                    @if sys && u.username != me && users::manageable(u) {
                                        form.inline method="post" action="/users" {
                                            input type="hidden" name="op" value="reset";
                                            input type="hidden" name="username" value=(u.username);
                                            input type="password" name="password" placeholder="新初始密码" required size="12";
                                            button.btn.small type="submit" { "重置密码" }
                                        }
                                        form.inline method="post" action="/users" data-confirm=(if u.disabled { format!("启用 {}？", u.username) } else { format!("停用 {}？停用后该账户不能登录，已登录的会话立即结束。", u.username) }) {
                                            input type="hidden" name="op" value=(if u.disabled { "enable" } else { "disable" });
                                            input type="hidden" name="username" value=(u.username);
                                            button.btn.small.danger[!u.disabled] type="submit" {
                                                @if u.disabled { "启用" } @else { "停用" }
                                            }
                                        }
                                    }
                                    @if sec && u.username != me && users::manageable(u) {
                                        details {
                                            summary { "角色与范围" }
                                            form method="post" action="/users" class="roles-form" {
                                                input type="hidden" name="op" value="roles";
                                                input type="hidden" name="username" value=(u.username);
                                                div { (role_boxes(&u.username, &u.roles, true)) }
                                                div.inline {
                                                    "地区代码 " input type="text" name="region" value=[u.region.as_deref()] size="8" placeholder="空=全省";
                                                    " 部门 " input type="text" name="department" value=[u.department.as_deref()] size="8";
                                                    " " button.btn.small.primary type="submit" { "保存" }
                                                }
                                            }
                                        }
                                        form.inline method="post" action="/users" {
                                            input type="hidden" name="op" value=(if state_tags(u).iter().any(|t| t.1 == "锁定") { "unlock" } else { "lock" });
                                            input type="hidden" name="username" value=(u.username);
                                            button.btn.small.danger type="submit" {
                                                @if state_tags(u).iter().any(|t| t.1 == "锁定") { "解锁" } @else { "锁定" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }))
    };
    Ok(layout::page(
        Frame::simple(c, "用户管理", "/users").banner(banner),
        body,
    ))
}

/// What an operation says when it worked, or why not.
fn said(r: Result<String, ServiceError>) -> Result<String, String> {
    r.map_err(|e| e.to_string())
}

async fn action(State(state): State<AppState>, v: Viewer, body: String) -> PageResult {
    let c = &v.0;
    c.authorize::<cap::Users>()?;
    let f = Fields::parse(&body);
    let roles: Result<Vec<Role>, String> =
        f.all("role").iter().map(|v| v.parse::<Role>()).collect();
    let op = f.get("op");
    let username = f.get("username");
    let ctx = &state.ctx;
    let result: Result<String, String> = match op.as_str() {
        "add" => {
            let who = c.authorize::<cap::Accounts>()?;
            match roles {
                Err(e) => Err(e),
                Ok(r) => said(
                    users::add(
                        ctx,
                        &who,
                        NewUser {
                            username: username.clone(),
                            password: f.get("password"),
                            roles: r,
                            region: f.opt("region"),
                            department: f.opt("department"),
                            must_change_password: true,
                        },
                    )
                    .await
                    .map(|u| format!("已创建用户 {}，首次登录须修改密码", u.username)),
                ),
            }
        }
        "reset" => {
            let who = c.authorize::<cap::Accounts>()?;
            said(
                users::reset_password(ctx, &who, &username, &f.get("password"), true)
                    .await
                    .map(|_| format!("已重置 {username} 的密码，下次登录须修改")),
            )
        }
        "roles" => {
            let who = c.authorize::<cap::RoleGrant>()?;
            match roles {
                Err(e) => Err(e),
                Ok(r) => said(
                    users::set_roles(
                        ctx,
                        &who,
                        &username,
                        &r,
                        f.opt("region").as_deref(),
                        f.opt("department").as_deref(),
                    )
                    .await
                    .map(|_| format!("已更新 {username} 的角色与数据范围")),
                ),
            }
        }
        "disable" | "enable" => {
            let who = c.authorize::<cap::Accounts>()?;
            said(
                users::set_disabled(ctx, &who, &username, op == "disable")
                    .await
                    .map(|_| {
                        if op == "disable" {
                            format!("已停用 {username}（其登录会话已结束）")
                        } else {
                            format!("已启用 {username}")
                        }
                    }),
            )
        }
        "lock" | "unlock" => {
            let who = c.authorize::<cap::RoleGrant>()?;
            said(
                users::set_locked(ctx, &who, &username, op == "lock", "安全管理员在网页操作")
                    .await
                    .map(|_| {
                        if op == "lock" {
                            format!("已锁定 {username}")
                        } else {
                            format!("已解锁 {username}")
                        }
                    }),
            )
        }
        _ => return Err(ServiceError::Denied(Cap::Accounts).into()),
    };
    Ok(back("/users", result).into_response())
}

/// Every account, as Excel.
async fn export(State(state): State<AppState>, v: Viewer) -> PageResult {
    let who = v.0.authorize::<cap::Users>()?;
    let users = users::list(&state.ctx, &who).await?;
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
                fmt::local_time(&u.created_at).into(),
            ]
        })
        .collect::<Vec<Vec<Cell>>>();
    let headers = [
        "用户名",
        "角色",
        "数据范围",
        "部门",
        "停用",
        "锁定至",
        "创建时间",
    ];
    let bytes = xlsx::workbook(&v.0, "用户", &headers, rows)?;
    Ok(xlsx::download("用户.xlsx", bytes))
}
