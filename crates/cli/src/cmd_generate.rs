//! `pingan generate`: the synthetic province.

use anyhow::{Context, Result};
use clap::Args;
use pingan_synth::Options;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct GenerateArgs {
    /// 输出目录 / output folder (created if missing)
    #[arg(long)]
    pub out: PathBuf,
    /// 随机种子：相同种子生成相同文件 / same seed, same bytes
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// 市的个数（全省合计） / cities in the province
    #[arg(long, default_value_t = 13)]
    pub cities: usize,
    /// 县（区）的个数（全省合计） / counties in the province
    #[arg(long, default_value_t = 100)]
    pub counties: usize,
    /// 乡镇（街道）的个数（全省合计） / townships in the province
    #[arg(long, default_value_t = 1000)]
    pub townships: usize,
    /// 年份范围，如 2022-2024 / years, e.g. 2022-2024
    #[arg(long, default_value = "2022-2024", value_parser = parse_years)]
    pub years: (i32, i32),
    /// 在最后一年注入 N 个已知异常（突变、连续高于均值、离群、逻辑错误、多来源差异、超期数据），
    /// 清单写入 anomalies.csv，供 pingan check --expected 计算召回率与精确率
    #[arg(long, default_value_t = 0)]
    pub anomalies: usize,
    /// 同时生成最后一年的群众调查：约 N 份答卷（含过快、漏答、矛盾、重复提交的答卷），
    /// 写入 survey-form.xlsx、frame.csv、margins.csv、responses.csv；0 = 不生成
    #[arg(long, default_value_t = 0)]
    pub survey: usize,
    /// 同时生成最后一年约 N 条网格事件与应急出警记录，写入 events.csv（events.md）；0 = 不生成
    #[arg(long, default_value_t = 0)]
    pub events: usize,
}

fn parse_years(s: &str) -> Result<(i32, i32), String> {
    let err = || format!("年份范围“{s}”无法识别：应为 2022-2024 或 2024 的形式");
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a.trim(), b.trim()),
        None => (s.trim(), s.trim()),
    };
    let a: i32 = a.parse().map_err(|_| err())?;
    let b: i32 = b.parse().map_err(|_| err())?;
    if !(1000..=9999).contains(&a) || !(1000..=9999).contains(&b) || a > b {
        return Err(err());
    }
    Ok((a, b))
}

impl GenerateArgs {
    pub fn options(&self) -> Options {
        Options {
            seed: self.seed,
            cities: self.cities,
            counties: self.counties,
            townships: self.townships,
            first_year: self.years.0,
            last_year: self.years.1,
            anomalies: self.anomalies,
        }
    }
}

/// Generate and write the files (regions, values, benchmarks, anomalies
/// when asked for, the regions' outlines); returns the number of value rows.
pub fn write(opts: &Options, dir: &Path) -> Result<usize> {
    let out =
        pingan_synth::generate(opts).map_err(|e| crate::InputFailure(format!("无法生成：{e}")))?;
    std::fs::create_dir_all(dir).with_context(|| format!("无法创建目录 {}", dir.display()))?;
    for (name, text) in [
        ("regions.csv", &out.regions),
        ("values.csv", &out.values),
        ("benchmarks.csv", &out.benchmarks),
        ("anomalies.csv", &out.anomalies),
    ] {
        if name == "anomalies.csv" && opts.anomalies == 0 {
            continue;
        }
        let p = dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("无法写入 {}", p.display()))?;
    }
    // Outlines for the 平安热力图 (`pingan import boundaries`).
    let map = pingan_synth::generate_boundaries(opts)
        .map_err(|e| crate::InputFailure(format!("无法生成：{e}")))?;
    let p = dir.join("boundaries.geojson");
    std::fs::write(&p, map).with_context(|| format!("无法写入 {}", p.display()))?;
    Ok(out.values.lines().count().saturating_sub(1))
}

/// The last year's survey on the default questionnaire, beside the
/// province's files.
pub fn write_survey(opts: &Options, respondents: usize, dir: &Path) -> Result<usize> {
    write_survey_of(opts, opts.last_year, respondents, dir)
}

/// The survey of `year` (one of the generated years) into `dir`.
pub fn write_survey_of(opts: &Options, year: i32, respondents: usize, dir: &Path) -> Result<usize> {
    let s = pingan_synth::generate_survey(opts, &pingan_synth::SurveyOptions { year, respondents })
        .map_err(|e| crate::InputFailure(format!("无法生成：{e}")))?;
    std::fs::create_dir_all(dir).with_context(|| format!("无法创建目录 {}", dir.display()))?;
    let form = pingan_input::survey::write_form(&pingan_core::survey::default::sheets())
        .map_err(|e| anyhow::anyhow!("无法生成问卷：{e}"))?;
    let p = dir.join("survey-form.xlsx");
    std::fs::write(&p, form).with_context(|| format!("无法写入 {}", p.display()))?;
    for (name, text) in [
        ("frame.csv", &s.frame),
        ("margins.csv", &s.margins),
        ("responses.csv", &s.responses),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("无法写入 {}", p.display()))?;
    }
    Ok(s.responses.lines().count().saturating_sub(1))
}

pub fn run(args: GenerateArgs) -> Result<ExitCode> {
    let rows = write(&args.options(), &args.out)?;
    if args.survey > 0 {
        let n = write_survey(&args.options(), args.survey, &args.out)?;
        eprintln!("已生成群众调查：{n} 行答卷（含重复提交）");
    }
    if args.events > 0 {
        let p = args.out.join("events.csv");
        let file =
            std::fs::File::create(&p).with_context(|| format!("无法写入 {}", p.display()))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let opts = pingan_synth::EventOptions {
            year: args.years.1,
            total: args.events,
        };
        let n = pingan_synth::write_events(&args.options(), &opts, &mut w)
            .with_context(|| format!("无法写入 {}", p.display()))?;
        std::io::Write::flush(&mut w)?;
        eprintln!("已生成网格事件与应急出警记录：{n} 行 → {}", p.display());
    }
    eprintln!(
        "已生成模拟省份：{} 个市、{} 个县（区）、{} 个乡镇（街道），{}—{} 年，{} 行数据 → {}",
        args.cities,
        args.counties,
        args.townships,
        args.years.0,
        args.years.1,
        rows,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
