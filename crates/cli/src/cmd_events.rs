//! `pingan events`: grid events and emergency call-outs (events.md).
//! `aggregate` prints the eight monthly elements derived from a record file
//! (CSV or JSON Lines) as values.csv rows.

use crate::InputFailure;
use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use pingan_core::events::{ELEMENTS, aggregate, number};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Subcommand)]
pub enum EventsCommand {
    /// 由事件记录计算 8 项月度数据项（events.md §3），输出 region,period,element,value / derived monthly values
    Aggregate {
        /// 事件记录：CSV 或 JSON Lines / the record file
        #[arg(long)]
        events: PathBuf,
        /// regions.csv
        #[arg(long)]
        regions: PathBuf,
        /// 只计入该年度各月的事件 / keep the events whose month falls in this year
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
    },
}

pub fn run(cmd: EventsCommand) -> Result<ExitCode> {
    match cmd {
        EventsCommand::Aggregate {
            events,
            regions,
            year,
            format,
        } => {
            let r = crate::files::read(&regions)?;
            let tree = pingan_input::read_regions(&regions.display().to_string(), &r)
                .map_err(|e| InputFailure(e.to_string()))?;
            let name = events.display().to_string();
            let a = aggregated(&events, &name, &tree, year)?;
            let cells = &a.cells;
            let out = std::io::stdout().lock();
            let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
            match format {
                Format::Csv => {
                    writeln!(out, "region,period,element,value")?;
                    for ((region, (y, m)), v) in cells {
                        let code = &tree.get(*region).code;
                        for (e, x) in ELEMENTS.iter().zip(v) {
                            writeln!(out, "{code},{y:04}-{m:02},{e},{}", number(*x))?;
                        }
                    }
                }
                Format::Json => {
                    write!(out, "[")?;
                    let mut first = true;
                    for ((region, (y, m)), v) in cells {
                        let code = serde_json::to_string(&tree.get(*region).code)?;
                        for (e, x) in ELEMENTS.iter().zip(v) {
                            if !first {
                                write!(out, ",")?;
                            }
                            first = false;
                            write!(
                                out,
                                "\n{{\"region\":{code},\"period\":\"{y:04}-{m:02}\",\"element\":\"{e}\",\"value\":{}}}",
                                number(*x)
                            )?;
                        }
                    }
                    writeln!(out, "\n]")?;
                }
            }
            out.flush()?;
            eprintln!(
                "事件记录 {} 行：{} 个事件，{} 行重复；{} 个地区·月",
                a.rows,
                a.events,
                a.duplicates,
                cells.len()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The file's events added up: mapped and spilled through temporary parts
/// in bounded memory (CSV in UTF-8), or read whole (JSON Lines, GB18030).
fn aggregated(
    path: &std::path::Path,
    name: &str,
    tree: &pingan_core::RegionTree,
    year: Option<i32>,
) -> Result<pingan_input::events::Aggregated> {
    use pingan_input::events::{Aggregated, Streamed, aggregate_bytes};
    let unreadable = |e: std::io::Error| InputFailure(format!("{name}: 无法读取文件：{e}"));
    let map = crate::files::map(path)?;
    match aggregate_bytes(name, &map, tree, year).map_err(unreadable)? {
        Streamed::Done(r) => Ok(r.map_err(|e| InputFailure(e.to_string()))?),
        Streamed::WholeFile => {
            let text = pingan_input::decode(&map);
            let read = pingan_input::events::read_events(name, &text, tree)
                .map_err(|e| InputFailure(e.to_string()))?;
            Ok(Aggregated {
                cells: aggregate(&read.events, year),
                rows: read.rows,
                events: read.events.len(),
                duplicates: read.duplicates,
            })
        }
    }
}
