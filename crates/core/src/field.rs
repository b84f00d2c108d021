//! Field verification (seed §5.3 实地核查, §3.4 交叉核验): the pure rules —
//! when two teams' observations disagree, how a reproducible random draw
//! picks regions, what counts as a photo and as a position.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// Two teams disagree when they differ by more than this share of the
/// larger value (§3.4: 差异超过 10% 的启动复核).
pub const CROSS_TEAM_TOLERANCE: f64 = 0.10;

/// The checklist a task gets unless its creator writes another.
pub const DEFAULT_CHECKLIST: [&str; 5] = [
    "查阅原始台账和登记记录",
    "核对报送数据与台账一致",
    "现场查看设施、场所或点位",
    "随机走访群众或工作人员",
    "拍照留存并记录位置",
];

/// |a − b| as a share of the larger magnitude; 0 when both are 0.
pub fn relative_difference(a: f64, b: f64) -> f64 {
    let m = a.abs().max(b.abs());
    if m == 0.0 { 0.0 } else { (a - b).abs() / m }
}

/// One team's observed value of an element.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation<'a> {
    pub team: &'a str,
    pub element: &'a str,
    pub value: f64,
}

/// A disagreement between two teams on one element.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Conflict {
    pub element: String,
    pub team_a: String,
    pub value_a: f64,
    pub team_b: String,
    pub value_b: f64,
    pub difference: f64,
}

/// Every pair of different teams whose values of the same element differ by
/// more than `tolerance`; for each element the widest pair only, so one
/// re-verification covers it.
pub fn cross_team_conflicts(obs: &[Observation<'_>], tolerance: f64) -> Vec<Conflict> {
    let mut out: Vec<Conflict> = Vec::new();
    for (i, a) in obs.iter().enumerate() {
        for b in &obs[i + 1..] {
            if a.element != b.element || a.team == b.team {
                continue;
            }
            let d = relative_difference(a.value, b.value);
            if d <= tolerance {
                continue;
            }
            let c = Conflict {
                element: a.element.to_string(),
                team_a: a.team.to_string(),
                value_a: a.value,
                team_b: b.team.to_string(),
                value_b: b.value,
                difference: d,
            };
            match out.iter_mut().find(|x| x.element == c.element) {
                Some(x) if x.difference < d => *x = c,
                Some(_) => {}
                None => out.push(c),
            }
        }
    }
    out.sort_by(|a, b| a.element.cmp(&b.element));
    out
}

/// `count` of `n` candidates, reproducibly for a seed: a partial
/// Fisher–Yates shuffle, returned in candidate order.
pub fn draw(n: usize, count: usize, seed: u64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    let k = count.min(n);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in 0..k {
        let j = i + (rng.next_u64() % (n - i) as u64) as usize;
        idx.swap(i, j);
    }
    let mut picked = idx[..k].to_vec();
    picked.sort_unstable();
    picked
}

/// The image type of `bytes` by their signature, never by the name or the
/// declared type: JPEG, PNG or WebP.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// A position a phone can report: latitude −90…90, longitude −180…180.
pub fn check_position(lat: f64, lon: f64) -> Result<(), String> {
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        return Err(format!("纬度 {lat} 不在 −90 到 90 之间"));
    }
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        return Err(format!("经度 {lon} 不在 −180 到 180 之间"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn o<'a>(team: &'a str, element: &'a str, value: f64) -> Observation<'a> {
        Observation {
            team,
            element,
            value,
        }
    }

    #[test]
    fn ten_percent_is_the_line() {
        assert_eq!(relative_difference(0.0, 0.0), 0.0);
        assert!((relative_difference(100.0, 90.0) - 0.10).abs() < 1e-12);
        let obs = [o("一组", "x", 100.0), o("二组", "x", 90.0)];
        assert!(cross_team_conflicts(&obs, CROSS_TEAM_TOLERANCE).is_empty());
        let obs = [
            o("一组", "x", 100.0),
            o("二组", "x", 89.0),
            o("一组", "y", 5.0),
        ];
        let c = cross_team_conflicts(&obs, CROSS_TEAM_TOLERANCE);
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].team_a.as_str(), c[0].team_b.as_str()),
            ("一组", "二组")
        );
    }

    #[test]
    fn one_team_never_conflicts_with_itself() {
        let obs = [o("一组", "x", 100.0), o("一组", "x", 10.0)];
        assert!(cross_team_conflicts(&obs, CROSS_TEAM_TOLERANCE).is_empty());
    }

    #[test]
    fn the_widest_pair_per_element() {
        let obs = [
            o("一组", "x", 100.0),
            o("二组", "x", 80.0),
            o("三组", "x", 50.0),
        ];
        let c = cross_team_conflicts(&obs, CROSS_TEAM_TOLERANCE);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].value_b, 50.0);
    }

    #[test]
    fn images_by_signature() {
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg></svg>"), None);
        assert_eq!(image_type(b"%PDF-1.7"), None);
        assert_eq!(image_type(b""), None);
    }

    #[test]
    fn positions() {
        assert!(check_position(30.27, 120.15).is_ok());
        assert!(check_position(91.0, 0.0).is_err());
        assert!(check_position(0.0, f64::NAN).is_err());
    }

    proptest! {
        #[test]
        fn draws_are_reproducible_and_distinct(n in 0usize..300, k in 0usize..300, seed: u64) {
            let a = draw(n, k, seed);
            prop_assert_eq!(&a, &draw(n, k, seed));
            prop_assert_eq!(a.len(), k.min(n));
            prop_assert!(a.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(a.iter().all(|&i| i < n));
        }

        #[test]
        fn image_sniffing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = image_type(&bytes);
        }
    }
}
