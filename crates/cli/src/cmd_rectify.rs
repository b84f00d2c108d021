//! `pingan rectify`: the 整改清单 from the command line, for cron — the
//! weekly list of late items (`--late`), and the automatic 复查 that closes
//! items whose indicator reached the plan's target value in a later year
//! (`--recheck`).

use crate::cmd_db::{DbArgs, open_ctx, runtime, service_error};
use anyhow::Result;
use clap::Args;
use pingan_service::{cap, rectify_checks};
use std::process::ExitCode;

#[derive(Args)]
pub struct RectifyArgs {
    #[command(flatten)]
    db: DbArgs,
    /// 问题清单所属的测评年度（--recheck 时必填）
    #[arg(long)]
    year: Option<i32>,
    /// 列出各年度逾期的整改事项（每周通报用）
    #[arg(long)]
    late: bool,
    /// 按后续年度的指标值自动复查并销号
    #[arg(long)]
    recheck: bool,
}

pub fn run(a: RectifyArgs) -> Result<ExitCode> {
    if !a.late && !a.recheck {
        anyhow::bail!("请指定 --late（逾期清单）或 --recheck（按指标自动复查）");
    }
    runtime()?.block_on(async {
        let ctx = open_ctx(&a.db).await?;
        let caller = a.db.caller();
        let r = async {
            let mut lines = Vec::new();
            if a.recheck {
                let Some(year) = a.year else {
                    return Err(pingan_service::ServiceError::invalid(
                        "--recheck 需要 --year（问题清单所属年度）",
                    ));
                };
                let who = caller.authorize::<cap::Notices>()?;
                let done = rectify_checks::auto_recheck(&ctx, &who, year).await?;
                for d in &done {
                    lines.push(format!(
                        "自动销号\t{}\t{}\t{} 年 {} = {}",
                        d.item.region, d.item.problem, d.year, d.item.indicator, d.value
                    ));
                }
                lines.push(format!("按指标自动复查：销号 {} 项", done.len()));
            }
            if a.late {
                let who = caller.authorize::<cap::Rectify>()?;
                let late = rectify_checks::late(&ctx, &who).await?;
                lines.push("地区\t年度\t问题\t状态\t整改期限\t逾期情形".into());
                for (i, why) in &late {
                    lines.push(format!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        i.region,
                        i.year,
                        i.problem,
                        i.state.label(),
                        i.deadline,
                        why
                    ));
                }
                lines.push(format!("逾期 {} 项", late.len()));
            }
            Ok(lines)
        }
        .await;
        ctx.store.close().await;
        for l in r.map_err(service_error)? {
            println!("{l}");
        }
        Ok(ExitCode::SUCCESS)
    })
}
