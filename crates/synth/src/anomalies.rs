//! Known anomalies injected into the last generated year, so that
//! `pingan check` can be measured against a list (recall and precision):
//! spikes, jumps, runs above the mean, peer outliers, rule breaches,
//! disagreeing second sources and rows outside the cycle.

use crate::elements::{ELEMENTS, El, Format, N_MONTHLY};
use crate::model::Block;
use crate::regions::Tree;
use crate::rng::{Stream, tag};

/// The kinds, in the order they are dealt out.
pub(crate) const KINDS: [&str; 7] = [
    "spike",
    "jump",
    "run",
    "peer",
    "rule",
    "cross_source",
    "timeliness",
];

/// Counts that stand alone (no rule makes them at most another count), so
/// changing one breaks no validation rule by accident.
const FREE: [El; 10] = [
    El::CriminalCases,
    El::PublicOrderCases,
    El::FraudCases,
    El::HazardsFound,
    El::FoodSamples,
    El::PiComplaints,
    El::Disputes,
    El::GridEvents,
    El::CivilMediations,
    El::Petitions,
];

/// (numerator, denominator) pairs whose rule the `rule` kind breaks.
const PAIRS: [(El, El); 4] = [
    (El::PublicOrderSolved, El::PublicOrderCases),
    (El::FraudSolved, El::FraudCases),
    (El::DisputesResolved, El::Disputes),
    (El::GridEventsTimely, El::GridEvents),
];

/// One planned anomaly: which township and kind; the rest is drawn when
/// the township's last year is built.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub town: usize,
    pub kind: usize,
}

/// An anomaly as written to anomalies.csv, plus any extra values.csv row.
#[derive(Clone, Debug)]
pub(crate) struct Injected {
    pub region: String,
    pub element: &'static str,
    pub period: String,
    pub kind: &'static str,
    /// (period, value text, source) of a row to add to values.csv.
    pub extra: Option<(String, String, &'static str)>,
}

/// `n` anomalies over distinct townships (repeating only when `n` exceeds
/// the number of townships), kinds dealt in turn.
pub(crate) fn plan(seed: u64, tree: &Tree, n: usize) -> Vec<Plan> {
    let towns = tree.towns.len();
    let mut s = Stream::new(&[seed, tag::ANOMALY, 0]);
    let mut order: Vec<usize> = (0..towns).collect();
    for i in (1..towns).rev() {
        order.swap(i, s.below(i + 1));
    }
    // Peer outliers need five siblings to stand out from.
    let siblings = |t: usize| tree.counties[tree.towns[t].county].towns.len();
    let mut plans = Vec::with_capacity(n);
    for i in 0..n {
        let kind = i % KINDS.len();
        let mut t = order[i % towns];
        if KINDS[kind] == "peer" {
            for j in 0..towns {
                let c = order[(i + j) % towns];
                if siblings(c) >= 6 {
                    t = c;
                    break;
                }
            }
        }
        plans.push(Plan { town: t, kind });
    }
    plans
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(2) as f64;
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// A free count whose monthly level this year is at least `min` (the
/// largest one if none is): a spike on 2 cases a month is not something any
/// check should be held to.
fn pick_free(block: &Block, min: f64, s: &mut Stream) -> El {
    let level = |e: El| block.monthly[e as usize].iter().sum::<u64>() as f64 / 12.0;
    let ok: Vec<El> = FREE.iter().copied().filter(|&e| level(e) >= min).collect();
    if ok.is_empty() {
        FREE.iter()
            .copied()
            .max_by(|&a, &b| level(a).total_cmp(&level(b)))
            .unwrap_or(El::Disputes)
    } else {
        ok[s.below(ok.len())]
    }
}

fn month(year: i32, m: usize) -> String {
    format!("{year}-{:02}", m + 1)
}

/// Apply `plans` for one township to its last-year block. `earlier` holds
/// the township's earlier years, oldest first.
pub(crate) fn apply(
    seed: u64,
    code: &str,
    year: i32,
    plans: &[&Plan],
    block: &mut Block,
    earlier: &[Block],
    out: &mut Vec<Injected>,
) {
    for (n, p) in plans.iter().enumerate() {
        let mut s = Stream::new(&[seed, tag::ANOMALY, 1, p.town as u64, n as u64]);
        let kind = KINDS[p.kind];
        let mut push = |element: El, period: String, extra| {
            out.push(Injected {
                region: code.to_string(),
                element: ELEMENTS[element as usize].code,
                period,
                kind,
                extra,
            })
        };
        match kind {
            "spike" => {
                let e = pick_free(block, 10.0, &mut s);
                let m = 1 + s.below(10);
                let v = &mut block.monthly[e as usize][m];
                *v = (*v as f64 * s.range(3.0, 5.0)).round() as u64 + 10;
                push(e, month(year, m), None);
            }
            "jump" => {
                let e = pick_free(block, 40.0, &mut s);
                let v = &mut block.monthly[e as usize][11];
                let f = if s.uniform() < 0.5 {
                    s.range(2.2, 3.0)
                } else {
                    s.range(0.15, 0.3)
                };
                *v = (*v as f64 * f).round() as u64;
                push(e, month(year, 11), None);
            }
            "run" => {
                let e = pick_free(block, 30.0, &mut s);
                let hist: Vec<f64> = earlier
                    .iter()
                    .flat_map(|b| b.monthly[e as usize].iter().map(|&x| x as f64))
                    .collect();
                let m = 3 + s.below(9);
                let series = &mut block.monthly[e as usize];
                let mut all = hist.clone();
                all.extend(series[..m - 2].iter().map(|&x| x as f64));
                let (mean, sd) = mean_sd(&all);
                let line = mean + sd;
                if series[m - 3] as f64 > line {
                    series[m - 3] = mean.round() as u64;
                }
                for v in &mut series[m - 2..=m] {
                    *v = (mean + sd * s.range(1.6, 2.2))
                        .round()
                        .max(line.floor() + 1.0) as u64;
                }
                push(e, month(year, m), None);
            }
            "peer" => {
                let a = N_MONTHLY + s.below(ELEMENTS.len() - N_MONTHLY);
                let el = &ELEMENTS[a];
                let v = &mut block.annual[a - N_MONTHLY];
                *v = match el.format {
                    // Ratings: 35 points lower.
                    Format::Tenths => v.saturating_sub(350),
                    // Survey means: 40 % lower, still on the 1–5 scale.
                    _ => ((*v as f64 * 0.6).round() as u64).max(100),
                };
                let e: El = annual_el(a);
                push(e, year.to_string(), None);
            }
            "rule" => {
                let (num, den) = PAIRS[s.below(PAIRS.len())];
                let m = s.below(12);
                let d = block.monthly[den as usize][m];
                block.monthly[num as usize][m] = d + (d / 5).max(3);
                push(num, month(year, m), None);
            }
            "cross_source" => {
                let e = pick_free(block, 10.0, &mut s);
                let m = s.below(12);
                let v = block.monthly[e as usize][m] as f64;
                let other = (v * s.range(1.15, 1.5)).round().max(v + 3.0) as u64;
                push(
                    e,
                    month(year, m),
                    Some((month(year, m), other.to_string(), "网格平台")),
                );
            }
            _ => {
                // A row for a month after the cycle, sent with this year's data.
                let e = FREE[s.below(FREE.len())];
                let m = s.below(3);
                let v = block.monthly[e as usize][11];
                push(
                    e,
                    month(year + 1, m),
                    Some((month(year + 1, m), v.to_string(), "")),
                );
            }
        }
    }
}

/// The element at table index `i` (the table and the enum share an order).
fn annual_el(i: usize) -> El {
    const ALL: [El; 13] = [
        El::CampusOrderRating,
        El::RewardMechanismRating,
        El::CiiProtectionRating,
        El::EnforcementRating,
        El::ElderlyChildSatisfaction,
        El::SafetyIndex,
        El::NightSafetySatisfaction,
        El::PoliceSatisfaction,
        El::FoodConfidence,
        El::TrafficConfidence,
        El::EnvironmentConfidence,
        El::ServiceConvenience,
        El::DisputeChannelConvenience,
    ];
    ALL[i - N_MONTHLY]
}
