//! The DOCX opened as Word opens it: its XML parts, for the page, the
//! grid, the fonts and sizes, the page numbers and the ledger head.

use super::*;
use pingan_core::framework::default_framework;
use pingan_core::score::{IndicatorResult, PartScore, RegionResult};
use std::io::Read;

fn region() -> RegionResult {
    let ind = |code: &str, points: f64| IndicatorResult {
        code: code.into(),
        value: Some(80.0),
        points,
        max: 3.0,
        missing: false,
        not_applicable: false,
        reasons: vec![format!("低于目标值，扣 {} 分", 3.0 - points)],
        name: format!("指标{code}"),
        unit: "%".into(),
        provisional: false,
        veto: false,
    };
    RegionResult {
        region: "990101".into(),
        name: "中陵区".into(),
        level: "county".into(),
        parent: Some("990100".into()),
        total: 78.16,
        max: 100.0,
        grade: "合格".into(),
        veto: false,
        rank: 10,
        peers: 10,
        bottom: true,
        level_rank: 82,
        level_peers: 100,
        level_bottom: false,
        dimensions: vec![PartScore {
            code: "D4".into(),
            points: 10.17,
            max: 15.0,
            percent: 67.8,
            name: "基层治理效能".into(),
        }],
        domains: Vec::new(),
        indicators: vec![ind("D4.1.1", 1.0), ind("D1.2.1", 3.0)],
    }
}

fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut f = zip
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} in the docx"));
    let mut s = String::new();
    f.read_to_string(&mut s).expect("UTF-8 XML");
    s
}

#[test]
fn page_grid_fonts_numbers_and_ledger_as_gb_t_9704() {
    let me = region();
    let r = pingan_core::report::build(
        &default_framework(),
        2024,
        &me,
        std::slice::from_ref(&me),
        &[(2023, 79.9), (2024, 78.16)],
    );
    let hash = "ab".repeat(32);
    let bytes = report_docx(
        &r,
        &Ledger {
            seq: 4711,
            hash: &hash,
            made_at: "2026-12-05 10:00",
        },
        8,
    )
    .unwrap();
    // To look at it: PINGAN_DOCX_OUT=/tmp/r.docx, then LibreOffice.
    if let Some(out) = std::env::var_os("PINGAN_DOCX_OUT") {
        std::fs::write(out, &bytes).unwrap();
    }
    let doc = part(&bytes, "word/document.xml");
    // A4 and the margins (twips): 37 mm, 35 mm, 28 mm, 26 mm.
    assert!(doc.contains(r#"<w:pgSz w:w="11906" w:h="16838""#), "{doc}");
    for m in [
        r#"w:top="2098""#,
        r#"w:bottom="1984""#,
        r#"w:left="1587""#,
        r#"w:right="1474""#,
    ] {
        assert!(doc.contains(m), "{m}");
    }
    // 22 lines of 28.95 pt.
    assert!(
        doc.contains(r#"w:linePitch="579""#) && doc.contains(r#"<w:docGrid w:type="lines""#),
        "{doc}"
    );
    // The first line two characters in.
    let ind = doc
        .split("<w:ind ")
        .nth(1)
        .and_then(|t| t.split("/>").next())
        .unwrap_or("");
    assert!(ind.contains(r#"w:firstLine="640""#), "{ind}");
    // Title 2号 小标宋, headings 黑体, body 仿宋 3号 (the document default).
    assert!(
        doc.contains(r#"w:eastAsia="方正小标宋简体""#) && doc.contains(r#"<w:sz w:val="44" />"#)
    );
    assert!(doc.contains(r#"w:eastAsia="黑体""#) && doc.contains(r#"w:eastAsia="楷体_GB2312""#));
    let styles = part(&bytes, "word/styles.xml");
    assert!(
        styles.contains(r#"w:eastAsia="仿宋_GB2312""#) && styles.contains(r#"<w:sz w:val="32" />"#),
        "{styles}"
    );
    // Odd and even footers, each with the PAGE field, 4号 宋体.
    let settings = part(&bytes, "word/settings.xml");
    assert!(settings.contains("evenAndOddHeaders"), "{settings}");
    assert!(doc.contains(r#"w:type="even""#) && doc.contains(r#"w:type="default""#));
    let footers: Vec<String> = (1..=2)
        .map(|k| part(&bytes, &format!("word/footer{k}.xml")))
        .collect();
    for f in &footers {
        assert!(
            f.contains("PAGE")
                && f.contains(r#"w:eastAsia="宋体""#)
                && f.contains(r#"<w:sz w:val="28" />"#),
            "{f}"
        );
    }
    assert!(
        footers
            .iter()
            .any(|f| f.contains(r#"<w:jc w:val="right" />"#))
    );
    assert!(
        footers
            .iter()
            .any(|f| f.contains(r#"<w:jc w:val="left" />"#))
    );
    // The content: the total as published, the deduction, the suggestion.
    assert!(doc.contains("中陵区2024年平安建设测评报告"));
    assert!(doc.contains("总分 78.16 分"));
    assert!(doc.contains("低于目标值，扣 2 分"));
    assert!(doc.contains("加强网格员队伍建设"));
    // The ledger head, in the properties and the closing note.
    let custom = part(&bytes, "docProps/custom.xml");
    assert!(
        custom.contains("pingan-ledger-hash") && custom.contains(&hash),
        "{custom}"
    );
    assert!(custom.contains("4711"));
    assert!(doc.contains(&format!("第 4711 条（哈希 {hash}）")));
}
