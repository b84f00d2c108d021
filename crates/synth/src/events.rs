//! A year of grid events and emergency call-outs for the synthetic province
//! (events.md §1), written as CSV while it is made (ten million rows never
//! sit in memory). Busier townships report more; each township handles its
//! events at its own pace, so the share within the deadline differs between
//! places; one grid event in five is reported first and updated when
//! handled (two versions), a few rows arrive twice, some events are still
//! open at the end. Keyed by seed, township and month like the rest.

use crate::regions::{self, TownKind};
use crate::rng::{Stream, year_key};
use crate::{Options, validate};
use std::io::Write;

mod tag {
    pub const EVENTS: u64 = 201;
    pub const PACE: u64 = 202;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventOptions {
    pub year: i32,
    /// Events (all kinds) asked for over the province and the year.
    pub total: usize,
}

pub const HEADER: &str = "event_id,kind,region,category,urgency,departments,reported_at,handled_at,dispatched_at,arrived_at,updated_at\n";

const CATEGORIES: [&str; 6] = [
    "矛盾纠纷",
    "治安隐患",
    "安全生产",
    "消防隐患",
    "环境卫生",
    "民生诉求",
];

/// Days since 1970-01-01 of a date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// China time, seconds since 1970 as if it were UTC, written plainly.
fn stamp(out: &mut String, t: i64) {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    use std::fmt::Write as _;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
}

fn days_in(y: i64, m: i64) -> i64 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    next - days_from_civil(y, m, 1)
}

/// Write the year's events as CSV to `out`; returns the rows written.
pub fn write_events(
    opts: &Options,
    e: &EventOptions,
    out: &mut impl Write,
) -> std::io::Result<usize> {
    validate(opts).map_err(|err| std::io::Error::other(err.to_string()))?;
    let tree = regions::build(opts.seed, opts.cities, opts.counties, opts.townships);
    let weight = |k: TownKind| match k {
        TownKind::Subdistrict => 3.0,
        TownKind::Town => 2.0,
        TownKind::Rural => 1.0,
    };
    let total_weight: f64 = tree.towns.iter().map(|t| weight(t.kind)).sum();
    // More in summer, fewer around the Spring Festival.
    let season = [
        0.75, 0.7, 0.9, 1.0, 1.05, 1.15, 1.25, 1.25, 1.05, 1.0, 0.95, 0.9,
    ];
    let season_sum: f64 = season.iter().sum();
    let year = i64::from(e.year);
    out.write_all(HEADER.as_bytes())?;
    let mut rows = 0;
    let mut line = String::with_capacity(256);
    for (t, town) in tree.towns.iter().enumerate() {
        // How fast this township handles its events (median hours for 一般).
        let mut pace = Stream::new(&[opts.seed, tag::PACE, year_key(e.year), t as u64]);
        let speed = pace.lognormal(1.0, 0.5);
        for (mi, factor) in season.iter().enumerate() {
            let month = mi as i64 + 1;
            let mut r = Stream::new(&[
                opts.seed,
                tag::EVENTS,
                year_key(e.year),
                t as u64,
                month as u64,
            ]);
            let expected = e.total as f64 * weight(town.kind) / total_weight * factor / season_sum;
            let n = r.poisson(expected);
            let first = days_from_civil(year, month, 1) * 86_400;
            let span = days_in(year, month) * 86_400;
            for i in 0..n {
                line.clear();
                let reported = first + (r.uniform() * span as f64) as i64;
                let id = format!("E{}{:05}{:02}{:06}", e.year, t, month, i);
                let kind = r.uniform();
                use std::fmt::Write as _;
                if kind < 0.9 {
                    let u = r.uniform();
                    let (urgency, deadline) = if u < 0.8 {
                        ("一般", 86_400.0)
                    } else if u < 0.97 {
                        ("紧急", 7_200.0)
                    } else {
                        ("特急", 1_800.0)
                    };
                    let departments = if r.uniform() < 0.75 {
                        1
                    } else {
                        2 + r.below(3)
                    };
                    let category = CATEGORIES[r.below(CATEGORIES.len())];
                    let delay = (r.lognormal(deadline * 0.3 * speed, 0.8)) as i64;
                    let handled = reported + delay.max(60);
                    // Still open: late in the year, or now and then.
                    let open =
                        r.uniform() < 0.02 || handled > days_from_civil(year + 1, 1, 1) * 86_400;
                    let versions = if !open && r.uniform() < 0.2 { 2 } else { 1 };
                    for v in 0..versions {
                        line.clear();
                        let _ = write!(
                            line,
                            "{id},grid,{},{category},{urgency},{departments},",
                            town.code
                        );
                        stamp(&mut line, reported);
                        line.push(',');
                        let last = v + 1 == versions;
                        if last && !open {
                            stamp(&mut line, handled);
                        }
                        line.push_str(",,,");
                        stamp(
                            &mut line,
                            if last && !open {
                                handled + 30
                            } else {
                                reported + 5
                            },
                        );
                        line.push('\n');
                        out.write_all(line.as_bytes())?;
                        rows += 1;
                    }
                } else {
                    let fire = kind < 0.94;
                    let dispatched = reported + 60 + r.below(120) as i64;
                    let minutes = r.lognormal(if fire { 12.0 } else { 15.0 }, 0.4);
                    let arrived = dispatched + (minutes * 60.0) as i64;
                    let _ = write!(
                        line,
                        "{id},{},{},,,,",
                        if fire { "fire" } else { "medical" },
                        town.code
                    );
                    stamp(&mut line, reported);
                    line.push_str(",,");
                    stamp(&mut line, dispatched);
                    line.push(',');
                    stamp(&mut line, arrived);
                    line.push(',');
                    stamp(&mut line, arrived + 600);
                    line.push('\n');
                    out.write_all(line.as_bytes())?;
                    rows += 1;
                }
                // A row sent twice by the platform.
                if r.uniform() < 0.002 {
                    out.write_all(line.as_bytes())?;
                    rows += 1;
                }
            }
        }
    }
    Ok(rows)
}
