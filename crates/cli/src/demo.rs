//! `pingan demo`: a synthetic province generated, scored and ranked.

use crate::cmd_generate;
use crate::cmd_score::total_text;
use crate::files;
use crate::table::Table;
use anyhow::Result;
use clap::Args;
use pingan_core::num::fmt_num;
use pingan_core::score::{RegionResult, score};
use pingan_core::{Level, Period};
use pingan_service::field::{self, DrawInput};
use pingan_service::intake::{self, At, Channel, Intake};
use pingan_service::users::{self, NewUser};
use pingan_service::values::{self, ImportOptions};
use pingan_service::{Caller, Ctx, ServiceError, callbacks, cap, imports, quality, surveys};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct DemoArgs {
    /// 数据目录；省略时在临时目录中生成 / where to write the generated files (default: a new temp folder)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// 随机种子 / seed of the synthetic province
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// 测评年度 / year to score
    #[arg(long, default_value_t = 2024)]
    pub year: i32,
    /// 服务监听地址 / where to serve the API
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// 只生成、入库并显示结果，不启动服务 / do not serve
    #[arg(long)]
    pub no_serve: bool,
    /// 每年生成的网格事件与应急出警记录数（全省实际规模约 10000000；0 = 不生成，8 项事件数据项取生成器的数值）
    /// / events per year (the full province is about 10000000; 0 = none)
    #[arg(long, default_value_t = crate::demo_events::DEFAULT_PER_YEAR)]
    pub events: usize,
    /// 省份规模（测试用）/ province size, for quick runs
    #[arg(long, default_value_t = 13, hide = true)]
    pub cities: usize,
    #[arg(long, default_value_t = 100, hide = true)]
    pub counties: usize,
    #[arg(long, default_value_t = 1000, hide = true)]
    pub townships: usize,
}

/// The demo accounts: one per role, no forced change, passwords printed once.
const DEMO_ACCOUNTS: [(&str, &str, &str); 11] = [
    ("office", "office_admin", "测评办管理员"),
    ("gongan", "department", "部门报送员（公安）"),
    ("collector", "collector", "数据采集组"),
    ("verifier", "verifier", "实地核查组"),
    ("verifier2", "verifier", "实地核查组（双人核查的第二人）"),
    ("expert", "expert", "专家评审组"),
    ("county", "region_official", "地区用户"),
    ("supervisor", "supervisor", "监督小组"),
    ("sysadmin", "system_admin", "系统管理员"),
    ("secadmin", "security_admin", "安全管理员"),
    ("auditor", "audit_admin", "审计管理员"),
];

/// Where the demo keeps the survey of `year`: the scored year's beside the
/// other files, the year before's in its own folder.
fn survey_dir(dir: &std::path::Path, year: i32, scored: i32) -> std::path::PathBuf {
    if year == scored {
        dir.to_path_buf()
    } else {
        dir.join(format!("survey-{year}"))
    }
}

/// The survey's estimates, and values.csv with them as that year's values
/// of the survey elements (in place of the generator's own numbers): the
/// printed ranking and the database then score the same survey.
fn survey_values(
    dir: &std::path::Path,
    sdir: &std::path::Path,
    year: i32,
) -> Result<pingan_core::survey::run::Estimates> {
    let est = crate::cmd_survey::from_files(
        &sdir.join("survey-form.xlsx"),
        &dir.join("regions.csv"),
        &sdir.join("frame.csv"),
        &sdir.join("responses.csv"),
        Some(&sdir.join("margins.csv")),
        None,
        30,
    )?;
    let elements: std::collections::HashSet<String> = est
        .regions
        .first()
        .map(|r| r.elements.iter().map(|e| e.element.clone()).collect())
        .unwrap_or_default();
    let path = dir.join("values.csv");
    let text = std::fs::read_to_string(&path)?;
    let period = year.to_string();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut f = line.splitn(4, ',');
        let (_, p, e) = (f.next(), f.next(), f.next());
        if p == Some(period.as_str()) && e.is_some_and(|e| elements.contains(e)) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    for r in &est.regions {
        for e in &r.elements {
            if let Some(v) = e.estimate {
                out.push_str(&format!("{},{year},{},{v}\n", r.region, e.element));
            }
        }
    }
    std::fs::write(&path, out)?;
    Ok(est)
}

/// Answers per township the demo's scored year has (about 100,000 for the
/// full province, as the seed's §5.2), and the year before (a smaller
/// round, enough for its comparison).
const SURVEY_PER_TOWNSHIP: usize = 100;
const SURVEY_BEFORE_PER_TOWNSHIP: usize = 50;

/// (name, password, role label, scope) as printed.
type DemoAccount = (String, String, String, String);

/// A password the complexity rule accepts, different every run.
fn demo_password() -> String {
    let t = pingan_store::random_token();
    format!("Demo-{}-{}", &t[..4].to_uppercase(), &t[4..8])
}

/// Generated files into a fresh SQLite database with one account per role;
/// returns the database URL and the accounts (name, password, role label, scope).
fn load_database(
    dir: &std::path::Path,
    tree: &pingan_core::RegionTree,
    year: i32,
) -> Result<(String, Vec<DemoAccount>, usize)> {
    use crate::cmd_db::runtime;
    let path = dir.join("pingan.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let url = format!("sqlite://{}", path.display());
    let events: Vec<std::path::PathBuf> = (year - 2..=year)
        .map(|y| crate::demo_events::file_of(dir, y))
        .filter(|p| p.exists())
        .collect();
    let county = tree
        .regions()
        .iter()
        .find(|r| r.level == Level::County)
        .map(|r| (r.code.clone(), r.name.clone()));
    runtime()?.block_on(async {
        let store = pingan_store::Store::open(&url)
            .await
            .map_err(crate::cmd_db::user_error)?;
        let ctx = Ctx::new(store);
        let fail = crate::cmd_db::service_error;
        let operator = Caller::operator("demo");
        let direct = operator.authorize::<cap::DirectImport>().map_err(fail)?;
        imports::framework(
            &ctx,
            &direct,
            pingan_core::framework::DEFAULT_FILE_NAME,
            pingan_core::framework::DEFAULT_TOML.as_bytes(),
            Some(2000),
            false,
        )
        .await
        .map_err(fail)?;
        for (kind, file) in [
            ("regions", "regions.csv"),
            ("benchmarks", "benchmarks.csv"),
            ("values", "values.csv"),
        ] {
            let bytes = std::fs::read(dir.join(file))?;
            let name = dir.join(file).display().to_string();
            match kind {
                "regions" => imports::regions(&ctx, &direct, &name, &bytes, false).await,
                "benchmarks" => imports::benchmarks(&ctx, &direct, &name, &bytes, false).await,
                _ => {
                    // The eight event elements come from the events below.
                    let bytes = if !events.is_empty() {
                        crate::demo_events::without_event_elements(&String::from_utf8_lossy(&bytes))
                            .into_bytes()
                    } else {
                        bytes
                    };
                    let who = operator.authorize::<cap::Submit>().map_err(fail)?;
                    let batch = intake::csv(&ctx, &who, &name, &bytes).await.map_err(fail)?;
                    values::import(&ctx, &who, batch, ImportOptions::default()).await
                }
            }
            .map_err(fail)?;
        }
        // The generated outlines, so the 平安热力图 has a map to colour.
        let map = dir.join("boundaries.geojson");
        pingan_service::boundaries::import(
            &ctx,
            &direct,
            &map.display().to_string(),
            &std::fs::read(&map)?,
            "code",
            false,
        )
        .await
        .map_err(fail)?;
        for file in &events {
            let who = operator.authorize::<cap::Submit>().map_err(fail)?;
            let bytes = std::fs::read(file)?;
            pingan_service::events::import_events(
                &ctx,
                &who,
                &file.display().to_string(),
                &bytes,
                false,
            )
            .await
            .map_err(fail)?;
        }
        // The surveys themselves (the scored year's and the year before's),
        // so the 群众调查 page compares them and `pingan survey estimate
        // --db` works from the store (values.csv already holds the
        // estimates), with the scored year's plan.
        let manage = operator.authorize::<cap::SurveyManage>().map_err(fail)?;
        let answers = operator.authorize::<cap::SurveyAnswers>().map_err(fail)?;
        for y in [year - 1, year] {
            let sdir = survey_dir(dir, y, year);
            let name = |f: &str| sdir.join(f).display().to_string();
            let read = |f: &str| std::fs::read(sdir.join(f));
            surveys::import_form(
                &ctx,
                &manage,
                y,
                &name("survey-form.xlsx"),
                &read("survey-form.xlsx")?,
            )
            .await
            .map_err(fail)?;
            surveys::import_frame(&ctx, &manage, y, &name("frame.csv"), &read("frame.csv")?)
                .await
                .map_err(fail)?;
            surveys::import_margins(
                &ctx,
                &manage,
                y,
                &name("margins.csv"),
                &read("margins.csv")?,
            )
            .await
            .map_err(fail)?;
            surveys::import_responses(
                &ctx,
                &answers,
                y,
                &name("responses.csv"),
                &read("responses.csv")?,
                false,
            )
            .await
            .map_err(fail)?;
        }
        surveys::set_plan(
            &ctx,
            &manage,
            pingan_store::SurveyPlan {
                year,
                size: (SURVEY_PER_TOWNSHIP
                    * tree
                        .regions()
                        .iter()
                        .filter(|r| r.level == Level::Township)
                        .count()) as i64,
                allocation: "proportional".into(),
                min_per: 40,
                response_rate: "0.893".into(),
                made_by: String::new(),
                made_at: String::new(),
            },
        )
        .await
        .map_err(fail)?;
        // The quality checks of the scored year fill the follow-up queue,
        // so the 数据质量 page has something to review.
        let check = operator.authorize::<cap::Check>().map_err(fail)?;
        let out = quality::check(&ctx, &check, Period::Year(year), true)
            .await
            .map_err(fail)?;
        let mut accounts = Vec::new();
        let mut gongan = None;
        let admin = operator.authorize::<cap::Accounts>().map_err(fail)?;
        for (name, role, label) in DEMO_ACCOUNTS {
            let password = demo_password();
            let (region, scope) = match (role, &county) {
                ("region_official", Some((code, cname))) => {
                    (Some(code.clone()), format!("{cname}（{code}）"))
                }
                _ => (None, "全省".to_string()),
            };
            let new = NewUser {
                username: name.to_string(),
                password: password.clone(),
                roles: vec![role.parse().map_err(crate::InputFailure)?],
                region,
                department: (role == "department").then(|| "公安".to_string()),
                must_change_password: false,
            };
            let user = users::add(&ctx, &admin, new).await.map_err(fail)?;
            if role == "department" {
                gongan = Some(user);
            }
            accounts.push((name.to_string(), password, label.to_string(), scope));
        }
        if let Some(g) = gongan {
            seed_review(&ctx, &g, year).await.map_err(fail)?;
        }
        // Next year's 风险预警 from the three years of months (what the
        // daily `pingan risk --refresh` keeps), for the 风险预警 page and the
        // map; last, so that no write after it marks it stale.
        let notices = operator.authorize::<cap::Notices>().map_err(fail)?;
        let risk =
            pingan_service::risk::refresh(&ctx, &notices, None, pingan_core::risk::DEFAULT_DRAWS)
                .await
                .map_err(fail)?;
        eprintln!(
            "风险预警：{} 个序列，{} 条预警，用时 {:.1} 秒",
            risk.series,
            risk.warnings.len(),
            risk.seconds
        );
        ctx.store.close().await;
        Ok((url, accounts, out.flags.len()))
    })
}

pub fn run(args: DemoArgs) -> Result<ExitCode> {
    let dir = match args.out {
        Some(d) => d,
        None => tempfile::Builder::new()
            .prefix("pingan-demo-")
            .tempdir()?
            .keep(),
    };
    let opts = pingan_synth::Options {
        seed: args.seed,
        first_year: args.year - 2,
        last_year: args.year,
        cities: args.cities,
        counties: args.counties,
        townships: args.townships,
        anomalies: 0,
    };
    eprintln!(
        "正在生成模拟省份（{} 个市、{} 个县、{} 个乡镇，{}—{} 年逐月数据）……",
        opts.cities, opts.counties, opts.townships, opts.first_year, opts.last_year
    );
    let rows = cmd_generate::write(&opts, &dir)?;
    if args.events > 0 {
        eprintln!(
            "正在生成网格事件与应急出警记录（每年约 {} 条）并由其派生 8 项月度数据项……",
            args.events
        );
        let n = crate::demo_events::write(&dir, &opts, args.events)?;
        eprintln!(
            "事件记录：{n} 行 → {}（每年一个文件）",
            dir.join("events-YYYY.csv").display()
        );
    } else {
        // An earlier run's events are not this one's.
        for y in opts.first_year..=opts.last_year {
            let _ = std::fs::remove_file(crate::demo_events::file_of(&dir, y));
        }
    }
    let respondents =
        cmd_generate::write_survey(&opts, SURVEY_PER_TOWNSHIP * opts.townships, &dir)?;
    let before = args.year - 1;
    let before_dir = survey_dir(&dir, before, args.year);
    cmd_generate::write_survey_of(
        &opts,
        before,
        SURVEY_BEFORE_PER_TOWNSHIP * opts.townships,
        &before_dir,
    )?;
    survey_values(&dir, &before_dir, before)?;
    let survey = survey_values(&dir, &dir, args.year)?;
    eprintln!(
        "群众调查：{respondents} 份答卷，有效 {}，{} 个地区的 9 项调查数据取自加权估计",
        survey.responses.valid,
        survey
            .regions
            .iter()
            .filter(|r| r.elements.iter().any(|e| e.estimate.is_some()))
            .count()
    );
    let (r, v, b) = (
        dir.join("regions.csv"),
        dir.join("values.csv"),
        dir.join("benchmarks.csv"),
    );
    let inp = files::inputs(None, &r, &v, Some(&b))?;
    let period = Period::Year(args.year);
    let report = score(&inp.framework, &inp.tree, &inp.data, period, None)?;
    let fw = &inp.framework;

    println!("{}　{}　模拟省份测评结果\n", fw.name, period.label());
    let cities: Vec<&RegionResult> = report
        .results
        .iter()
        .filter(|x| x.level == Level::City.code())
        .collect();
    let mut sorted = cities.clone();
    sorted.sort_by_key(|x| x.rank);
    let mut t =
        Table::new(&["排名", "市", "总分", "等级", "最弱维度", "最弱指标", "说明"]).right(&[0, 2]);
    for c in &sorted {
        let weakest_dim = c
            .dimensions
            .iter()
            .min_by(|a, b| a.percent.total_cmp(&b.percent))
            .map(|d| format!("{}（{}%）", d.name, fmt_num(d.percent, 1)))
            .unwrap_or_default();
        let weakest_ind = c
            .indicators
            .iter()
            .filter(|i| i.max > 0.0)
            .min_by(|a, b| (a.points / a.max).total_cmp(&(b.points / b.max)))
            .map(|i| {
                format!(
                    "{}（{}/{}分）",
                    i.name,
                    fmt_num(i.points, 2),
                    fmt_num(i.max, 2)
                )
            })
            .unwrap_or_default();
        let mut notes = Vec::new();
        if c.veto {
            notes.push("一票否决");
        }
        if c.bottom {
            notes.push("后三位，约谈");
        }
        t.row(vec![
            c.rank.to_string(),
            c.name.clone(),
            total_text(fw, c.total),
            c.grade.clone(),
            weakest_dim,
            weakest_ind,
            notes.join("，"),
        ]);
    }
    println!("各市排名\n{}", t.render());

    if let Some(p) = report
        .results
        .iter()
        .find(|x| x.level == Level::Province.code())
    {
        let mut inds: Vec<_> = p.indicators.iter().filter(|i| i.max > 0.0).collect();
        inds.sort_by(|a, b| (a.points / a.max).total_cmp(&(b.points / b.max)));
        let mut t = Table::new(&["指标", "值", "得分/满分", "扣分原因"]).right(&[1, 2]);
        for i in inds.iter().take(8).filter(|i| i.points < i.max) {
            let value = i.value.map_or("未报送".into(), |v| {
                format!("{}{}", fmt_num(v, 2), i.unit)
            });
            let name = if i.provisional {
                format!("{}【待定】", i.name)
            } else {
                i.name.clone()
            };
            t.row(vec![
                format!("{} {}", i.code, name),
                value,
                format!("{}/{}", fmt_num(i.points, 2), fmt_num(i.max, 2)),
                i.reasons.join("；"),
            ]);
        }
        println!(
            "{}全省得分 {}（{}），最弱指标\n{}",
            p.name,
            fmt_num(p.total, 2),
            p.grade,
            t.render()
        );
    }
    let counties = report
        .results
        .iter()
        .filter(|x| x.level == Level::County.code())
        .count();
    let vetoed: Vec<&str> = report
        .results
        .iter()
        .filter(|x| x.veto)
        .map(|x| x.name.as_str())
        .collect();
    println!(
        "共计分 {} 个地区（其中县（区）{} 个）；一票否决 {} 个{}",
        report.results.len(),
        counties,
        vetoed.len(),
        if vetoed.is_empty() {
            String::new()
        } else {
            format!("：{}", vetoed.join("、"))
        }
    );
    println!("\n数据文件（{rows} 行）位于 {}", dir.display());
    println!(
        "重新计分：pingan score --regions {} --values {} --benchmarks {} --period {} --level county",
        r.display(),
        v.display(),
        b.display(),
        args.year
    );

    eprintln!("正在把模拟数据导入数据库并计分（完整规模约需一分半钟）……");
    let (url, accounts, flags) = load_database(&dir, &inp.tree, args.year)?;
    println!("\n数据库：{url}");
    println!(
        "数据质量检查（{} 年）：{flags} 条待核查问题，见网页“数据质量”或 pingan check --db {url} --period {}",
        args.year, args.year
    );
    println!(
        "另有：公安报送的一个县 12 月数据待三级审核（网页“数据审核”，collector → verifier → expert 依次审核）；5 个随机抽取的实地核查任务（“实地核查”，verifier 与 verifier2 双人核查）；该县调解案件台账及回访抽样（“回访抽查”）"
    );
    if args.events > 0 {
        println!(
            "网格事件：{}—{} 年每年约 {} 条事件记录，8 项事件数据项由其派生（网页“网格事件”及其事件清单）",
            args.year - 2,
            args.year,
            args.events
        );
    }
    let mut t = Table::new(&["账户", "密码", "角色", "数据范围"]);
    for (name, pw, label, scope) in &accounts {
        t.row(vec![name.clone(), pw.clone(), label.clone(), scope.clone()]);
    }
    println!("演示账户（密码只显示这一次）\n{}", t.render());
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "网页：http://{0}/ （用上面的账户登录）\nJSON API：http://{0}/api/v1（接口文档 /api/v1/openapi.json；Ctrl-C 停止）",
        args.bind
    );
    let opts = pingan_server::Options {
        warm_up: true,
        risk_every: Some(std::time::Duration::from_secs(600)),
        ..pingan_server::Options::default()
    };
    crate::cmd_serve::serve_url(&url, &args.bind, &opts)
}

/// Give the 数据审核, 实地核查 and 回访抽查 pages something to do: 公安
/// submits one county's December through the review, five townships are
/// drawn for field verification, and that county's mediation register
/// (consistent with its reported disputes) is imported and sampled.
async fn seed_review(
    ctx: &Ctx,
    gongan: &pingan_store::User,
    year: i32,
) -> Result<(), ServiceError> {
    let tree = ctx.tree().await?;
    let dept = Caller::user(gongan, "demo");
    let submitter = dept.authorize::<cap::Submit>()?;
    let fw = ctx.store.known_codes().await?;
    let own: Vec<&str> = fw
        .elements
        .iter()
        .filter(|e| e.department == "公安")
        .map(|e| e.code.as_str())
        .collect();
    let Some(county) = (0..tree.len()).find(|&i| tree.get(i).level == Level::County) else {
        return Ok(());
    };
    let period = format!("{year}-12");
    let mut intake = Intake::open(
        ctx,
        &dept,
        Channel::File {
            name: "公安报送.csv".into(),
        },
    )
    .await?;
    let mut line = 1;
    for &t in tree.children(county) {
        let code = &tree.get(t).code;
        for v in ctx.store.values(Some(code), Some(&period), None).await? {
            if own.contains(&v.element.as_str()) {
                line += 1;
                intake.push_text(
                    At::Line(line),
                    code,
                    &period,
                    &v.element,
                    &v.value.to_string(),
                    "公安",
                    "",
                );
            }
        }
    }
    let batch = intake.finish("公安报送.csv", pingan_store::sha256_hex(period.as_bytes()))?;
    values::import(ctx, &submitter, batch, ImportOptions::default()).await?;

    let operator = Caller::operator("demo");
    let field_team = operator.authorize::<cap::Field>()?;
    // Five townships drawn as the 实地核查组 would, the year as the seed.
    field::draw(
        ctx,
        &field_team,
        DrawInput {
            period: year.to_string(),
            count: 5,
            elements: vec!["patrol_teams".into(), "monitored_area".into()],
            seed: Some(year as u64),
            region: None,
            checklist: Vec::new(),
        },
    )
    .await?;

    // One case per reported dispute (at most 40 a township), the resolved
    // ones successful, so the callback evidence sits beside a real rate.
    let mut register = String::from("case_id,region,date,type,outcome,agreement,fulfilled\n");
    let kinds = ["邻里纠纷", "婚姻家庭", "劳动争议", "物业纠纷", "土地山林"];
    for &t in tree.children(county) {
        let code = &tree.get(t).code;
        let year_sum = |rows: Vec<pingan_store::StoredValue>| -> f64 {
            rows.iter()
                .filter(|v| v.period.starts_with(&format!("{year}-")))
                .map(|v| v.value)
                .sum()
        };
        let disputes = year_sum(ctx.store.values(Some(code), None, Some("disputes")).await?);
        let resolved = year_sum(
            ctx.store
                .values(Some(code), None, Some("disputes_resolved"))
                .await?,
        );
        let n = (disputes.round() as usize).min(40);
        let ok = if disputes > 0.0 {
            ((resolved / disputes) * n as f64).round() as usize
        } else {
            0
        };
        for i in 0..n {
            let success = i < ok;
            register.push_str(&format!(
                "({year}){code}调字第{:03}号,{code},{year}-{:02}-{:02},{},{},{},{}\n",
                i + 1,
                1 + i % 12,
                1 + (i * 7) % 28,
                kinds[i % kinds.len()],
                if success {
                    "调解成功"
                } else {
                    "调解不成功"
                },
                if success { "是" } else { "否" },
                if success && i % 5 != 4 { "是" } else { "否" },
            ));
        }
    }
    let keeper = operator.authorize::<cap::CaseImport>()?;
    let cases = callbacks::csv(ctx, &keeper, "演示调解台账.csv", register.as_bytes()).await?;
    callbacks::import(ctx, &keeper, cases, false).await?;
    let caller = operator.authorize::<cap::Callback>()?;
    callbacks::draw(
        ctx,
        &caller,
        &tree.get(county).code,
        year,
        None,
        Some(year as i64),
    )
    .await?;
    Ok(())
}
