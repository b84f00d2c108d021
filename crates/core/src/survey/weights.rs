//! Weights (survey.md §4): the base weight `N_h / n_h` of each stratum
//! (a frame region), then optionally raking within counties to known
//! margins, variable by variable in the margins' file order, until every
//! category is within 1e-10 of its total (at most 100 sweeps).

/// One county's margins: per variable (in file order), each category's
/// population, and each respondent's category index per variable.
pub struct CountyMargins {
    /// The county's name or code, for messages.
    pub county: String,
    /// (variable, categories: (category, population)).
    pub variables: Vec<(String, Vec<(String, f64)>)>,
    /// The county's valid respondents (indices into the weights).
    pub members: Vec<usize>,
    /// `category[v][k]`: member k's category index in variable v.
    pub category: Vec<Vec<usize>>,
}

pub const TOLERANCE: f64 = 1e-10;
pub const MAX_SWEEPS: usize = 100;

/// Rake `weights` of a county's members in place; the sweeps it took.
pub fn rake(weights: &mut [f64], m: &CountyMargins) -> Result<usize, String> {
    // Every category must have someone to carry its total.
    for (v, (var, cats)) in m.variables.iter().enumerate() {
        for (c, (cat, _)) in cats.iter().enumerate() {
            if !m.category[v].contains(&c) {
                return Err(format!(
                    "{}：边际变量 {var} 的类别“{cat}”没有任何有效受访者，无法加权",
                    m.county
                ));
            }
        }
    }
    let worst = |weights: &[f64]| -> f64 {
        let mut worst: f64 = 0.0;
        for (v, (_, cats)) in m.variables.iter().enumerate() {
            let mut sums = vec![0.0; cats.len()];
            for (k, &i) in m.members.iter().enumerate() {
                sums[m.category[v][k]] += weights[i];
            }
            for (c, (_, total)) in cats.iter().enumerate() {
                worst = worst.max((sums[c] - total).abs() / total);
            }
        }
        worst
    };
    for sweep in 1..=MAX_SWEEPS {
        for (v, (_, cats)) in m.variables.iter().enumerate() {
            let mut sums = vec![0.0; cats.len()];
            for (k, &i) in m.members.iter().enumerate() {
                sums[m.category[v][k]] += weights[i];
            }
            for (k, &i) in m.members.iter().enumerate() {
                let c = m.category[v][k];
                weights[i] *= cats[c].1 / sums[c];
            }
        }
        if worst(weights) <= TOLERANCE {
            return Ok(sweep);
        }
    }
    Err(format!(
        "{}：加权（raking）经 {MAX_SWEEPS} 轮仍未收敛（未收敛），请检查边际总数是否相互矛盾",
        m.county
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raking_meets_both_margins() {
        // Four respondents: sex (m, f) × age (young, old).
        let mut w = vec![10.0, 10.0, 10.0, 10.0];
        let m = CountyMargins {
            county: "X".into(),
            variables: vec![
                ("sex".into(), vec![("m".into(), 30.0), ("f".into(), 10.0)]),
                ("age".into(), vec![("y".into(), 25.0), ("o".into(), 15.0)]),
            ],
            members: vec![0, 1, 2, 3],
            category: vec![vec![0, 0, 1, 1], vec![0, 1, 0, 1]],
        };
        let sweeps = rake(&mut w, &m).unwrap();
        assert!(sweeps >= 1);
        let s = |f: &dyn Fn(usize) -> bool| (0..4).filter(|&i| f(i)).map(|i| w[i]).sum::<f64>();
        assert!((s(&|i| i < 2) - 30.0).abs() < 1e-8);
        assert!((s(&|i| i % 2 == 0) - 25.0).abs() < 1e-8);
        let empty = CountyMargins {
            category: vec![vec![0, 0, 0, 0], vec![0, 1, 0, 1]],
            ..m
        };
        assert!(rake(&mut w, &empty).unwrap_err().contains("“f”"));
    }
}
