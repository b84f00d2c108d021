//! `pingan report`: the 测评报告, the province's summary and the
//! 问题整改通知书 over the store, as Word, Excel, HTML or PDF — one region's,
//! or with `--level` every city's or county's into a folder.

use crate::InputFailure;
use crate::cmd_db::{DbArgs, open_ctx, runtime, service_error};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use pingan_core::Level;
use pingan_report::{Format, render};
use pingan_service::{cap, report};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// 测评报告（根地区为全省测评结果通报）
    Report,
    /// 问题整改通知书（首次生成时按年度顺序编号并记入审计日志）
    Notice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
    Docx,
    Xlsx,
    Html,
    Pdf,
}

impl DocFormat {
    fn format(self) -> Format {
        match self {
            DocFormat::Docx => Format::Docx,
            DocFormat::Xlsx => Format::Xlsx,
            DocFormat::Html => Format::Html,
            DocFormat::Pdf => Format::Pdf,
        }
    }
}

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    db: DbArgs,
    /// 测评年度
    #[arg(long)]
    year: i32,
    /// 地区代码（单个文件）；与 --level 同用且为根地区时，另写全省通报
    #[arg(long)]
    region: Option<String>,
    /// 批量：为该级（city 或 county）每个地区各写一个文件到 --out 目录
    #[arg(long, value_parser = crate::cmd_score::parse_level)]
    level: Option<Level>,
    #[arg(long, value_enum, default_value = "report")]
    kind: Kind,
    /// docx（党政机关公文格式）| xlsx | html | pdf（需 LibreOffice）
    #[arg(long, value_enum, default_value = "docx")]
    format: DocFormat,
    /// 整改期限（YYYY-MM-DD，仅首次印发通知书时使用；默认 90 天后）
    #[arg(long)]
    deadline: Option<String>,
    /// 输出文件（单个）或目录（批量）
    #[arg(long)]
    out: PathBuf,
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("无法写入 {}", path.display()))
}

pub fn run(a: ReportArgs) -> Result<ExitCode> {
    let format = a.format.format();
    if format == Format::Pdf && !pingan_report::pdf::available() {
        return Err(InputFailure(
            "PDF 需要 LibreOffice：请安装（Debian：apt-get install libreoffice-writer-nogui），或改用 --format docx / html 后在浏览器中打印".into(),
        )
        .into());
    }
    if a.level.is_none() && a.region.is_none() {
        return Err(InputFailure(
            "请给出 --region（单个地区）或 --level city|county（批量）".into(),
        )
        .into());
    }
    if let Some(l) = a.level
        && !matches!(l, Level::City | Level::County)
    {
        return Err(InputFailure("--level 只能是 city 或 county".into()).into());
    }
    runtime()?.block_on(async {
        let ctx = open_ctx(&a.db).await?;
        let caller = a.db.caller();
        let started = Instant::now();
        let result = async {
            let made_at = report::beijing(&pingan_store::now()).1;
            let Some(level) = a.level else {
                let region = a.region.as_deref().unwrap_or_default();
                let doc = match a.kind {
                    Kind::Report => {
                        let who = caller.authorize::<cap::Scores>().map_err(service_error)?;
                        report::report_doc(&ctx, &who, a.year, region).await
                    }
                    Kind::Notice => {
                        let who = caller.authorize::<cap::Notices>().map_err(service_error)?;
                        report::notice_doc(&ctx, &who, a.year, region, a.deadline.as_deref()).await
                    }
                }
                .map_err(service_error)?;
                let bytes =
                    tokio::task::spawn_blocking(move || render(&doc, format, &made_at)).await??;
                write(&a.out, &bytes)?;
                eprintln!(
                    "已写入 {}（{} 字节，{:.2} 秒）",
                    a.out.display(),
                    bytes.len(),
                    started.elapsed().as_secs_f64()
                );
                return Ok::<_, anyhow::Error>(());
            };
            std::fs::create_dir_all(&a.out)
                .with_context(|| format!("无法创建目录 {}", a.out.display()))?;
            let who = caller.authorize::<cap::Notices>().map_err(service_error)?;
            let mut docs = report::batch(&ctx, &who, a.year, level, a.kind == Kind::Notice)
                .await
                .map_err(service_error)?;
            if let Some(root) = &a.region
                && a.kind == Kind::Report
            {
                let reader = caller.authorize::<cap::Scores>().map_err(service_error)?;
                let doc = report::report_doc(&ctx, &reader, a.year, root)
                    .await
                    .map_err(service_error)?;
                docs.insert(
                    0,
                    report::Batched {
                        code: root.clone(),
                        name: String::new(),
                        doc,
                    },
                );
            }
            let n = docs.len();
            let docs: Vec<(String, pingan_core::report::doc::Doc)> =
                docs.into_iter().map(|d| (d.code, d.doc)).collect();
            let files = tokio::task::spawn_blocking(move || {
                pingan_report::render_all(&docs, format, &made_at)
            })
            .await??;
            let mut bytes = 0;
            for (name, b) in &files {
                write(&a.out.join(name), b)?;
                bytes += b.len();
            }
            eprintln!(
                "已写入 {n} 个文件到 {}（共 {} 字节，{:.2} 秒）",
                a.out.display(),
                bytes,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        .await;
        ctx.store.close().await;
        result?;
        Ok(ExitCode::SUCCESS)
    })
}
