//! What the seed's own methods should not judge as they stand: a stock set
//! once a year and restated each month, and a run that is the new year's
//! level.

use super::Params;
use super::anomaly::Outcome;
use super::number;

/// Monthly points (index, value) that were constant within every earlier
/// year (at least two years with two or more months each).
pub(super) fn stepwise(pts: &[(i64, f64)], year: i32) -> bool {
    let mut years = 0;
    let mut i = 0;
    while i < pts.len() {
        let y = pts[i].0.div_euclid(12);
        if y >= year as i64 {
            break;
        }
        let mut j = i;
        while j < pts.len() && pts[j].0.div_euclid(12) == y {
            j += 1;
        }
        if j - i >= 2 {
            if pts[i..j].iter().any(|q| q.1 != pts[i].1) {
                return false;
            }
            years += 1;
        }
        i = j;
    }
    years >= 2
}

/// A run that begins in January and whose level the rest of the year keeps
/// (three of four later months above its line, three at least) is the
/// year's new level, as a share that moves from January is: the scores
/// measure it, there is no figure to correct. A run that comes back is
/// still a run.
pub(super) fn year_level(
    dense: &[Option<f64>],
    t: usize,
    idx: i64,
    season: usize,
    p: &Params,
    o: Outcome,
) -> Outcome {
    let Outcome::Flag(f) = &o else { return o };
    let start = idx - p.run_len.max(1) as i64 + 1;
    let Some(line) = number(&f.numbers, "line") else {
        return o;
    };
    if season != 12 || start.rem_euclid(12) != 0 {
        return o;
    }
    let rest = (11 - idx.rem_euclid(12)) as usize;
    let later: Vec<f64> = (1..=rest)
        .filter_map(|k| dense.get(t + k).copied().flatten())
        .collect();
    let kept = later.iter().filter(|&&v| v > line).count();
    if later.len() >= 3 && kept * 4 >= later.len() * 3 {
        Outcome::Clear
    } else {
        o
    }
}
