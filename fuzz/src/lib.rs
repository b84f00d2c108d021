//! Shared fixtures for the fuzz targets: the frameworks and region tree the
//! readers check their input against (parsed once per process), and the
//! packing of fuzzed XML parts into an `.xlsx`.

use pingan_core::framework::{Framework, check};
use pingan_core::region::RegionTree;
use std::io::{Cursor, Write};
use std::sync::LazyLock;

/// `crates/cli/tests/fixtures/small/framework.toml`: four elements, one
/// benchmark — what `values.csv` and `benchmarks.csv` seeds refer to.
pub const SMALL_FRAMEWORK: &str =
    include_str!("../../crates/cli/tests/fixtures/small/framework.toml");
/// `crates/cli/tests/fixtures/small/regions.csv`.
pub const SMALL_REGIONS: &[u8] =
    include_bytes!("../../crates/cli/tests/fixtures/small/regions.csv");

pub static SMALL: LazyLock<Framework> = LazyLock::new(|| {
    check(SMALL_FRAMEWORK)
        .framework
        .expect("fixtures/small/framework.toml checks")
});

/// The built-in framework (`frameworks/pingan-2024.toml`): what the rules
/// file, templates and the questionnaire are written against.
pub static DEFAULT: LazyLock<Framework> = LazyLock::new(pingan_core::default_framework);

pub static TREE: LazyLock<RegionTree> = LazyLock::new(|| {
    pingan_input::read_regions("regions.csv", SMALL_REGIONS)
        .expect("fixtures/small/regions.csv reads")
});

/// Fuzz input for the `*_parts` targets: `name NUL content NUL name NUL
/// content …`, each pair one member of the zip (a trailing name without
/// content is an empty member). Packing stores the members uncompressed,
/// so the fuzzer mutates the XML itself rather than deflate streams and
/// CRCs. `None` when the zip writer refuses the names (duplicates …).
pub fn pack_parts(data: &[u8]) -> Option<Vec<u8>> {
    use zip::write::{SimpleFileOptions, ZipWriter};
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut it = data.split(|&b| b == 0);
    let mut members = 0;
    while let Some(name) = it.next() {
        let content = it.next().unwrap_or_default();
        if name.is_empty() && content.is_empty() {
            continue;
        }
        members += 1;
        if members > 64 {
            break;
        }
        let name = String::from_utf8_lossy(name);
        w.start_file(name.as_ref(), opts).ok()?;
        w.write_all(content).ok()?;
    }
    w.finish().ok().map(Cursor::into_inner)
}

/// The inverse of `pack_parts`, for making seeds from real workbooks:
/// every member of `xlsx` except those `keep` rejects.
pub fn unpack_parts(xlsx: &[u8], keep: impl Fn(&str) -> bool) -> Vec<u8> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(Cursor::new(xlsx)).expect("a zip");
    let mut out = Vec::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).expect("a member");
        let name = f.name().expect("a UTF-8 name").to_string();
        if !keep(&name) {
            continue;
        }
        let mut content = Vec::new();
        f.read_to_end(&mut content).expect("readable");
        assert!(!name.contains('\0') && !content.contains(&0));
        if !out.is_empty() {
            out.push(0);
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(&content);
    }
    out
}

/// Read `xlsx` as a filled template against the built-in framework and the
/// small region tree; what it reads must point inside them.
pub fn check_template(xlsx: &[u8]) {
    let (fw, tree) = (&*DEFAULT, &*TREE);
    let Ok((filled, errs)) = pingan_input::excel::read_template_partly("t.xlsx", xlsx, fw, tree)
    else {
        return;
    };
    assert!(
        errs.len() <= 200,
        "{} errors, at most 200 are kept",
        errs.len()
    );
    for v in &filled.values {
        assert!(v.region < tree.len() && v.element < fw.elements.len());
        assert!((v.sheet as usize) < filled.sheets.len());
        assert!(v.value.is_finite());
    }
}

/// The answers expressions are evaluated on in `check_form_sheets`.
struct SomeAnswers;

impl pingan_core::survey::expr::Answers for SomeAnswers {
    fn answer(&self, name: &str) -> &str {
        if name.len() % 2 == 0 { "1" } else { "a b" }
    }
}

fn known_element(code: &str) -> bool {
    DEFAULT.element_index(code).is_some()
}

/// Use a questionnaire that was read the way the survey pages do.
fn use_form(form: &pingan_core::survey::form::Form) {
    let _ = form.elements();
    let _ = form.score_range();
    for (i, q) in form.questions.iter().enumerate() {
        let _ = form.question(&q.name);
        assert!(q.groups.iter().all(|&g| g < form.questions.len()));
        for text in ["1", "-2", "1.5", "a b", "x", "2024-06-01"] {
            let _ = form.check_answer(i, text);
        }
        for e in [&q.relevant, &q.constraint].into_iter().flatten() {
            let _ = e.holds(&SomeAnswers, "1");
        }
    }
}

/// Read `xlsx` as an XLSForm questionnaire (element codes of the built-in
/// framework).
pub fn check_form(xlsx: &[u8]) {
    if let Ok(form) = pingan_input::survey::read_form("form.xlsx", xlsx, &known_element) {
        use_form(&form);
    }
}

/// Check already-read sheets as a questionnaire.
pub fn check_form_sheets(sheets: [Option<&pingan_core::survey::form::Sheet>; 3]) {
    match pingan_input::survey::form_of("form.xlsx", sheets, &known_element) {
        Ok(form) => use_form(&form),
        Err(errs) => assert!(
            !errs.is_empty() && errs.len() <= 200,
            "{} errors",
            errs.len()
        ),
    }
}
