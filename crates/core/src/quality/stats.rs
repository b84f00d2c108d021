//! The statistics behind the anomaly methods, on plain slices.

/// Mean and sample standard deviation (n − 1); `None` for fewer than two values.
pub fn mean_sd(xs: &[f64]) -> Option<(f64, f64)> {
    if xs.len() < 2 {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    Some((mean, var.max(0.0).sqrt()))
}

/// Median of a non-empty slice (sorts a copy).
pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The scale that turns a deviation from the median into a modified z-score
/// (Iglewicz & Hoaglin): 0.6745 / MAD, or — when more than half the values are
/// equal and the MAD is 0 — 1 / (1.253314 × mean absolute deviation), as IBM
/// SPSS and DHIS2 do. `None` when every value is the same.
pub fn robust_scale(xs: &[f64], med: f64) -> Option<f64> {
    let dev: Vec<f64> = xs.iter().map(|x| (x - med).abs()).collect();
    let mad = median(&dev)?;
    if mad > 0.0 {
        return Some(0.6745 / mad);
    }
    let mean_ad = dev.iter().sum::<f64>() / dev.len() as f64;
    (mean_ad > 0.0).then(|| 1.0 / (1.253_314 * mean_ad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        let (m, sd) = mean_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(m, 5.0);
        assert!((sd - 2.138_089_935).abs() < 1e-9);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        // MAD of 1,1,2,2,4,6,9 around 2 is 1.
        let xs = [1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0];
        assert_eq!(robust_scale(&xs, 2.0), Some(0.6745));
        // Mostly equal values: MAD 0, the mean absolute deviation takes over.
        let xs = [0.0, 0.0, 0.0, 0.0, 4.0];
        let s = robust_scale(&xs, 0.0).unwrap();
        assert!((s - 1.0 / (1.253_314 * 0.8)).abs() < 1e-12);
        assert_eq!(robust_scale(&[3.0, 3.0], 3.0), None);
        assert_eq!(mean_sd(&[1.0]), None);
    }

    proptest! {
        #[test]
        fn finite_inputs_give_finite_statistics(xs in prop::collection::vec(-1e12f64..1e12, 2..40)) {
            let (m, sd) = mean_sd(&xs).unwrap();
            prop_assert!(m.is_finite() && sd.is_finite() && sd >= 0.0);
            let med = median(&xs).unwrap();
            let lo = xs.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(lo <= med && med <= hi);
            if let Some(s) = robust_scale(&xs, med) {
                prop_assert!(s.is_finite() && s > 0.0);
            }
        }
    }
}
