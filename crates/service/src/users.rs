//! Accounts under 三员分立: the system admin creates accounts (business
//! roles only) and resets passwords; the security admin sets roles and
//! scopes and locks or unlocks accounts. Neither acts on its own account,
//! and no one signed in acts on an administrator's account (system,
//! security or audit admin): those are managed only from the command line
//! on the server (the operator), so no one of the three can take over
//! another. Department API tokens too.

use crate::caller::Caller;
use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::passwords::{self, stamp_in};
use crate::{Authorized, cap};
use pingan_core::access::{Cap, Role, check_password, check_roles};
use pingan_core::labels::LedgerAction;
use pingan_store::{Actor, NewAccount, NewEntry, TokenInfo, User};
use serde_json::json;

/// An account to create.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub roles: Vec<Role>,
    pub region: Option<String>,
    pub department: Option<String>,
    pub must_change_password: bool,
}

/// Every account, for the page and its export.
pub async fn list(ctx: &Ctx, _who: &Authorized<'_, cap::Users>) -> Result<Vec<User>> {
    Ok(ctx.store.users().await?)
}

fn not_self(who: &Caller, username: &str) -> Result<()> {
    if matches!(&who.principal, crate::Principal::User(me) if me == username) {
        return Err(ServiceError::invalid(
            "不能修改自己的账户（请另一位管理员操作）",
        ));
    }
    Ok(())
}

/// 三员分立: an administrator's account (system, security or audit admin)
/// is changed only from the command line on the server.
fn not_an_admin(who: &Caller, user: &User) -> Result<()> {
    if user.roles.iter().any(|r| r.is_separated_admin())
        && !matches!(who.principal, crate::Principal::Operator(_))
    {
        return Err(ServiceError::forbidden(ADMIN_ACCOUNTS));
    }
    Ok(())
}

/// Why an administrator's account cannot be changed here.
pub const ADMIN_ACCOUNTS: &str = "三员分立：系统管理员、安全管理员、审计管理员的账户只能由运维人员在服务器上用命令行管理（pingan user …）";

/// Whether a signed-in administrator may act on this account at all (the
/// page shows no buttons for the ones it may not).
pub fn manageable(user: &User) -> bool {
    !user.roles.iter().any(|r| r.is_separated_admin())
}

async fn existing(ctx: &Ctx, username: &str) -> Result<User> {
    ctx.store
        .user(username)
        .await?
        .ok_or_else(|| ServiceError::invalid(format!("用户 {username} 不存在")))
}

/// A new account. The three administrator roles are granted only by a
/// caller who grants roles (the security admin, or the operator).
pub async fn add(ctx: &Ctx, who: &Authorized<'_, cap::Accounts>, new: NewUser) -> Result<User> {
    not_self(who, &new.username)?;
    if new.roles.iter().any(|r| r.is_separated_admin()) && !who.can(Cap::RoleGrant) {
        return Err(ServiceError::invalid(
            "三员分立：管理员角色只能由安全管理员授予",
        ));
    }
    let name = new.username.trim();
    if name.is_empty()
        || name.chars().count() > 64
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ServiceError::invalid(
            "用户名不能为空、不能含空白字符，最长 64 个字符",
        ));
    }
    check_roles(&new.roles).map_err(ServiceError::Invalid)?;
    if new.roles.contains(&Role::Department) && new.department.as_deref().is_none_or(str::is_empty)
    {
        return Err(ServiceError::invalid(
            "部门报送员必须指定部门（--department）",
        ));
    }
    if let Some(r) = &new.region
        && !ctx.store.region_exists(r).await?
    {
        return Err(ServiceError::invalid(format!("地区 {r} 不存在")));
    }
    check_password(&new.password, name).map_err(ServiceError::Invalid)?;
    if ctx.store.user(name).await?.is_some() {
        return Err(ServiceError::invalid(format!("用户 {name} 已存在")));
    }
    let hash = passwords::hash(new.password.clone()).await?;
    let roles: Vec<&str> = new.roles.iter().map(|r| r.code()).collect();
    let entry = NewEntry::new(
        LedgerAction::UserAdd,
        &format!("user:{name}"),
        json!({"roles": roles.join(","), "region": new.region, "department": new.department,
               "must_change_password": new.must_change_password}),
    );
    ctx.store
        .insert_user(
            &NewAccount {
                username: name,
                password_hash: &hash,
                roles: &new.roles,
                region: new.region.as_deref(),
                department: new.department.as_deref(),
                must_change_password: new.must_change_password,
            },
            &entry,
            &who.actor(),
        )
        .await?;
    ctx.store
        .user(name)
        .await?
        .ok_or_else(|| ServiceError::Internal("新用户未能保存".into()))
}

/// Set a password (checked against the rule); `must_change` forces another
/// change at the next login. Every session of the account ends.
pub(crate) async fn set_password(
    ctx: &Ctx,
    username: &str,
    password: &str,
    must_change: bool,
    actor: &Actor,
) -> Result<()> {
    existing(ctx, username).await?;
    check_password(password, username).map_err(ServiceError::Invalid)?;
    let hash = passwords::hash(password.to_string()).await?;
    Ok(ctx
        .store
        .update_password(username, &hash, must_change, actor)
        .await?)
}

/// A new initial password (an administrator's reset), to be changed at
/// the next login unless `must_change` is false (the command line may).
pub async fn reset_password(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Accounts>,
    username: &str,
    password: &str,
    must_change: bool,
) -> Result<()> {
    not_self(who, username)?;
    not_an_admin(who, &existing(ctx, username).await?)?;
    set_password(ctx, username, password, must_change, &who.actor()).await
}

/// Change an account's roles and data scope. 三员分立 and the department
/// rule hold as for a new account; open sessions end so the new rights
/// apply at once.
pub async fn set_roles(
    ctx: &Ctx,
    who: &Authorized<'_, cap::RoleGrant>,
    username: &str,
    roles: &[Role],
    region: Option<&str>,
    department: Option<&str>,
) -> Result<User> {
    not_self(who, username)?;
    let user = existing(ctx, username).await?;
    not_an_admin(who, &user)?;
    check_roles(roles).map_err(ServiceError::Invalid)?;
    let department = department.filter(|d| !d.trim().is_empty());
    let region = region.filter(|r| !r.trim().is_empty());
    if roles.contains(&Role::Department) && department.is_none() {
        return Err(ServiceError::invalid("部门报送员必须指定部门"));
    }
    if let Some(r) = region
        && !ctx.store.region_exists(r).await?
    {
        return Err(ServiceError::invalid(format!("地区 {r} 不存在")));
    }
    let codes = |rs: &[Role]| rs.iter().map(|r| r.code()).collect::<Vec<_>>().join(",");
    let entry = NewEntry::new(
        LedgerAction::UserRoles,
        &format!("user:{username}"),
        json!({"before": {"roles": codes(&user.roles), "region": user.region, "department": user.department},
               "after": {"roles": codes(roles), "region": region, "department": department}}),
    );
    ctx.store
        .update_roles(&user, roles, region, department, &entry, &who.actor())
        .await?;
    existing(ctx, username).await
}

/// Lock (indefinitely, until unlocked) or unlock an account.
pub async fn set_locked(
    ctx: &Ctx,
    who: &Authorized<'_, cap::RoleGrant>,
    username: &str,
    locked: bool,
    reason: &str,
) -> Result<()> {
    not_self(who, username)?;
    let user = existing(ctx, username).await?;
    not_an_admin(who, &user)?;
    let until: Option<String> = locked.then(|| "9999-12-31T23:59:59.999Z".to_string());
    let mut entry = NewEntry::new(
        if locked {
            LedgerAction::UserLock
        } else {
            LedgerAction::UserUnlock
        },
        &format!("user:{username}"),
        json!({"before": user.locked_until, "after": until}),
    );
    entry.reason = crate::text::clean(crate::text::NOTE.named("原因"), reason)?;
    Ok(ctx
        .store
        .update_lock(username, until.as_deref(), &entry, &who.actor())
        .await?)
}

/// Stop an account's use (停用) or allow it again (启用): the system
/// admin's part of an account's life, as creating it is. Not one's own,
/// not an administrator's (三员分立).
pub async fn set_disabled(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Accounts>,
    username: &str,
    disabled: bool,
) -> Result<()> {
    not_self(who, username)?;
    let user = existing(ctx, username).await?;
    not_an_admin(who, &user)?;
    let entry = NewEntry::new(
        if disabled {
            LedgerAction::UserDisable
        } else {
            LedgerAction::UserEnable
        },
        &format!("user:{username}"),
        json!({"before": user.disabled, "after": disabled}),
    );
    Ok(ctx
        .store
        .update_disabled(username, disabled, &entry, &who.actor())
        .await?)
}

/// Turn the second factor on (returns the new secret, shown once) or off.
pub async fn set_totp(
    ctx: &Ctx,
    who: &Authorized<'_, cap::RoleGrant>,
    username: &str,
    enable: bool,
) -> Result<Option<String>> {
    not_self(who, username)?;
    not_an_admin(who, &existing(ctx, username).await?)?;
    let secret = enable.then(crate::totp::new_secret);
    ctx.store
        .update_totp(username, secret.as_deref(), &who.actor())
        .await?;
    Ok(secret)
}

/// A department system's API token, valid `days`: its id and its secret,
/// which is shown once and stored hashed.
pub async fn create_token(
    ctx: &Ctx,
    who: &Authorized<'_, cap::RoleGrant>,
    name: &str,
    department: &str,
    region: Option<&str>,
    days: i64,
) -> Result<(i64, String)> {
    if department.trim().is_empty() {
        return Err(ServiceError::invalid("令牌必须属于一个部门"));
    }
    if !(1..=3660).contains(&days) {
        return Err(ServiceError::invalid("有效期应在 1 到 3660 天之间"));
    }
    if let Some(r) = region
        && !ctx.store.region_exists(r).await?
    {
        return Err(ServiceError::invalid(format!("地区 {r} 不存在")));
    }
    let expires = stamp_in(time::Duration::days(days));
    Ok(ctx
        .store
        .insert_token(name, department, region, &expires, &who.actor())
        .await?)
}

pub async fn revoke_token(ctx: &Ctx, who: &Authorized<'_, cap::RoleGrant>, id: i64) -> Result<()> {
    Ok(ctx.store.revoke_token(id, &who.actor()).await?)
}

pub async fn tokens(ctx: &Ctx, _who: &Authorized<'_, cap::RoleGrant>) -> Result<Vec<TokenInfo>> {
    Ok(ctx.store.tokens().await?)
}
