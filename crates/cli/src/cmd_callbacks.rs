//! `pingan callbacks draw|list|record|evidence`: callback sampling of
//! mediation cases (回访抽查) over the store. The register itself comes in
//! with `pingan import cases`.

use crate::cmd_db::{DbArgs, open_ctx, runtime, service_error};
use crate::table::Table;
use crate::{Format, InputFailure};
use anyhow::Result;
use clap::Subcommand;
use pingan_core::labels::CallbackResult;
use pingan_service::callbacks::{self, CallbackEvidence, DEFAULT_CALLBACK_RATE};
use pingan_service::cap;
use pingan_store::Draw;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum CallbacksCommand {
    /// 抽取回访案件：按种子从该地区（含下级）当年“调解成功”的案件中抽取一定比例，可复现；
    /// 同一地区、年度只抽一次 / draw a seeded, reproducible share of a region's successful cases
    Draw {
        #[command(flatten)]
        db: DbArgs,
        /// 地区代码（抽取其下所有地区的案件）
        #[arg(long)]
        region: String,
        /// 受理年度
        #[arg(long)]
        year: i32,
        /// 抽取比例（0–1，默认 0.3，向上取整，至少 1 件）
        #[arg(long, default_value_t = DEFAULT_CALLBACK_RATE)]
        rate: f64,
        /// 随机种子（省略时随机生成并记录，以便复核）
        #[arg(long)]
        seed: Option<i64>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// 查看抽取：给出 --draw 时列出抽中的案件及回访结果，否则列出所有抽取 / list draws or one draw's cases
    List {
        #[command(flatten)]
        db: DbArgs,
        /// 抽取编号
        #[arg(long)]
        draw: Option<i64>,
        /// 只列该年度的抽取
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// 登记回访结果：属实、不属实（须填说明）或未接通，可重新登记 / record a callback's answer
    Record {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        draw: i64,
        /// 案件编号
        #[arg(long = "case")]
        case_id: String,
        /// 属实 | 不属实 | 未接通（或 confirmed | not_confirmed | unreachable）
        #[arg(long)]
        result: String,
        /// 说明（当事人反映的情况）
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 回访证据：确认比例与上报的矛盾纠纷化解成功率（D3.2.1）对照 / the evidence beside the reported rate
    Evidence {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        region: String,
        #[arg(long)]
        year: i32,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), |v| format!("{v:.1}%"))
}

fn print_draw(d: &Draw) {
    let mut t = Table::new(&[
        "序号",
        "案件编号",
        "地区",
        "受理日期",
        "纠纷类型",
        "回访结果",
        "说明",
        "回访人",
    ])
    .right(&[0]);
    for i in &d.items {
        t.row(vec![
            (i.ord + 1).to_string(),
            i.case.case_id.clone(),
            i.case.region.clone(),
            i.case.date.clone(),
            i.case.kind.clone(),
            i.result.map_or("待回访", |r| r.label()).to_string(),
            i.note.clone(),
            i.called_by.clone().unwrap_or_default(),
        ]);
    }
    println!(
        "第 {} 号抽取：地区 {}，{} 年，比例 {}，种子 {}；“调解成功”案件 {} 件，抽中 {} 件（{}，{}）",
        d.id,
        d.region,
        d.year,
        d.rate,
        d.seed,
        d.eligible,
        d.items.len(),
        d.drawn_by,
        d.drawn_at
    );
    print!("{}", t.render());
}

fn print_evidence(e: &CallbackEvidence) {
    println!("地区 {}，{} 年回访抽查", e.region, e.year);
    println!(
        "台账案件 {} 件，其中调解成功 {} 件（台账成功率 {}）",
        e.cases,
        e.successful,
        pct(e.register_rate)
    );
    println!(
        "抽中 {} 件，已回访 {} 件：属实 {}，不属实 {}，未接通 {}",
        e.drawn, e.called, e.confirmed, e.not_confirmed, e.unreachable
    );
    println!(
        "回访确认比例：{}（属实 ÷（属实 + 不属实））",
        pct(e.confirmed_share)
    );
    match (&e.reported_rate, &e.reported_note) {
        (Some(r), _) => println!("上报的矛盾纠纷化解成功率（D3.2.1）：{r:.1}%"),
        (None, Some(n)) => println!("上报的矛盾纠纷化解成功率（D3.2.1）：—（{n}）"),
        (None, None) => println!("上报的矛盾纠纷化解成功率（D3.2.1）：—"),
    }
}

pub fn run(cmd: CallbacksCommand) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match cmd {
            CallbacksCommand::Draw {
                db,
                region,
                year,
                rate,
                seed,
                format,
            } => {
                let ctx = open_ctx(&db).await?;
                let caller = db.caller();
                let who = caller.authorize::<cap::Callback>().map_err(service_error)?;
                let r = callbacks::draw(&ctx, &who, &region, year, Some(rate), seed).await;
                ctx.store.close().await;
                let (d, created) = r.map_err(service_error)?;
                if format == Format::Json {
                    println!("{}", serde_json::to_string_pretty(&d)?);
                } else {
                    if !created {
                        println!("该地区、年度已抽取过，以下是原抽取结果");
                    }
                    print_draw(&d);
                }
            }
            CallbacksCommand::List {
                db,
                draw,
                year,
                format,
            } => {
                let ctx = open_ctx(&db).await?;
                let caller = db.caller();
                let who = caller
                    .authorize::<cap::Callbacks>()
                    .map_err(service_error)?;
                let r = match draw {
                    Some(id) => match callbacks::one(&ctx, &who, id).await {
                        Ok(d) => Ok(vec![d]),
                        Err(pingan_service::ServiceError::NotFound(_)) => Ok(Vec::new()),
                        Err(e) => Err(e),
                    },
                    None => callbacks::draws(&ctx, &who, year).await,
                };
                ctx.store.close().await;
                let draws: Vec<Draw> = r.map_err(service_error)?;
                if draw.is_some() && draws.is_empty() {
                    return Err(InputFailure(format!(
                        "第 {} 号抽取不存在",
                        draw.unwrap_or_default()
                    ))
                    .into());
                }
                match (format, draw) {
                    (Format::Json, Some(_)) => {
                        println!("{}", serde_json::to_string_pretty(&draws[0])?)
                    }
                    (Format::Json, None) => println!("{}", serde_json::to_string_pretty(&draws)?),
                    (_, Some(_)) => print_draw(&draws[0]),
                    (_, None) => {
                        let mut t = Table::new(&[
                            "编号",
                            "地区",
                            "年度",
                            "比例",
                            "种子",
                            "可抽案件",
                            "抽取人",
                            "时间",
                        ])
                        .right(&[0, 5]);
                        for d in &draws {
                            t.row(vec![
                                d.id.to_string(),
                                d.region.clone(),
                                d.year.to_string(),
                                d.rate.to_string(),
                                d.seed.to_string(),
                                d.eligible.to_string(),
                                d.drawn_by.clone(),
                                d.drawn_at.clone(),
                            ]);
                        }
                        print!("{}", t.render());
                        println!("共 {} 次抽取", draws.len());
                    }
                }
            }
            CallbacksCommand::Record {
                db,
                draw,
                case_id,
                result,
                note,
            } => {
                let r = CallbackResult::parse(&result).ok_or_else(|| {
                    InputFailure(format!(
                        "回访结果“{result}”无效：应为 属实、不属实 或 未接通"
                    ))
                })?;
                let ctx = open_ctx(&db).await?;
                let caller = db.caller();
                let who = caller.authorize::<cap::Callback>().map_err(service_error)?;
                let got = callbacks::record(&ctx, &who, draw, &case_id, r, &note).await;
                ctx.store.close().await;
                let got = got.map_err(service_error)?;
                println!(
                    "已登记：第 {draw} 号抽取 案件 {} 回访结果 {}",
                    got.case.case_id,
                    r.label()
                );
            }
            CallbacksCommand::Evidence {
                db,
                region,
                year,
                format,
            } => {
                let ctx = open_ctx(&db).await?;
                let caller = db.caller();
                let who = caller
                    .authorize::<cap::Callbacks>()
                    .map_err(service_error)?;
                let e = callbacks::evidence(&ctx, &who, &region, year).await;
                ctx.store.close().await;
                let e = e.map_err(service_error)?;
                if format == Format::Json {
                    println!("{}", serde_json::to_string_pretty(&e)?);
                } else {
                    print_evidence(&e);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
