//! `pingan publish`: a year's approved results made public (api.md
//! `/api/v1/public/{year}/scores`), opening the 公示 window.

use crate::cmd_db::{DbArgs, open_ctx, runtime, service_error};
use anyhow::Result;
use clap::Args;
use pingan_service::{cap, publish};
use std::process::ExitCode;

#[derive(Args)]
pub struct PublishArgs {
    #[command(flatten)]
    db: DbArgs,
    /// 测评年度
    #[arg(long)]
    year: i32,
    /// 公示期（天）
    #[arg(long, default_value_t = publish::WINDOW_DAYS)]
    window_days: i64,
    /// 公示期满、异议处理完毕后正式发布（不再更改）
    #[arg(long = "final")]
    final_: bool,
}

pub fn run(a: PublishArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let ctx = open_ctx(&a.db).await?;
        let caller = a.db.caller();
        if a.final_ {
            let r = async {
                let who = caller.authorize::<cap::Publish>()?;
                publish::finalize(&ctx, &who, a.year).await
            }
            .await;
            ctx.store.close().await;
            r.map_err(service_error)?;
            println!("{} 年测评结果已正式发布", a.year);
            return Ok(ExitCode::SUCCESS);
        }
        let r = async {
            let who = caller.authorize::<cap::Publish>()?;
            publish::publish(&ctx, &who, a.year, a.window_days).await
        }
        .await;
        ctx.store.close().await;
        let p = r.map_err(service_error)?;
        let regions = serde_json::from_str::<Vec<serde_json::Value>>(&p.results)
            .map_or(0, |v| v.len());
        println!(
            "已公开 {} 年测评结果（{regions} 个地区），公示期至 {}；公开接口 /api/v1/public/{}/scores，公开页面 /public/{}",
            a.year, p.window_ends, a.year, a.year
        );
        Ok(ExitCode::SUCCESS)
    })
}
