//! The DOCX opened as Word opens it: its XML parts, for the page, the
//! grid, the fonts and sizes, the page numbers and the ledger head.

use super::*;
use pingan_core::framework::default_framework;
use pingan_core::report::Head;
use pingan_core::report::notice::NoticeHead;
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
        deductions: Vec::new(),
        dimensions: [
            ("D1", 20.5, 25.0, "社会治安防控"),
            ("D2", 17.0, 20.0, "公共安全保障"),
            ("D3", 16.4, 20.0, "矛盾纠纷化解"),
            ("D4", 10.17, 15.0, "基层治理效能"),
            ("D5", 14.09, 20.0, "群众安全感"),
        ]
        .into_iter()
        .map(|(code, points, max, name)| PartScore {
            code: code.into(),
            points,
            max,
            percent: points / max * 100.0,
            name: name.into(),
        })
        .collect(),
        domains: Vec::new(),
        indicators: vec![ind("D4.1.1", 1.0), ind("D1.2.1", 3.0)],
    }
}

fn head(hash: &str) -> Head {
    Head {
        seq: 4711,
        hash: hash.into(),
        made_at: "2026-12-05 10:00".into(),
    }
}

fn report() -> pingan_core::report::Report {
    let me = region();
    pingan_core::report::build(
        &default_framework(),
        2024,
        &me,
        std::slice::from_ref(&me),
        &[(2023, 79.9), (2024, 78.16)],
    )
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
    let r = report();
    let hash = "ab".repeat(32);
    let bytes = docx(&r.doc(&head(&hash), 8)).unwrap();
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

#[test]
fn charts_are_pictures_where_a_cjk_font_exists() {
    let bytes = docx(&report().doc(&head(&"cd".repeat(32)), 8)).unwrap();
    let doc = part(&bytes, "word/document.xml");
    assert!(doc.contains("图1　中陵区各维度得分率与同级中位数（%）"));
    assert!(doc.contains("图2　中陵区历年测评总分"));
    match crate::charts::font() {
        Some(_) => {
            // Two PNG pictures, 140 mm wide (5,040,000 EMU).
            assert_eq!(doc.matches("<pic:pic").count(), 2);
            assert!(doc.contains(r#"cx="5040000""#));
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
            let pngs: Vec<String> = zip
                .file_names()
                .filter(|n| n.starts_with("word/media/") && n.ends_with(".png"))
                .map(String::from)
                .collect();
            assert_eq!(pngs.len(), 2, "{pngs:?}");
            let mut f = zip.by_name(&pngs[0]).unwrap();
            let mut png = Vec::new();
            f.read_to_end(&mut png).unwrap();
            assert!(png.starts_with(b"\x89PNG"), "a PNG");
        }
        None => assert!(doc.contains("本机未找到中文字体")),
    }
}

#[test]
fn a_notice_has_masthead_number_addressee_signature_and_colophon() {
    let r = report();
    let n = NoticeHead {
        organ: "示范省平安建设领导小组办公室".into(),
        copy_to: "示范省委政法委".into(),
        year: 2024,
        number: 12,
        issued_on: "2026-12-05".into(),
        plan_due: "2027-01-04".into(),
        deadline: "2027-03-05".into(),
    };
    let d = r.notice_doc(&n, &head(&"ef".repeat(32)));
    let bytes = docx(&d).unwrap();
    if let Some(out) = std::env::var_os("PINGAN_NOTICE_OUT") {
        std::fs::write(out, &bytes).unwrap();
    }
    let doc = part(&bytes, "word/document.xml");
    // 发文机关标志 in red, the number, the red line under it.
    assert!(doc.contains("示范省平安建设领导小组办公室"));
    assert!(doc.contains(r#"<w:color w:val="FF0000" />"#), "{doc}");
    assert!(doc.contains("平安测评〔2024〕12号"));
    assert!(
        doc.contains(r#"w:color="FF0000""#),
        "the red separator line"
    );
    assert!(doc.contains("关于中陵区2024年平安建设测评问题整改的通知"));
    assert!(doc.contains("中共中陵区委员会、中陵区人民政府："));
    assert!(doc.contains("请于2027年1月4日前（收到本通知之日起30日内）制定整改方案"));
    assert!(doc.contains("须于2027年3月5日前整改到位"));
    // The bottom-three rank is the first problem; the indicator the second.
    let first = doc.find("1. 测评总分 78.16 分").expect("rank first");
    let second = doc.find("2. 指标D4.1.1失分 2 分").expect("the indicator");
    assert!(first < second);
    assert!(doc.contains("2026年12月5日印发"));
    assert!(doc.contains("抄送：示范省委政法委。"));
    let custom = part(&bytes, "docProps/custom.xml");
    assert!(custom.contains("平安测评〔2024〕12号"));
}

#[test]
fn the_workbook_has_a_cover_and_a_sheet_per_table() {
    let bytes = crate::workbook(
        &report().doc(&head(&"01".repeat(32)), 8),
        "2026-12-05 10:00",
    )
    .unwrap();
    let book = part(&bytes, "xl/workbook.xml");
    for sheet in [
        "封面",
        "各维度得分",
        "得分率最高的指标",
        "扣分情况",
        "附表　各项指标得分明细",
    ] {
        assert!(
            book.contains(&format!(r#"name="{sheet}""#)),
            "{sheet}: {book}"
        );
    }
    let strings = part(&bytes, "xl/sharedStrings.xml");
    assert!(strings.contains("中陵区2024年平安建设测评报告"));
    assert!(
        strings.contains(&"01".repeat(32)),
        "the ledger hash on the cover"
    );
    // Frozen headers and numbers stored as numbers.
    let sheet = part(&bytes, "xl/worksheets/sheet2.xml");
    assert!(sheet.contains(r#"state="frozen""#), "{sheet}");
    assert!(sheet.contains("<v>10.17</v>"), "{sheet}");
}
