//! `pingan forecast` (forecast.md §1): the monthly series of elements for
//! every region — county and city series the roll-ups scoring resolves —
//! forecast from the months up to `--train-end` for `--horizon` months,
//! each series by the model its own backtest picks (`pingan-forecast`);
//! `--backtest` prints how well each model did per element instead.

use crate::{InputFailure, files};
use anyhow::Result;
use clap::{Args, ValueEnum};
use pingan_core::Period;
use pingan_core::framework::Frequency;
use pingan_forecast::{Backtest, Model, Outcome};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ForecastArgs {
    /// 指标体系文件（TOML）；省略时使用内置默认体系
    #[arg(long)]
    framework: Option<PathBuf>,
    /// 地区文件 regions.csv
    #[arg(long)]
    regions: PathBuf,
    /// 数据文件 values.csv
    #[arg(long)]
    values: PathBuf,
    /// 要预测的月度数据项，逗号分隔
    #[arg(long, value_delimiter = ',', required = true)]
    element: Vec<String>,
    /// 训练数据的最后一个月，如 2023-12
    #[arg(long, value_parser = month)]
    train_end: Period,
    /// 预测月数（1–60）
    #[arg(long, default_value_t = 12)]
    horizon: usize,
    /// 预测区间的置信水平（0–1）
    #[arg(long, default_value_t = 0.8)]
    level: f64,
    /// 只预测该地区
    #[arg(long)]
    region: Option<String>,
    #[arg(long, value_enum, default_value = "csv")]
    format: OutFormat,
    /// 不预测，只输出各数据项各模型的回测 MASE 与区间覆盖率
    #[arg(long)]
    backtest: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutFormat {
    Csv,
    Json,
}

fn month(s: &str) -> Result<Period, String> {
    match s.parse::<Period>() {
        Ok(p @ Period::Month(..)) => Ok(p),
        Ok(_) => Err(format!("“{s}”不是月份：应为 YYYY-MM，如 2023-12")),
        Err(e) => Err(e.to_string()),
    }
}

/// The months after `p`, `n` of them.
fn after(p: Period, n: usize) -> Vec<Period> {
    let Period::Month(mut y, mut m) = p else {
        return Vec::new();
    };
    (0..n)
        .map(|_| {
            m += 1;
            if m > 12 {
                (y, m) = (y + 1, 1);
            }
            Period::Month(y, m)
        })
        .collect()
}

#[derive(serde::Serialize)]
struct Row<'a> {
    region: &'a str,
    element: &'a str,
    period: String,
    forecast: f64,
    lo: f64,
    hi: f64,
    model: &'static str,
}

pub fn run(a: ForecastArgs) -> Result<ExitCode> {
    if !(1..=60).contains(&a.horizon) {
        return Err(InputFailure(format!("--horizon {} 应在 1 到 60 之间", a.horizon)).into());
    }
    if !(a.level > 0.0 && a.level < 1.0) {
        return Err(InputFailure(format!("--level {} 应在 0 与 1 之间", a.level)).into());
    }
    let inp = files::inputs(a.framework.as_deref(), &a.regions, &a.values, None)?;
    let (fw, tree) = (&inp.framework, &inp.tree);
    let mut elements = Vec::new();
    for code in &a.element {
        let Some(e) = fw.element_index(code.trim()) else {
            return Err(InputFailure(format!("--element: 指标体系中没有数据项 {code}")).into());
        };
        if fw.elements[e].frequency != Frequency::Month {
            return Err(InputFailure(format!(
                "--element: 数据项 {code}（{}）不是月度数据，不能按月预测",
                fw.elements[e].name
            ))
            .into());
        }
        elements.push(e);
    }
    let regions: Vec<usize> = match &a.region {
        Some(code) => vec![tree.find(code).ok_or_else(|| {
            InputFailure(format!(
                "--region: {} 中没有地区 {code}",
                a.regions.display()
            ))
        })?],
        None => (0..tree.len()).collect(),
    };
    let series =
        pingan_core::risk::monthly_series(fw, tree, &inp.data, &regions, &elements, a.train_end);
    let outcomes: Vec<Option<Outcome>> = pingan_core::par::map(&series, |(_, _, y)| {
        pingan_forecast::forecast(y, a.horizon, a.level)
    });
    let skipped = outcomes.iter().filter(|o| o.is_none()).count();
    if skipped > 0 {
        eprintln!(
            "跳过 {skipped} 个序列：{} 之前不足 {} 个月的连续数据",
            a.train_end,
            pingan_forecast::MIN_MONTHS
        );
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if a.backtest {
        write_backtest(&mut out, fw, &series, &outcomes)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let months = after(a.train_end, a.horizon);
    let mut rows = Vec::new();
    for ((r, e, _), o) in series.iter().zip(&outcomes) {
        let Some(o) = o else { continue };
        for (k, p) in months.iter().enumerate() {
            rows.push(Row {
                region: &tree.get(*r).code,
                element: &fw.elements[*e].code,
                period: p.to_string(),
                forecast: o.forecast.point[k],
                lo: o.forecast.lo[k],
                hi: o.forecast.hi[k],
                model: o.model.name(),
            });
        }
    }
    match a.format {
        OutFormat::Json => {
            serde_json::to_writer(&mut out, &rows)?;
            writeln!(out)?;
        }
        OutFormat::Csv => {
            writeln!(out, "region,element,period,forecast,lo,hi,model")?;
            for r in &rows {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{}",
                    r.region, r.element, r.period, r.forecast, r.lo, r.hi, r.model
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Per element and model: the mean backtest MASE over the series, the
/// share of held-out months inside the interval, and how often the model
/// was chosen.
fn write_backtest(
    out: &mut impl Write,
    fw: &pingan_core::Framework,
    series: &[(usize, usize, Vec<f64>)],
    outcomes: &[Option<Outcome>],
) -> Result<()> {
    writeln!(out, "element,model,series,mase,coverage,chosen")?;
    let mut codes: Vec<usize> = series.iter().map(|s| s.1).collect();
    codes.dedup();
    codes.sort_unstable();
    codes.dedup();
    for e in codes {
        for model in Model::ALL {
            let tests: Vec<(&Backtest, Model)> = series
                .iter()
                .zip(outcomes)
                .filter(|(s, _)| s.1 == e)
                .filter_map(|(_, o)| o.as_ref())
                .filter_map(|o| {
                    o.backtest
                        .iter()
                        .find(|t| t.model == model)
                        .map(|t| (t, o.model))
                })
                .collect();
            let mases: Vec<f64> = tests.iter().filter_map(|(t, _)| t.mase).collect();
            let (inside, total) = tests.iter().fold((0.0, 0usize), |(i, n), (t, _)| {
                (i + t.coverage.unwrap_or(0.0) * t.n as f64, n + t.n)
            });
            let chosen = tests.iter().filter(|(_, m)| *m == model).count();
            let fmt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
            writeln!(
                out,
                "{},{},{},{},{},{}",
                fw.elements[e].code,
                model.name(),
                mases.len(),
                fmt((!mases.is_empty()).then(|| mases.iter().sum::<f64>() / mases.len() as f64)),
                fmt((total > 0).then(|| inside / total as f64)),
                chosen
            )?;
        }
    }
    Ok(())
}
