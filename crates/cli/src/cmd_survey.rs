//! `pingan survey`: sample size, the allocation over the frame and the
//! weighted estimates of survey.md, from files.

use crate::{Format, InputFailure, files};
use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use pingan_core::survey::plan::{self, Allocation, Rate};
use pingan_core::survey::run::{self, Margin};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum SurveyCommand {
    /// 写出内置的默认问卷（XLSForm .xlsx，可用 ODK/KoboToolbox 打开） / the default questionnaire
    Template {
        /// 输出文件
        #[arg(long)]
        out: PathBuf,
    },
    /// 样本量：给定误差范围与置信水平所需的样本数 / sample size for a margin of error
    Size {
        /// 误差范围（0.03 = ±3 个百分点）
        #[arg(long)]
        margin: f64,
        /// 置信水平
        #[arg(long, default_value_t = 0.95)]
        confidence: f64,
        /// 总体规模（省略为无限总体）
        #[arg(long)]
        population: Option<f64>,
        /// 设计效应
        #[arg(long, default_value_t = 1.0)]
        deff: f64,
        /// 预期应答率
        #[arg(long = "response-rate", default_value_t = 1.0)]
        response_rate: f64,
    },
    /// 抽样方案：把样本量分配到抽样框的各乡镇（最大余数法） / allocate a sample over the frame
    Plan {
        #[arg(long)]
        regions: PathBuf,
        /// 抽样框 frame.csv：region,population
        #[arg(long)]
        frame: PathBuf,
        /// 总样本量
        #[arg(long)]
        size: u64,
        #[arg(long, value_enum, default_value = "proportional")]
        allocation: AllocationArg,
        /// 每个地区的最少样本
        #[arg(long, default_value_t = 30)]
        min: u64,
        /// 预期应答率（邀请数 = 目标数 ÷ 应答率，向上取整）
        #[arg(long = "response-rate", default_value = "0.893")]
        response_rate: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
    },
    /// 加权估计：有效性判定、基础权重、按县边际加权、各地区估计值与置信区间 / weighted estimates
    Estimate {
        /// 问卷（XLSForm .xlsx）
        #[arg(long)]
        form: PathBuf,
        #[arg(long)]
        regions: PathBuf,
        #[arg(long)]
        frame: PathBuf,
        /// 答卷 responses.csv
        #[arg(long)]
        responses: PathBuf,
        /// 按县的边际 margins.csv：region,variable,category,population
        #[arg(long)]
        margins: Option<PathBuf>,
        /// 最少样本：不足时不给出估计（样本不足）
        #[arg(long = "min-n", default_value_t = 30)]
        min_n: usize,
        /// 指标体系（校验 element 列）；省略时使用内置默认体系
        #[arg(long)]
        framework: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AllocationArg {
    Proportional,
    Equal,
}

pub fn run(c: SurveyCommand) -> Result<ExitCode> {
    match c {
        SurveyCommand::Template { out } => {
            let bytes = pingan_input::survey::write_form(&pingan_core::survey::default::sheets())
                .map_err(|e| anyhow::anyhow!("无法生成问卷：{e}"))?;
            std::fs::write(&out, bytes)
                .map_err(|e| anyhow::anyhow!("无法写入 {}：{e}", out.display()))?;
            eprintln!("已写出默认问卷 → {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        SurveyCommand::Size {
            margin,
            confidence,
            population,
            deff,
            response_rate,
        } => {
            let n = plan::size(margin, confidence, population, deff, response_rate)
                .map_err(InputFailure)?;
            println!("{n}");
            Ok(ExitCode::SUCCESS)
        }
        SurveyCommand::Plan {
            regions,
            frame,
            size,
            allocation,
            min,
            response_rate,
            format,
        } => {
            let tree = read_tree(&regions)?;
            let frame_rows = read_frame(&frame, &tree)?;
            let rate = Rate::parse(&response_rate).map_err(InputFailure)?;
            let codes: Vec<(&str, u64)> = frame_rows
                .iter()
                .map(|(r, p)| (tree.get(*r).code.as_str(), *p))
                .collect();
            let alloc = match allocation {
                AllocationArg::Proportional => Allocation::Proportional,
                AllocationArg::Equal => Allocation::Equal,
            };
            let planned = plan::allocate(&codes, size, alloc, min, rate)
                .map_err(|e| InputFailure(format!("{}: {e}", frame.display())))?;
            let mut out = std::io::stdout().lock();
            match format {
                Format::Json => {
                    let rows: Vec<serde_json::Value> = codes
                        .iter()
                        .zip(&planned)
                        .map(|((code, pop), p)| {
                            serde_json::json!({"region": code, "population": pop,
                                "target": p.target, "invitations": p.invitations})
                        })
                        .collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
                }
                Format::Csv | Format::Table => {
                    writeln!(out, "region,population,target,invitations")?;
                    for ((code, pop), p) in codes.iter().zip(&planned) {
                        writeln!(out, "{code},{pop},{},{}", p.target, p.invitations)?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SurveyCommand::Estimate {
            form,
            regions,
            frame,
            responses,
            margins,
            min_n,
            framework,
            format,
        } => {
            let fw = files::framework(framework.as_deref())?;
            let tree = read_tree(&regions)?;
            let frame_rows = read_frame(&frame, &tree)?;
            let known = |e: &str| fw.element_index(e).is_some();
            let form_name = form.display().to_string();
            let f = pingan_input::survey::read_form(&form_name, &files::read(&form)?, &known)
                .map_err(|e| InputFailure(e.join("\n")))?;
            let in_frame: std::collections::HashSet<usize> =
                frame_rows.iter().map(|(r, _)| *r).collect();
            let read = pingan_input::survey::read_responses(
                &responses.display().to_string(),
                &files::read(&responses)?,
                &f,
                &tree,
                &|r| in_frame.contains(&r),
            )
            .map_err(|e| InputFailure(e.to_string()))?;
            let margins: Vec<Margin> = match &margins {
                None => Vec::new(),
                Some(m) => pingan_input::survey::read_margins(
                    &m.display().to_string(),
                    &files::read(m)?,
                    &tree,
                    &f,
                )
                .map_err(|e| InputFailure(e.to_string()))?
                .into_iter()
                .map(|m| Margin {
                    county: m.county,
                    variable: m.variable,
                    category: m.category,
                    population: m.population,
                })
                .collect(),
            };
            let est = run::run(
                &f,
                &tree,
                &frame_rows,
                &read.rows,
                read.duplicates,
                &margins,
                min_n,
            )
            .map_err(InputFailure)?;
            let mut out = std::io::stdout().lock();
            match format {
                Format::Json => writeln!(out, "{}", serde_json::to_string(&est)?)?,
                Format::Csv | Format::Table => {
                    writeln!(
                        out,
                        "region,level,n_valid,element,n,estimate,se,ci_low,ci_high,n_eff,deff,reason"
                    )?;
                    let o = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
                    for r in &est.regions {
                        for e in &r.elements {
                            writeln!(
                                out,
                                "{},{},{},{},{},{},{},{},{},{},{},{}",
                                r.region,
                                r.level,
                                r.n_valid,
                                e.element,
                                e.n,
                                o(e.estimate),
                                o(e.se),
                                o(e.ci_low),
                                o(e.ci_high),
                                o(e.n_eff),
                                o(e.deff),
                                e.reason.as_deref().unwrap_or("")
                            )?;
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_tree(path: &std::path::Path) -> Result<pingan_core::RegionTree> {
    pingan_input::read_regions(&path.display().to_string(), &files::read(path)?)
        .map_err(|e| InputFailure(e.to_string()).into())
}

fn read_frame(path: &std::path::Path, tree: &pingan_core::RegionTree) -> Result<Vec<(usize, u64)>> {
    pingan_input::survey::read_frame(&path.display().to_string(), &files::read(path)?, tree)
        .map_err(|e| InputFailure(e.to_string()).into())
}
