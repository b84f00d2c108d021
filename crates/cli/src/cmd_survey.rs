//! `pingan survey`: sample size, the allocation over the frame and the
//! weighted estimates of survey.md, from files.

use crate::{Format, InputFailure, files};
use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use pingan_core::survey::plan::{self, Allocation, Rate};
use pingan_core::survey::run::{self, Margin};
use std::io::Write;
use std::path::{Path, PathBuf};
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
        /// 地区 regions.csv（code,name,parent,level）
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
    ///
    /// 从文件（--form --regions --frame --responses [--margins]），或从数据库（--db --year；
    /// 加 --apply 把样本充足地区的估计值写为该年度的数据，来源“群众调查”，并重新计分）
    Estimate {
        /// 问卷（XLSForm .xlsx）
        #[arg(long, required_unless_present = "year")]
        form: Option<PathBuf>,
        /// 地区 regions.csv（code,name,parent,level）
        #[arg(long, required_unless_present = "year")]
        regions: Option<PathBuf>,
        /// 抽样框 frame.csv：region,population（每个抽样乡镇一行，16 岁及以上人口）
        #[arg(long, required_unless_present = "year")]
        frame: Option<PathBuf>,
        /// 答卷 responses.csv
        #[arg(long, required_unless_present = "year")]
        responses: Option<PathBuf>,
        /// 按县的边际 margins.csv：region,variable,category,population
        #[arg(long)]
        margins: Option<PathBuf>,
        /// 最少样本：不足时不给出估计（样本不足）
        #[arg(long = "min-n", default_value_t = 30)]
        min_n: usize,
        /// 指标体系（校验 element 列）；省略时使用内置默认体系
        #[arg(long)]
        framework: Option<PathBuf>,
        /// 从数据库中该年度的问卷、抽样框、边际和答卷估计
        #[arg(long, conflicts_with_all = ["form", "regions", "frame", "responses", "margins", "framework"])]
        year: Option<i32>,
        /// 数据库地址（与 --year 一起使用）
        #[arg(long, env = "PINGAN_DB", default_value = "sqlite://pingan.db")]
        db: String,
        /// 操作人
        #[arg(long, env = "PINGAN_USER")]
        user: Option<String>,
        /// 把估计值写为该年度的数据（来源“群众调查”）并重新计分
        #[arg(long, requires = "year")]
        apply: bool,
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
            year,
            db,
            user,
            apply,
            format,
        } => {
            let est = match year {
                Some(year) => {
                    let db = crate::cmd_db::DbArgs { db, user };
                    return from_db(&db, year, min_n, apply, format);
                }
                None => from_files(
                    &form.context("缺少 --form")?,
                    &regions.context("缺少 --regions")?,
                    &frame.context("缺少 --frame")?,
                    &responses.context("缺少 --responses")?,
                    margins.as_deref(),
                    framework.as_deref(),
                    min_n,
                )?,
            };
            print_estimates(&est, format)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) fn from_files(
    form: &Path,
    regions: &Path,
    frame: &Path,
    responses: &Path,
    margins: Option<&Path>,
    framework: Option<&Path>,
    min_n: usize,
) -> Result<run::Estimates> {
    let fw = files::framework(framework)?;
    let tree = read_tree(regions)?;
    let frame_rows = read_frame(frame, &tree)?;
    let known = |e: &str| fw.element_index(e).is_some();
    let f =
        pingan_input::survey::read_form(&form.display().to_string(), &files::read(form)?, &known)
            .map_err(|e| InputFailure(e.join("\n")))?;
    let in_frame: std::collections::HashSet<usize> = frame_rows.iter().map(|(r, _)| *r).collect();
    let read = pingan_input::survey::read_responses(
        &responses.display().to_string(),
        &files::read(responses)?,
        &f,
        &tree,
        &|r| in_frame.contains(&r),
    )
    .map_err(|e| InputFailure(e.to_string()))?;
    let margins: Vec<Margin> = match margins {
        None => Vec::new(),
        Some(m) => pingan_input::survey::read_margins(
            &m.display().to_string(),
            &files::read(m)?,
            &tree,
            &f,
        )
        .map_err(|e| InputFailure(e.to_string()))?,
    };
    Ok(run::run(
        &f,
        &tree,
        &frame_rows,
        &read.rows,
        read.duplicates,
        &margins,
        min_n,
    )
    .map_err(InputFailure)?)
}

fn from_db(
    db: &crate::cmd_db::DbArgs,
    year: i32,
    min_n: usize,
    apply: bool,
    format: Format,
) -> Result<ExitCode> {
    use crate::cmd_db::{open_ctx, print_summary, runtime, service_error};
    runtime()?.block_on(async {
        let ctx = open_ctx(db).await?;
        let caller = db.caller();
        let result = async {
            if apply {
                let who = caller.authorize::<pingan_service::cap::SurveyManage>()?;
                pingan_service::surveys::apply(&ctx, &who, year, min_n, false)
                    .await
                    .map(Err)
            } else {
                pingan_service::surveys::estimates(&ctx, year, min_n)
                    .await
                    .map(Ok)
            }
        }
        .await;
        ctx.store.close().await;
        match result.map_err(service_error)? {
            Ok(est) => print_estimates(&est, format)?,
            Err(summary) => print_summary(&summary, Format::Table)?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn print_estimates(est: &run::Estimates, format: Format) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string(est)?)?,
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
    Ok(())
}

fn read_tree(path: &std::path::Path) -> Result<pingan_core::RegionTree> {
    pingan_input::read_regions(&path.display().to_string(), &files::read(path)?)
        .map_err(|e| InputFailure(e.to_string()).into())
}

fn read_frame(path: &std::path::Path, tree: &pingan_core::RegionTree) -> Result<Vec<(usize, u64)>> {
    pingan_input::survey::read_frame(&path.display().to_string(), &files::read(path)?, tree)
        .map_err(|e| InputFailure(e.to_string()).into())
}

/// `pingan import survey-form|frame|margins|responses FILE --year Y`.
pub fn import(
    kind: &str,
    file: PathBuf,
    year: i32,
    db: &crate::cmd_db::DbArgs,
    dry_run: bool,
    format: Format,
) -> Result<ExitCode> {
    use crate::cmd_db::{create_ctx, runtime, service_error};
    use pingan_service::{cap, surveys};
    let bytes = files::read(&file)?;
    let name = file.display().to_string();
    runtime()?.block_on(async {
        let (ctx, created) = create_ctx(db).await?;
        let caller = db.caller();
        let result: pingan_service::Result<serde_json::Value> = async {
            let who = caller.authorize::<cap::SurveyManage>()?;
            if dry_run && kind != "responses" {
                return Err(pingan_service::ServiceError::invalid(
                    "--dry-run 只适用于 import responses",
                ));
            }
            Ok(match kind {
                "form" => {
                    let (f, new) = surveys::import_form(&ctx, &who, year, &name, &bytes).await?;
                    serde_json::json!({"form": f.form.id, "version": f.form.version, "year": year,
                        "questions": f.form.questions.len(), "elements": f.form.elements(), "new": new})
                }
                "frame" => {
                    let n = surveys::import_frame(&ctx, &who, year, &name, &bytes).await?;
                    serde_json::json!({"year": year, "regions": n})
                }
                "margins" => {
                    let n = surveys::import_margins(&ctx, &who, year, &name, &bytes).await?;
                    serde_json::json!({"year": year, "margins": n})
                }
                _ => serde_json::to_value(
                    surveys::import_responses(
                        &ctx,
                        &caller.authorize::<cap::SurveyAnswers>()?,
                        year,
                        &name,
                        &bytes,
                        dry_run,
                    )
                    .await?,
                )
                .map_err(|e| pingan_service::ServiceError::Internal(e.to_string()))?,
            })
        }
        .await;
        ctx.store.close().await;
        let v = result.map_err(service_error)?;
        if !dry_run {
            created.keep();
        }
        if format == Format::Json {
            println!("{v}");
        } else {
            println!("{}", summary_text(kind, &v));
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn summary_text(kind: &str, v: &serde_json::Value) -> String {
    match kind {
        "form" => format!(
            "问卷 {} 版本 {}（{} 年，{} 道题，计入数据项：{}）{}",
            v["form"].as_str().unwrap_or_default(),
            v["version"].as_str().unwrap_or_default(),
            v["year"],
            v["questions"],
            v["elements"]
                .as_array()
                .map(|a| a
                    .iter()
                    .filter_map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join("、"))
                .unwrap_or_default(),
            if v["new"] == true {
                "已导入"
            } else {
                "已存在，未变"
            }
        ),
        "frame" => format!("{} 年抽样框：{} 个乡镇（街道）", v["year"], v["regions"]),
        "margins" => format!("{} 年加权边际：{} 行", v["year"], v["margins"]),
        _ => format!(
            "答卷：{} 行，新增 {}，重复 {}；有效 {}，答题过快 {}，必答题未答 {}，不符合约束 {}；疑似直线作答 {}{}",
            v["rows"],
            v["imported"],
            v["duplicates"],
            v["valid"],
            v["too_fast"],
            v["incomplete"],
            v["constraint"],
            v["straightlining"],
            if v["dry_run"] == true {
                "（试运行，未写入）"
            } else {
                ""
            }
        ),
    }
}
