//! 用户管理 under 三员分立: the system admin creates accounts (business
//! roles only) and resets passwords; the security admin sets roles and
//! scopes and locks or unlocks accounts. Neither can do the other's job, and
//! neither sees the ledger (the audit admin's).

use super::layout::{self, Frame, Viewer, card};
use crate::AppState;
use crate::auth::Caller;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use pingan_core::access::{ALL_ROLES, Role};
use pingan_store::{NewUser, User};

fn may_manage(c: &Caller) -> bool {
    c.is(Role::SystemAdmin) || c.is(Role::SecurityAdmin)
}

#[derive(serde::Deserialize, Default)]
pub struct Msg {
    pub ok: Option<String>,
    pub err: Option<String>,
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

pub async fn page(State(state): State<AppState>, v: Viewer, Query(m): Query<Msg>) -> Response {
    let c = &v.0;
    if !may_manage(c) {
        return layout::error_page(
            StatusCode::FORBIDDEN,
            "只有系统管理员和安全管理员可以管理用户",
        );
    }
    let users = match state.store.users().await {
        Ok(u) => u,
        Err(e) => return super::dashboard::scores_error(e),
    };
    let tree = state.tree().await.ok();
    let region_name = |code: &Option<String>| match code {
        None => "全省".to_string(),
        Some(code) => tree
            .as_ref()
            .and_then(|t| t.find(code).map(|i| format!("{}（{code}）", t.get(i).name)))
            .unwrap_or_else(|| code.clone()),
    };
    let sys = c.is(Role::SystemAdmin);
    let sec = c.is(Role::SecurityAdmin);
    let banner = match (m.ok, m.err) {
        (_, Some(e)) => Some(("error", e)),
        (Some(o), None) => Some(("ok", o)),
        _ => None,
    };
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
                                td { (u.created_at.get(..10).unwrap_or(&u.created_at)) }
                                td {
                                    @if sys && u.username != c.name {
                                        form.inline method="post" action="/users" {
                                            input type="hidden" name="op" value="reset";
                                            input type="hidden" name="username" value=(u.username);
                                            input type="password" name="password" placeholder="新初始密码" required size="12";
                                            button.btn.small type="submit" { "重置密码" }
                                        }
                                    }
                                    @if sec && u.username != c.name {
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
    layout::page(
        Frame {
            caller: c,
            title: "用户管理",
            active: "/users",
            crumbs: vec![("用户管理".into(), None)],
            pickers: None,
            banner,
        },
        body,
    )
}

pub async fn action(State(state): State<AppState>, v: Viewer, body: String) -> Response {
    let c = &v.0;
    if !may_manage(c) {
        return layout::error_page(
            StatusCode::FORBIDDEN,
            "只有系统管理员和安全管理员可以管理用户",
        );
    }
    let fields: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let roles: Result<Vec<Role>, String> = fields
        .iter()
        .filter(|(n, _)| n == "role")
        .map(|(_, v)| v.parse::<Role>())
        .collect();
    let op = get("op");
    let username = get("username");
    let opt = |s: String| (!s.is_empty()).then_some(s);
    let sys = c.is(Role::SystemAdmin);
    let sec = c.is(Role::SecurityAdmin);
    if username == c.name {
        return layout::back(
            "/users",
            Err("不能修改自己的账户（请另一位管理员操作）".into()),
        );
    }
    let actor = c.actor();
    let result: Result<String, String> = match op.as_str() {
        "add" if sys => match roles {
            Err(e) => Err(e),
            Ok(r) if r.iter().any(|x| x.is_separated_admin()) => {
                Err("三员分立：管理员角色只能由安全管理员授予".into())
            }
            Ok(r) => state
                .store
                .add_user(
                    &NewUser {
                        username: username.clone(),
                        password: get("password"),
                        roles: r,
                        region: opt(get("region")),
                        department: opt(get("department")),
                        must_change_password: true,
                    },
                    &actor,
                )
                .await
                .map(|u| format!("已创建用户 {}，首次登录须修改密码", u.username))
                .map_err(|e| e.to_string()),
        },
        "reset" if sys => state
            .store
            .set_password(&username, &get("password"), true, &actor)
            .await
            .map(|_| format!("已重置 {username} 的密码，下次登录须修改"))
            .map_err(|e| e.to_string()),
        "roles" if sec => match roles {
            Err(e) => Err(e),
            Ok(r) => state
                .store
                .set_roles(
                    &username,
                    &r,
                    opt(get("region")).as_deref(),
                    opt(get("department")).as_deref(),
                    &actor,
                )
                .await
                .map(|_| format!("已更新 {username} 的角色与数据范围"))
                .map_err(|e| e.to_string()),
        },
        "lock" | "unlock" if sec => state
            .store
            .set_locked(&username, op == "lock", "安全管理员在网页操作", &actor)
            .await
            .map(|_| {
                if op == "lock" {
                    format!("已锁定 {username}")
                } else {
                    format!("已解锁 {username}")
                }
            })
            .map_err(|e| e.to_string()),
        _ => {
            return layout::error_page(StatusCode::FORBIDDEN, "三员分立：当前角色不能执行此操作");
        }
    };
    layout::back("/users", result)
}
