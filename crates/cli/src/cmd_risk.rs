//! `pingan risk` (forecast.md §3): the 风险预警 list from the command line.
//! `--refresh` forecasts every region's monthly event elements from the
//! database, assesses next year's risk and keeps both (the daily cron job,
//! one ledger entry); without it the kept run is printed.

use crate::cmd_db::{DbArgs, open_ctx, runtime, service_error};
use anyhow::Result;
use clap::Args;
use pingan_core::Period;
use pingan_service::{cap, risk};
use std::process::ExitCode;

#[derive(Args)]
pub struct RiskArgs {
    #[command(flatten)]
    db: DbArgs,
    /// 评估的起始月份，如 2025-01（默认：最新数据年份的下一年 1 月）
    #[arg(long, value_parser = month)]
    period: Option<Period>,
    /// 重新预测并重算风险，保存结果（每日定时任务用），记入操作日志
    #[arg(long)]
    refresh: bool,
    /// 检验概率是否可信：把已有数据的年份（--period 该年某月）当作下一年评估，
    /// 与该年实际得分比较（分档可靠性与 Brier 分数），不保存
    #[arg(long, conflicts_with = "refresh", requires = "period")]
    calibrate: bool,
    /// 蒙特卡洛模拟次数（--refresh 时）
    #[arg(long, default_value_t = pingan_core::risk::DEFAULT_DRAWS)]
    draws: usize,
    /// 只列出前 N 条预警（0 = 全部）
    #[arg(long, default_value_t = 30)]
    top: usize,
    /// 输出格式：table（制表符分隔）或 json
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

fn month(s: &str) -> Result<Period, String> {
    match s.parse::<Period>() {
        Ok(p @ Period::Month(..)) => Ok(p),
        Ok(_) => Err(format!("“{s}”不是月份：应为 YYYY-MM，如 2025-01")),
        Err(e) => Err(e.to_string()),
    }
}

pub fn run(a: RiskArgs) -> Result<ExitCode> {
    if a.calibrate {
        return calibrate(&a);
    }
    runtime()?.block_on(async {
        let ctx = open_ctx(&a.db).await?;
        let caller = a.db.caller();
        let r = async {
            let period = a.period.map(|p| p.to_string());
            if a.refresh {
                let who = caller.authorize::<cap::Notices>()?;
                risk::refresh(&ctx, &who, a.period, a.draws).await?;
            }
            let who = caller.authorize::<cap::Scores>()?;
            risk::view(&ctx, &who, period.as_deref()).await
        }
        .await;
        ctx.store.close().await;
        let Some(v) = r.map_err(service_error)? else {
            return Err(crate::InputFailure(
                "还没有风险评估结果：请运行 pingan risk --db … --refresh".into(),
            )
            .into());
        };
        if a.format == "json" {
            let mut out = serde_json::to_value(&*v.run)?;
            out["stale"] = serde_json::Value::Bool(v.stale);
            println!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "{} 年风险评估（自 {} 起；训练数据截至 {}；{} 个序列，跳过 {} 个；模拟 {} 次；用时 {:.1} 秒）{}",
            v.year,
            v.period,
            v.train_end,
            v.series,
            v.skipped,
            v.draws,
            v.seconds,
            if v.stale { "——此后数据已有变动，请加 --refresh 重算" } else { "" }
        );
        match &v.calibration {
            Some(c) => eprintln!(
                "  失分概率已按 {} 年校准（{} 个地区×指标）：Brier 模型 {:.4}，始终报实际比例 {:.4}，校准后 {:.4}",
                c.year, c.n, c.brier_model, c.brier_base, c.brier_recalibrated
            ),
            None => eprintln!("  没有可用于校准的上一年度数据：失分概率为模型原始概率"),
        }
        for (phase, secs) in &v.phases {
            eprintln!("  {phase}：{secs:.1} 秒");
        }
        println!("数据项\t序列数\t所选模型MASE\t季节朴素MASE\t区间覆盖率\t选用MSTL比例");
        let f = |x: Option<f64>| x.map_or("—".to_string(), |x| format!("{x:.3}"));
        for b in &v.backtest {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{:.0}%",
                b.code,
                b.series,
                f(b.mase),
                f(b.naive_mase),
                f(b.coverage),
                b.mstl_share * 100.0
            );
        }
        println!();
        println!("地区代码\t地区\t指标\t预测值\t失分概率\t模型原始概率\t否决概率\t预计失分\t模型回测MASE");
        let n = if a.top == 0 { v.warnings.len() } else { a.top };
        for w in v.warnings.iter().take(n) {
            let mase: Vec<String> = w
                .elements
                .iter()
                .map(|e| format!("{} {} {}", e.code, e.model, f(e.mase)))
                .collect();
            println!(
                "{}\t{}\t{}\t{}\t{:.1}%\t{:.1}%\t{:.1}%\t{:.3}\t{}",
                w.region,
                w.region_name,
                w.indicator_name,
                f(w.value),
                w.p_loss * 100.0,
                w.p_model * 100.0,
                w.p_veto * 100.0,
                w.expected_loss,
                mase.join("; ")
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `--calibrate`: the probabilities of a past year against what it scored.
fn calibrate(a: &RiskArgs) -> Result<ExitCode> {
    let Some(period) = a.period else {
        anyhow::bail!("--calibrate 需要 --period（如 2024-01）");
    };
    runtime()?.block_on(async {
        let ctx = open_ctx(&a.db).await?;
        let caller = a.db.caller();
        let r = async {
            let who = caller.authorize::<cap::Scores>()?;
            risk::calibrate(&ctx, &who, period, a.draws).await
        }
        .await;
        ctx.store.close().await;
        let report = r.map_err(service_error)?;
        if a.format == "json" {
            println!("{}", serde_json::to_string_pretty(&report)?);
            return Ok(ExitCode::SUCCESS);
        }
        let print = |title: &str, c: &pingan_core::calibration::Calibration| {
            println!(
                "{title}：{} 年 {} 个地区×指标，实际失分比例 {:.1}%；Brier 分数 {:.4}（始终报实际比例为 {:.4}）；预计失分合计 {:.1}，实际 {:.1}",
                c.year,
                c.n,
                c.base_rate * 100.0,
                c.brier,
                c.brier_base,
                c.expected_loss,
                c.actual_loss
            );
            println!("预测失分概率\t个数\t平均预测\t实际失分比例");
            for b in c.bins.iter().filter(|b| b.n > 0) {
                println!(
                    "{:.0}%–{:.0}%\t{}\t{:.1}%\t{:.1}%",
                    b.from * 100.0,
                    b.to * 100.0,
                    b.n,
                    b.predicted * 100.0,
                    b.observed * 100.0
                );
            }
        };
        print("模型原始概率", &report.model);
        match (&report.recalibrated, report.map_year) {
            (Some(c), Some(y)) => {
                println!();
                print(&format!("按 {y} 年校准后"), c);
            }
            _ => println!("（上一年度无法评估，没有校准后的结果）"),
        }
        Ok(ExitCode::SUCCESS)
    })
}
