//! Rounding helpers shared by every rule (scoring.md §4, §5).

/// Round half away from zero to `decimals` places: sign(x)·⌊|x|·10^d + 0.5⌋/10^d.
pub fn round_half_away(x: f64, decimals: u32) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    x.signum() * ((x.abs() * scale + 0.5).floor() / scale)
}

/// `snap(x)`: x rounded to 9 decimals, guarding comparisons and step counts
/// against binary rounding (so 57 / 100 × 100 counts as 57).
pub fn snap(x: f64) -> f64 {
    let r = round_half_away(x, 9);
    // -0.0 would print as "-0" in reasons; it compares equal to 0 anyway.
    if r == 0.0 { 0.0 } else { r }
}

/// A number for Chinese reasons and tables: at most `decimals` places, no
/// trailing zeros (1.24, 6.2, 85).
pub fn fmt_num(x: f64, decimals: u32) -> String {
    let r = round_half_away(x, decimals);
    let r = if r == 0.0 { 0.0 } else { r };
    let s = format!("{r:.*}", decimals as usize);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Four places is what an office reads in a deduction reason.
pub fn fmt(x: f64) -> String {
    fmt_num(x, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_guards_binary_rounding() {
        assert_ne!(57.0_f64 / 100.0 * 100.0, 57.0);
        assert_eq!(snap(57.0 / 100.0 * 100.0), 57.0);
        assert_eq!(round_half_away(2.5, 0), 3.0);
        assert_eq!(round_half_away(-2.5, 0), -3.0);
        assert_eq!(round_half_away(87.125, 2), 87.13);
        assert_eq!(snap(-0.0000000001), 0.0);
    }

    #[test]
    fn formats_without_trailing_zeros() {
        assert_eq!(fmt(1.24), "1.24");
        assert_eq!(fmt(85.0), "85");
        assert_eq!(fmt(6.2000001), "6.2");
        assert_eq!(fmt(-0.00001), "0");
        assert_eq!(fmt(0.5), "0.5");
    }
}
