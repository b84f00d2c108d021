//! `pingan report` (issue 20): one county's 测评报告 as Word with the total
//! `pingan scores` prints, a notice numbered once, the batch of every
//! county into a folder with the province's summary, clear errors, and PDF
//! through LibreOffice where it is installed (its text holds the county's
//! name and total).

mod common;

use common::{fails, ok, pingan};
use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::process::Command;

fn part(path: &Path, name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn reports_notices_batches_and_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    common::generated(d, [2, 6, 12], "2023-2024");
    let db = format!("sqlite://{d}/p.db");
    // `pingan report --db DB --year 2024` and `more`.
    let report = |more: &[&str]| {
        let mut args = vec!["report", "--db", db.as_str(), "--year", "2024"];
        args.extend_from_slice(more);
        pingan(&args)
    };
    ok(pingan(&["init", "--db", &db]));
    for kind in ["regions", "benchmarks", "values"] {
        ok(pingan(&[
            "import",
            kind,
            &format!("{d}/{kind}.csv"),
            "--db",
            &db,
        ]));
    }
    let scores: Value = serde_json::from_str(&ok(pingan(&[
        "scores", "--db", &db, "--period", "2024", "--level", "county", "--format", "json",
    ])))
    .unwrap();
    let first = &scores["results"][0];
    let county = first["region"].as_str().unwrap().to_string();
    let name = first["name"].as_str().unwrap().to_string();
    let total = format!("{:.2}", first["total"].as_f64().unwrap());

    // One report as Word: the title, the total as `pingan scores` has it.
    let out = dir.path().join("r.docx");
    ok(report(&[
        "--region",
        &county,
        "--out",
        out.to_str().unwrap(),
    ]));
    let xml = part(&out, "word/document.xml");
    assert!(xml.contains(&format!("{name}2024年平安建设测评报告")));
    assert!(xml.contains(&format!("总分 {total} 分")), "{total}");
    assert!(part(&out, "docProps/custom.xml").contains("pingan-ledger-hash"));

    // The notice: numbered 1 the first time, the same number after.
    let notice = dir.path().join("n.docx");
    let args = [
        "--region",
        &county,
        "--kind",
        "notice",
        "--out",
        notice.to_str().unwrap(),
    ];
    ok(report(&args));
    assert!(part(&notice, "word/document.xml").contains("平安测评〔2024〕1号"));
    ok(report(&args));
    assert!(part(&notice, "word/document.xml").contains("平安测评〔2024〕1号"));
    let log = ok(pingan(&[
        "audit",
        "list",
        "--db",
        &db,
        "--action",
        "notice_issue",
    ]));
    assert_eq!(log.matches("notice:").count(), 1, "{log}");

    // The batch: one workbook per county and the province's summary.
    let root = std::fs::read_to_string(dir.path().join("regions.csv"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let folder = dir.path().join("all");
    let err = ok(report(&[
        "--level",
        "county",
        "--region",
        &root,
        "--format",
        "xlsx",
        "--out",
        folder.to_str().unwrap(),
    ]));
    let _ = err;
    let files: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 6 + 1, "{files:?}");
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(&root) && f.contains("测评结果通报"))
    );
    assert!(files.iter().any(|f| f.starts_with(&county)));

    // Clear errors.
    let e = fails(report(&["--out", d]));
    assert!(e.contains("--region") && e.contains("--level"), "{e}");
    let e = fails(report(&[
        "--region",
        "nowhere",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(e.contains("nowhere"), "{e}");
    let e = fails(pingan(&[
        "report",
        "--db",
        &db,
        "--year",
        "1999",
        "--region",
        &county,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(!e.is_empty());

    // Publishing (api.md): the year's results made public, the window open.
    let out = ok(pingan(&["publish", "--db", &db, "--year", "2024"]));
    assert!(
        out.contains("已公开 2024 年测评结果") && out.contains("公示期至"),
        "{out}"
    );
    let e = fails(pingan(&[
        "publish",
        "--db",
        &db,
        "--year",
        "2024",
        "--window-days",
        "0",
    ]));
    assert!(e.contains("公示期"), "{e}");
    // The final publication waits for the window's end.
    let e = fails(pingan(&[
        "publish", "--db", &db, "--year", "2024", "--final",
    ]));
    assert!(e.contains("期满后再正式发布"), "{e}");

    // `pingan rectify`: the weekly late list and the automatic 复查, for cron.
    let e = fails(pingan(&["rectify", "--db", &db]));
    assert!(e.contains("--late") && e.contains("--recheck"), "{e}");
    let e = fails(pingan(&["rectify", "--db", &db, "--recheck"]));
    assert!(e.contains("--year"), "{e}");
    let out = ok(pingan(&["rectify", "--db", &db, "--late"]));
    assert!(out.contains("逾期 0 项"), "{out}");
    let out = ok(pingan(&[
        "rectify",
        "--db",
        &db,
        "--year",
        "2023",
        "--recheck",
    ]));
    assert!(out.contains("按指标自动复查：销号 0 项"), "{out}");
    // A mistyped database is an error, not a new empty one.
    let missing = dir.path().join("nope.db");
    let e = fails(pingan(&[
        "rectify",
        "--db",
        &format!("sqlite://{}", missing.display()),
        "--late",
    ]));
    assert!(e.contains("不存在"), "{e}");
    assert!(!missing.exists());

    // PDF where LibreOffice is installed.
    if !pingan_report::pdf::available() {
        eprintln!("跳过 PDF：本机没有 LibreOffice（soffice）");
        return;
    }
    let pdf = dir.path().join("r.pdf");
    ok(report(&[
        "--region",
        &county,
        "--format",
        "pdf",
        "--out",
        pdf.to_str().unwrap(),
    ]));
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    match Command::new("pdftotext").arg(&pdf).arg("-").output() {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout).replace(char::is_whitespace, "");
            assert!(text.contains(&name), "{text}");
            assert!(text.contains(&total), "{total}: {text}");
        }
        _ => eprintln!("未检查 PDF 文字：本机没有 pdftotext（poppler-utils）"),
    }
}
