//! `pingan template`: the Excel template a department fills (seed §3.2).

use crate::InputFailure;
use crate::cmd_db::{open_store, runtime, user_error};
use anyhow::{Context, Result};
use clap::Args;
use pingan_core::Period;
use pingan_input::excel::{TemplateSpec, write_template};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
#[command(group(clap::ArgGroup::new("periods").required(true).args(["period", "year"])))]
pub struct TemplateArgs {
    /// 报送部门（指标体系中数据项的 department，如 公安）
    #[arg(long)]
    pub department: String,
    /// 期间，可多次给出：2024-06、2024Q2、2024（每个期间一个工作表）
    #[arg(long, value_parser = crate::cmd_score::parse_period)]
    pub period: Vec<Period>,
    /// 整年的逐月模板：12 个月份工作表
    #[arg(long)]
    pub year: Option<i32>,
    /// 只含该地区下的基层地区（默认全省）
    #[arg(long)]
    pub region: Option<String>,
    /// 数据库；模板中的地区和数据项取自其中
    #[arg(long, env = "PINGAN_DB", default_value = "sqlite://pingan.db")]
    pub db: String,
    /// 预先填入数据库中已有的数值（用于更正后重新报送）
    #[arg(long)]
    pub prefill: bool,
    /// 输出文件（.xlsx）
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: TemplateArgs) -> Result<ExitCode> {
    let mut periods = a.period.clone();
    if let Some(y) = a.year {
        periods.extend(Period::months(y));
    }
    periods.dedup();
    runtime()?.block_on(async {
        let store = open_store(&crate::cmd_db::DbArgs {
            db: a.db.clone(),
            user: None,
        })
        .await?;
        let year = periods.iter().map(|p| p.year()).max().unwrap_or(0);
        let fw = store
            .framework_for_year(year)
            .await
            .map_err(user_error)?
            .unwrap_or_else(pingan_core::default_framework);
        let tree = store.region_tree().await.map_err(user_error)?;
        if tree.is_empty() {
            return Err(InputFailure(
                "数据库中还没有地区：请先导入地区（pingan import regions）".into(),
            )
            .into());
        }
        let root = match &a.region {
            Some(code) => Some(
                tree.find(code)
                    .ok_or_else(|| InputFailure(format!("未知的地区代码“{code}”")))?,
            ),
            None => None,
        };
        let regions = pingan_input::excel::base_regions(&tree, root, &periods);
        let mut stored = std::collections::HashMap::new();
        if a.prefill {
            // Latest submission first within each key, as scoring reads them.
            for o in store
                .observations(&fw, &tree, year)
                .await
                .map_err(user_error)?
            {
                if periods.contains(&o.period) {
                    stored
                        .entry((o.region, o.period, o.element))
                        .or_insert(o.value);
                }
            }
        }
        store.close().await;
        let get = |r: usize, p: Period, e: usize| stored.get(&(r, p, e)).copied();
        let bytes = write_template(
            &fw,
            &tree,
            &TemplateSpec {
                department: &a.department,
                periods: &periods,
                regions: &regions,
                prefill: a
                    .prefill
                    .then_some(&get as &dyn Fn(usize, Period, usize) -> Option<f64>),
            },
        )
        .map_err(InputFailure)?;
        std::fs::write(&a.out, bytes).with_context(|| format!("无法写入 {}", a.out.display()))?;
        eprintln!(
            "已生成 {} 报送模板：{} 个期间、{} 个地区、{} 个数据项 → {}",
            a.department,
            periods.len(),
            regions.len(),
            pingan_input::excel::department_elements(&fw, &a.department).len(),
            crate::display_path(&a.out)
        );
        Ok(ExitCode::SUCCESS)
    })
}
