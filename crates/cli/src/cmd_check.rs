//! `pingan check`: validation rules and anomaly detection over files or the
//! database (seed §3.4 三审三查, §7.3).

use crate::table::Table;
use crate::{Format, InputFailure, files};
use anyhow::Result;
use clap::Args;
use pingan_core::num::fmt_num;
use pingan_core::quality::rules::RuleSet;
use pingan_core::quality::{self, FlagKind, FlagView, Observation, Report};
use pingan_core::{Framework, Period, RegionTree};
use std::collections::{HashMap as FxHashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["values", "db"])))]
pub struct CheckArgs {
    /// 指标体系文件（TOML）；省略时使用内置默认体系（仅文件模式）
    #[arg(long, conflicts_with = "db")]
    pub framework: Option<PathBuf>,
    /// 校验规则文件（TOML）；省略时使用内置规则 frameworks/pingan-2024.rules.toml
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// 地区文件 regions.csv（文件模式）
    #[arg(long, requires = "values", conflicts_with = "db")]
    pub regions: Option<PathBuf>,
    /// 数据文件 values.csv（可含 source 列：同一数据可有多个来源）
    #[arg(long, requires = "regions")]
    pub values: Option<PathBuf>,
    /// 检查数据库中的数据，如 sqlite://pingan.db / check stored values instead of files
    #[arg(long)]
    pub db: Option<String>,
    /// 操作人（--save 时记入审计日志）
    #[arg(long, env = "PINGAN_USER")]
    pub user: Option<String>,
    /// 检查的期间：2024（含其各季度、各月）、2024Q1 或 2024-06
    #[arg(long, value_parser = crate::cmd_score::parse_period)]
    pub period: Period,
    /// 只输出这些类型：zscore、mod_zscore、jump、run_above_mean、share、peer、rule、cross_source、timeliness
    #[arg(long, value_delimiter = ',', value_parser = parse_kind)]
    pub kind: Vec<FlagKind>,
    /// 把结果写入数据库的待核查队列（仅数据库模式） / keep the flags in the follow-up queue
    #[arg(long)]
    pub save: bool,
    /// 已知异常清单 anomalies.csv（generate --anomalies 生成）：在标准错误输出召回率与精确率
    #[arg(long)]
    pub expected: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

fn parse_kind(s: &str) -> Result<FlagKind, String> {
    FlagKind::parse(s).ok_or_else(|| {
        format!(
            "未知的类型“{s}”：应为 {}",
            FlagKind::ALL.map(|k| k.code()).join("、")
        )
    })
}

/// Rules from `--rules`, or the shipped defaults for `fw`.
pub fn rules(path: Option<&Path>, fw: &Framework) -> Result<RuleSet> {
    match path {
        None => Ok(RuleSet::default_for(fw)),
        Some(p) => {
            let bytes = files::read(p)?;
            let text = pingan_input::decode(&bytes);
            RuleSet::parse(&p.display().to_string(), &text, fw).map_err(|errs| {
                InputFailure(
                    errs.iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
                .into()
            })
        }
    }
}

/// Every row of values.csv as an observation; one row per (region, period,
/// element, source).
fn observations(path: &Path, fw: &Framework, tree: &RegionTree) -> Result<Vec<Observation>> {
    let bytes = files::read(path)?;
    let mut seen: FxHashMap<(usize, Period, usize, String), usize> = FxHashMap::default();
    let mut out = Vec::new();
    pingan_input::for_each_value(&path.display().to_string(), &bytes, fw, tree, |row| {
        let key = (row.region, row.period, row.element, row.source.to_string());
        if let Some(first) = seen.insert(key, row.line) {
            return Err(format!(
                "与第 {first} 行重复（同一地区、期间、数据项和来源只能有一行）"
            ));
        }
        out.push(Observation {
            region: row.region,
            period: row.period,
            element: row.element,
            value: row.value,
            source: row.source.to_string(),
            submitted: None,
        });
        Ok(())
    })
    .map_err(|e| InputFailure(e.to_string()))?;
    Ok(out)
}

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    if args.save && args.db.is_none() {
        clap::Error::raw(
            clap::error::ErrorKind::MissingRequiredArgument,
            "--save 把问题写入数据库的待核查队列，需要同时给出 --db\n",
        )
        .exit();
    }
    let (fw, tree, report) = match &args.db {
        Some(url) => crate::cmd_db::check_store(
            url,
            args.user.as_deref(),
            args.rules.as_deref(),
            args.period,
            args.save,
        )?,
        None => {
            let fw = files::framework(args.framework.as_deref())?;
            let regions = args.regions.as_ref().expect("clap requires --regions");
            let tree =
                pingan_input::read_regions(&regions.display().to_string(), &files::read(regions)?)
                    .map_err(|e| InputFailure(e.to_string()))?;
            let rules = rules(args.rules.as_deref(), &fw)?;
            let obs = observations(args.values.as_ref().expect("clap"), &fw, &tree)?;
            let report = quality::check(&fw, &tree, &rules, &obs, args.period);
            (fw, tree, report)
        }
    };
    let views: Vec<FlagView> = report
        .flags
        .iter()
        .filter(|f| args.kind.is_empty() || args.kind.contains(&f.kind))
        .map(|f| f.view(&fw, &tree))
        .collect();
    if let Some(p) = &args.expected {
        eprint!("{}", score_against(p, &views, &fw, &tree)?);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "framework": fw.code,
                "period": args.period,
                "flags": views,
                "summary": report.summary.view(),
            });
            serde_json::to_writer(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Csv => write_csv(&mut out, &views)?,
        Format::Table => write_table(&mut out, &views, &report)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write_csv(out: &mut impl Write, views: &[FlagView]) -> Result<()> {
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "region", "name", "element", "period", "kind", "score", "rule", "message",
    ])?;
    for v in views {
        w.write_record([
            v.region.as_str(),
            &v.region_name,
            &v.element,
            &v.period.to_string(),
            v.kind.code(),
            &v.score.to_string(),
            v.rule.as_deref().unwrap_or(""),
            &v.message,
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_table(out: &mut impl Write, views: &[FlagView], report: &Report) -> Result<()> {
    let mut t = Table::new(&["地区", "数据项", "期间", "类型", "分值", "说明"]);
    for v in views {
        t.row(vec![
            format!("{} {}", v.region, v.region_name),
            v.element_name.clone(),
            v.period.to_string(),
            v.kind.label().to_string(),
            fmt_num(v.score, 2),
            v.message.clone(),
        ]);
    }
    out.write_all(t.render().as_bytes())?;
    let s = &report.summary;
    let by_kind: Vec<String> = s
        .flags
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{} {n}", k.label()))
        .collect();
    writeln!(
        out,
        "\n共检查 {} 个数据值（{} 个序列），发现 {} 条待核查问题{}",
        s.values,
        s.series,
        views.len(),
        if by_kind.is_empty() {
            String::new()
        } else {
            format!("：{}", by_kind.join("，"))
        }
    )?;
    let short: Vec<String> = s
        .skipped_short
        .iter()
        .map(|(k, n)| format!("{} {n}", k.label()))
        .collect();
    if !short.is_empty() {
        writeln!(
            out,
            "历史期数或同级地区不足、未做该项检查的数据值：{}",
            short.join("，")
        )?;
    }
    if s.explained > 0 {
        writeln!(
            out,
            "总量变化但与其构成数据一致（如受理数与化解数同比例变化）、不列入待核查的统计类提示：{} 条",
            s.explained
        )?;
    }
    Ok(())
}

/// Recall per injected kind and overall precision, matching on (region,
/// element, period); several flags on one key count once.
fn score_against(
    path: &Path,
    views: &[FlagView],
    fw: &Framework,
    tree: &RegionTree,
) -> Result<String> {
    let bytes = files::read(path)?;
    let text = pingan_input::decode(&bytes);
    let mut expected: FxHashMap<(String, String, String), String> = FxHashMap::default();
    let mut errors = Vec::new();
    let at = |i: usize| format!("{}:{}", path.display(), i + 1);
    const HEADER: &str = "region,element,period,kind";
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim_start_matches('\u{feff}').trim() == HEADER => {}
        _ => errors.push(format!("{}: 表头应为 {HEADER}", at(0))),
    }
    for (i, line) in lines {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != 4 {
            errors.push(format!("{}: 应为 {HEADER} 四列", at(i)));
            continue;
        }
        if tree.find(f[0]).is_none() {
            errors.push(format!("{}: 未知的地区代码“{}”", at(i), f[0]));
        }
        if fw.element_index(f[1]).is_none() {
            errors.push(format!("{}: 未知的数据项“{}”", at(i), f[1]));
        }
        if f[2].parse::<Period>().is_err() {
            errors.push(format!("{}: 期间“{}”无法识别", at(i), f[2]));
        }
        expected.insert((f[0].into(), f[1].into(), f[2].into()), f[3].into());
    }
    if !errors.is_empty() {
        return Err(InputFailure(errors.join("\n")).into());
    }
    let flagged: HashSet<(String, String, String)> = views
        .iter()
        .map(|v| (v.region.clone(), v.element.clone(), v.period.to_string()))
        .collect();
    let mut by_kind: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (key, kind) in &expected {
        let e = by_kind.entry(kind.as_str()).or_default();
        e.1 += 1;
        if flagged.contains(key) {
            e.0 += 1;
        }
    }
    let hits = flagged.iter().filter(|k| expected.contains_key(*k)).count();
    let mut s = String::from("对照已知异常清单：\n");
    for (kind, (found, total)) in &by_kind {
        s.push_str(&format!(
            "  {kind}: 召回 {found}/{total} = {}\n",
            fmt_num(*found as f64 / (*total).max(1) as f64, 3)
        ));
    }
    let found: usize = by_kind.values().map(|x| x.0).sum();
    s.push_str(&format!(
        "  总召回率 {}/{} = {}；精确率 {}/{} = {}（按地区、数据项、期间去重）\n",
        found,
        expected.len(),
        fmt_num(found as f64 / expected.len().max(1) as f64, 3),
        hits,
        flagged.len(),
        fmt_num(hits as f64 / flagged.len().max(1) as f64, 3)
    ));
    // The statistical methods against the statistical anomalies (spikes,
    // jumps, runs): the queue's noise is theirs.
    let stat_flagged: HashSet<(String, String, String)> = views
        .iter()
        .filter(|v| v.kind.statistical())
        .map(|v| (v.region.clone(), v.element.clone(), v.period.to_string()))
        .collect();
    let injected = |k: &str| matches!(k, "spike" | "jump" | "run");
    let stat_total = expected.values().filter(|k| injected(k)).count();
    if stat_total > 0 {
        let stat_found = expected
            .iter()
            .filter(|(key, kind)| injected(kind) && flagged.contains(*key))
            .count();
        let stat_hits = stat_flagged
            .iter()
            .filter(|k| expected.contains_key(*k))
            .count();
        s.push_str(&format!(
            "  统计类（突变、连续高于均值、偏离）：召回 {}/{} = {}；精确率 {}/{} = {}\n",
            stat_found,
            stat_total,
            fmt_num(stat_found as f64 / stat_total as f64, 3),
            stat_hits,
            stat_flagged.len(),
            fmt_num(stat_hits as f64 / stat_flagged.len().max(1) as f64, 3)
        ));
        // The head of the queue as reviewers meet it (by the model's
        // evidence): of its first N items, N the anomalies injected, how
        // many are injected (R-precision).
        let mut by_evidence: FxHashMap<(String, String, String), f64> = FxHashMap::default();
        for v in views.iter().filter(|v| v.kind.statistical()) {
            let s = v.numbers.get("surprise").unwrap_or(0.0);
            let e = by_evidence
                .entry((v.region.clone(), v.element.clone(), v.period.to_string()))
                .or_insert(s);
            *e = e.max(s);
        }
        let mut ranked: Vec<_> = by_evidence.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let head = ranked
            .iter()
            .take(stat_total)
            .filter(|(k, _)| expected.contains_key(k))
            .count();
        s.push_str(&format!(
            "  统计类按证据排序的前 {stat_total} 条：{head} 条为已知异常（R-精确率 {}）\n",
            fmt_num(head as f64 / stat_total as f64, 3)
        ));
    }
    Ok(s)
}
