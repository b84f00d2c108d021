//! `pingan import boundaries FILE.geojson`: region outlines for the map.

use crate::cmd_db::{DbArgs, open_ctx, runtime, service_error};
use crate::files;
use anyhow::Result;
use clap::Args;
use pingan_service::{boundaries, cap};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct BoundaryArgs {
    /// GeoJSON FeatureCollection，每个要素一个地区（Polygon 或 MultiPolygon）
    file: PathBuf,
    #[command(flatten)]
    db: DbArgs,
    /// 要素中地区代码所在的属性（行政区划数据常为 adcode）
    #[arg(long, default_value = "code")]
    property: String,
    /// 试运行：检查并报告，不写入
    #[arg(long)]
    dry_run: bool,
}

pub fn run(a: BoundaryArgs) -> Result<ExitCode> {
    let bytes = files::read(&a.file)?;
    let name = a.file.display().to_string();
    runtime()?.block_on(async {
        let ctx = open_ctx(&a.db).await?;
        let caller = a.db.caller();
        let r = async {
            let who = caller.authorize::<cap::DirectImport>()?;
            boundaries::import(&ctx, &who, &name, &bytes, &a.property, a.dry_run).await
        }
        .await;
        ctx.store.close().await;
        let n = r.map_err(service_error)?;
        if a.dry_run {
            println!("试运行：{name} 中 {n} 个地区的边界均可导入（未写入）");
        } else {
            println!("已导入 {n} 个地区的边界（{name}）");
        }
        Ok(ExitCode::SUCCESS)
    })
}
