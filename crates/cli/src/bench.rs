//! `pingan bench score` and `pingan bench survey`: where the time of a
//! scoring run or a survey estimate goes, phase by phase.

use crate::cmd_generate;
use anyhow::Result;
use clap::Subcommand;
use pingan_core::Period;
use pingan_core::framework::{self, DEFAULT_TOML};
use pingan_core::score::{Words, evaluate_all, score};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// API 并发压测：一个路径在多个长连接下的延迟 / latency of an API path under load
    Api {
        /// 服务地址，如 127.0.0.1:8080
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        #[arg(long)]
        user: String,
        /// 密码（也可用环境变量 PINGAN_PASSWORD）
        #[arg(long, env = "PINGAN_PASSWORD")]
        password: String,
        #[arg(long, default_value = "/api/v1/scores?period=2024&level=city")]
        path: String,
        #[arg(long, default_value_t = 200)]
        connections: usize,
        #[arg(long, default_value_t = 20000)]
        requests: usize,
        /// 请求 gzip 压缩的响应（浏览器默认如此）；计入的是压缩后的字节 / ask for gzip, as browsers do
        #[arg(long)]
        gzip: bool,
    },
    /// 负载演练：多个客户端在一个或多个服务实例上混合读取与部门报送，核对不丢不重 / the load drill: reads and department submissions at once
    Load(crate::bench_load::LoadOptions),
    /// 公开答题页面并发提交压测（每隔若干份重试一次，核对不丢不重） / many people answering at once
    Answer {
        /// 服务地址（服务端需以 --answer-limit 调高每地址限额）
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// `pingan generate --survey N` 生成的目录（取其中的 responses.csv）
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 2024)]
        year: i32,
        /// 并发提交者
        #[arg(long, default_value_t = 200)]
        connections: usize,
        /// 提交的答卷数
        #[arg(long, default_value_t = 10000)]
        requests: usize,
        /// 每隔多少份重试一次（0 不重试）
        #[arg(long, default_value_t = 20)]
        retry_every: usize,
    },
    /// 计分全过程计时（读文件、解析、计分、输出 JSON；另计仅数字的计分） / time each phase of `pingan score --format json` (and the numbers-only scoring of table/CSV)
    Score {
        /// 已生成的数据目录；省略时生成默认模拟省份 / folder from `pingan generate` (default: generate one)
        #[arg(long)]
        dir: Option<PathBuf>,
        /// 重复次数 / repetitions
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[arg(long, default_value_t = 2024)]
        year: i32,
    },
    /// 测评报告计时：一个县的 Word 报告（含两图），以及全部市、县报告 / time one county's report and the batch
    Report {
        #[command(flatten)]
        db: crate::cmd_db::DbArgs,
        #[arg(long, default_value_t = 2024)]
        year: i32,
        /// 县级地区代码（省略时取第一个县）
        #[arg(long)]
        region: Option<String>,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// 群众调查估计计时（读文件、解析答卷、有效性与加权估计、JSON） / time each phase of `pingan survey estimate`
    Survey {
        /// `pingan generate --survey N` 生成的目录 / folder from `pingan generate --survey N`
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

/// `pingan survey estimate` on the files of `dir`, phase by phase.
fn survey(dir: &std::path::Path, runs: usize) -> Result<ExitCode> {
    use pingan_input::survey as input;
    let phases = [
        "读文件",
        "问卷与抽样框",
        "解析答卷",
        "有效性与加权估计",
        "JSON输出",
        "合计",
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); phases.len()];
    let mut rows = 0;
    let fw = pingan_core::default_framework();
    let known = |e: &str| fw.element_index(e).is_some();
    let fail = |e: String| crate::InputFailure(e);
    for _ in 0..runs.max(1) {
        let mut t = Vec::new();
        let start = Instant::now();
        let mut lap = Instant::now();
        let mut mark = |t: &mut Vec<Duration>| {
            t.push(lap.elapsed());
            lap = Instant::now();
        };
        let read = |f: &str| std::fs::read(dir.join(f));
        let (r, fr, m, x, resp) = (
            read("regions.csv")?,
            read("frame.csv")?,
            read("margins.csv")?,
            read("survey-form.xlsx")?,
            read("responses.csv")?,
        );
        mark(&mut t);
        let tree = pingan_input::read_regions("regions.csv", &r)?;
        let form =
            input::read_form("survey-form.xlsx", &x, &known).map_err(|e| fail(e.join("\n")))?;
        let frame = input::read_frame("frame.csv", &fr, &tree)?;
        let margins = input::read_margins("margins.csv", &m, &tree, &form)?;
        let in_frame: std::collections::HashSet<usize> = frame.iter().map(|(r, _)| *r).collect();
        mark(&mut t);
        let got = input::read_responses("responses.csv", &resp, &form, &tree, &|r| {
            in_frame.contains(&r)
        })?;
        rows = got.rows.len();
        mark(&mut t);
        let est = pingan_core::survey::run::run(
            &form,
            &tree,
            &frame,
            &got.rows,
            got.duplicates,
            &margins,
            30,
        )
        .map_err(fail)?;
        mark(&mut t);
        std::hint::black_box(serde_json::to_vec(&est)?);
        mark(&mut t);
        t.push(start.elapsed());
        for (i, d) in t.into_iter().enumerate() {
            samples[i].push(d);
        }
    }
    print_phases(
        &format!("数据目录 {}，{rows} 份不同答卷", dir.display()),
        runs,
        &phases,
        &mut samples,
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn print_phases(
    what: &str,
    runs: usize,
    phases: &[&str],
    samples: &mut [Vec<Duration>],
) {
    println!("{what}，{runs} 次（中位数 / 最小值，毫秒）");
    for (name, s) in phases.iter().zip(samples.iter_mut()) {
        s.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name:　<8}  {:>9.1}  {:>9.1}",
            ms(s[s.len() / 2]),
            ms(s[0])
        );
    }
}

pub fn run(cmd: BenchCommand) -> Result<ExitCode> {
    let (dir, runs, year) = match cmd {
        BenchCommand::Score { dir, runs, year } => (dir, runs, year),
        BenchCommand::Survey { dir, runs } => return survey(&dir, runs),
        BenchCommand::Report {
            db,
            year,
            region,
            runs,
        } => return crate::bench_report::run(&db, year, region.as_deref(), runs),
        BenchCommand::Answer {
            addr,
            dir,
            year,
            connections,
            requests,
            retry_every,
        } => {
            crate::bench_answer::run(&addr, &dir, year, connections, requests, retry_every)?;
            return Ok(ExitCode::SUCCESS);
        }
        BenchCommand::Load(opts) => {
            crate::bench_load::run(opts)?;
            return Ok(ExitCode::SUCCESS);
        }
        BenchCommand::Api {
            addr,
            user,
            password,
            path,
            connections,
            requests,
            gzip,
        } => {
            crate::bench_api::run(&addr, &user, &password, &path, connections, requests, gzip)?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    let dir = match dir {
        Some(d) => d,
        None => {
            let d = tempfile::Builder::new()
                .prefix("pingan-bench-")
                .tempdir()?
                .keep();
            eprintln!("生成默认模拟省份到 {} ……", d.display());
            cmd_generate::write(&pingan_synth::Options::default(), &d)?;
            d
        }
    };
    let phases = [
        "读文件",
        "指标体系",
        "地区",
        "数据",
        "基准值",
        "计分",
        "JSON输出",
        "合计",
        "计分仅数字",
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); phases.len()];
    let mut rows = 0;
    for _ in 0..runs.max(1) {
        let mut t = Vec::new();
        let start = Instant::now();
        let mut lap = Instant::now();
        let mut mark = |t: &mut Vec<Duration>| {
            t.push(lap.elapsed());
            lap = Instant::now();
        };
        let r = std::fs::read(dir.join("regions.csv"))?;
        let v = std::fs::read(dir.join("values.csv"))?;
        let b = std::fs::read(dir.join("benchmarks.csv"))?;
        mark(&mut t);
        let fw = framework::check(DEFAULT_TOML)
            .framework
            .expect("内置指标体系");
        mark(&mut t);
        let tree = pingan_input::read_regions("regions.csv", &r)?;
        mark(&mut t);
        let mut data = pingan_input::read_values("values.csv", &v, &fw, &tree)?;
        rows = data.len();
        mark(&mut t);
        pingan_input::read_benchmarks("benchmarks.csv", &b, &fw, &mut data)?;
        mark(&mut t);
        let report = score(&fw, &tree, &data, Period::Year(year), None)?;
        mark(&mut t);
        crate::cmd_score::write_report_json(&mut std::io::sink(), &report)?;
        mark(&mut t);
        t.push(start.elapsed());
        // What the table and CSV formats score instead (not in the total).
        let lap = Instant::now();
        std::hint::black_box(
            evaluate_all(&fw, &tree, &data, Period::Year(year), None)?.score_with(Words::None),
        );
        t.push(lap.elapsed());
        for (i, d) in t.into_iter().enumerate() {
            samples[i].push(d);
        }
    }
    print_phases(
        &format!("数据目录 {}，{rows} 行数据", dir.display()),
        runs,
        &phases,
        &mut samples,
    );
    Ok(ExitCode::SUCCESS)
}
