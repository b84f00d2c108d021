//! `pingan user …` and `pingan token …`: accounts and department tokens for
//! scripting (the server's pages do the same for administrators).

use crate::InputFailure;
use crate::cmd_db::{DbArgs, open_ctx, runtime, service_error};
use crate::table::Table;
use anyhow::Result;
use clap::Subcommand;
use pingan_core::access::parse_roles;
use pingan_service::cap;
use pingan_service::users::{self, NewUser};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum UserCommand {
    /// 新建账户；密码取自 PINGAN_PASSWORD 或提示输入 / add an account
    Add {
        name: String,
        /// 角色代码，逗号分隔：office_admin、department、collector、verifier、expert、region_official、supervisor、system_admin、security_admin、audit_admin
        #[arg(long = "role")]
        roles: String,
        /// 数据范围：地区代码（省略为全省）
        #[arg(long)]
        region: Option<String>,
        /// 部门（部门报送员必填）
        #[arg(long)]
        department: Option<String>,
        /// 首次登录不强制修改密码（演示账户用）
        #[arg(long)]
        no_force_change: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// 列出账户 / list accounts
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// 锁定账户 / lock an account
    Lock {
        name: String,
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// 解锁账户 / unlock an account
    Unlock {
        name: String,
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// 开启（或 --disable 关闭）动态口令第二因素 / turn the TOTP second factor on or off
    Totp {
        name: String,
        #[arg(long)]
        disable: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// 重设密码（下次登录须修改，除非 --no-force-change） / reset a password
    Passwd {
        name: String,
        #[arg(long)]
        no_force_change: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// 为部门系统创建 API 令牌（只显示一次） / create a department token
    Create {
        /// 令牌名称，如“公安数据接口”
        #[arg(long)]
        name: String,
        #[arg(long)]
        department: String,
        /// 数据范围：地区代码（省略为全省）
        #[arg(long)]
        region: Option<String>,
        /// 有效天数
        #[arg(long, default_value_t = 365)]
        days: i64,
        #[command(flatten)]
        db: DbArgs,
    },
    /// 吊销令牌 / revoke a token
    Revoke {
        id: i64,
        #[command(flatten)]
        db: DbArgs,
    },
    /// 列出令牌 / list tokens
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// The new password: PINGAN_PASSWORD, or asked twice on the terminal.
fn password(name: &str) -> Result<String> {
    if let Ok(p) = std::env::var("PINGAN_PASSWORD") {
        return Ok(p);
    }
    let first = rpassword::prompt_password(format!("{name} 的新密码：")).map_err(|_| {
        InputFailure("无法读取密码：请在终端中输入，或设置环境变量 PINGAN_PASSWORD".into())
    })?;
    let again = rpassword::prompt_password("再输入一次：")
        .map_err(|_| InputFailure("无法读取密码".into()))?;
    if first != again {
        return Err(InputFailure("两次输入的密码不一致".into()).into());
    }
    Ok(first)
}

pub fn user(cmd: UserCommand) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match cmd {
            UserCommand::Add {
                name,
                roles,
                region,
                department,
                no_force_change,
                db,
            } => {
                let roles = parse_roles(&roles).map_err(InputFailure)?;
                let pw = password(&name)?;
                let ctx = open_ctx(&db).await?;
                let new = NewUser {
                    username: name,
                    password: pw,
                    roles,
                    region,
                    department,
                    must_change_password: !no_force_change,
                };
                let caller = db.caller();
                let who = caller.authorize::<cap::Accounts>().map_err(service_error)?;
                let u = users::add(&ctx, &who, new).await;
                ctx.store.close().await;
                let u = u.map_err(service_error)?;
                let roles: Vec<&str> = u.roles.iter().map(|r| r.label()).collect();
                println!(
                    "已创建账户 {}（{}）{}",
                    u.username,
                    roles.join("、"),
                    if u.must_change_password {
                        "，首次登录须修改密码"
                    } else {
                        ""
                    }
                );
            }
            UserCommand::List { db } => {
                let ctx = open_ctx(&db).await?;
                let caller = db.caller();
                let who = caller.authorize::<cap::Users>().map_err(service_error)?;
                let users = users::list(&ctx, &who).await;
                ctx.store.close().await;
                let users = users.map_err(service_error)?;
                let mut t = Table::new(&["用户名", "角色", "地区", "部门", "状态", "创建时间"]);
                let now = pingan_store::now();
                for u in users {
                    let roles: Vec<&str> = u.roles.iter().map(|r| r.label()).collect();
                    let state = if u.disabled {
                        "停用".to_string()
                    } else if u.locked_until.as_deref().is_some_and(|t| t > now.as_str()) {
                        "锁定".to_string()
                    } else if u.must_change_password {
                        "待改密码".to_string()
                    } else {
                        "正常".to_string()
                    };
                    t.row(vec![
                        u.username,
                        roles.join("、"),
                        u.region.unwrap_or_else(|| "全省".into()),
                        u.department.unwrap_or_default(),
                        state,
                        u.created_at,
                    ]);
                }
                print!("{}", t.render());
            }
            UserCommand::Lock { name, reason, db } => lock(&name, true, &reason, &db).await?,
            UserCommand::Unlock { name, reason, db } => lock(&name, false, &reason, &db).await?,
            UserCommand::Totp { name, disable, db } => {
                let ctx = open_ctx(&db).await?;
                let caller = db.caller();
                let who = caller.authorize::<cap::RoleGrant>().map_err(service_error)?;
                let secret = users::set_totp(&ctx, &who, &name, !disable).await;
                ctx.store.close().await;
                match secret.map_err(service_error)? {
                    Some(s) => {
                        println!("{}", pingan_service::totp::url(&s, &name));
                        eprintln!("已为 {name} 开启动态口令：请用验证器应用添加上面的地址（或手动输入密钥 {s}）；只显示这一次");
                    }
                    None => println!("已关闭 {name} 的动态口令"),
                }
            }
            UserCommand::Passwd {
                name,
                no_force_change,
                db,
            } => {
                let pw = password(&name)?;
                let ctx = open_ctx(&db).await?;
                let caller = db.caller();
                let who = caller.authorize::<cap::Accounts>().map_err(service_error)?;
                let r = users::reset_password(&ctx, &who, &name, &pw, !no_force_change).await;
                ctx.store.close().await;
                r.map_err(service_error)?;
                println!("已重设 {name} 的密码");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

async fn lock(name: &str, lock: bool, reason: &str, db: &DbArgs) -> Result<()> {
    let ctx = open_ctx(db).await?;
    let caller = db.caller();
    let who = caller
        .authorize::<cap::RoleGrant>()
        .map_err(service_error)?;
    let r = users::set_locked(&ctx, &who, name, lock, reason).await;
    ctx.store.close().await;
    r.map_err(service_error)?;
    println!("已{}账户 {name}", if lock { "锁定" } else { "解锁" });
    Ok(())
}

pub fn token(cmd: TokenCommand) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match cmd {
            TokenCommand::Create {
                name,
                department,
                region,
                days,
                db,
            } => {
                let ctx = open_ctx(&db).await?;
                let caller = db.caller();
                let who = caller
                    .authorize::<cap::RoleGrant>()
                    .map_err(service_error)?;
                let r =
                    users::create_token(&ctx, &who, &name, &department, region.as_deref(), days)
                        .await;
                ctx.store.close().await;
                let (id, tok) = r.map_err(service_error)?;
                println!("{tok}");
                eprintln!(
                    "令牌 {id}（{department}，{days} 天有效）只显示这一次，请妥善交给部门系统管理员"
                );
            }
            TokenCommand::Revoke { id, db } => {
                let ctx = open_ctx(&db).await?;
                let caller = db.caller();
                let who = caller
                    .authorize::<cap::RoleGrant>()
                    .map_err(service_error)?;
                let r = users::revoke_token(&ctx, &who, id).await;
                ctx.store.close().await;
                r.map_err(service_error)?;
                println!("已吊销令牌 {id}");
            }
            TokenCommand::List { db } => {
                let ctx = open_ctx(&db).await?;
                let caller = db.caller();
                let who = caller
                    .authorize::<cap::RoleGrant>()
                    .map_err(service_error)?;
                let tokens = users::tokens(&ctx, &who).await;
                ctx.store.close().await;
                let tokens = tokens.map_err(service_error)?;
                let mut t =
                    Table::new(&["编号", "名称", "部门", "地区", "有效期至", "状态"]).right(&[0]);
                for x in tokens {
                    t.row(vec![
                        x.id.to_string(),
                        x.name,
                        x.department,
                        x.region.unwrap_or_else(|| "全省".into()),
                        x.expires_at,
                        if x.revoked {
                            "已吊销".into()
                        } else {
                            "有效".into()
                        },
                    ]);
                }
                print!("{}", t.render());
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
