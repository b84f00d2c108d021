//! A million-row events import killed with SIGKILL half way through its
//! rows (inside the transaction, after the secondary indexes were dropped
//! for the load) leaves the database as it was, on SQLite and PostgreSQL:
//! the ledger's head unchanged and verified, no event stored, and the
//! same import afterwards stores every event.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

fn pingan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pingan"))
        .args(args)
        .env_remove("PINGAN_DB")
        .output()
        .expect("run pingan")
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The import being killed: killed however the test ends, so a failed
/// assertion leaves no paused process behind.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn killed_mid_load(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    ok(pingan(&[
        "generate",
        "--out",
        d,
        "--cities",
        "2",
        "--counties",
        "4",
        "--townships",
        "12",
        "--years",
        "2024",
        "--events",
        "1000000",
    ]));
    ok(pingan(&["init", "--db", db]));
    ok(pingan(&[
        "import",
        "regions",
        &format!("{d}/regions.csv"),
        "--db",
        db,
    ]));
    let events = format!("{d}/events.csv");
    let head_before = ok(pingan(&["audit", "head", "--db", db]));
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_pingan"))
            .args(["import", "events", &events, "--db", db])
            .env_remove("PINGAN_DB")
            .env("PINGAN_TEST_PAUSE_EVENTS_AFTER", "500000")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "PINGAN_TEST_PAUSED", "half the rows are in");
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();
    assert_eq!(ok(pingan(&["audit", "head", "--db", db])), head_before);
    assert!(ok(pingan(&["audit", "verify", "--db", db])).contains("校验通过"));
    let run = |dry: bool| -> Value {
        let mut args = vec!["import", "events", &events, "--db", db, "--format", "json"];
        if dry {
            args.push("--dry-run");
        }
        serde_json::from_str(&ok(pingan(&args))).unwrap()
    };
    let dry = run(true);
    assert!(dry["events"].as_u64().unwrap() > 900_000, "{dry}");
    assert_eq!(
        dry["written"], dry["events"],
        "no event of the killed import was kept"
    );
    // The indexes dropped inside the killed transaction are back: the
    // same load drops them again and succeeds.
    let done = run(false);
    assert_eq!(done["written"], dry["events"], "{done}");
}

#[test]
fn killed_events_import_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    killed_mid_load(&format!("sqlite://{}/t.db", dir.path().display()));
}

#[test]
fn killed_events_import_on_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(fresh) = rt.block_on(pingan_store::testing::postgres()) else {
        return;
    };
    let url = fresh.url.clone();
    rt.block_on(fresh.store.close());
    killed_mid_load(&url);
    rt.block_on(fresh.done());
}
