//! What the CLI tests share: running the binary as someone, away from any
//! `PINGAN_DB` of the environment, and its output when it succeeded.
#![allow(dead_code)]

use std::process::{Command, Output};

/// `pingan ARGS` as `user` (recorded in the ledger).
pub fn pingan_as(user: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pingan"))
        .args(args)
        .env_remove("PINGAN_DB")
        .env("PINGAN_USER", user)
        .output()
        .unwrap()
}

pub fn pingan(args: &[&str]) -> Output {
    pingan_as("测试员", args)
}

/// The standard output of a run that must have succeeded (else its
/// standard error in the failure).
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The standard error of a run that must have failed on its input (exit 1).
pub fn fails(out: Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    String::from_utf8(out.stderr).unwrap()
}

/// `pingan generate` of a small province into `dir`: [cities, counties,
/// townships] and the years as `2023-2024`.
pub fn generated(dir: &str, sizes: [usize; 3], years: &str) {
    let [cities, counties, townships] = sizes.map(|n| n.to_string());
    ok(pingan(&[
        "generate",
        "--out",
        dir,
        "--cities",
        &cities,
        "--counties",
        &counties,
        "--townships",
        &townships,
        "--years",
        years,
    ]));
}
