//! Subjective × objective weights (组合赋权).

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Combination {
    /// α·ws + (1 − α)·wo.
    Linear { alpha: f64 },
    /// ws·wo / Σ ws·wo.
    Multiplicative,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CombineError {
    #[error("主观权重与客观权重的项目数不同（{0} 与 {1}）")]
    Length(usize, usize),
    #[error("α 应在 0 到 1 之间，实际为 {0}")]
    Alpha(f64),
    #[error("权重 {0} 无效：必须为非负有限数")]
    Weight(f64),
    #[error("各项的主观权重与客观权重之积全为 0，无法相乘组合")]
    AllZero,
}

pub fn combine(
    subjective: &[f64],
    objective: &[f64],
    how: Combination,
) -> Result<Vec<f64>, CombineError> {
    if subjective.len() != objective.len() {
        return Err(CombineError::Length(subjective.len(), objective.len()));
    }
    if let Some(&bad) = subjective
        .iter()
        .chain(objective)
        .find(|w| !(w.is_finite() && **w >= 0.0))
    {
        return Err(CombineError::Weight(bad));
    }
    match how {
        Combination::Linear { alpha } => {
            if !(0.0..=1.0).contains(&alpha) {
                return Err(CombineError::Alpha(alpha));
            }
            Ok(subjective
                .iter()
                .zip(objective)
                .map(|(s, o)| alpha * s + (1.0 - alpha) * o)
                .collect())
        }
        Combination::Multiplicative => {
            let prod: Vec<f64> = subjective
                .iter()
                .zip(objective)
                .map(|(s, o)| s * o)
                .collect();
            let sum: f64 = prod.iter().sum();
            if sum <= 0.0 {
                return Err(CombineError::AllZero);
            }
            Ok(prod.into_iter().map(|p| p / sum).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_and_multiplicative() {
        let s = [0.5, 0.3, 0.2];
        let o = [0.2, 0.2, 0.6];
        let l = combine(&s, &o, Combination::Linear { alpha: 0.5 }).unwrap();
        assert_eq!(l, vec![0.35, 0.25, 0.4]);
        let m = combine(&s, &o, Combination::Multiplicative).unwrap();
        let sum = 0.1 + 0.06 + 0.12;
        for (got, want) in m.iter().zip([0.1 / sum, 0.06 / sum, 0.12 / sum]) {
            assert!((got - want).abs() < 1e-15);
        }
        assert!(combine(&s, &o[..2], Combination::Multiplicative).is_err());
        assert!(combine(&s, &o, Combination::Linear { alpha: 1.5 }).is_err());
        assert!(combine(&[1.0, 0.0], &[0.0, 1.0], Combination::Multiplicative).is_err());
    }
}
