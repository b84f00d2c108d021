//! `pingan bench report`: how long one county's 测评报告 takes (reading the
//! stored results, writing Word with its two charts), and the batch of
//! every city's and county's report (issue 20: ≤ 0.5 s and ≤ 60 s).

use crate::bench::print_phases;
use crate::cmd_db::{DbArgs, open_ctx, runtime, service_error};
use anyhow::Result;
use pingan_core::Level;
use pingan_report::Format;
use pingan_service::{cap, report};
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub fn run(db: &DbArgs, year: i32, region: Option<&str>, runs: usize) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let ctx = open_ctx(db).await?;
        let caller = db.caller();
        let reader = caller.authorize::<cap::Scores>().map_err(service_error)?;
        let office = caller.authorize::<cap::Notices>().map_err(service_error)?;
        let tree = ctx.tree().await.map_err(service_error)?;
        let county = match region {
            Some(r) => r.to_string(),
            None => tree
                .regions()
                .iter()
                .find(|r| r.level == Level::County)
                .map(|r| r.code.clone())
                .ok_or_else(|| anyhow::anyhow!("库中没有县级地区"))?,
        };
        let at = report::beijing(&pingan_store::now()).1;
        let phases = ["读取结果", "Word（含两图）", "其中图表 PNG", "合计"];
        let mut one: Vec<Vec<Duration>> = vec![Vec::new(); phases.len()];
        // The first run also loads the chart font: measured apart.
        let warm = Instant::now();
        let doc = report::report_doc(&ctx, &reader, year, &county)
            .await
            .map_err(service_error)?;
        pingan_report::render(&doc, Format::Docx, &at)?;
        let first = warm.elapsed();
        for _ in 0..runs.max(1) {
            let start = Instant::now();
            let doc = report::report_doc(&ctx, &reader, year, &county)
                .await
                .map_err(service_error)?;
            let read = start.elapsed();
            let lap = Instant::now();
            std::hint::black_box(pingan_report::render(&doc, Format::Docx, &at)?);
            let word = lap.elapsed();
            // The charts alone, as the Word file draws them.
            let lap = Instant::now();
            if let Some(f) = pingan_report::charts::font() {
                for b in &doc.blocks {
                    if let pingan_core::report::doc::Block::Chart(c) = b {
                        std::hint::black_box(pingan_report::charts::png(c, f)?);
                    }
                }
            }
            one[0].push(read);
            one[1].push(word);
            one[2].push(lap.elapsed());
            one[3].push(read + word);
        }
        print_phases(
            &format!(
                "县级测评报告 {county}（首次含加载字体 {:.1} 毫秒）",
                first.as_secs_f64() * 1000.0
            ),
            runs.max(1),
            &phases,
            &mut one,
        );
        let phases = ["读取结果", "生成 Word", "合计"];
        let mut all: Vec<Vec<Duration>> = vec![Vec::new(); phases.len()];
        let mut n = 0;
        for _ in 0..runs.max(1) {
            let start = Instant::now();
            let mut docs = Vec::new();
            for level in [Level::City, Level::County] {
                for b in report::batch(&ctx, &office, year, level, false)
                    .await
                    .map_err(service_error)?
                {
                    docs.push((b.code, b.doc));
                }
            }
            let read = start.elapsed();
            let lap = Instant::now();
            let at = at.clone();
            n = docs.len();
            let files = tokio::task::spawn_blocking(move || {
                pingan_report::render_all(&docs, Format::Docx, &at)
            })
            .await??;
            std::hint::black_box(files);
            all[0].push(read);
            all[1].push(lap.elapsed());
            all[2].push(start.elapsed());
        }
        print_phases(
            &format!("全部市、县测评报告 {n} 份（Word，含图）"),
            runs.max(1),
            &phases,
            &mut all,
        );
        ctx.store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}
