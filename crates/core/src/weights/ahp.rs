//! AHP (seed §2.3 构建判断矩阵、一致性检验、权重计算): priorities of a
//! positive reciprocal judgement matrix on Saaty's 1–9 scale, λmax, CI, CR,
//! and group judgement (AIJ / AIP).

// Judgement matrices read best as a[i][j] with explicit indices.
#![allow(clippy::needless_range_loop)]

use serde::Serialize;

/// `a[i][j]`: how much more important item i is than item j.
pub type Matrix = Vec<Vec<f64>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Principal eigenvector (特征向量法), the default.
    Eigen,
    /// Row geometric mean (方根法).
    Rgmm,
    /// Normalised column average (和积法).
    Anc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Element-wise geometric mean of the experts' matrices.
    Aij,
    /// Geometric mean of the experts' priority vectors.
    Aip,
}

/// Published random-index tables. Each result names the one it used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RiTable {
    /// Saaty's classic table (n = 3…15), 12 → 1.48 as published.
    SaatyClassic,
    /// Saaty (2005), Theory and Applications of the ANP, p. 31 — ahpy's `saaty`.
    Saaty2005,
    /// Donegan & Dodd (1991), interpolated between published sizes up to 100 — ahpy's default `dd`.
    DoneganDodd,
    /// Tummala & Ling (1998) — pymcdm's AHP.
    TummalaLing,
}

impl RiTable {
    pub fn name(self) -> &'static str {
        match self {
            RiTable::SaatyClassic => "saaty-classic",
            RiTable::Saaty2005 => "saaty-2005",
            RiTable::DoneganDodd => "donegan-dodd",
            RiTable::TummalaLing => "tummala-ling",
        }
    }

    pub fn parse(s: &str) -> Option<RiTable> {
        [
            RiTable::SaatyClassic,
            RiTable::Saaty2005,
            RiTable::DoneganDodd,
            RiTable::TummalaLing,
        ]
        .into_iter()
        .find(|t| t.name() == s)
    }

    /// RI for an n × n matrix; 0 for n ≤ 2; None beyond the table.
    pub fn ri(self, n: usize) -> Option<f64> {
        if n <= 2 {
            return Some(0.0);
        }
        let from3: &[f64] = match self {
            RiTable::SaatyClassic => &[
                0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59,
            ],
            RiTable::Saaty2005 => &[
                0.52, 0.89, 1.11, 1.25, 1.35, 1.40, 1.45, 1.49, 1.52, 1.54, 1.56, 1.58, 1.59,
            ],
            RiTable::TummalaLing => &[
                0.5799, 0.8921, 1.1159, 1.2358, 1.3322, 1.3952, 1.4537, 1.4882, 1.5117, 1.5356,
                1.5571, 1.5714, 1.5831,
            ],
            RiTable::DoneganDodd => return donegan_dodd(n),
        };
        from3.get(n - 3).copied()
    }
}

fn donegan_dodd(n: usize) -> Option<f64> {
    const TABLE: [(usize, f64); 27] = [
        (3, 0.4914),
        (4, 0.8286),
        (5, 1.0591),
        (6, 1.1797),
        (7, 1.2519),
        (8, 1.3171),
        (9, 1.3733),
        (10, 1.4055),
        (11, 1.4213),
        (12, 1.4497),
        (13, 1.4643),
        (14, 1.4822),
        (15, 1.4969),
        (16, 1.5078),
        (17, 1.5153),
        (18, 1.5262),
        (19, 1.5313),
        (20, 1.5371),
        (25, 1.5619),
        (30, 1.5772),
        (40, 1.5976),
        (50, 1.6102),
        (60, 1.6178),
        (70, 1.6237),
        (80, 1.6277),
        (90, 1.6213),
        (100, 1.6339),
    ];
    if let Some(&(_, v)) = TABLE.iter().find(|(k, _)| *k == n) {
        return Some(v);
    }
    // Between two published sizes: linear, as ahpy does.
    let hi = TABLE.iter().position(|(k, _)| *k > n)?;
    let (lo_n, lo_v) = TABLE[hi.checked_sub(1)?];
    let (hi_n, hi_v) = TABLE[hi];
    Some(lo_v + (hi_v - lo_v) / (hi_n - lo_n) as f64 * (n - lo_n) as f64)
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AhpError {
    #[error("判断矩阵不是方阵：{rows} 行、{cols} 列")]
    NotSquare { rows: usize, cols: usize },
    #[error("判断矩阵至少要有 1 项")]
    Empty,
    #[error("第 {} 行第 {} 列的判断值 {value} 无效：必须为正数", .i + 1, .j + 1)]
    NotPositive { i: usize, j: usize, value: f64 },
    #[error("第 {} 行第 {} 列是对角线，应为 1，实际为 {value}", .i + 1, .i + 1)]
    Diagonal { i: usize, value: f64 },
    #[error("判断矩阵不互反：第 {} 行第 {} 列为 {a_ji}，应为第 {} 行第 {} 列 {a_ij} 的倒数 {}", .j + 1, .i + 1, .i + 1, .j + 1, 1.0 / .a_ij)]
    NotReciprocal {
        i: usize,
        j: usize,
        a_ij: f64,
        a_ji: f64,
    },
    #[error("随机一致性指标表 {table} 没有 n = {n} 的值")]
    NoRandomIndex { table: &'static str, n: usize },
    #[error("各专家的判断矩阵项目不一致")]
    ItemsDisagree,
}

/// Check shape, positivity, diagonal and reciprocity (|a_ji − 1/a_ij| ≤ 1e-9).
pub fn validate(a: &Matrix) -> Result<(), AhpError> {
    let n = a.len();
    if n == 0 {
        return Err(AhpError::Empty);
    }
    for row in a {
        if row.len() != n {
            return Err(AhpError::NotSquare {
                rows: n,
                cols: row.len(),
            });
        }
    }
    for i in 0..n {
        for j in 0..n {
            let v = a[i][j];
            if !(v.is_finite() && v > 0.0) {
                return Err(AhpError::NotPositive { i, j, value: v });
            }
        }
        if (a[i][i] - 1.0).abs() > 1e-9 {
            return Err(AhpError::Diagonal { i, value: a[i][i] });
        }
    }
    for i in 0..n {
        for j in i + 1..n {
            if (a[j][i] - 1.0 / a[i][j]).abs() > 1e-9 {
                return Err(AhpError::NotReciprocal {
                    i,
                    j,
                    a_ij: a[i][j],
                    a_ji: a[j][i],
                });
            }
        }
    }
    Ok(())
}

fn mul(a: &Matrix, w: &[f64]) -> Vec<f64> {
    a.iter()
        .map(|row| row.iter().zip(w).map(|(x, y)| x * y).sum())
        .collect()
}

fn normalised(mut w: Vec<f64>) -> Vec<f64> {
    let s: f64 = w.iter().sum();
    for x in &mut w {
        *x /= s;
    }
    w
}

/// Principal eigenvector by power iteration: the Perron root of a positive
/// matrix strictly dominates, so this converges (nalgebra has no
/// eigenvectors for non-symmetric matrices).
fn eigen(a: &Matrix) -> (Vec<f64>, f64) {
    let n = a.len();
    let mut w = vec![1.0 / n as f64; n];
    for _ in 0..10_000 {
        let aw = mul(a, &w);
        let lambda: f64 = aw.iter().sum();
        let next: Vec<f64> = aw.iter().map(|x| x / lambda).collect();
        let delta = next
            .iter()
            .zip(&w)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        w = next;
        if delta < 1e-15 {
            break;
        }
    }
    // With w summing to 1, Σ(A·w) = λ·Σw = λ.
    let lambda = mul(a, &w).iter().sum();
    (w, lambda)
}

/// λmax as mean_i((A·w)_i / w_i), for methods that are not the eigenvector.
fn lambda_of(a: &Matrix, w: &[f64]) -> f64 {
    let aw = mul(a, w);
    aw.iter().zip(w).map(|(x, y)| x / y).sum::<f64>() / w.len() as f64
}

/// Priority vector (sums to 1) and λmax.
pub fn priorities(a: &Matrix, method: Method) -> (Vec<f64>, f64) {
    let n = a.len();
    match method {
        Method::Eigen => eigen(a),
        Method::Rgmm => {
            let w = normalised(
                a.iter()
                    .map(|row| row.iter().map(|x| x.ln()).sum::<f64>() / n as f64)
                    .map(f64::exp)
                    .collect(),
            );
            let l = lambda_of(a, &w);
            (w, l)
        }
        Method::Anc => {
            let col: Vec<f64> = (0..n).map(|j| a.iter().map(|row| row[j]).sum()).collect();
            let w: Vec<f64> = a
                .iter()
                .map(|row| row.iter().zip(&col).map(|(x, c)| x / c).sum::<f64>() / n as f64)
                .collect();
            let l = lambda_of(a, &w);
            (w, l)
        }
    }
}

/// CI = (λmax − n)/(n − 1), CR = CI/RI; both 0 for n ≤ 2.
pub fn consistency(n: usize, lambda_max: f64, table: RiTable) -> Result<(f64, f64, f64), AhpError> {
    let ri = table.ri(n).ok_or(AhpError::NoRandomIndex {
        table: table.name(),
        n,
    })?;
    if n <= 2 {
        return Ok((0.0, 0.0, ri));
    }
    let ci = (lambda_max - n as f64) / (n as f64 - 1.0);
    Ok((ci, ci / ri, ri))
}

/// Element-wise geometric mean of several matrices (AIJ); the result is
/// again positive reciprocal.
pub fn geometric_mean(ms: &[Matrix]) -> Matrix {
    let n = ms[0].len();
    let k = ms.len() as f64;
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| (ms.iter().map(|m| m[i][j].ln()).sum::<f64>() / k).exp())
                .collect()
        })
        .collect()
}

/// The judgements that most disagree with the weights: largest
/// |a_ij · w_j / w_i − 1| over every i ≠ j, each pair named once (by the
/// direction that deviates more, so a reversed judgement shows).
pub fn worst_judgements(a: &Matrix, w: &[f64], k: usize) -> Vec<(usize, usize, f64)> {
    let n = a.len();
    let dev = |i: usize, j: usize| (a[i][j] * w[j] / w[i] - 1.0).abs();
    let mut all: Vec<(usize, usize, f64)> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| {
            if dev(j, i) > dev(i, j) {
                (j, i, dev(j, i))
            } else {
                (i, j, dev(i, j))
            }
        })
        .collect();
    all.sort_by(|x, y| y.2.total_cmp(&x.2));
    all.truncate(k);
    all
}

#[derive(Clone, Debug, Serialize)]
pub struct Judgement {
    pub row: String,
    pub col: String,
    pub deviation: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExpertResult {
    pub file: String,
    pub cr: f64,
    pub consistent: bool,
    pub lambda_max: f64,
    pub weights: Vec<f64>,
    pub worst_judgements: Vec<Judgement>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AhpResult {
    pub items: Vec<String>,
    pub weights: Vec<f64>,
    pub lambda_max: f64,
    pub ci: f64,
    pub cr: f64,
    pub ri: f64,
    pub ri_table: &'static str,
    pub consistent: bool,
    pub method: &'static str,
    pub group: Option<&'static str>,
    pub experts: Vec<ExpertResult>,
    pub worst_judgements: Vec<Judgement>,
}

/// Consistent when CR < 0.10 (Saaty).
pub const CR_LIMIT: f64 = 0.10;

fn judgements(items: &[String], a: &Matrix, w: &[f64], cr: f64) -> Vec<Judgement> {
    if cr < CR_LIMIT {
        return Vec::new();
    }
    worst_judgements(a, w, 3)
        .into_iter()
        .map(|(i, j, d)| Judgement {
            row: items[i].clone(),
            col: items[j].clone(),
            deviation: d,
        })
        .collect()
}

/// One expert's matrix with its label (the file it came from).
#[derive(Clone, Debug)]
pub struct ExpertMatrix {
    pub label: String,
    pub items: Vec<String>,
    pub matrix: Matrix,
}

/// Weights from one or more experts' matrices.
pub fn analyse(
    experts: &[ExpertMatrix],
    method: Method,
    group: Group,
    table: RiTable,
) -> Result<AhpResult, AhpError> {
    let first = experts.first().ok_or(AhpError::Empty)?;
    let items = first.items.clone();
    let n = items.len();
    let mut per_expert = Vec::new();
    for e in experts {
        if e.items != items {
            return Err(AhpError::ItemsDisagree);
        }
        validate(&e.matrix)?;
        let (w, l) = priorities(&e.matrix, method);
        let (_, cr, _) = consistency(n, l, table)?;
        per_expert.push(ExpertResult {
            file: e.label.clone(),
            cr,
            consistent: cr < CR_LIMIT,
            lambda_max: l,
            worst_judgements: judgements(&items, &e.matrix, &w, cr),
            weights: w,
        });
    }
    let combined = if experts.len() == 1 {
        first.matrix.clone()
    } else {
        geometric_mean(&experts.iter().map(|e| e.matrix.clone()).collect::<Vec<_>>())
    };
    let (weights, lambda_max) = match group {
        Group::Aij => priorities(&combined, method),
        Group::Aip => {
            // Weighted geometric mean of the priority vectors; consistency
            // is then that of the geometric-mean matrix at these weights.
            let k = per_expert.len() as f64;
            let w = normalised(
                (0..n)
                    .map(|i| (per_expert.iter().map(|e| e.weights[i].ln()).sum::<f64>() / k).exp())
                    .collect(),
            );
            let l = lambda_of(&combined, &w);
            (w, l)
        }
    };
    let (ci, cr, ri) = consistency(n, lambda_max, table)?;
    Ok(AhpResult {
        worst_judgements: judgements(&items, &combined, &weights, cr),
        items,
        weights,
        lambda_max,
        ci,
        cr,
        ri,
        ri_table: table.name(),
        consistent: cr < CR_LIMIT,
        method: match method {
            Method::Eigen => "eigen",
            Method::Rgmm => "rgmm",
            Method::Anc => "anc",
        },
        group: (experts.len() > 1).then_some(match group {
            Group::Aij => "aij",
            Group::Aip => "aip",
        }),
        experts: per_expert,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn saaty3() -> Matrix {
        vec![
            vec![1.0, 3.0, 5.0],
            vec![1.0 / 3.0, 1.0, 3.0],
            vec![1.0 / 5.0, 1.0 / 3.0, 1.0],
        ]
    }

    /// Saaty's worked 3 × 3 example: 0.6370, 0.2583, 0.1047; λmax 3.0385; CR 0.033.
    #[test]
    fn saaty_worked_example() {
        let (w, l) = priorities(&saaty3(), Method::Eigen);
        for (got, want) in w.iter().zip([0.6370, 0.2583, 0.1047]) {
            assert!((got - want).abs() < 5e-5, "{w:?}");
        }
        assert!((l - 3.0385).abs() < 5e-5, "{l}");
        let (ci, cr, ri) = consistency(3, l, RiTable::SaatyClassic).unwrap();
        assert_eq!(ri, 0.58);
        assert!((ci - (l - 3.0) / 2.0).abs() < 1e-15);
        assert!((cr - 0.033).abs() < 5e-4, "{cr}");
        // The eigenvector really is one: A·w = λ·w to 1e-12.
        let aw = mul(&saaty3(), &w);
        for (x, y) in aw.iter().zip(&w) {
            assert!((x - l * y).abs() < 1e-12);
        }
    }

    #[test]
    fn other_methods_are_close_on_a_near_consistent_matrix() {
        for m in [Method::Rgmm, Method::Anc] {
            let (w, l) = priorities(&saaty3(), m);
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!((w[0] - 0.637).abs() < 0.01, "{m:?} {w:?}");
            assert!((l - 3.0385).abs() < 0.01);
        }
    }

    #[test]
    fn ri_tables() {
        assert_eq!(RiTable::SaatyClassic.ri(12), Some(1.48));
        assert_eq!(RiTable::SaatyClassic.ri(2), Some(0.0));
        assert_eq!(RiTable::SaatyClassic.ri(16), None);
        assert_eq!(RiTable::Saaty2005.ri(3), Some(0.52));
        assert_eq!(RiTable::TummalaLing.ri(4), Some(0.8921));
        assert_eq!(RiTable::DoneganDodd.ri(3), Some(0.4914));
        let v = RiTable::DoneganDodd.ri(22).unwrap();
        assert!((v - (1.5371 + (1.5619 - 1.5371) / 5.0 * 2.0)).abs() < 1e-12);
        assert_eq!(RiTable::DoneganDodd.ri(101), None);
        assert_eq!(RiTable::parse("tummala-ling"), Some(RiTable::TummalaLing));
    }

    #[test]
    fn validation_errors() {
        let mut a = saaty3();
        a[2][0] = 0.3;
        assert!(matches!(
            validate(&a),
            Err(AhpError::NotReciprocal { i: 0, j: 2, .. })
        ));
        let msg = validate(&a).unwrap_err().to_string();
        assert!(msg.contains("第 3 行第 1 列"), "{msg}");
        a[2][0] = 0.0;
        assert!(matches!(validate(&a), Err(AhpError::NotPositive { .. })));
        assert!(matches!(
            validate(&vec![vec![1.0, 2.0]]),
            Err(AhpError::NotSquare { .. })
        ));
        let mut d = saaty3();
        d[1][1] = 2.0;
        assert!(matches!(validate(&d), Err(AhpError::Diagonal { i: 1, .. })));
    }

    #[test]
    fn worst_judgement_is_the_odd_one() {
        // Consistent from w = (4, 2, 1) except a13, which should be 4.
        let a = vec![
            vec![1.0, 2.0, 9.0],
            vec![0.5, 1.0, 2.0],
            vec![1.0 / 9.0, 0.5, 1.0],
        ];
        let (w, _) = priorities(&a, Method::Eigen);
        let worst = worst_judgements(&a, &w, 1);
        assert_eq!((worst[0].0, worst[0].1), (0, 2));
        // A reversed judgement (too small) is named from the side that shows it.
        let r = vec![
            vec![1.0, 2.0, 4.0, 1.0 / 8.0],
            vec![0.5, 1.0, 4.0, 4.0],
            vec![0.25, 0.25, 1.0, 2.0],
            vec![8.0, 0.25, 0.5, 1.0],
        ];
        let (w, _) = priorities(&r, Method::Eigen);
        let worst = worst_judgements(&r, &w, 1);
        assert_eq!((worst[0].0, worst[0].1), (3, 0), "{worst:?}");
    }

    #[test]
    fn group_aij_and_aip() {
        let e = |label: &str, m: Matrix| ExpertMatrix {
            label: label.into(),
            items: vec!["a".into(), "b".into(), "c".into()],
            matrix: m,
        };
        let b = vec![
            vec![1.0, 1.0, 3.0],
            vec![1.0, 1.0, 3.0],
            vec![1.0 / 3.0, 1.0 / 3.0, 1.0],
        ];
        let experts = [e("x.csv", saaty3()), e("y.csv", b)];
        let r = analyse(&experts, Method::Eigen, Group::Aij, RiTable::SaatyClassic).unwrap();
        assert_eq!(r.experts.len(), 2);
        assert!((r.experts[1].cr).abs() < 1e-9, "b is consistent");
        assert!((r.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(r.group, Some("aij"));
        let p = analyse(&experts, Method::Eigen, Group::Aip, RiTable::SaatyClassic).unwrap();
        assert!((p.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p.weights[0] > p.weights[2]);
        let mut bad = e("z.csv", saaty3());
        bad.items[2] = "d".into();
        assert_eq!(
            analyse(
                &[e("x.csv", saaty3()), bad],
                Method::Eigen,
                Group::Aij,
                RiTable::SaatyClassic
            )
            .unwrap_err(),
            AhpError::ItemsDisagree
        );
    }

    proptest! {
        /// A matrix built from weights, a_ij = w_i / w_j, gives the weights back with CR ≈ 0.
        #[test]
        fn consistent_matrices_give_their_weights_back(raw in proptest::collection::vec(0.05f64..10.0, 2..12)) {
            let s: f64 = raw.iter().sum();
            let w: Vec<f64> = raw.iter().map(|x| x / s).collect();
            let a: Matrix = w.iter().map(|wi| w.iter().map(|wj| wi / wj).collect()).collect();
            for m in [Method::Eigen, Method::Rgmm, Method::Anc] {
                let (got, l) = priorities(&a, m);
                prop_assert!((got.iter().sum::<f64>() - 1.0).abs() < 1e-12);
                for (x, y) in got.iter().zip(&w) {
                    prop_assert!((x - y).abs() < 1e-9, "{m:?}: {got:?} vs {w:?}");
                }
                let (_, cr, _) = consistency(w.len(), l, RiTable::SaatyClassic).unwrap();
                prop_assert!(cr.abs() < 1e-9);
            }
        }

        /// Any positive reciprocal matrix on the 1–9 scale: weights positive, sum 1, λmax ≥ n.
        #[test]
        fn weights_always_sum_to_one(n in 2usize..10, picks in proptest::collection::vec(0usize..17, 45)) {
            const SCALE: [f64; 17] = [1.0/9.0, 1.0/8.0, 1.0/7.0, 1.0/6.0, 1.0/5.0, 1.0/4.0, 1.0/3.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
            let mut a = vec![vec![1.0; n]; n];
            let mut k = 0;
            for i in 0..n {
                for j in i + 1..n {
                    a[i][j] = SCALE[picks[k % picks.len()]];
                    a[j][i] = 1.0 / a[i][j];
                    k += 1;
                }
            }
            prop_assert!(validate(&a).is_ok());
            for m in [Method::Eigen, Method::Rgmm, Method::Anc] {
                let (w, l) = priorities(&a, m);
                prop_assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
                prop_assert!(w.iter().all(|x| *x > 0.0));
                prop_assert!(l >= n as f64 - 1e-9, "{m:?} {l}");
            }
        }
    }
}
