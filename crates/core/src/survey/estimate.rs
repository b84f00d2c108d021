//! Estimates for every region of the tree (survey.md §5): a weighted mean
//! over the valid respondents of the region's subtree, its variance by
//! linearisation with strata = frame regions, each respondent its own PSU,
//! and the finite population correction.

use crate::region::RegionTree;

pub const Z95: f64 = 1.959963984540054;

/// A frame region: its tree index and population aged 16+.
#[derive(Clone, Debug)]
pub struct Stratum {
    pub region: usize,
    pub population: f64,
}

/// A valid respondent: their stratum, weight and value per element.
#[derive(Clone, Debug)]
pub struct Respondent {
    pub stratum: usize,
    pub weight: f64,
    pub values: Vec<Option<f64>>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ElementEstimate {
    pub element: String,
    pub n: usize,
    pub estimate: Option<f64>,
    pub se: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub n_eff: Option<f64>,
    pub deff: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RegionEstimate {
    pub region: String,
    pub level: String,
    pub n_valid: usize,
    pub elements: Vec<ElementEstimate>,
}

/// What the estimates say about the strata.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StrataNotes {
    /// Frame regions with no valid response.
    pub empty: usize,
    /// Frame regions with exactly one (they add nothing to the variance).
    pub singleton: usize,
}

/// Estimates for every region of `tree` (its order) and element.
pub fn estimate(
    tree: &RegionTree,
    strata: &[Stratum],
    respondents: &[Respondent],
    elements: &[String],
    min_n: usize,
) -> (Vec<RegionEstimate>, StrataNotes) {
    // Respondents by stratum.
    let mut by_stratum: Vec<Vec<usize>> = vec![Vec::new(); strata.len()];
    for (i, r) in respondents.iter().enumerate() {
        by_stratum[r.stratum].push(i);
    }
    let notes = StrataNotes {
        empty: by_stratum.iter().filter(|v| v.is_empty()).count(),
        singleton: by_stratum.iter().filter(|v| v.len() == 1).count(),
    };
    // Strata under each region: each frame region counts for itself and
    // every ancestor.
    let mut under: Vec<Vec<usize>> = vec![Vec::new(); tree.len()];
    for (h, s) in strata.iter().enumerate() {
        let mut at = Some(s.region);
        while let Some(r) = at {
            under[r].push(h);
            at = tree.get(r).parent;
        }
    }
    // Regions on every core (each computed whole by one, so the numbers do
    // not depend on how many there are).
    let regions: Vec<usize> = (0..tree.len()).collect();
    let out = crate::par::map_from(&regions, 64, |&r| {
        let region = tree.get(r);
        let n_valid: usize = under[r].iter().map(|&h| by_stratum[h].len()).sum();
        let elements = elements
            .iter()
            .enumerate()
            .map(|(e, code)| one(strata, respondents, &by_stratum, &under[r], e, code, min_n))
            .collect();
        RegionEstimate {
            region: region.code.clone(),
            level: region.level.code().to_string(),
            n_valid,
            elements,
        }
    });
    (out, notes)
}

fn one(
    strata: &[Stratum],
    respondents: &[Respondent],
    by_stratum: &[Vec<usize>],
    under: &[usize],
    e: usize,
    code: &str,
    min_n: usize,
) -> ElementEstimate {
    let (mut n, mut sw, mut swy, mut sw2) = (0usize, 0.0, 0.0, 0.0);
    for &h in under {
        for &i in &by_stratum[h] {
            let r = &respondents[i];
            if let Some(y) = r.values[e] {
                n += 1;
                sw += r.weight;
                swy += r.weight * y;
                sw2 += r.weight * r.weight;
            }
        }
    }
    let empty = |reason: &str| ElementEstimate {
        element: code.to_string(),
        n,
        estimate: None,
        se: None,
        ci_low: None,
        ci_high: None,
        n_eff: None,
        deff: None,
        reason: Some(reason.to_string()),
    };
    if n < min_n || n == 0 || sw <= 0.0 {
        return empty("样本不足");
    }
    let est = swy / sw;
    // z_i = w_i (y_i − est) / Σw in the domain, 0 elsewhere; strata outside
    // the subtree are all zeros and add nothing.
    let mut v = 0.0;
    for &h in under {
        let members = &by_stratum[h];
        let nh = members.len();
        if nh < 2 {
            continue;
        }
        let z: Vec<f64> = members
            .iter()
            .map(|&i| {
                let r = &respondents[i];
                r.values[e].map_or(0.0, |y| r.weight * (y - est) / sw)
            })
            .collect();
        let mean = z.iter().sum::<f64>() / nh as f64;
        let ss: f64 = z.iter().map(|x| (x - mean) * (x - mean)).sum();
        let fpc = 1.0 - nh as f64 / strata[h].population;
        v += fpc * nh as f64 / (nh as f64 - 1.0) * ss;
    }
    let se = v.max(0.0).sqrt();
    let n_eff = sw * sw / sw2;
    ElementEstimate {
        element: code.to_string(),
        n,
        estimate: Some(est),
        se: Some(se),
        ci_low: Some(est - Z95 * se),
        ci_high: Some(est + Z95 * se),
        n_eff: Some(n_eff),
        deff: Some(n as f64 / n_eff),
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::{Level, RegionRow};

    fn tree() -> RegionTree {
        let row = |code: &str, parent: Option<&str>, level: Level| RegionRow {
            code: code.into(),
            name: code.into(),
            parent: parent.map(Into::into),
            level,
            valid_from: None,
            valid_to: None,
        };
        RegionTree::new(vec![
            row("P", None, Level::Province),
            row("C", Some("P"), Level::County),
            row("T1", Some("C"), Level::Township),
            row("T2", Some("C"), Level::Township),
        ])
        .unwrap()
    }

    #[test]
    fn a_stratified_mean_and_its_variance() {
        let t = tree();
        let strata = vec![
            Stratum {
                region: 2,
                population: 100.0,
            },
            Stratum {
                region: 3,
                population: 300.0,
            },
        ];
        let resp = |stratum: usize, y: f64, n_h: f64| Respondent {
            stratum,
            weight: strata[stratum].population / n_h,
            values: vec![Some(y)],
        };
        let rs = vec![
            resp(0, 80.0, 2.0),
            resp(0, 100.0, 2.0),
            resp(1, 60.0, 3.0),
            resp(1, 60.0, 3.0),
            resp(1, 90.0, 3.0),
        ];
        let (est, notes) = estimate(&t, &strata, &rs, &["safety_index".into()], 2);
        assert_eq!(notes, StrataNotes::default());
        let c = &est[1].elements[0];
        // (50·80 + 50·100 + 100·60 + 100·60 + 100·90) / 400 = 75
        assert!((c.estimate.unwrap() - 75.0).abs() < 1e-12);
        assert_eq!(c.n, 5);
        // By hand: z = w(y − 75)/400; stratum 1: 0.625, 3.125 (mean 1.875,
        // ss 3.125), fpc 0.98, ×2; stratum 2: −3.75, −3.75, 3.75 (mean
        // −1.25, ss 37.5), fpc 0.99, ×1.5.
        let v: f64 = 0.98 * 2.0 * 3.125 + 0.99 * 1.5 * 37.5;
        assert!((c.se.unwrap() - v.sqrt()).abs() < 1e-12, "{c:?}");
        assert!((c.n_eff.unwrap() - 400.0 * 400.0 / (2.0 * 2500.0 + 3.0 * 10000.0)).abs() < 1e-9);
        // A township of two: estimated; below min_n: null with the reason.
        assert!(est[2].elements[0].estimate.is_some());
        let (est, _) = estimate(&t, &strata, &rs, &["safety_index".into()], 3);
        assert_eq!(est[2].elements[0].reason.as_deref(), Some("样本不足"));
        assert_eq!(est[2].elements[0].se, None);
        assert_eq!(est[0].n_valid, 5);
    }
}
