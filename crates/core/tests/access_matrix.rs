//! docs/access.md shows who may do what; it must be the table the code
//! applies. `PINGAN_BLESS=1 cargo test -p pingan-core --test access_matrix`
//! rewrites the copy after the table changed.

const BEGIN: &str = "<!-- matrix:begin -->\n";
const END: &str = "<!-- matrix:end -->";

#[test]
fn the_documented_matrix_is_the_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/access.md");
    let doc = std::fs::read_to_string(path).expect("docs/access.md");
    let (Some(a), Some(b)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("docs/access.md has no {BEGIN:?} … {END:?} block");
    };
    let matrix = pingan_core::access::matrix_markdown();
    let shown = &doc[a + BEGIN.len()..b];
    if shown != matrix {
        if std::env::var("PINGAN_BLESS").is_ok_and(|v| v == "1") {
            let new = format!("{}{matrix}{}", &doc[..a + BEGIN.len()], &doc[b..]);
            std::fs::write(path, new).unwrap();
            return;
        }
        println!("{matrix}");
        panic!("docs/access.md differs from the capability table (printed above)");
    }
}
