//! `pingan`: the command line of 平安建设测评平台. Each subcommand is a thin
//! shell over pingan-core and pingan-input.

mod bench;
mod bench_answer;
mod bench_api;
mod bench_load;
mod bench_report;
mod cmd_audit;
mod cmd_boundaries;
mod cmd_callbacks;
mod cmd_check;
mod cmd_db;
mod cmd_events;
mod cmd_forecast;
mod cmd_framework;
mod cmd_generate;
mod cmd_publish;
mod cmd_rectify;
mod cmd_report;
mod cmd_risk;
mod cmd_score;
mod cmd_sensitivity;
mod cmd_serve;
mod cmd_survey;
mod cmd_template;
mod cmd_users;
mod cmd_weights;
mod demo;
mod demo_events;
mod files;
mod table;

use clap::{Parser, Subcommand, ValueEnum};

/// Reading half a million survey answers or a province's values is mostly
/// small allocations; mimalloc made `survey estimate` on 500,000 answers
/// markedly faster than the system allocator (docs/survey.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "pingan",
    version,
    about = "平安建设测评平台 — public-safety construction evaluation: framework, scoring, rankings",
    long_about = "平安建设测评平台（pingan）：指标体系校验、按规则计分、排名与扣分说明、部门报送模板、数据质量检查、数据库与网页服务。\n\
                  pingan runs a province's annual public-safety evaluation: framework lint, scoring, ranks, deduction reasons, \
                  department templates, quality checks, the database and the web server."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 指标体系：校验（check）与查看（show） / lint and show a framework file
    Framework {
        #[command(subcommand)]
        command: cmd_framework::FrameworkCommand,
    },
    /// 按指标体系计分并排名 / score regions for a period (scoring.md §7)
    Score(cmd_score::ScoreArgs),
    /// 月度数据预测：逐序列回测选模，输出预测值与预测区间 / monthly forecasts (forecast.md)
    Forecast(cmd_forecast::ForecastArgs),
    /// 指标权重：层次分析法、德尔菲法、熵权法、CRITIC、组合、写回 / expert and objective weights
    Weights {
        #[command(subcommand)]
        command: cmd_weights::WeightsCommand,
    },
    /// 排名的不确定性与敏感性分析（蒙特卡洛） / how sure the ranking is under uncertain weights
    Sensitivity(cmd_sensitivity::SensitivityArgs),
    /// 初始化数据库（建表、默认指标体系、审计日志） / create or upgrade a database
    Init(cmd_db::InitArgs),
    /// 导入文件到数据库（全部成功或全部不写入） / import into the database, all or nothing
    Import {
        #[command(subcommand)]
        command: cmd_db::ImportCommand,
    },
    /// 调解案件回访抽查：抽取、登记回访结果、对照成功率 / callback sampling of mediation cases
    Callbacks {
        #[command(subcommand)]
        command: cmd_callbacks::CallbacksCommand,
    },
    /// 测评报告、全省通报与问题整改通知书（Word 公文格式、Excel、HTML、PDF） / reports and notices
    Report(cmd_report::ReportArgs),
    /// 公开测评结果并开启公示期（无需登录即可查看） / publish a year's results and open the 公示 window
    Publish(cmd_publish::PublishArgs),
    /// 整改清单：逾期清单（--late）与按指标自动复查（--recheck） / late rectification items and the automatic re-inspection
    Rectify(cmd_rectify::RectifyArgs),
    /// 风险预警：逐地区预测月度事件数据项并评估下一年失分与否决概率（--refresh 重算并保存） / risk warnings
    Risk(cmd_risk::RiskArgs),
    /// 数据质量检查：逻辑校验、异常值识别、多来源比对、时效 / validation rules and anomaly detection
    Check(cmd_check::CheckArgs),
    /// 生成部门报送模板（Excel：每个期间一个工作表，带数据校验） / a department's Excel template
    Template(cmd_template::TemplateArgs),
    /// 读取数据库中保存的得分（与 score 的输出相同） / stored scores
    Scores(cmd_db::ScoresArgs),
    /// 审计日志：校验、最新哈希、查询导出 / the audit ledger
    Audit {
        #[command(subcommand)]
        command: cmd_audit::AuditCommand,
    },
    /// 启动 JSON API 服务 / serve the JSON API
    Serve(cmd_serve::ServeArgs),
    /// 输出 JSON API 的 OpenAPI 文档（与 /api/v1/openapi.json 相同） / print the OpenAPI document
    Openapi,
    /// 账户管理 / accounts
    User {
        #[command(subcommand)]
        command: cmd_users::UserCommand,
    },
    /// 部门系统的 API 令牌 / department API tokens
    Token {
        #[command(subcommand)]
        command: cmd_users::TokenCommand,
    },
    /// 备份数据库 / consistent backup
    Backup(cmd_audit::BackupArgs),
    /// 从备份恢复到空数据库 / restore into an empty database
    Restore(cmd_audit::RestoreArgs),
    /// 生成模拟省份数据 / generate a synthetic province (regions, values, benchmarks)
    Generate(cmd_generate::GenerateArgs),
    /// 演示：生成模拟省份、计分并显示排名 / demo: a synthetic province scored
    Demo(demo::DemoArgs),
    /// 群众调查：样本量、抽样方案、加权估计 / citizen surveys: size, plan, weighted estimates
    Survey {
        #[command(subcommand)]
        command: cmd_survey::SurveyCommand,
    },
    /// 网格事件与应急处置记录：派生月度数据项 / grid events and call-outs (events.md)
    Events {
        #[command(subcommand)]
        command: cmd_events::EventsCommand,
    },
    /// 性能测试 / measure how long scoring the generated province takes
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// An error in what the user gave us: printed as is, exit status 1.
#[derive(Debug)]
pub struct InputFailure(pub String);

impl std::fmt::Display for InputFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputFailure {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Commands other than the server say only warnings unless PINGAN_LOG
    // asks for more (PINGAN_LOG=info shows the phases of an import).
    if !matches!(cli.command, Command::Serve(_) | Command::Demo(_)) {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("PINGAN_LOG")
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error")),
            )
            .try_init();
    }
    let result = match cli.command {
        Command::Framework { command } => cmd_framework::run(command),
        Command::Score(args) => cmd_score::run(args),
        Command::Forecast(args) => cmd_forecast::run(args),
        Command::Weights { command } => cmd_weights::run(command),
        Command::Sensitivity(args) => cmd_sensitivity::run(args),
        Command::Init(args) => cmd_db::init(args),
        Command::Import { command } => cmd_db::import(command),
        Command::Callbacks { command } => cmd_callbacks::run(command),
        Command::Report(args) => cmd_report::run(args),
        Command::Publish(args) => cmd_publish::run(args),
        Command::Rectify(args) => cmd_rectify::run(args),
        Command::Risk(args) => cmd_risk::run(args),
        Command::Check(args) => cmd_check::run(args),
        Command::Template(args) => cmd_template::run(args),
        Command::Scores(args) => cmd_db::scores(args),
        Command::Audit { command } => cmd_audit::audit(command),
        Command::Serve(args) => cmd_serve::run(args),
        Command::Openapi => cmd_serve::openapi(),
        Command::User { command } => cmd_users::user(command),
        Command::Token { command } => cmd_users::token(command),
        Command::Backup(args) => cmd_audit::backup(args),
        Command::Restore(args) => cmd_audit::restore(args),
        Command::Generate(args) => cmd_generate::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Survey { command } => cmd_survey::run(command),
        Command::Events { command } => cmd_events::run(command),
        Command::Bench { command } => bench::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            match e.downcast_ref::<InputFailure>() {
                Some(f) => eprintln!("{f}"),
                None => eprintln!("错误：{e:#}"),
            }
            ExitCode::from(1)
        }
    }
}

/// `pingan … | head` closes our stdout early: that is the reader's choice,
/// not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// A file path argument shown in messages as the user typed it.
pub fn display_path(p: &std::path::Path) -> String {
    p.display().to_string()
}

pub type Paths = Vec<PathBuf>;
