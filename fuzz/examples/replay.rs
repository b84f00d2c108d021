//! Feed one file to a reader the way a target does, without libFuzzer or
//! AddressSanitizer: how a crash input behaves in an ordinary build.
//!
//!     cd fuzz && cargo +nightly run --release --example replay -- KIND FILE
//!
//! KIND: excel_template, xlsform (raw .xlsx); excel_template_parts,
//! xlsform_parts (`name NUL content` parts); formula, survey_expr (text:
//! parse, then evaluate). It runs on a thread with REPLAY_STACK_KB of stack
//! (default 2048, a tokio worker's) — the server's case.
use pingan_core::Period;

struct NoAnswers;

impl pingan_core::survey::expr::Answers for NoAnswers {
    fn answer(&self, _: &str) -> &str {
        "1"
    }
}

fn replay(kind: &str, data: Vec<u8>) -> String {
    match kind {
        "formula" => {
            let src = String::from_utf8(data).expect("UTF-8");
            let fw = &*pingan_fuzz::DEFAULT;
            match pingan_core::formula::parse(&src, &|c: &str| fw.element_index(c)) {
                Ok(e) => format!("{:?}", e.eval(Period::Year(2024), &mut |_, _| Some(1.0))),
                Err(e) => format!("error: {e}"),
            }
        }
        "survey_expr" => {
            let src = String::from_utf8(data).expect("UTF-8");
            match pingan_core::survey::expr::parse(&src) {
                Ok(e) => format!("holds: {}", e.holds(&NoAnswers, "")),
                Err(e) => format!("error: {e}"),
            }
        }
        _ => {
            let xlsx = if kind.ends_with("_parts") {
                pingan_fuzz::pack_parts(&data).expect("packs")
            } else {
                data
            };
            match kind.trim_end_matches("_parts") {
                "excel_template" => pingan_fuzz::check_template(&xlsx),
                "xlsform" => pingan_fuzz::check_form(&xlsx),
                k => panic!("unknown kind {k}"),
            }
            "read".into()
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, kind, path] = &args[..] else {
        eprintln!("usage: replay KIND FILE");
        std::process::exit(2);
    };
    let data = std::fs::read(path).expect("readable file");
    let kb: usize = std::env::var("REPLAY_STACK_KB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2048);
    let kind2 = kind.clone();
    let out = std::thread::Builder::new()
        .stack_size(kb * 1024)
        .spawn(move || replay(&kind2, data))
        .unwrap()
        .join()
        .unwrap();
    let mut out = out;
    out.truncate(200);
    println!("{kind} {path}: no crash ({out})");
}
