//! Fetches the browser libraries the pages use (ECharts) from npm through
//! `ui/package-lock.json` into OUT_DIR, so a fresh clone's `cargo build`
//! needs no manual step and no third-party file is committed. The binary
//! embeds them; nothing is loaded from a CDN at run time.
//!
//! Offline builds: set `PINGAN_UI_NODE_MODULES` to a `node_modules` folder
//! made by `npm ci` from the same lockfile elsewhere.

use std::path::{Path, PathBuf};
use std::process::Command;

const FILES: &[&str] = &["echarts/dist/echarts.min.js"];

fn main() {
    println!("cargo:rerun-if-changed=ui/package.json");
    println!("cargo:rerun-if-changed=ui/package-lock.json");
    println!("cargo:rerun-if-env-changed=PINGAN_UI_NODE_MODULES");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let modules = match std::env::var_os("PINGAN_UI_NODE_MODULES") {
        Some(m) => PathBuf::from(m),
        None => fetch(&out.join("ui")),
    };
    for f in FILES {
        let p = modules.join(f);
        if !p.is_file() {
            panic!(
                "网页依赖缺失：{}（npm ci 未完成？）/ missing UI asset {}",
                p.display(),
                p.display()
            );
        }
    }
    println!("cargo:rustc-env=PINGAN_UI_MODULES={}", modules.display());
}

/// `npm ci` into `dir` unless it already holds this lockfile's install.
fn fetch(dir: &Path) -> PathBuf {
    let lock = std::fs::read("ui/package-lock.json").expect("ui/package-lock.json");
    let stamp = dir.join("installed.lock");
    let modules = dir.join("node_modules");
    if std::fs::read(&stamp).ok().as_deref() == Some(&lock[..])
        && FILES.iter().all(|f| modules.join(f).is_file())
    {
        return modules;
    }
    std::fs::create_dir_all(dir).expect("OUT_DIR/ui");
    std::fs::copy("ui/package.json", dir.join("package.json")).expect("copy package.json");
    std::fs::write(dir.join("package-lock.json"), &lock).expect("copy package-lock.json");
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let status = Command::new(npm)
        .args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "npm ci 失败（{s}）：网页所需的 ECharts 取自 npm，请检查 npm 源，或设置 PINGAN_UI_NODE_MODULES"
        ),
        Err(e) => panic!(
            "无法运行 npm（{e}）：构建需要 Node.js 与 npm 来获取网页依赖，或设置 PINGAN_UI_NODE_MODULES"
        ),
    }
    std::fs::write(&stamp, &lock).expect("stamp");
    modules
}
