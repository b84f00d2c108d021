//! The demo's grid events and call-outs (issue 19): every year of the
//! synthetic province gets its events (events-YYYY.csv), the eight derived
//! elements of values.csv are made from them as `pingan events aggregate`
//! makes them, and the database takes the events themselves (which derive
//! the same values under 网格平台 and 应急指挥), not values.csv's copy.

use anyhow::{Context, Result};
use pingan_core::events::{Aggregator, ELEMENTS, number};
use std::collections::HashSet;
use std::io::Write as _;
use std::path::Path;

/// Events per year by default: a tenth of the province's real volume keeps
/// the demo within two minutes; `pingan demo --events 10000000` is full size.
pub const DEFAULT_PER_YEAR: usize = 1_000_000;

/// The events file of `year` in the demo's folder.
pub fn file_of(dir: &Path, year: i32) -> std::path::PathBuf {
    dir.join(format!("events-{year}.csv"))
}

/// Write one events file per year (about `per_year` events each; a year
/// at a time, so the full size never holds more than a year in memory)
/// and put the eight elements derived from them into values.csv in place
/// of the generator's own; returns the rows written.
pub fn write(dir: &Path, opts: &pingan_synth::Options, per_year: usize) -> Result<usize> {
    let regions = std::fs::read(dir.join("regions.csv"))?;
    let tree = pingan_input::read_regions("regions.csv", &regions)
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let values = dir.join("values.csv");
    let mut out = without_event_elements(&std::fs::read_to_string(&values)?);
    let mut rows = 0;
    // Over all the years at once: an event of one file may count in the
    // next year's January (a call-out dispatched after midnight).
    let mut all = Aggregator::new(None);
    for year in opts.first_year..=opts.last_year {
        let path = file_of(dir, year);
        let file =
            std::fs::File::create(&path).with_context(|| format!("无法写入 {}", path.display()))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let e = pingan_synth::EventOptions {
            year,
            total: per_year,
        };
        rows += pingan_synth::write_events(opts, &e, &mut w)?;
        w.flush()?;
        drop(w);
        let bytes = std::fs::read(&path)?;
        let text = pingan_input::decode(&bytes);
        let name = path.display().to_string();
        let read = pingan_input::events::read_events(&name, &text, &tree)
            .map_err(|e| anyhow::anyhow!(e.to_string()))?;
        for e in &read.events {
            all.add(e);
        }
    }
    for ((region, (y, m)), v) in &all.finish() {
        let code = &tree.get(*region).code;
        for (e, x) in ELEMENTS.iter().zip(v) {
            out.push_str(&format!("{code},{y:04}-{m:02},{e},{}\n", number(*x)));
        }
    }
    std::fs::write(&values, out)?;
    Ok(rows)
}

/// A values file without the eight derived elements (the database gets
/// them from the events).
pub fn without_event_elements(text: &str) -> String {
    let derived: HashSet<&str> = ELEMENTS.into_iter().collect();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.split(',').nth(2).is_some_and(|e| derived.contains(e)) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_elements_are_dropped() {
        let v =
            "region,period,element,value\nR,2024-01,grid_events,3\nR,2024-01,criminal_cases,4\n";
        assert_eq!(
            without_event_elements(v),
            "region,period,element,value\nR,2024-01,criminal_cases,4\n"
        );
    }
}
