//! Regenerates `fuzz/seeds/` from the repository's own fixtures:
//!
//!     cd fuzz && cargo +nightly run --example make_seeds
//!
//! CSV and TOML seeds are the fixture files (plus BOM / GB18030 / CRLF
//! variants); the `.xlsx` seeds are written by the product's own writers
//! (`write_template`, `write_form`), and the `*_parts` seeds are the same
//! workbooks unpacked into the `name NUL content` form the parts targets
//! read. Every seed is checked to read successfully, so the fuzzer starts
//! from inputs that reach deep into each reader.

use pingan_core::Period;
use pingan_core::survey::default::{CHOICES_TSV, SETTINGS_TSV, SURVEY_TSV};
use pingan_fuzz::{DEFAULT, SMALL, SMALL_FRAMEWORK, SMALL_REGIONS, TREE, pack_parts, unpack_parts};
use pingan_input::excel::{TemplateSpec, base_regions, read_template, write_template};
use std::fs;
use std::path::{Path, PathBuf};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/cli/tests/fixtures/small"
);

fn dir(target: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn read(path: &str) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn gb18030(s: &[u8]) -> Vec<u8> {
    let (b, _, bad) = encoding_rs::GB18030.encode(std::str::from_utf8(s).unwrap());
    assert!(!bad);
    b.into_owned()
}

fn bom(s: &[u8]) -> Vec<u8> {
    [&b"\xEF\xBB\xBF"[..], s].concat()
}

fn crlf(s: &[u8]) -> Vec<u8> {
    String::from_utf8(s.to_vec())
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes()
}

/// Workbook parts the readers do not look at (theme, document properties):
/// left out of the parts seeds to keep them small.
fn needed_part(name: &str) -> bool {
    !name.starts_with("docProps/") && !name.starts_with("xl/theme/")
}

fn main() {
    // csv_regions
    let d = dir("csv_regions");
    let dated = "code,name,parent,level,valid_from,valid_to\n\
                 P,平安省,,province,,\n\
                 C1,一市,P,city,2020-01-01,\n\
                 K1,\"甲县, 新\",C1,county,2021-07-01,2024-06-30\n\
                 T1,街道,K1,township,,2023\n\
                 T2,镇,C1,township,2022,\n";
    for (name, bytes) in [
        ("regions.csv", SMALL_REGIONS.to_vec()),
        ("regions-bom-crlf.csv", bom(&crlf(SMALL_REGIONS))),
        ("regions-gb18030.csv", gb18030(SMALL_REGIONS)),
        ("regions-dated.csv", dated.as_bytes().to_vec()),
    ] {
        pingan_input::read_regions(name, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        fs::write(d.join(name), bytes).unwrap();
    }

    // csv_values: values and benchmarks of the small fixture.
    let d = dir("csv_values");
    let values = read(&format!("{FIXTURES}/values.csv"));
    let benchmarks = read(&format!("{FIXTURES}/benchmarks.csv"));
    let quoted = "region,period,element,value,source,note\r\n\
                  \"K1\",2024-06,cases,\"1,234\",公安,\"多行\n备注\"\r\n\
                  K2,2024Q2,pop,  5e3 ,统计,\r\n\
                  K3,2024,sat,4.5,,\r\n";
    for (name, bytes) in [
        ("values.csv", values.clone()),
        ("values-gb18030.csv", gb18030(&values)),
        ("values-quoted.csv", quoted.as_bytes().to_vec()),
        ("benchmarks.csv", benchmarks.clone()),
        ("benchmarks-bom-crlf.csv", bom(&crlf(&benchmarks))),
    ] {
        fs::write(d.join(name), bytes).unwrap();
    }
    pingan_input::read_values("values.csv", &values, &SMALL, &TREE).unwrap();
    pingan_input::read_benchmark_rows("benchmarks.csv", &benchmarks, &SMALL).unwrap();

    // framework_toml
    let d = dir("framework_toml");
    let big = read(&format!("{ROOT}/frameworks/pingan-2024.toml"));
    fs::write(d.join("small.toml"), SMALL_FRAMEWORK).unwrap();
    fs::write(d.join("pingan-2024.toml"), &big).unwrap();

    // rules_toml: the shipped file, and its first range and rules alone.
    let d = dir("rules_toml");
    let rules =
        String::from_utf8(read(&format!("{ROOT}/frameworks/pingan-2024.rules.toml"))).unwrap();
    fs::write(d.join("pingan-2024.rules.toml"), &rules).unwrap();
    let mut short = String::new();
    let mut blocks = 0;
    for block in rules.split("\n\n") {
        if block.contains("[[range]]") || block.contains("[[rule]]") {
            blocks += 1;
            if blocks > 4 {
                continue;
            }
        }
        short.push_str(block);
        short.push_str("\n\n");
    }
    pingan_core::quality::rules::RuleSet::parse("r", &short, &DEFAULT).unwrap();
    fs::write(d.join("short.rules.toml"), short).unwrap();

    // formula: every indicator formula of both frameworks, and rule sides.
    let d = dir("formula");
    let mut formulas: Vec<String> = Vec::new();
    for fw in [&*DEFAULT, &*SMALL] {
        for p in fw.indicators() {
            formulas.push(p.indicator.formula_text.clone());
        }
    }
    if let Ok(set) = pingan_core::quality::rules::RuleSet::parse("r", &rules, &DEFAULT) {
        for r in set.rules {
            formulas.push(r.left_src);
            formulas.push(r.right_src);
        }
    }
    formulas.push("prev(prev(abs(-min(1.5, .5e1)))) / max(2, 3) - 4 * (5 + 6)".into());
    formulas.sort();
    formulas.dedup();
    for (i, f) in formulas.iter().enumerate() {
        fs::write(d.join(format!("f{i:03}.txt")), f).unwrap();
    }

    // survey_expr: the subset of survey.md §1.
    let d = dir("survey_expr");
    for (i, e) in [
        ". >= 0 and . <= 120",
        "${age} > 17",
        "selected(${problems}, 'other') or not(${sex} = 'm')",
        "count-selected(.) <= 3",
        "${a} + ${b} * 2 div 4 - -1 != 3.5",
        "(${x} < 1 or ${y} >= 2) and ${z} = ''",
        "string-length(.) < 5",
    ]
    .iter()
    .enumerate()
    {
        fs::write(d.join(format!("e{i}.txt")), e).unwrap();
    }

    // excel_template(_parts): templates for two departments, empty and filled.
    let (dt, dp) = (dir("excel_template"), dir("excel_template_parts"));
    let months: Vec<Period> = ["2024-05", "2024-06"]
        .iter()
        .map(|p| p.parse().unwrap())
        .collect();
    let mixed: Vec<Period> = ["2024Q2", "2024"]
        .iter()
        .map(|p| p.parse().unwrap())
        .collect();
    let fill = |r: usize, _p: Period, e: usize| (r % 2 == 0).then_some((10 * r + e) as f64 + 0.25);
    for (name, department, periods, prefill) in [
        ("police-empty", "公安", &months, false),
        ("police-filled", "公安", &months, true),
        ("education-filled", "教育", &mixed, true),
    ] {
        let regions = base_regions(&TREE, None, periods);
        let spec = TemplateSpec {
            department,
            periods,
            regions: &regions,
            prefill: prefill.then_some(&fill as &dyn Fn(usize, Period, usize) -> Option<f64>),
        };
        let xlsx = write_template(&DEFAULT, &TREE, &spec).unwrap();
        read_template(name, &xlsx, &DEFAULT, &TREE).unwrap();
        let parts = unpack_parts(&xlsx, needed_part);
        let repacked = pack_parts(&parts).unwrap();
        read_template(name, &repacked, &DEFAULT, &TREE)
            .unwrap_or_else(|e| panic!("{name} from its parts: {e:?}"));
        fs::write(dt.join(format!("{name}.xlsx")), xlsx).unwrap();
        fs::write(dp.join(format!("{name}.parts")), parts).unwrap();
    }

    // xlsform(_parts|_sheets): the shipped questionnaire, and a small one
    // with groups, relevance, constraints and a select_multiple.
    let small_survey = "type\tname\tlabel\trequired\trelevant\tconstraint\tconstraint_message\telement\n\
                        begin_group\tg\t组\t\t\t\t\t\n\
                        integer\tage\t年龄\tyes\t\t. >= 0 and . <= 120\t年龄不对\t\n\
                        select_one sat\tq1\t满意吗\tyes\t${age} > 17\t\t\tsafety_index\n\
                        select_multiple prob\tproblems\t问题\t\tselected(${q1}, '5')\tcount-selected(.) <= 2\t\t\n\
                        end_group\t\t\t\t\t\t\t\n\
                        decimal\tscore\t分数\t\t\t\t\t\n\
                        text\tnote\t备注\t\t\t\t\t\n";
    let small_choices = "list_name\tname\tlabel\tscore\nsat\t5\t很满意\t100\nsat\t1\t不满意\t0\nsat\t9\t说不清\t\nprob\ta\t盗窃\t\nprob\tb\t诈骗\t\n";
    let (dx, dxp, dxs) = (dir("xlsform"), dir("xlsform_parts"), dir("xlsform_sheets"));
    for (name, survey, choices, settings) in [
        ("survey-2024", SURVEY_TSV, CHOICES_TSV, SETTINGS_TSV),
        ("small", small_survey, small_choices, SETTINGS_TSV),
    ] {
        let text = format!("{survey}\u{c}{choices}\u{c}{settings}");
        fs::write(dxs.join(format!("{name}.txt")), &text).unwrap();
        let sheet = |n: &str, tsv: &str| pingan_core::survey::form::Sheet {
            name: n.into(),
            rows: tsv
                .lines()
                .map(|l| l.split('\t').map(|c| c.trim().to_string()).collect())
                .collect(),
        };
        let sheets = [
            sheet("survey", survey),
            sheet("choices", choices),
            sheet("settings", settings),
        ];
        let known = |e: &str| DEFAULT.element_index(e).is_some();
        let xlsx = pingan_input::survey::write_form(&sheets).unwrap();
        match pingan_input::survey::read_form(name, &xlsx, &known) {
            Ok(_) => {}
            // The small form may name an element the framework lacks; it
            // still reaches every check.
            Err(e) => eprintln!("note: {name}: {e:?}"),
        }
        let parts = unpack_parts(&xlsx, needed_part);
        assert!(pingan_input::survey::read_form_sheets(name, &pack_parts(&parts).unwrap()).is_ok());
        fs::write(dx.join(format!("{name}.xlsx")), xlsx).unwrap();
        fs::write(dxp.join(format!("{name}.parts")), parts).unwrap();
    }
    println!("seeds written under {}/seeds", env!("CARGO_MANIFEST_DIR"));
}
