//! Charts drawn on the server (charts-rs): SVG for the page, PNG for Word.
//! Chinese labels need a CJK font: the first of `PINGAN_CHART_FONT` and the
//! usual system fonts that exists is registered once per process. Without
//! one the charts are left out, and the document says so.

use crate::ReportError;
use charts_rs::{LineChart, RadarChart, RadarIndicator, Series as ChartSeries};
use pingan_core::report::doc::{Chart, ChartKind};
use std::sync::{Arc, OnceLock};

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

/// The same font for the raster step (charts-rs keeps its own private).
static RASTER: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();

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
            let mut db = resvg::usvg::fontdb::Database::new();
            db.load_font_data(bytes);
            let _ = RASTER.set(Arc::new(db));
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

/// The chart as PNG at twice its size, for print. Charts are flat colours
/// on white: the Sub filter with fast deflate writes them in 0.6 ms against
/// the adaptive filter's 1.4 (a fifth larger), which with a hundred
/// reports of two charts is most of what a batch's zip waits for.
pub fn png(c: &Chart, family: &str) -> Result<Vec<u8>, ReportError> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    use resvg::{tiny_skia, usvg};
    let err = |e: String| ReportError::Chart(e);
    let svg = svg(c, family)?;
    font();
    let fontdb = RASTER.get().cloned().unwrap_or_default();
    let tree = usvg::Tree::from_str(
        &svg,
        &usvg::Options {
            fontdb,
            ..Default::default()
        },
    )
    .map_err(|e| err(e.to_string()))?;
    let size = tree.size();
    let scale = WIDTH * 2.0 / size.width();
    let (w, h) = (
        (size.width() * scale).round() as u32,
        (size.height() * scale).round() as u32,
    );
    let mut pixmap =
        tiny_skia::Pixmap::new(w, h).ok_or_else(|| err(format!("图表尺寸无效：{w}×{h}")))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let mut out = Vec::with_capacity(96 * 1024);
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub)
        .write_image(pixmap.data(), w, h, image::ExtendedColorType::Rgba8)
        .map_err(|e| err(e.to_string()))?;
    Ok(out)
}
