//! `pingan demo`: a synthetic province generated, scored and ranked.

use crate::cmd_generate;
use crate::cmd_score::total_text;
use crate::files;
use crate::table::Table;
use anyhow::Result;
use clap::Args;
use pingan_core::num::fmt_num;
use pingan_core::score::{RegionResult, score};
use pingan_core::{Level, Period};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct DemoArgs {
    /// 数据目录；省略时在临时目录中生成 / where to write the generated files (default: a new temp folder)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// 随机种子 / seed of the synthetic province
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// 测评年度 / year to score
    #[arg(long, default_value_t = 2024)]
    pub year: i32,
}

pub fn run(args: DemoArgs) -> Result<ExitCode> {
    let dir = match args.out {
        Some(d) => d,
        None => tempfile::Builder::new()
            .prefix("pingan-demo-")
            .tempdir()?
            .keep(),
    };
    let opts = pingan_synth::Options {
        seed: args.seed,
        first_year: args.year - 2,
        last_year: args.year,
        ..Default::default()
    };
    eprintln!(
        "正在生成模拟省份（{} 个市、{} 个县、{} 个乡镇，{}—{} 年逐月数据）……",
        opts.cities, opts.counties, opts.townships, opts.first_year, opts.last_year
    );
    let rows = cmd_generate::write(&opts, &dir)?;
    let (r, v, b) = (
        dir.join("regions.csv"),
        dir.join("values.csv"),
        dir.join("benchmarks.csv"),
    );
    let inp = files::inputs(None, &r, &v, Some(&b))?;
    let period = Period::Year(args.year);
    let report = score(&inp.framework, &inp.tree, &inp.data, period, None)?;
    let fw = &inp.framework;

    println!("{}　{}　模拟省份测评结果\n", fw.name, period.label());
    let cities: Vec<&RegionResult> = report
        .results
        .iter()
        .filter(|x| x.level == Level::City.code())
        .collect();
    let mut sorted = cities.clone();
    sorted.sort_by_key(|x| x.rank);
    let mut t =
        Table::new(&["排名", "市", "总分", "等级", "最弱维度", "最弱指标", "说明"]).right(&[0, 2]);
    for c in &sorted {
        let weakest_dim = c
            .dimensions
            .iter()
            .min_by(|a, b| a.percent.total_cmp(&b.percent))
            .map(|d| format!("{}（{}%）", d.name, fmt_num(d.percent, 1)))
            .unwrap_or_default();
        let weakest_ind = c
            .indicators
            .iter()
            .filter(|i| i.max > 0.0)
            .min_by(|a, b| (a.points / a.max).total_cmp(&(b.points / b.max)))
            .map(|i| {
                format!(
                    "{}（{}/{}分）",
                    i.name,
                    fmt_num(i.points, 2),
                    fmt_num(i.max, 2)
                )
            })
            .unwrap_or_default();
        let mut notes = Vec::new();
        if c.veto {
            notes.push("一票否决");
        }
        if c.bottom {
            notes.push("后三位，约谈");
        }
        t.row(vec![
            c.rank.to_string(),
            c.name.clone(),
            total_text(fw, c.total),
            c.grade.clone(),
            weakest_dim,
            weakest_ind,
            notes.join("，"),
        ]);
    }
    println!("各市排名\n{}", t.render());

    if let Some(p) = report
        .results
        .iter()
        .find(|x| x.level == Level::Province.code())
    {
        let mut inds: Vec<_> = p.indicators.iter().filter(|i| i.max > 0.0).collect();
        inds.sort_by(|a, b| (a.points / a.max).total_cmp(&(b.points / b.max)));
        let mut t = Table::new(&["指标", "值", "得分/满分", "扣分原因"]).right(&[1, 2]);
        for i in inds.iter().take(8).filter(|i| i.points < i.max) {
            let value = i.value.map_or("未报送".into(), |v| {
                format!("{}{}", fmt_num(v, 2), i.unit)
            });
            let name = if i.provisional {
                format!("{}【待定】", i.name)
            } else {
                i.name.clone()
            };
            t.row(vec![
                format!("{} {}", i.code, name),
                value,
                format!("{}/{}", fmt_num(i.points, 2), fmt_num(i.max, 2)),
                i.reasons.join("；"),
            ]);
        }
        println!(
            "{}全省得分 {}（{}），最弱指标\n{}",
            p.name,
            fmt_num(p.total, 2),
            p.grade,
            t.render()
        );
    }
    let counties = report
        .results
        .iter()
        .filter(|x| x.level == Level::County.code())
        .count();
    let vetoed: Vec<&str> = report
        .results
        .iter()
        .filter(|x| x.veto)
        .map(|x| x.name.as_str())
        .collect();
    println!(
        "共计分 {} 个地区（其中县（区）{} 个）；一票否决 {} 个{}",
        report.results.len(),
        counties,
        vetoed.len(),
        if vetoed.is_empty() {
            String::new()
        } else {
            format!("：{}", vetoed.join("、"))
        }
    );
    println!("\n数据文件（{rows} 行）位于 {}", dir.display());
    println!(
        "重新计分：pingan score --regions {} --values {} --benchmarks {} --period {} --level county",
        r.display(),
        v.display(),
        b.display(),
        args.year
    );
    Ok(ExitCode::SUCCESS)
}
