//! Loading the input files of a scoring run, with `file:line` errors.

use crate::InputFailure;
use anyhow::Result;
use pingan_core::data::DataSet;
use pingan_core::framework::{self, DEFAULT_FILE_NAME, DEFAULT_TOML};
use pingan_core::{Framework, RegionTree};
use std::path::Path;

pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| InputFailure(format!("{}: 无法读取文件：{e}", path.display())).into())
}

/// `path` mapped into memory, for the files that run to gigabytes (a
/// province's year of events): read into a new buffer, 1.35 GB cost about
/// 3 s here in page faults on fresh memory; mapped, the pages already in
/// the file cache serve as they are. The file must not change while it
/// is read (as with `rg` and every tool that maps its input).
pub fn map(path: &Path) -> Result<memmap2::Mmap> {
    let unreadable =
        |e: std::io::Error| InputFailure(format!("{}: 无法读取文件：{e}", path.display()));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(InputFailure(format!("{}: 这是一个目录，不是文件", path.display())).into());
    }
    // SAFETY: the map is only read, and only while the command runs; a
    // file cut short meanwhile would end the process, never corrupt a
    // store (the import is one transaction).
    unsafe { memmap2::MmapOptions::new().populate().map(&file) }.map_err(|e| unreadable(e).into())
}

/// The framework file given, or the built-in default.
pub fn framework(path: Option<&Path>) -> Result<Framework> {
    let (name, src) = match path {
        None => (DEFAULT_FILE_NAME.to_string(), DEFAULT_TOML.to_string()),
        Some(p) => {
            let bytes = read(p)?;
            let text = pingan_input::decode(&bytes).into_owned();
            (p.display().to_string(), text)
        }
    };
    let report = framework::check(&src);
    match report.framework {
        Some(f) => Ok(f),
        None => Err(InputFailure(report.error_lines(&name).join("\n")).into()),
    }
}

pub struct Inputs {
    pub framework: Framework,
    pub tree: RegionTree,
    pub data: DataSet,
}

pub fn inputs(
    framework_path: Option<&Path>,
    regions: &Path,
    values: &Path,
    benchmarks: Option<&Path>,
) -> Result<Inputs> {
    let fw = framework(framework_path)?;
    let tree = pingan_input::read_regions(&regions.display().to_string(), &read(regions)?)
        .map_err(|e| InputFailure(e.to_string()))?;
    // Mapped: a province's 100 MB of values is read from the page cache in
    // place instead of being copied into fresh memory first (~90 ms).
    let mut data =
        pingan_input::read_values(&values.display().to_string(), &map(values)?, &fw, &tree)
            .map_err(|e| InputFailure(e.to_string()))?;
    if let Some(b) = benchmarks {
        pingan_input::read_benchmarks(&b.display().to_string(), &read(b)?, &fw, &mut data)
            .map_err(|e| InputFailure(e.to_string()))?;
    }
    Ok(Inputs {
        framework: fw,
        tree,
        data,
    })
}

/// A scoring error is about `benchmarks.csv`: name the file, and the line
/// when the benchmark is there but unusable.
pub fn score_failure(e: pingan_core::score::ScoreError, benchmarks: Option<&Path>) -> InputFailure {
    use pingan_core::score::ScoreError;
    let Some(path) = benchmarks else {
        return InputFailure(format!("benchmarks.csv（未提供 --benchmarks）: {e}"));
    };
    let line = match &e {
        ScoreError::ZeroBenchmark {
            benchmark, period, ..
        } => std::fs::read(path)
            .ok()
            .and_then(|b| pingan_input::benchmark_line(&b, benchmark, *period)),
        ScoreError::MissingBenchmark { .. } => None,
    };
    match line {
        Some(l) => InputFailure(format!("{}:{l}: {e}", path.display())),
        None => InputFailure(format!("{}: {e}", path.display())),
    }
}
