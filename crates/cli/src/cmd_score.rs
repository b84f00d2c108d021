//! `pingan score` (scoring.md §7).

use crate::table::Table;
use crate::{Format, files};
use anyhow::Result;
use clap::Args;
use pingan_core::num::fmt_num;
use pingan_core::score::{ScoreReport, Words, evaluate_all};
use pingan_core::{Level, Period};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ScoreArgs {
    /// 指标体系文件（TOML）；省略时使用内置默认体系 / framework file (default: built-in pingan-2024)
    #[arg(long)]
    pub framework: Option<PathBuf>,
    /// 地区文件 regions.csv
    #[arg(long)]
    pub regions: PathBuf,
    /// 数据文件 values.csv
    #[arg(long)]
    pub values: PathBuf,
    /// 基准值文件 benchmarks.csv
    #[arg(long)]
    pub benchmarks: Option<PathBuf>,
    /// 测评期间：2024、2024-03 或 2024Q1 / period to score
    #[arg(long, value_parser = parse_period)]
    pub period: Period,
    /// 只输出该层级：province、city、county、township / only output this level
    #[arg(long, value_parser = parse_level)]
    pub level: Option<Level>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub fn parse_period(s: &str) -> Result<Period, String> {
    s.parse::<Period>().map_err(|e| e.to_string())
}

pub fn parse_level(s: &str) -> Result<Level, String> {
    s.parse::<Level>()
}

pub fn run(args: ScoreArgs) -> Result<ExitCode> {
    let inp = files::inputs(
        args.framework.as_deref(),
        &args.regions,
        &args.values,
        args.benchmarks.as_deref(),
    )?;
    // The table and the CSV show numbers only; composing every indicator's
    // reasons is most of the scoring's time.
    let words = match args.format {
        Format::Json => Words::Reasons,
        Format::Csv | Format::Table => Words::None,
    };
    let report = evaluate_all(
        &inp.framework,
        &inp.tree,
        &inp.data,
        args.period,
        args.level,
    )
    .map(|e| e.score_with(words))
    .map_err(|e| files::score_failure(e, args.benchmarks.as_deref()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    match args.format {
        Format::Json => {
            write_report_json(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Csv => write_csv(&mut out, &report, &inp.framework)?,
        Format::Table => out.write_all(ranking_table(&report, &inp.framework).as_bytes())?,
    }
    out.flush()?;
    // The process ends here: returning millions of small allocations to the
    // allocator one by one costs more than the OS reclaiming them at once.
    std::mem::forget(report);
    std::mem::forget(inp);
    Ok(ExitCode::SUCCESS)
}

/// Writes the report exactly as `serde_json::to_writer` does, the second
/// half of the regions serialized on another core meanwhile. The first half
/// goes straight to `out`: a whole province's JSON is 17 MB, and on this
/// machine fresh memory costs about as much as serializing into it.
pub fn write_report_json(
    out: &mut impl Write,
    report: &pingan_core::score::ScoreReport,
) -> Result<()> {
    out.write_all(b"{\"framework\":")?;
    serde_json::to_writer(&mut *out, &report.framework)?;
    out.write_all(b",\"period\":")?;
    serde_json::to_writer(&mut *out, &report.period)?;
    out.write_all(b",\"results\":[")?;
    let results = &report.results;
    let split = if pingan_core::par::threads() > 1 && results.len() >= 64 {
        results.len() / 2
    } else {
        results.len()
    };
    let (first, second) = results.split_at(split);
    std::thread::scope(|s| -> Result<()> {
        let later = s.spawn(|| -> serde_json::Result<Vec<u8>> {
            let Some(head) = second.first() else {
                return Ok(Vec::new());
            };
            let mut buf = Vec::new();
            serde_json::to_writer(&mut buf, head)?;
            // Room for all of it at once: growing by doubling would copy
            // and touch twice the memory.
            buf.reserve(buf.len() * second.len() * 5 / 4);
            for r in &second[1..] {
                buf.push(b',');
                serde_json::to_writer(&mut buf, r)?;
            }
            Ok(buf)
        });
        for (i, r) in first.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, r)?;
        }
        let buf = later
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))?;
        if !first.is_empty() && !buf.is_empty() {
            out.write_all(b",")?;
        }
        out.write_all(&buf)?;
        Ok(())
    })?;
    out.write_all(b"]}")?;
    Ok(())
}

pub fn write_csv(
    out: &mut impl Write,
    report: &ScoreReport,
    fw: &pingan_core::Framework,
) -> Result<()> {
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = [
        "region",
        "name",
        "level",
        "parent",
        "total",
        "grade",
        "veto",
        "rank",
        "peers",
        "level_rank",
        "level_peers",
        "bottom",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(fw.dimensions.iter().map(|d| d.code.clone()));
    w.write_record(&header)?;
    for r in &report.results {
        let mut row = vec![
            r.region.clone(),
            r.name.clone(),
            r.level.to_string(),
            r.parent.clone().unwrap_or_default(),
            r.total.to_string(),
            r.grade.clone(),
            r.veto.to_string(),
            r.rank.to_string(),
            r.peers.to_string(),
            r.level_rank.to_string(),
            r.level_peers.to_string(),
            r.bottom.to_string(),
        ];
        row.extend(r.dimensions.iter().map(|d| d.points.to_string()));
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

/// A total as published (two decimals), unless rounding would show it
/// reaching a better grade than it has (89.996 is 良好, not "90.00"): then
/// enough decimals to see why.
pub fn total_text(fw: &pingan_core::Framework, total: f64) -> String {
    let shown = pingan_core::num::round_half_away(total, 2);
    if fw.grade_for(shown) == fw.grade_for(total) {
        fmt_num(total, 2)
    } else {
        fmt_num(total, 6)
    }
}

/// The ranking as an office would paste it into a report.
pub fn ranking_table(report: &ScoreReport, fw: &pingan_core::Framework) -> String {
    let mut header = vec![
        "代码",
        "地区",
        "层级",
        "总分",
        "等级",
        "同级排名",
        "全省同级排名",
    ];
    let dim_names: Vec<String> = fw
        .dimensions
        .iter()
        .map(|d| format!("{}{}", d.code, d.name))
        .collect();
    header.extend(dim_names.iter().map(|s| s.as_str()));
    header.push("说明");
    let numeric: Vec<usize> = (3..header.len() - 1).filter(|&i| i != 4).collect();
    let mut t = Table::new(&header).right(&numeric);
    for r in &report.results {
        let level: Level = r.level.parse().unwrap_or(Level::Township);
        let mut row = vec![
            r.region.clone(),
            r.name.clone(),
            level.label().to_string(),
            total_text(fw, r.total),
            r.grade.clone(),
            format!("{}/{}", r.rank, r.peers),
            format!("{}/{}", r.level_rank, r.level_peers),
        ];
        row.extend(r.dimensions.iter().map(|d| fmt_num(d.points, 2)));
        let mut notes = Vec::new();
        if r.veto {
            notes.push("一票否决".to_string());
        }
        if r.level_bottom {
            notes.push("全省后三位".to_string());
        } else if r.bottom {
            notes.push("同级后三位".to_string());
        }
        let missing = r.indicators.iter().filter(|i| i.missing).count();
        if missing > 0 {
            notes.push(format!("{missing}项未报送"));
        }
        row.push(notes.join("，"));
        t.row(row);
    }
    format!(
        "{}　{}　共 {} 个地区\n{}",
        fw.name,
        report.period.label(),
        report.results.len(),
        t.render()
    )
}

#[cfg(test)]
mod tests {
    fn json(report: &pingan_core::score::ScoreReport) -> Vec<u8> {
        let mut out = Vec::new();
        super::write_report_json(&mut out, report).unwrap();
        out
    }

    /// The split serialization writes the very bytes serde does.
    #[test]
    fn report_json_is_serde_json_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let opts = pingan_synth::Options {
            cities: 2,
            counties: 6,
            townships: 80,
            ..Default::default()
        };
        crate::cmd_generate::write(&opts, dir.path()).unwrap();
        let inp = crate::files::inputs(
            None,
            &dir.path().join("regions.csv"),
            &dir.path().join("values.csv"),
            Some(&dir.path().join("benchmarks.csv")),
        )
        .unwrap();
        let period: pingan_core::Period = opts.last_year.to_string().parse().unwrap();
        for level in [None, Some(pingan_core::Level::City)] {
            let report =
                pingan_core::score::score(&inp.framework, &inp.tree, &inp.data, period, level)
                    .unwrap();
            assert!(report.results.len() >= if level.is_none() { 64 } else { 2 });
            assert_eq!(json(&report), serde_json::to_vec(&report).unwrap());
        }
        let mut empty =
            pingan_core::score::score(&inp.framework, &inp.tree, &inp.data, period, None).unwrap();
        let report_one = empty.results.pop().unwrap();
        empty.results.clear();
        assert_eq!(json(&empty), serde_json::to_vec(&empty).unwrap());
        empty.results.push(report_one);
        assert_eq!(json(&empty), serde_json::to_vec(&empty).unwrap());
    }
}
