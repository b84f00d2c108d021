//! `pingan audit …`, `pingan backup` and `pingan restore`: the ledger and
//! the database as a whole.

use crate::cmd_db::{
    DbArgs, create_store, open_ctx, open_store, runtime, service_error, user_error,
};
use crate::table::Table;
use crate::{Format, InputFailure};
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use pingan_service::cap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Csv,
    Xlsx,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// 校验审计日志的哈希链 / recompute the chain
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// 之前用 audit head 保存的哈希：可发现末尾被截断
        #[arg(long)]
        head: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// 显示最新一条记录的哈希（请在数据库之外保存） / the newest hash
    Head {
        #[command(flatten)]
        db: DbArgs,
    },
    /// 查询与导出审计日志 / list and export
    List {
        #[command(flatten)]
        db: DbArgs,
        /// 起始时间（含），如 2024-01-01
        #[arg(long)]
        from: Option<String>,
        /// 截止时间（含），如 2024-12-31
        #[arg(long)]
        to: Option<String>,
        #[arg(long = "by")]
        by_user: Option<String>,
        #[arg(long)]
        action: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
        /// 导出文件（xlsx 时必填）
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    db: DbArgs,
    /// 备份文件（gzip 压缩的 JSON 行）
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    db: DbArgs,
    /// 备份文件
    #[arg(long)]
    from: PathBuf,
}

pub fn audit(cmd: AuditCommand) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match cmd {
            AuditCommand::Verify { db, head, format } => {
                let ctx = open_ctx(&db).await?;
                let caller = db.caller();
                let who = caller.authorize::<cap::Ledger>().map_err(service_error)?;
                let v = pingan_service::audit::verify(&ctx, &who, head.as_deref()).await;
                ctx.store.close().await;
                let v = v.map_err(service_error)?;
                if format == Format::Json {
                    println!("{}", serde_json::to_string_pretty(&v)?);
                } else if let Some(p) = &v.problem {
                    println!(
                        "审计日志校验未通过（{}，共 {} 条）：{}",
                        v.algorithm, v.entries, p.message
                    );
                } else {
                    println!(
                        "审计日志校验通过：共 {} 条，算法 {}，最新哈希 {}",
                        v.entries, v.algorithm, v.head
                    );
                }
                Ok(if v.ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            }
            AuditCommand::Head { db } => {
                let store = open_store(&db).await?;
                let (seq, hash) = store.audit_head().await.map_err(user_error)?;
                store.close().await;
                println!("{hash}");
                eprintln!(
                    "第 {seq} 条记录的哈希；请保存在数据库之外，日后用 audit verify --head 核对"
                );
                Ok(ExitCode::SUCCESS)
            }
            AuditCommand::List {
                db,
                from,
                to,
                by_user,
                action,
                format,
                out,
            } => {
                let ctx = open_ctx(&db).await?;
                let caller = db.caller();
                let who = caller.authorize::<cap::Ledger>().map_err(service_error)?;
                let q = pingan_service::audit::LedgerQuery {
                    from,
                    to,
                    user: by_user,
                    action,
                    object: None,
                };
                let entries = pingan_service::audit::entries(&ctx, &who, &q).await;
                ctx.store.close().await;
                let entries = entries.map_err(service_error)?;
                write_audit(&entries, format, out)?;
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

const AUDIT_HEADER: [&str; 9] = [
    "编号",
    "时间",
    "操作人",
    "操作",
    "对象",
    "详情",
    "原因",
    "终端",
    "哈希",
];

fn write_audit(
    entries: &[pingan_store::Entry],
    format: ListFormat,
    out: Option<PathBuf>,
) -> Result<()> {
    let rows: Vec<[String; 9]> = entries
        .iter()
        .map(|e| {
            [
                e.id.to_string(),
                e.at.clone(),
                e.user.clone(),
                e.action.clone(),
                e.object.clone(),
                e.detail.clone(),
                e.reason.clone(),
                e.client.clone(),
                e.hash.clone(),
            ]
        })
        .collect();
    match format {
        ListFormat::Json => println!("{}", serde_json::to_string_pretty(entries)?),
        ListFormat::Table => {
            let mut t = Table::new(&AUDIT_HEADER[..8]).right(&[0]);
            for r in &rows {
                let mut r = r[..8].to_vec();
                if r[5].chars().count() > 60 {
                    r[5] = r[5].chars().take(60).collect::<String>() + "…";
                }
                t.row(r);
            }
            print!("{}", t.render());
            println!("共 {} 条", rows.len());
        }
        ListFormat::Csv => {
            let mut buf: Vec<u8> = "\u{feff}".as_bytes().to_vec();
            {
                let mut w = csv::Writer::from_writer(&mut buf);
                w.write_record(AUDIT_HEADER)?;
                for r in &rows {
                    w.write_record(r)?;
                }
                w.flush()?;
            }
            match out {
                Some(p) => {
                    std::fs::write(&p, buf).with_context(|| format!("无法写入 {}", p.display()))?
                }
                None => std::io::stdout().write_all(&buf)?,
            }
        }
        ListFormat::Xlsx => {
            let p = out.ok_or_else(|| InputFailure("导出 xlsx 需要 --out 文件名".into()))?;
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            sheet.set_name("审计日志")?;
            let bold = rust_xlsxwriter::Format::new().set_bold();
            for (c, h) in AUDIT_HEADER.iter().enumerate() {
                sheet.write_string_with_format(0, c as u16, *h, &bold)?;
            }
            for (r, row) in rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    if c == 0 {
                        sheet.write_number(
                            r as u32 + 1,
                            0,
                            v.parse::<f64>().unwrap_or_default(),
                        )?;
                    } else {
                        sheet.write_string(r as u32 + 1, c as u16, v)?;
                    }
                }
            }
            sheet.set_column_width(1, 26)?;
            sheet.set_column_width(5, 60)?;
            sheet.set_freeze_panes(1, 0)?;
            book.save(&p)
                .with_context(|| format!("无法写入 {}", p.display()))?;
            eprintln!("已导出 {} 条到 {}", rows.len(), p.display());
        }
    }
    Ok(())
}

pub fn backup(a: BackupArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open_store(&a.db).await?;
        let s = store.backup(&a.out).await.map_err(user_error)?;
        store.close().await;
        let rows: usize = s.tables.iter().map(|t| t.1).sum();
        println!(
            "已备份 {} 行（{} 张表）到 {}；审计日志 {} 条，最新哈希 {}",
            rows,
            s.tables.len(),
            s.file,
            s.audit_entries,
            s.head
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn restore(a: RestoreArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let store = create_store(&a.db).await?;
        let s = store
            .restore(&a.from, &a.db.actor())
            .await
            .map_err(user_error)?;
        store.close().await;
        let rows: usize = s.tables.iter().map(|t| t.1).sum();
        println!(
            "已从 {} 恢复 {} 行；审计日志 {} 条校验通过，备份时最新哈希 {}",
            s.file, rows, s.audit_entries, s.head
        );
        Ok(ExitCode::SUCCESS)
    })
}
