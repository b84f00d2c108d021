//! `pingan sensitivity`: how sure is the ranking under uncertain weights?

use crate::cmd_score::{parse_level, parse_period};
use crate::table::Table;
use crate::{Format, InputFailure, files};
use anyhow::Result;
use clap::Args;
use pingan_core::num::fmt_num;
use pingan_core::score::evaluate_all;
use pingan_core::sensitivity::{self, Options};
use pingan_core::{Level, Period};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct SensitivityArgs {
    /// 指标体系文件；省略时使用内置默认体系
    #[arg(long)]
    framework: Option<PathBuf>,
    #[arg(long)]
    regions: PathBuf,
    #[arg(long)]
    values: PathBuf,
    #[arg(long)]
    benchmarks: Option<PathBuf>,
    #[arg(long, value_parser = parse_period)]
    period: Period,
    /// 只分析该层级（同级排名）；省略时分析全部地区
    #[arg(long, value_parser = parse_level)]
    level: Option<Level>,
    /// 蒙特卡洛样本数
    #[arg(long, default_value_t = 1000)]
    samples: usize,
    /// 每个权重的扰动幅度（0.2 = ±20%）
    #[arg(long, default_value_t = 0.2)]
    spread: f64,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn run(a: SensitivityArgs) -> Result<ExitCode> {
    let inp = files::inputs(
        a.framework.as_deref(),
        &a.regions,
        &a.values,
        a.benchmarks.as_deref(),
    )?;
    let eval = evaluate_all(&inp.framework, &inp.tree, &inp.data, a.period, a.level)
        .map_err(|e| files::score_failure(e, a.benchmarks.as_deref()))?;
    let opts = Options {
        samples: a.samples,
        spread: a.spread,
        seed: a.seed,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let r = sensitivity::analyse(&eval, &opts).map_err(|e| InputFailure(e.to_string()))?;
    if a.format == Format::Json {
        use std::io::Write;
        writeln!(
            std::io::stdout().lock(),
            "{}",
            serde_json::to_string_pretty(&r)?
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "权重不确定性分析：{} 个样本，每个权重扰动 ±{}%，随机种子 {}",
        r.samples,
        fmt_num(r.spread * 100.0, 2),
        r.seed
    );
    let mut t = Table::new(&[
        "地区",
        "名义排名",
        "中位排名",
        "90%区间",
        "保持原名次的比例",
        "判断",
    ])
    .right(&[1, 2, 4]);
    for x in &r.results {
        let verdict = if x.p05 == x.p95 && x.p05 == x.nominal as f64 {
            "稳定"
        } else if x.p95 - x.p05 <= 1.0 {
            "基本稳定"
        } else {
            "易受权重影响"
        };
        t.row(vec![
            x.name.clone(),
            x.nominal.to_string(),
            fmt_num(x.median, 1),
            format!("{}–{}", fmt_num(x.p05, 1), fmt_num(x.p95, 1)),
            format!("{}%", fmt_num(x.stable_share * 100.0, 1)),
            verdict.to_string(),
        ]);
    }
    print!("{}", t.render());
    println!(
        "与名义排名的斯皮尔曼相关系数：中位数 {}，5%分位 {}，最小 {}",
        fmt_num(r.spearman.median, 4),
        fmt_num(r.spearman.p05, 4),
        fmt_num(r.spearman.min, 4)
    );
    let mut t = Table::new(&[
        "维度",
        "权重变化",
        "调整后权重",
        "斯皮尔曼相关",
        "名次变化的地区",
        "最大名次变化",
    ])
    .right(&[1, 2, 3, 4, 5]);
    for s in &r.oat {
        t.row(vec![
            format!("{} {}", s.dimension, s.name),
            format!("{:+}%", fmt_num(s.factor * 100.0, 1)),
            fmt_num(s.weight, 4),
            fmt_num(s.spearman, 4),
            s.changed.to_string(),
            s.max_shift.to_string(),
        ]);
    }
    print!("逐一调整维度权重\n{}", t.render());
    Ok(ExitCode::SUCCESS)
}
