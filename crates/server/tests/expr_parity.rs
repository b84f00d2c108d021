//! The questionnaire's expressions evaluate the same in the browser as on
//! the server: thousands of expressions (written and generated) over
//! awkward answers, each evaluated by `pingan_core::survey::expr` and by
//! `assets/survey.js` under Node, which must agree on every value's kind
//! and content (numbers to the bit, NaN and the sign of zero included).

use pingan_core::survey::expr::{self, Answers, Value};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

struct Map<'a>(&'a BTreeMap<&'static str, &'static str>);

impl Answers for Map<'_> {
    fn answer(&self, name: &str) -> &str {
        self.0.get(name).copied().unwrap_or("")
    }
}

/// Rust's shortest exponent form, which the script writes the same way.
fn exp(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v:e}")
    }
}

fn encode(v: &Value) -> Json {
    match v {
        Value::Num(n) => json!({"n": exp(*n)}),
        Value::Str(s) => json!({"s": s}),
        Value::Bool(b) => json!({"b": b}),
    }
}

/// A small deterministic generator (no dependency): a linear congruential
/// sequence.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn atom(g: &mut Lcg) -> String {
    const ATOMS: [&str; 17] = [
        "${a}", "${b}", "${m}", ".", "0", "1", "2.5", ".5", "34", "100", "''", "'f'", "'a'",
        "' 7 '", "'a b'", "\"x\"", "${none}",
    ];
    ATOMS[g.next(ATOMS.len())].to_string()
}

fn grow(g: &mut Lcg, depth: usize) -> String {
    if depth == 0 {
        return atom(g);
    }
    const OPS: [&str; 12] = [
        "or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div",
    ];
    match g.next(7) {
        0 => format!("not({})", grow(g, depth - 1)),
        1 => format!("selected({}, {})", grow(g, depth - 1), atom(g)),
        2 => format!("count-selected({})", grow(g, depth - 1)),
        3 => format!("-{}", grow(g, depth - 1)),
        4 => format!("({})", grow(g, depth - 1)),
        _ => format!(
            "{} {} {}",
            grow(g, depth - 1),
            OPS[g.next(OPS.len())],
            grow(g, depth - 1)
        ),
    }
}

#[test]
fn the_browser_evaluates_expressions_as_the_server_does() {
    if std::env::var("PINGAN_TEST_BROWSER").as_deref() == Ok("off") {
        eprintln!(
            "PINGAN_TEST_BROWSER=off: the browser-side evaluator is not compared (needs Node.js)"
        );
        return;
    }
    let mut sources: Vec<String> = [
        "${a} >= 16 and ${a} <= 100",
        "${a} = 34.0",
        "${b} = ''",
        "${b} != 0",
        ". > 3 and . < 10",
        "selected(${m}, 'c') and not(selected(${m}, 'b'))",
        "count-selected(${m}) = 2",
        "(${a} + 6) div 2 = 20",
        "1 div 0",
        "-1 div 0",
        "0 div 0",
        "-0",
        "0 * -1",
        "1 < 2 = 1",
        "2 + 3 * 4",
        "0.1 + 0.2",
        "1 div 3",
        "100000000000000000000 * 10",
        "1 div 10000000",
        "${a} * 1000000000000000",
        "selected(${a} + 1, 35)",
        "count-selected(1 div 3)",
        ". = ${a}",
        "${a}",
        "'x' = 'x '",
        "selected(${m}, 'a')",
        "selected(${m}, 'b')",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let written = sources.len();
    let mut g = Lcg(17);
    for _ in 0..1500 {
        let d = 1 + g.next(4);
        sources.push(grow(&mut g, d));
    }
    const POOL: [&str; 20] = [
        "",
        "34",
        " 5 ",
        "a b",
        "-.5",
        "5.",
        "x",
        "1e3",
        "\u{3000}7",
        "NaN",
        "-",
        "0",
        "00012",
        "3.",
        "a  c",
        "\u{feff}4",
        "c",
        "-0",
        "ab",
        "b\u{3000}a",
    ];
    let mut cases = Vec::new();
    for (k, src) in sources.iter().enumerate() {
        let Ok(e) = expr::parse(src) else { continue };
        // The written expressions meet every answer of the pool in each
        // place; the generated ones six random combinations.
        let rounds = if k < written { POOL.len() } else { 6 };
        for j in 0..rounds {
            let offsets: [usize; 4] = if k < written {
                [j, j + 7, j + 2, j + 11]
            } else {
                [
                    g.next(POOL.len()),
                    g.next(POOL.len()),
                    g.next(POOL.len()),
                    g.next(POOL.len()),
                ]
            };
            let pick = |i: usize| POOL[offsets[i] % POOL.len()];
            let answers: BTreeMap<&'static str, &'static str> =
                [("a", pick(0)), ("b", pick(1)), ("m", pick(2))]
                    .into_iter()
                    .collect();
            let current = pick(3);
            let map = Map(&answers);
            let v = e.eval(&map, current);
            cases.push(json!({
                "src": src, "tree": serde_json::to_value(&e).unwrap(),
                "answers": answers, "current": current,
                "value": encode(&v), "holds": v.boolean(),
            }));
        }
    }
    assert!(cases.len() > 5000, "{} cases", cases.len());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cases.json");
    std::fs::write(&data, serde_json::to_vec(&cases).unwrap()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/ui/expr_parity.mjs");
    let out = Command::new("node")
        .arg(&script)
        .arg(&data)
        .output()
        .unwrap_or_else(|e| {
            panic!("node: {e}; .ci/run installs Node.js (or set PINGAN_TEST_BROWSER=off)")
        });
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the browser disagrees with the server:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("{} cases agree", cases.len())),
        "{text}"
    );
}
