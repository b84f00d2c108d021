//! Objective weights from a decision matrix: the entropy method (熵权法) and
//! CRITIC. Both start from the same direction-aware min-max normalisation:
//! a benefit criterion (+) maps x to (x − min)/(max − min), a cost criterion
//! (−) to (max − x)/(max − min), so 1 is always the best value.
//!
//! Entropy (textbook form): p_ij = x'_ij / Σ_i x'_ij (with `shift` s:
//! p_ij = (x'_ij + s) / Σ_i (x'_ij + s)), e_j = −k Σ_i p_ij ln p_ij with
//! k = 1/ln m and 0·ln 0 = 0, d_j = 1 − e_j, w_j = d_j / Σ d.
//!
//! CRITIC: σ_j is the sample standard deviation (ddof = 1) of the normalised
//! column, r_jk the Pearson correlation of normalised columns j and k,
//! C_j = σ_j · Σ_k (1 − r_jk), w_j = C_j / Σ C. The ddof is the one of
//! pymcdm `critic_weights` and pyDecision `critic_method` (both divide by
//! m − 1); the weights do not depend on it anyway, since changing it scales
//! every σ_j by the same factor √(m/(m − 1)), but the reported `sd` and
//! `information` do.

use serde::Serialize;

/// Whether more is better (+, benefit) or worse (−, cost).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Benefit,
    Cost,
}

impl Direction {
    /// `+` or `-`; the full-width forms too, since a Chinese input method
    /// types those.
    pub fn from_symbol(s: &str) -> Option<Direction> {
        match s.trim() {
            "+" | "＋" => Some(Direction::Benefit),
            "-" | "－" | "−" => Some(Direction::Cost),
            _ => None,
        }
    }

    pub fn symbol(self) -> char {
        match self {
            Direction::Benefit => '+',
            Direction::Cost => '-',
        }
    }
}

/// A decision matrix: one row per alternative (评价对象), one column per
/// criterion (指标).
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub criteria: Vec<String>,
    pub alternatives: Vec<String>,
    pub values: Vec<Vec<f64>>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ObjectiveError {
    #[error("矩阵中没有指标")]
    NoCriteria,
    #[error("给出了 {directions} 个指标方向，而指标有 {criteria} 个：两者应一一对应")]
    DirectionCount { criteria: usize, directions: usize },
    #[error("评价对象有 {names} 个，而数据有 {rows} 行：两者应一一对应")]
    RowCount { names: usize, rows: usize },
    #[error("只有 {0} 个评价对象：客观赋权至少需要 2 个")]
    TooFewAlternatives(usize),
    #[error("评价对象“{alternative}”有 {found} 个值，而指标有 {expected} 个")]
    RaggedRow {
        alternative: String,
        found: usize,
        expected: usize,
    },
    #[error("评价对象“{alternative}”的指标“{criterion}”的值 {value} 不是有限数")]
    NotFinite {
        alternative: String,
        criterion: String,
        value: f64,
    },
    #[error(
        "指标“{criterion}”在所有评价对象上都是 {value}：极差为 0，无法做极差标准化，也不提供区分信息，请删去该指标"
    )]
    ConstantColumn { criterion: String, value: f64 },
    #[error("平移量应为非负的有限数，而不是 {0}")]
    BadShift(f64),
    #[error("各指标的差异系数之和为 0：熵权法无法区分各指标")]
    ZeroDivergence,
    #[error("各指标的信息量之和为 0（只有一个指标，或各指标之间完全正相关）：CRITIC 法无法赋权")]
    ZeroInformation,
}

/// The entropy method's intermediate values, one per criterion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EntropyWeights {
    /// e_j
    pub entropy: Vec<f64>,
    /// d_j = 1 − e_j (差异系数)
    pub divergence: Vec<f64>,
    pub weights: Vec<f64>,
}

/// CRITIC's intermediate values, one per criterion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CriticWeights {
    /// σ_j of the normalised column, ddof = 1.
    pub sd: Vec<f64>,
    /// Σ_k (1 − r_jk) (冲突性)
    pub conflict: Vec<f64>,
    /// C_j = σ_j · conflict_j (信息量)
    pub information: Vec<f64>,
    pub weights: Vec<f64>,
}

/// Checks the matrix and returns its normalised columns (column-major).
fn normalised_columns(m: &Matrix, dirs: &[Direction]) -> Result<Vec<Vec<f64>>, ObjectiveError> {
    let n = m.criteria.len();
    if n == 0 {
        return Err(ObjectiveError::NoCriteria);
    }
    if dirs.len() != n {
        return Err(ObjectiveError::DirectionCount {
            criteria: n,
            directions: dirs.len(),
        });
    }
    if m.values.len() != m.alternatives.len() {
        return Err(ObjectiveError::RowCount {
            names: m.alternatives.len(),
            rows: m.values.len(),
        });
    }
    if m.values.len() < 2 {
        return Err(ObjectiveError::TooFewAlternatives(m.values.len()));
    }
    for (name, row) in m.alternatives.iter().zip(&m.values) {
        if row.len() != n {
            return Err(ObjectiveError::RaggedRow {
                alternative: name.clone(),
                found: row.len(),
                expected: n,
            });
        }
        if let Some(j) = row.iter().position(|x| !x.is_finite()) {
            return Err(ObjectiveError::NotFinite {
                alternative: name.clone(),
                criterion: m.criteria[j].clone(),
                value: row[j],
            });
        }
    }
    let mut cols = Vec::with_capacity(n);
    for (j, dir) in dirs.iter().enumerate() {
        let col: Vec<f64> = m.values.iter().map(|row| row[j]).collect();
        let lo = col.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if hi == lo {
            return Err(ObjectiveError::ConstantColumn {
                criterion: m.criteria[j].clone(),
                value: lo,
            });
        }
        let range = hi - lo;
        cols.push(
            col.iter()
                .map(|&x| match dir {
                    Direction::Benefit => (x - lo) / range,
                    Direction::Cost => (hi - x) / range,
                })
                .collect(),
        );
    }
    Ok(cols)
}

/// Direction-aware min-max normalisation, one row per alternative as in
/// `m.values`: every value in [0, 1], 1 the best.
pub fn normalise(m: &Matrix, dirs: &[Direction]) -> Result<Vec<Vec<f64>>, ObjectiveError> {
    let cols = normalised_columns(m, dirs)?;
    Ok((0..m.values.len())
        .map(|i| cols.iter().map(|c| c[i]).collect())
        .collect())
}

/// Entropy weights with e_j and d_j. `shift` (≥ 0) is added to every
/// normalised value before the proportions, as some texts do so that no
/// p is 0.
pub fn entropy_detail(
    m: &Matrix,
    dirs: &[Direction],
    shift: Option<f64>,
) -> Result<EntropyWeights, ObjectiveError> {
    let shift = shift.unwrap_or(0.0);
    if !(shift >= 0.0 && shift.is_finite()) {
        return Err(ObjectiveError::BadShift(shift));
    }
    let cols = normalised_columns(m, dirs)?;
    let k = 1.0 / (m.values.len() as f64).ln();
    let mut entropy = Vec::with_capacity(cols.len());
    let mut divergence = Vec::with_capacity(cols.len());
    for col in &cols {
        // The column is not constant, so one value is 1 and the sum ≥ 1.
        let sum: f64 = col.iter().map(|x| x + shift).sum();
        let plnp: f64 = col
            .iter()
            .map(|x| (x + shift) / sum)
            .filter(|&p| p > 0.0)
            .map(|p| p * p.ln())
            .sum();
        let e = -k * plnp;
        entropy.push(e);
        // e ≤ 1 exactly; only rounding (a huge shift) can push it past.
        divergence.push((1.0 - e).max(0.0));
    }
    let total: f64 = divergence.iter().sum();
    if total.is_nan() || total <= 0.0 {
        return Err(ObjectiveError::ZeroDivergence);
    }
    let weights = divergence.iter().map(|d| d / total).collect();
    Ok(EntropyWeights {
        entropy,
        divergence,
        weights,
    })
}

/// Entropy weights (熵权法), summing to 1.
pub fn entropy(
    m: &Matrix,
    dirs: &[Direction],
    shift: Option<f64>,
) -> Result<Vec<f64>, ObjectiveError> {
    entropy_detail(m, dirs, shift).map(|r| r.weights)
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// CRITIC weights with σ_j, conflict and information C_j.
pub fn critic_detail(m: &Matrix, dirs: &[Direction]) -> Result<CriticWeights, ObjectiveError> {
    let cols = normalised_columns(m, dirs)?;
    let rows = m.values.len() as f64;
    let centred: Vec<Vec<f64>> = cols
        .iter()
        .map(|c| {
            let mu = mean(c);
            c.iter().map(|x| x - mu).collect()
        })
        .collect();
    let ss: Vec<f64> = centred
        .iter()
        .map(|c| c.iter().map(|x| x * x).sum())
        .collect();
    let sd: Vec<f64> = ss.iter().map(|s| (s / (rows - 1.0)).sqrt()).collect();
    let n = cols.len();
    let mut conflict = vec![0.0; n];
    for j in 0..n {
        for k in j + 1..n {
            let cross: f64 = centred[j].iter().zip(&centred[k]).map(|(a, b)| a * b).sum();
            // Rounding can carry |r| a hair past 1; numpy's corrcoef clips too.
            let r = (cross / (ss[j] * ss[k]).sqrt()).clamp(-1.0, 1.0);
            conflict[j] += 1.0 - r;
            conflict[k] += 1.0 - r;
        }
    }
    let information: Vec<f64> = sd.iter().zip(&conflict).map(|(s, c)| s * c).collect();
    let total: f64 = information.iter().sum();
    if total.is_nan() || total <= 0.0 {
        return Err(ObjectiveError::ZeroInformation);
    }
    let weights = information.iter().map(|c| c / total).collect();
    Ok(CriticWeights {
        sd,
        conflict,
        information,
        weights,
    })
}

/// CRITIC weights, summing to 1.
pub fn critic(m: &Matrix, dirs: &[Direction]) -> Result<Vec<f64>, ObjectiveError> {
    critic_detail(m, dirs).map(|r| r.weights)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{Benefit, Cost};
    use proptest::prelude::*;

    fn matrix(values: Vec<Vec<f64>>) -> Matrix {
        let n = values.first().map_or(0, Vec::len);
        Matrix {
            criteria: (1..=n).map(|j| format!("C{j}")).collect(),
            alternatives: (1..=values.len()).map(|i| format!("A{i}")).collect(),
            values,
        }
    }

    /// The worked example: three regions, two benefit criteria and one cost.
    fn example() -> Matrix {
        matrix(vec![
            vec![10.0, 2.0, 30.0],
            vec![20.0, 4.0, 20.0],
            vec![40.0, 3.0, 10.0],
        ])
    }

    const DIRS: [Direction; 3] = [Benefit, Benefit, Cost];

    fn assert_close(got: &[f64], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= tol, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn normalisation_respects_direction() {
        // C1 (+): min 10, range 30 → 0, 1/3, 1.
        // C2 (+): min 2, range 2 → 0, 1, 1/2.
        // C3 (−): max 30, range 20 → (30 − x)/20 = 0, 1/2, 1.
        let n = normalise(&example(), &DIRS).unwrap();
        assert_eq!(n[0], vec![0.0, 0.0, 0.0]);
        assert_close(&n[1], &[1.0 / 3.0, 1.0, 0.5], 1e-16);
        assert_eq!(n[2], vec![1.0, 0.5, 1.0]);
    }

    /// By hand, from the normalised columns above (m = 3, k = 1/ln 3):
    ///
    /// C1: x' = (0, 1/3, 1), Σ = 4/3, p = (0, 1/4, 3/4),
    ///     e1 = (¼ ln 4 + ¾ ln 4/3)/ln 3 = (0.346574 + 0.215762)/1.098612
    ///        = 0.5118595071…
    /// C2: x' = (0, 1, 1/2), Σ = 3/2, p = (0, 2/3, 1/3),
    ///     e2 = (⅔ ln 3/2 + ⅓ ln 3)/ln 3 = (0.270310 + 0.366204)/1.098612
    ///        = 0.5793801642…
    /// C3: x' = (0, 1/2, 1), p = (0, 1/3, 2/3): the same entropy as C2.
    /// d = (0.4881404928…, 0.4206198357…, 0.4206198357…), Σd = 1.3293801642…
    /// w = d/Σd = (0.3671940547…, 0.3164029726…, 0.3164029726…)
    /// (numpy with the same definitions: 0.367194054771664,
    /// 0.31640297261416805, 0.31640297261416805).
    #[test]
    fn entropy_worked_example() {
        let ln3 = 3f64.ln();
        let e1 = (0.25 * 4f64.ln() + 0.75 * (4f64 / 3.0).ln()) / ln3;
        let e2 = (2.0 / 3.0 * 1.5f64.ln() + ln3 / 3.0) / ln3;
        let r = entropy_detail(&example(), &DIRS, None).unwrap();
        assert_close(&r.entropy, &[e1, e2, e2], 1e-15);
        assert_close(&r.divergence, &[1.0 - e1, 1.0 - e2, 1.0 - e2], 1e-15);
        let sum = 3.0 - e1 - 2.0 * e2;
        let want = [(1.0 - e1) / sum, (1.0 - e2) / sum, (1.0 - e2) / sum];
        assert_close(&r.weights, &want, 1e-15);
        assert_close(
            &r.weights,
            &[0.367194054771664, 0.31640297261416805, 0.31640297261416805],
            1e-15,
        );
        assert_eq!(entropy(&example(), &DIRS, None).unwrap(), r.weights);
    }

    /// With shift 0.01 every x' grows by 0.01 before the proportions, e.g.
    /// C1: x'' = (0.01, 0.34333…, 1.01), Σ = 1.36333…; numpy with the same
    /// definitions gives e = (0.5512077956789616, 0.6128154211020828 ×2) and
    /// w = (0.366911691474895, 0.3165441542625525 ×2).
    #[test]
    fn entropy_with_shift() {
        let r = entropy_detail(&example(), &DIRS, Some(0.01)).unwrap();
        assert_close(
            &r.entropy,
            &[0.5512077956789616, 0.6128154211020828, 0.6128154211020828],
            1e-15,
        );
        assert_close(
            &r.weights,
            &[0.366911691474895, 0.3165441542625525, 0.3165441542625525],
            1e-15,
        );
        // Shift 0 is no shift.
        assert_eq!(
            entropy(&example(), &DIRS, Some(0.0)).unwrap(),
            entropy(&example(), &DIRS, None).unwrap()
        );
        for bad in [-0.1, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                entropy(&example(), &DIRS, Some(bad)),
                Err(ObjectiveError::BadShift(_))
            ));
        }
    }

    /// Two alternatives: every normalised column is (0, 1) or (1, 0), so
    /// p = (0, 1), e = 0 (0·ln 0 = 0, 1·ln 1 = 0) and the weights are equal.
    #[test]
    fn entropy_of_two_alternatives_is_equal_weights() {
        let m = matrix(vec![vec![1.0, 5.0, 7.0, 2.0], vec![3.0, 4.0, 9.0, 8.0]]);
        let r = entropy_detail(&m, &[Benefit, Cost, Benefit, Cost], None).unwrap();
        assert_eq!(r.entropy, vec![0.0; 4]);
        assert_eq!(r.weights, vec![0.25; 4]);
    }

    /// CRITIC on the same example, by hand (normalised columns as above):
    ///
    /// C1 = (0, 1/3, 1), mean 4/9, deviations (−4/9, −1/9, 5/9), SS = 42/81
    /// C2 = (0, 1, 1/2), mean 1/2, deviations (−1/2, 1/2, 0),    SS = 1/2
    /// C3 = (0, 1/2, 1), mean 1/2, deviations (−1/2, 0, 1/2),    SS = 1/2
    /// σ (ddof = 1): σ1 = √(21/81) = √(7/27) ≈ 0.509175, σ2 = σ3 = 1/2.
    /// Cross products: C1·C2 = 4/18 − 1/18 = 1/6, C1·C3 = 4/18 + 5/18 = 1/2,
    /// C2·C3 = 1/4.
    /// r12 = (1/6)/√(42/81 · 1/2) = √(27/7)/6 ≈ 0.327327,
    /// r13 = (1/2)/√(7/27) = √(27/7)/2 ≈ 0.981981, r23 = (1/4)/(1/2) = 1/2.
    /// conflict = (2 − r12 − r13, 2 − r12 − r23, 2 − r13 − r23)
    ///          ≈ (0.690693, 1.172673, 0.518019)
    /// C = σ·conflict ≈ (0.351683, 0.586337, 0.259010), ΣC ≈ 1.197030
    /// w ≈ (0.293797, 0.489826, 0.216377)
    /// (numpy: 0.29379676492247353, 0.48982621315407243, 0.2163770219234541).
    #[test]
    fn critic_worked_example() {
        let q = (27.0f64 / 7.0).sqrt();
        let (r12, r13, r23) = (q / 6.0, q / 2.0, 0.5);
        let sd = [(7.0f64 / 27.0).sqrt(), 0.5, 0.5];
        let conflict = [2.0 - r12 - r13, 2.0 - r12 - r23, 2.0 - r13 - r23];
        let info: Vec<f64> = sd.iter().zip(&conflict).map(|(s, c)| s * c).collect();
        let total: f64 = info.iter().sum();
        let r = critic_detail(&example(), &DIRS).unwrap();
        assert_close(&r.sd, &sd, 1e-15);
        assert_close(&r.conflict, &conflict, 1e-15);
        assert_close(&r.information, &info, 1e-15);
        let want: Vec<f64> = info.iter().map(|c| c / total).collect();
        assert_close(&r.weights, &want, 1e-15);
        assert_close(
            &r.weights,
            &[0.29379676492247353, 0.48982621315407243, 0.2163770219234541],
            1e-15,
        );
        assert_eq!(critic(&example(), &DIRS).unwrap(), r.weights);
    }

    /// Negatively correlated criteria conflict most: r = −1 gives each a
    /// conflict of 2 and, with equal σ, equal weights.
    #[test]
    fn critic_with_opposed_criteria() {
        let m = matrix(vec![vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0]]);
        let r = critic_detail(&m, &[Benefit, Benefit]).unwrap();
        assert_close(&r.conflict, &[2.0, 2.0], 1e-15);
        assert_close(&r.weights, &[0.5, 0.5], 1e-15);
        // Made to agree by the direction, they carry no information at all.
        assert_eq!(
            critic(&m, &[Benefit, Cost]),
            Err(ObjectiveError::ZeroInformation)
        );
    }

    #[test]
    fn a_single_criterion() {
        let m = matrix(vec![vec![1.0], vec![4.0], vec![2.0]]);
        assert_eq!(entropy(&m, &[Cost], None).unwrap(), vec![1.0]);
        let e = critic(&m, &[Cost]).unwrap_err();
        assert_eq!(e, ObjectiveError::ZeroInformation);
        assert!(e.to_string().contains("只有一个指标"));
    }

    #[test]
    fn a_constant_column_names_the_criterion() {
        let mut m = example();
        m.criteria[1] = "刑事案件发案率".into();
        for row in &mut m.values {
            row[1] = 7.5;
        }
        let e = entropy(&m, &DIRS, None).unwrap_err();
        assert_eq!(
            e,
            ObjectiveError::ConstantColumn {
                criterion: "刑事案件发案率".into(),
                value: 7.5
            }
        );
        assert!(
            e.to_string()
                .starts_with("指标“刑事案件发案率”在所有评价对象上都是 7.5")
        );
        assert_eq!(critic(&m, &DIRS).unwrap_err(), e);
        assert_eq!(normalise(&m, &DIRS).unwrap_err(), e);
    }

    #[test]
    fn shape_errors() {
        let m = example();
        assert_eq!(
            entropy(&m, &[Benefit, Cost], None).unwrap_err(),
            ObjectiveError::DirectionCount {
                criteria: 3,
                directions: 2
            }
        );
        assert_eq!(
            critic(&matrix(vec![vec![1.0, 2.0]]), &[Benefit, Benefit]).unwrap_err(),
            ObjectiveError::TooFewAlternatives(1)
        );
        assert_eq!(
            critic(&matrix(vec![]), &[]).unwrap_err(),
            ObjectiveError::NoCriteria
        );

        let mut ragged = example();
        ragged.values[2].pop();
        assert_eq!(
            normalise(&ragged, &DIRS).unwrap_err(),
            ObjectiveError::RaggedRow {
                alternative: "A3".into(),
                found: 2,
                expected: 3
            }
        );

        let mut names = example();
        names.alternatives.pop();
        assert_eq!(
            normalise(&names, &DIRS).unwrap_err(),
            ObjectiveError::RowCount { names: 2, rows: 3 }
        );

        let mut nan = example();
        nan.values[1][2] = f64::NAN;
        let e = entropy(&nan, &DIRS, None).unwrap_err();
        assert!(matches!(
            &e,
            ObjectiveError::NotFinite { alternative, criterion, .. }
                if alternative == "A2" && criterion == "C3"
        ));
        assert_eq!(e.to_string(), "评价对象“A2”的指标“C3”的值 NaN 不是有限数");
    }

    #[test]
    fn direction_symbols() {
        assert_eq!(Direction::from_symbol("+"), Some(Benefit));
        assert_eq!(Direction::from_symbol(" - "), Some(Cost));
        assert_eq!(Direction::from_symbol("＋"), Some(Benefit));
        assert_eq!(Direction::from_symbol("－"), Some(Cost));
        assert_eq!(Direction::from_symbol("x"), None);
        assert_eq!(Benefit.symbol(), '+');
        assert_eq!(Cost.symbol(), '-');
    }

    /// A random matrix of 3..8 alternatives × 1..6 criteria whose columns
    /// are never constant (the first two rows of each column differ), with
    /// random directions.
    fn matrices(min_criteria: usize) -> impl Strategy<Value = (Matrix, Vec<Direction>)> {
        (3usize..8, min_criteria..6).prop_flat_map(|(rows, cols)| {
            (
                prop::collection::vec(prop::collection::vec(-1e3f64..1e3, cols), rows),
                prop::collection::vec(prop::bool::ANY, cols),
            )
                .prop_map(|(mut values, dirs)| {
                    for j in 0..values[0].len() {
                        if values[0][j] == values[1][j] {
                            values[1][j] += 1.0;
                        }
                    }
                    let dirs = dirs
                        .into_iter()
                        .map(|b| if b { Benefit } else { Cost })
                        .collect();
                    (matrix(values), dirs)
                })
        })
    }

    fn check_weights(w: &[f64]) -> Result<(), TestCaseError> {
        prop_assert!(w.iter().all(|x| x.is_finite() && *x >= 0.0), "{w:?}");
        prop_assert!((w.iter().sum::<f64>() - 1.0).abs() <= 1e-12, "{w:?}");
        Ok(())
    }

    fn all_weights(m: &Matrix, dirs: &[Direction]) -> Vec<Vec<f64>> {
        vec![
            entropy(m, dirs, None).unwrap(),
            entropy(m, dirs, Some(0.01)).unwrap(),
            critic(m, dirs).unwrap_or_default(),
        ]
    }

    fn assert_same(a: &[Vec<f64>], b: &[Vec<f64>]) -> Result<(), TestCaseError> {
        for (x, y) in a.iter().zip(b) {
            prop_assert_eq!(x.len(), y.len());
            for (p, q) in x.iter().zip(y) {
                prop_assert!((p - q).abs() < 1e-9, "{x:?} vs {y:?}");
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn weights_are_a_distribution((m, dirs) in matrices(1)) {
            let n = normalise(&m, &dirs).unwrap();
            prop_assert!(n.iter().flatten().all(|x| (0.0..=1.0).contains(x)));
            check_weights(&entropy(&m, &dirs, None).unwrap())?;
            check_weights(&entropy(&m, &dirs, Some(1e-4)).unwrap())?;
            check_weights(&entropy(&m, &dirs, Some(1.0)).unwrap())?;
            match critic(&m, &dirs) {
                Ok(w) => check_weights(&w)?,
                // One criterion, or all perfectly correlated.
                Err(e) => prop_assert_eq!(e, ObjectiveError::ZeroInformation),
            }
        }

        #[test]
        fn critic_weights_are_a_distribution((m, dirs) in matrices(2)) {
            let r = critic_detail(&m, &dirs);
            prop_assume!(r.is_ok());
            let r = r.unwrap();
            check_weights(&r.weights)?;
            prop_assert!(r.conflict.iter().all(|c| *c >= 0.0 && *c <= 2.0 * (m.criteria.len() - 1) as f64));
        }

        /// Min-max normalisation forgets a positive scale and an offset.
        #[test]
        fn scaling_or_offsetting_a_column_changes_nothing(
            (m, dirs) in matrices(1),
            pick in 0usize..6,
            scale in 0.01f64..100.0,
            offset in -100f64..100.0,
        ) {
            let j = pick % m.criteria.len();
            let before = all_weights(&m, &dirs);
            let mut scaled = m.clone();
            for row in &mut scaled.values {
                row[j] = row[j] * scale + offset;
            }
            assert_same(&before, &all_weights(&scaled, &dirs))?;
        }

        /// A cost column equals a benefit column of the mirrored values.
        #[test]
        fn mirroring_a_column_and_its_direction_changes_nothing(
            (m, dirs) in matrices(1),
            pick in 0usize..6,
        ) {
            let j = pick % m.criteria.len();
            let before = all_weights(&m, &dirs);
            let mut mirrored = m.clone();
            for row in &mut mirrored.values {
                row[j] = -row[j];
            }
            let mut flipped = dirs.clone();
            flipped[j] = match dirs[j] {
                Benefit => Cost,
                Cost => Benefit,
            };
            assert_same(&before, &all_weights(&mirrored, &flipped))?;
        }

        /// The order of the alternatives does not matter; the order of the
        /// criteria carries its weight along.
        #[test]
        fn order_does_not_matter((m, dirs) in matrices(1)) {
            let before = all_weights(&m, &dirs);
            let mut rows = m.clone();
            rows.values.reverse();
            rows.alternatives.reverse();
            assert_same(&before, &all_weights(&rows, &dirs))?;

            let mut cols = m.clone();
            for row in &mut cols.values {
                row.reverse();
            }
            cols.criteria.reverse();
            let mut rev_dirs = dirs.clone();
            rev_dirs.reverse();
            let after: Vec<Vec<f64>> = all_weights(&cols, &rev_dirs)
                .into_iter()
                .map(|mut w| { w.reverse(); w })
                .collect();
            assert_same(&before, &after)?;
        }
    }
}
