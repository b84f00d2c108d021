//! Charts drawn on the server (charts-rs): SVG for the page, PNG for Word.
//! Chinese labels need a CJK font: the first of `PINGAN_CHART_FONT` and the
//! usual system fonts that exists is registered once per process. Without
//! one the charts are left out, and the document says so.

use crate::ReportError;
use charts_rs::{LineChart, RadarChart, RadarIndicator, Series as ChartSeries};
use pingan_core::report::doc::{Chart, ChartKind};
use std::sync::OnceLock;

/// Fonts tried in order (Debian, RHEL-likes, Windows, macOS).
const FONT_FILES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "C:\\Windows\\Fonts\\simhei.ttf",
    "C:\\Windows\\Fonts\\msyh.ttc",
    "/System/Library/Fonts/PingFang.ttc",
];

/// Family names of CJK fonts, in the order a chart asks for them.
const FAMILIES: &[&str] = &[
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
];

/// Width and height of a chart in pixels (3:2, drawn at twice this for
/// print).
pub const WIDTH: f32 = 600.0;
pub const HEIGHT: f32 = 400.0;

/// The CJK family registered with charts-rs, or None where no font was
/// found (logged once).
pub fn font() -> Option<&'static str> {
    static FONT: OnceLock<Option<&'static str>> = OnceLock::new();
    *FONT.get_or_init(|| {
        let wanted = std::env::var("PINGAN_CHART_FONT").ok();
        let files = wanted
            .iter()
            .map(String::as_str)
            .chain(FONT_FILES.iter().copied());
        for path in files {
            let Ok(bytes) = std::fs::read(path) else {
                continue;
            };
            if charts_rs::add_fonts(&[&bytes]).is_err() {
                tracing::warn!(path, "图表字体无法读取，已跳过");
                continue;
            }
            let families = charts_rs::get_font_families().unwrap_or_default();
            if let Some(f) = FAMILIES.iter().find(|f| families.iter().any(|x| x == *f)) {
                return Some(*f);
            }
            // A font of another name given on purpose: use its first family.
            if let Some(f) = families.into_iter().find(|f| f != "Roboto") {
                return Some(Box::leak(f.into_boxed_str()));
            }
        }
        tracing::warn!("未找到中文字体（见 docs/reports.md），文档中不画图表");
        None
    })
}

fn series(c: &Chart) -> Vec<ChartSeries> {
    c.series
        .iter()
        .map(|s| {
            let values: Vec<f32> = s.values.iter().map(|v| *v as f32).collect();
            (s.name.as_str(), values).into()
        })
        .collect()
}

/// The chart as SVG with `family` for its text.
pub fn svg(c: &Chart, family: &str) -> Result<String, ReportError> {
    let err = |e: charts_rs::Error| ReportError::Chart(e.to_string());
    let font = family.to_string();
    match c.kind {
        ChartKind::Radar { max } => {
            let indicators = c
                .categories
                .iter()
                .map(|name| RadarIndicator {
                    name: name.clone(),
                    min: 0.0,
                    max: max as f32,
                })
                .collect();
            let mut chart = RadarChart::new(series(c), indicators);
            chart.base.width = WIDTH;
            chart.base.height = HEIGHT;
            chart.base.font_family = font;
            chart.svg().map_err(err)
        }
        ChartKind::Line | ChartKind::Bar => {
            let mut chart = if matches!(c.kind, ChartKind::Bar) {
                let mut b = charts_rs::BarChart::new(series(c), c.categories.clone());
                b.base.width = WIDTH;
                b.base.height = HEIGHT;
                b.base.font_family = font;
                return b.svg().map_err(err);
            } else {
                LineChart::new(series(c), c.categories.clone())
            };
            chart.base.width = WIDTH;
            chart.base.height = HEIGHT;
            chart.base.font_family = font;
            chart.svg().map_err(err)
        }
    }
}

/// The chart as PNG at twice its size, for print.
pub fn png(c: &Chart, family: &str) -> Result<Vec<u8>, ReportError> {
    let svg = svg(c, family)?;
    charts_rs::svg_to_png_with_size(&svg, Some((WIDTH * 2.0) as u32), None)
        .map_err(|e| ReportError::Chart(e.to_string()))
}
