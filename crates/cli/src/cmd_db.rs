//! Commands on the store: init, import, scores, audit, backup, restore.

use crate::cmd_score::{parse_level, parse_period, ranking_table, write_csv};
use crate::{Format, InputFailure, files};
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use pingan_core::labels::{LedgerAction, ValueState};
use pingan_core::{Level, Period};
use pingan_service::imports::{self, ImportSummary};
use pingan_service::values::{self, ImportOptions};
use pingan_service::{Caller, Ctx, ServiceError, callbacks, cap, intake, submit};
use pingan_store::{Actor, HashAlgo, Store, StoreError};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Clone)]
pub struct DbArgs {
    /// 数据库地址：sqlite://文件路径（默认；由 init、导入或 restore 创建）或 postgres://用户@主机/库
    #[arg(long, env = "PINGAN_DB", default_value = "sqlite://pingan.db")]
    pub db: String,
    /// 操作人（记入数据来源和审计日志）
    #[arg(long, env = "PINGAN_USER")]
    pub user: Option<String>,
}

impl DbArgs {
    fn user_name(&self) -> String {
        self.user
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "admin".into())
    }

    pub fn actor(&self) -> Actor {
        Actor::cli(&self.user_name())
    }

    /// The operator at the command line: whoever holds the database holds
    /// every capability.
    pub fn caller(&self) -> Caller {
        Caller::operator(&self.user_name())
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum HashArg {
    Sm3,
    Sha256,
}

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    db: DbArgs,
    /// 审计日志哈希算法：sm3（国密，新库默认）或 sha256；已有日志的库不能更改
    #[arg(long, value_enum)]
    hash: Option<HashArg>,
    /// 不导入内置的默认指标体系
    #[arg(long)]
    no_default_framework: bool,
    /// 内置指标体系自哪一年起适用（之后导入的版本按其年度替换）
    #[arg(long, default_value_t = 2000)]
    framework_from: i32,
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// 导入指标体系（TOML），自其 year 起适用 / a framework version
    Framework {
        file: PathBuf,
        /// 适用的起始年度（文件中无 year 时必填）
        #[arg(long)]
        year: Option<i32>,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// 导入地区 regions.csv
    Regions {
        file: PathBuf,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// 导入数据 values.csv（幂等：地区、期间、数据项、来源相同则覆盖或忽略）
    Values {
        file: PathBuf,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// 导入基准值 benchmarks.csv
    Benchmarks {
        file: PathBuf,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// 导入调解案件台账 cases.csv（case_id,region,date,type,outcome,agreement,fulfilled[,note]，
    /// 也可用中文表头），供回访抽查；按案件编号幂等
    Cases {
        file: PathBuf,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// 导入网格事件与应急出警记录（CSV 或 JSON Lines，events.md）；按 event_id + updated_at 幂等，
    /// 并由全部已存事件重算所涉年度的 8 项月度数据项（来源：网格平台、应急指挥）
    Events {
        file: PathBuf,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// 导入地区边界（GeoJSON FeatureCollection，按地区代码属性匹配；缺少、多余或几何有误的要素逐一报错，整体不写入）
    Boundaries(crate::cmd_boundaries::BoundaryArgs),
    /// 导入填好的部门报送模板（pingan template 生成的 .xlsx），来源记为该部门
    Excel {
        file: PathBuf,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// 导入某年度的群众调查问卷（XLSForm .xlsx，可用 pingan survey template 生成）
    SurveyForm {
        file: PathBuf,
        #[arg(long)]
        year: i32,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// 导入某年度的抽样框 frame.csv（region,population；整体替换）
    Frame {
        file: PathBuf,
        #[arg(long)]
        year: i32,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// 导入某年度按县的加权边际 margins.csv（region,variable,category,population；整体替换）
    Margins {
        file: PathBuf,
        #[arg(long)]
        year: i32,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// 导入调查答卷 responses.csv（ODK/Kobo 导出格式；按 instance_id 幂等，全部成功或全部不写入）
    Responses {
        file: PathBuf,
        #[arg(long)]
        year: i32,
        #[command(flatten)]
        common: ImportArgs,
    },
}

#[derive(Args)]
pub struct ImportArgs {
    #[command(flatten)]
    db: DbArgs,
    /// 试运行：检查并报告，不写入
    #[arg(long)]
    dry_run: bool,
    /// 数据进入三级审核，审核通过后才计入正式得分（仅 values、excel；默认直接生效）
    #[arg(long)]
    review: bool,
    /// 违反高重要度校验规则（负数、破案数大于立案数等）的数值照样保存，改为提示（仅 values、excel；
    /// 用于按原样导入历史数据，之后由 pingan check 列入待核查问题）
    #[arg(long)]
    accept_breaches: bool,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
pub struct ScoresArgs {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long, value_parser = parse_period)]
    period: Period,
    #[arg(long, value_parser = parse_level)]
    level: Option<Level>,
    /// 预览：计入尚在三级审核中的数据，不保存，结果注明“预览”，不是正式得分
    #[arg(long)]
    preview: bool,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Store errors a user caused (bad file, unreachable database) exit 1 with
/// the message alone.
pub fn user_error(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Db(_) | StoreError::Migrate(_) => anyhow::Error::new(e),
        other => InputFailure(other.to_string()).into(),
    }
}

/// The database `db` names, which must exist already: a mistyped SQLite
/// path is an error naming it, not a new empty database answering with
/// empty reports. Only the commands that put data in (`init`, the imports,
/// `restore`) create one, through [`create_store`].
pub async fn open_store(db: &DbArgs) -> Result<Store> {
    Store::open_existing(&db.db).await.map_err(user_error)
}

/// The service over the existing database `db` names.
pub async fn open_ctx(db: &DbArgs) -> Result<Ctx> {
    Ok(Ctx::new(open_store(db).await?))
}

/// The database `db` names, created (SQLite) when it is not there yet.
pub async fn create_store(db: &DbArgs) -> Result<Store> {
    Store::open(&db.db).await.map_err(user_error)
}

/// The service over the database `db` names, created when missing, with
/// the file it created: an import that fails takes it away again.
pub async fn create_ctx(db: &DbArgs) -> Result<(Ctx, Created)> {
    let file = pingan_store::sqlite_file(&db.db)
        .map(std::path::PathBuf::from)
        .filter(|p| !p.exists());
    Ok((Ctx::new(create_store(db).await?), Created(file)))
}

/// A SQLite file this command created. Unless the command `keep`s it (its
/// import went in), it is removed when the command ends, so a refused file
/// leaves no empty database behind to be mistaken for a real one.
pub struct Created(Option<std::path::PathBuf>);

impl Created {
    pub fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Created {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            for end in ["", "-wal", "-shm", "-journal"] {
                let mut f = p.clone().into_os_string();
                f.push(end);
                let _ = std::fs::remove_file(f);
            }
        }
    }
}

/// A service refusal exits 1 with its message; an import's problems come
/// one per line with the count; a failure of ours keeps its cause (the
/// operator runs the command on the server).
pub fn service_error(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Rejected(problems) => InputFailure(format!(
            "{}\n导入失败：未写入任何数据（共 {} 个错误）",
            ServiceError::Rejected(problems.clone()),
            problems.len()
        ))
        .into(),
        ServiceError::Internal(cause) => anyhow::anyhow!(cause),
        other => InputFailure(other.to_string()).into(),
    }
}

pub fn init(a: InitArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let store = create_store(&a.db).await?;
        let algo = match a.hash {
            Some(HashArg::Sm3) => HashAlgo::Sm3,
            Some(HashArg::Sha256) => HashAlgo::Sha256,
            None => store.hash_algo().await.map_err(user_error)?,
        };
        store.set_hash_algo(algo).await.map_err(user_error)?;
        let actor = a.db.actor();
        let fresh = store.audit_count().await.map_err(user_error)? == 0;
        if fresh {
            store
                .audit(
                    &actor,
                    &pingan_store::NewEntry::new(
                        LedgerAction::Init,
                        "database",
                        serde_json::json!({"hash": algo.name()}),
                    ),
                )
                .await
                .map_err(user_error)?;
        }
        if !a.no_default_framework
            && store
                .framework_for_year(i32::MAX)
                .await
                .map_err(user_error)?
                .is_none()
        {
            let ctx = Ctx::new(store.clone());
            let caller = a.db.caller();
            let who = caller
                .authorize::<cap::DirectImport>()
                .map_err(service_error)?;
            let s = imports::framework(
                &ctx,
                &who,
                pingan_core::framework::DEFAULT_FILE_NAME,
                pingan_core::framework::DEFAULT_TOML.as_bytes(),
                Some(a.framework_from),
                false,
            )
            .await
            .map_err(service_error)?;
            println!(
                "已导入内置指标体系 {}（版本 {}）",
                s.file,
                s.import_id.unwrap_or_default()
            );
        }
        println!("数据库已就绪：{}（审计哈希 {}）", store.url(), algo.name());
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn print_summary(s: &ImportSummary, format: Format) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(s)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "导入{} {}{}：共 {} 行，新增 {}，更新 {}，未变 {}，错误 0",
        s.kind.label(),
        s.file,
        if s.dry_run {
            "（试运行，未写入）"
        } else {
            ""
        },
        s.rows,
        s.imported,
        s.updated,
        s.ignored
    )?;
    writeln!(out, "内容 SHA-256：{}", s.sha256)?;
    if !s.rescored.is_empty() {
        writeln!(out, "已重新计分：{}", s.rescored.join("、"))?;
    }
    if s.review == ValueState::Pending && s.data_sets > 0 {
        writeln!(
            out,
            "{}三级审核：{} 个数据集，审核通过后计入正式得分",
            if s.dry_run { "将进入" } else { "已进入" },
            s.data_sets
        )?;
    }
    for n in &s.notes {
        writeln!(out, "提示：{n}")?;
    }
    Ok(())
}

pub fn import(cmd: ImportCommand) -> Result<ExitCode> {
    let survey = |kind, file, year, common: ImportArgs| {
        crate::cmd_survey::import(kind, file, year, &common.db, common.dry_run, common.format)
    };
    let (kind, file, year, common) = match cmd {
        ImportCommand::SurveyForm { file, year, common } => {
            return survey("form", file, year, common);
        }
        ImportCommand::Frame { file, year, common } => return survey("frame", file, year, common),
        ImportCommand::Margins { file, year, common } => {
            return survey("margins", file, year, common);
        }
        ImportCommand::Responses { file, year, common } => {
            return survey("responses", file, year, common);
        }
        ImportCommand::Framework { file, year, common } => ("framework", file, year, common),
        ImportCommand::Regions { file, common } => ("regions", file, None, common),
        ImportCommand::Values { file, common } => ("values", file, None, common),
        ImportCommand::Benchmarks { file, common } => ("benchmarks", file, None, common),
        ImportCommand::Excel { file, common } => ("excel", file, None, common),
        ImportCommand::Cases { file, common } => ("cases", file, None, common),
        ImportCommand::Events { file, common } => return import_events(file, common),
        ImportCommand::Boundaries(args) => return crate::cmd_boundaries::run(args),
    };
    if common.accept_breaches && !matches!(kind, "values" | "excel") {
        return Err(InputFailure(
            "--accept-breaches 只适用于 import values 和 import excel".into(),
        )
        .into());
    }
    if common.review && !matches!(kind, "values" | "excel") {
        return Err(InputFailure("--review 只适用于 import values 和 import excel".into()).into());
    }
    let bytes = files::read(&file)?;
    let name = file.display().to_string();
    runtime()?.block_on(async {
        let (ctx, created) = create_ctx(&common.db).await?;
        let caller = common.db.caller();
        let dry = common.dry_run;
        let options = ImportOptions {
            dry_run: dry,
            review: common.review,
            accept_breaches: common.accept_breaches,
        };
        let result = async {
            let direct = caller.authorize::<cap::DirectImport>()?;
            match kind {
                "excel" => {
                    let who = caller.authorize::<cap::Submit>()?;
                    let (batch, _) = submit::workbook(&ctx, &who, &name, &bytes).await?;
                    values::import(&ctx, &who, batch, options).await
                }
                "values" => {
                    let who = caller.authorize::<cap::Submit>()?;
                    let batch = intake::csv(&ctx, &who, &name, &bytes).await?;
                    values::import(&ctx, &who, batch, options).await
                }
                "framework" => imports::framework(&ctx, &direct, &name, &bytes, year, dry).await,
                "regions" => imports::regions(&ctx, &direct, &name, &bytes, dry).await,
                "cases" => {
                    let who = caller.authorize::<cap::CaseImport>()?;
                    let batch = callbacks::csv(&ctx, &who, &name, &bytes).await?;
                    callbacks::import(&ctx, &who, batch, dry).await
                }
                _ => imports::benchmarks(&ctx, &direct, &name, &bytes, dry).await,
            }
        }
        .await;
        ctx.store.close().await;
        let s = result.map_err(service_error)?;
        if !dry {
            created.keep();
        }
        print_summary(&s, common.format)?;
        Ok(ExitCode::SUCCESS)
    })
}

fn import_events(file: PathBuf, common: ImportArgs) -> Result<ExitCode> {
    if common.review || common.accept_breaches {
        return Err(
            InputFailure("--review 和 --accept-breaches 不适用于 import events".into()).into(),
        );
    }
    let bytes = files::map(&file)?;
    let name = file.display().to_string();
    runtime()?.block_on(async {
        let (ctx, created) = create_ctx(&common.db).await?;
        let caller = common.db.caller();
        let result = async {
            let who = caller.authorize::<cap::Submit>()?;
            pingan_service::events::import_events(&ctx, &who, &name, &bytes, common.dry_run).await
        }
        .await;
        ctx.store.close().await;
        let s = result.map_err(service_error)?;
        if !common.dry_run {
            created.keep();
        }
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        match common.format {
            Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&s)?)?,
            _ => {
                writeln!(
                    out,
                    "{}：{} 行，{} 个事件；{}写入 {}，重复 {}，已有更新版本 {}",
                    s.file,
                    s.rows,
                    s.events,
                    if s.dry_run { "将" } else { "" },
                    s.written,
                    s.duplicates,
                    s.older
                )?;
                out.flush()?;
                if let Some(v) = &s.values {
                    print_summary(v, common.format)?;
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn scores(a: ScoresArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let ctx = open_ctx(&a.db).await?;
        let caller = a.db.caller();
        let who = caller.authorize::<cap::Scores>().map_err(service_error)?;
        let q = pingan_service::scores::ScoreQuery {
            period: a.period,
            level: a.level,
            parent: None,
        };
        let (report, pending) = if a.preview {
            let report = pingan_service::scores::preview(&ctx, &who, &q).await;
            let pending =
                pingan_service::review::pending_in_scope(&ctx, &caller, a.period.year(), None)
                    .await;
            report.and_then(|r| pending.map(|p| (r, p)))
        } else {
            pingan_service::scores::official(&ctx, &who, &q)
                .await
                .map(|r| (r, 0))
        }
        .map_err(service_error)?;
        let fw = ctx
            .store
            .framework_for_year(a.period.year())
            .await
            .map_err(user_error)?
            .context("没有适用的指标体系")?;
        ctx.store.close().await;
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let notice = format!("预览：计入了 {pending} 个尚在三级审核中的数据，不是正式得分，未保存");
        match a.format {
            Format::Json if a.preview => {
                let mut v = serde_json::to_value(&report)?;
                v["preview"] = serde_json::json!(true);
                v["pending_values"] = serde_json::json!(pending);
                serde_json::to_writer(&mut out, &v)?;
                writeln!(out)?;
            }
            Format::Json => {
                serde_json::to_writer(&mut out, &report)?;
                writeln!(out)?;
            }
            Format::Csv => {
                if a.preview {
                    eprintln!("{notice}");
                }
                write_csv(&mut out, &report, &fw)?
            }
            Format::Table => {
                if a.preview {
                    writeln!(out, "【{notice}】")?;
                }
                out.write_all(ranking_table(&report, &fw).as_bytes())?
            }
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `pingan check --db`: the checks over stored values; with `save`, the
/// flags go to the follow-up queue.
pub fn check_store(
    url: &str,
    user: Option<&str>,
    rules: Option<&std::path::Path>,
    period: pingan_core::Period,
    save: bool,
) -> Result<(
    pingan_core::Framework,
    pingan_core::RegionTree,
    pingan_core::quality::Report,
)> {
    let db = DbArgs {
        db: url.to_string(),
        user: user.map(str::to_string),
    };
    runtime()?.block_on(async {
        let ctx = open_ctx(&db).await?;
        let caller = db.caller();
        let who = caller.authorize::<cap::Check>().map_err(service_error)?;
        let store = &ctx.store;
        let fw = store
            .framework_for_year(period.year())
            .await
            .map_err(user_error)?
            .ok_or_else(|| {
                InputFailure(format!(
                    "数据库中没有适用于 {} 年的指标体系：请先导入（pingan import framework）",
                    period.year()
                ))
            })?;
        let rules = match rules {
            Some(p) => Some(crate::cmd_check::rules(Some(p), &fw)?),
            None => None,
        };
        let (fw, tree, report) = pingan_service::quality::run(&ctx, &who, rules.as_ref(), period)
            .await
            .map_err(service_error)?;
        if save {
            let views: Vec<_> = report.flags.iter().map(|f| f.view(&fw, &tree)).collect();
            let s = store
                .save_flags(period, &views, |_| true, &db.actor())
                .await
                .map_err(user_error)?;
            eprintln!(
                "已写入待核查队列：新增 {} 条，更新 {} 条，已处理过的 {} 条保持不变，不再出现的 {} 条移出队列",
                s.new, s.updated, s.resolved_before, s.cleared
            );
        }
        store.close().await;
        Ok((fw.as_ref().clone(), tree, report))
    })
}
