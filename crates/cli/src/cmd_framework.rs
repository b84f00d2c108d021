//! `pingan framework check|show`.

use crate::table::Table;
use crate::{Format, files};
use anyhow::Result;
use clap::Subcommand;
use pingan_core::framework::{self, DEFAULT_FILE_NAME, DEFAULT_TOML};
use pingan_core::num::fmt_num;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum FrameworkCommand {
    /// 校验指标体系文件（权重、公式、规则、群众意见占比） / lint a framework file
    Check {
        /// 指标体系文件（TOML）；省略时校验内置默认体系 / framework file; the built-in default when omitted
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// 显示指标树、有效权重与满分 / print the tree with effective weights and full points
    Show {
        /// 指标体系文件（TOML）；省略时显示内置默认体系 / framework file; the built-in default when omitted
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

pub fn run(cmd: FrameworkCommand) -> Result<ExitCode> {
    match cmd {
        FrameworkCommand::Check { file, format } => check(file, format),
        FrameworkCommand::Show { file, format } => show(file, format),
    }
}

fn check(file: Option<PathBuf>, format: Format) -> Result<ExitCode> {
    let (name, src) = match &file {
        None => (DEFAULT_FILE_NAME.to_string(), DEFAULT_TOML.to_string()),
        Some(p) => (
            p.display().to_string(),
            pingan_input::decode(&files::read(p)?).into_owned(),
        ),
    };
    let report = framework::check(&src);
    match format {
        Format::Json => {
            let errors: Vec<_> = report
                .errors
                .iter()
                .map(|e| json!({"kind": e.kind, "path": e.path, "message": e.message, "line": e.line}))
                .collect();
            let out = json!({
                "errors": errors,
                "warnings": report.warnings,
                "public_opinion_share": report.public_opinion_share,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Format::Table | Format::Csv => {
            if let Some(share) = report.public_opinion_share {
                println!("群众意见指标占比：{share:.6}");
            }
            for e in report.error_lines(&name) {
                println!("错误  {e}");
            }
            for w in &report.warnings {
                println!("警告  {}: {}", name, w.message);
            }
            println!(
                "{name}：{} 个错误，{} 个警告",
                report.errors.len(),
                report.warnings.len()
            );
        }
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn show(file: Option<PathBuf>, format: Format) -> Result<ExitCode> {
    let fw = files::framework(file.as_deref())?;
    match format {
        Format::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&pingan_core::framework::view::tree(&fw))?
            );
        }
        Format::Table | Format::Csv => {
            println!("{}（{}）满分 {}", fw.name, fw.code, fmt_num(fw.total, 4));
            let mut t = Table::new(&["代码", "名称", "权重", "有效权重", "满分", "计分规则"])
                .right(&[2, 3, 4]);
            for d in &fw.dimensions {
                t.row(vec![
                    d.code.clone(),
                    d.name.clone(),
                    fmt_num(d.weight, 6),
                    fmt_num(d.weight, 6),
                    fmt_num(fw.total * d.weight, 4),
                    String::new(),
                ]);
                for m in &d.domains {
                    let mw = d.weight * m.weight;
                    t.row(vec![
                        format!("  {}", m.code),
                        format!("  {}", m.name),
                        fmt_num(m.weight, 6),
                        fmt_num(mw, 6),
                        fmt_num(fw.total * mw, 4),
                        String::new(),
                    ]);
                    for i in &m.indicators {
                        let ew = mw * i.weight;
                        let mut rule = fw.rule_in_words(&i.rule, &i.unit);
                        if i.provisional {
                            rule = format!("【待定】{rule}");
                        }
                        let mut name = format!("    {}", i.name);
                        if i.public_opinion {
                            name.push('☆');
                        }
                        t.row(vec![
                            format!("    {}", i.code),
                            name,
                            fmt_num(i.weight, 6),
                            fmt_num(ew, 6),
                            fmt_num(fw.total * ew, 4),
                            rule,
                        ]);
                    }
                }
            }
            print!("{}", t.render());
            println!(
                "☆ 群众意见指标；群众意见占比 {:.6}",
                fw.public_opinion_share()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
