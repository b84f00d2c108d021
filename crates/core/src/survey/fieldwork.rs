//! Fieldwork arithmetic for the board: the China-time day an answer came
//! in, and how a county's valid answers compare with its margins (over or
//! under the share each category should have).

/// `YYYY-MM-DD` in China time (UTC+8) of seconds since 1970.
pub fn china_day(secs: f64) -> String {
    let days = ((secs + 8.0 * 3600.0) / 86400.0).floor() as i64;
    let (y, m, d) = crate::period::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// One category of one margin variable in one county.
#[derive(Clone, Debug, PartialEq)]
pub struct Quota {
    pub variable: String,
    pub category: String,
    /// The category's share of the county's population (0–1).
    pub target_share: f64,
    /// Valid answers in the category.
    pub actual: u64,
    /// What the county's valid answers would hold at the target share.
    pub expected: f64,
}

impl Quota {
    /// Share of the valid answers (0–1).
    pub fn actual_share(&self, valid: u64) -> f64 {
        if valid == 0 {
            0.0
        } else {
            self.actual as f64 / valid as f64
        }
    }

    /// Percentage points over (+) or under (−) the target share.
    pub fn gap_points(&self, valid: u64) -> f64 {
        (self.actual_share(valid) - self.target_share) * 100.0
    }
}

/// A county's quotas: its margins (variable, category, population) in file
/// order against its valid answers' categories (`count(variable,
/// category)`) out of `valid`.
pub fn quotas(
    margins: &[(&str, &str, f64)],
    valid: u64,
    count: impl Fn(&str, &str) -> u64,
) -> Vec<Quota> {
    let total = |v: &str| -> f64 {
        margins
            .iter()
            .filter(|(x, _, _)| *x == v)
            .map(|(_, _, p)| p)
            .sum()
    };
    margins
        .iter()
        .map(|(v, c, p)| {
            let t = total(v);
            let share = if t > 0.0 { p / t } else { 0.0 };
            Quota {
                variable: v.to_string(),
                category: c.to_string(),
                target_share: share,
                actual: count(v, c),
                expected: share * valid as f64,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_in_china_time() {
        assert_eq!(china_day(0.0), "1970-01-01");
        // 2024-10-01T16:30:00Z is already 2 October in China.
        let t = crate::survey::response::parse_time("2024-10-01T16:30:00Z").unwrap();
        assert_eq!(china_day(t), "2024-10-02");
        let t = crate::survey::response::parse_time("2024-02-29 23:59:59").unwrap();
        assert_eq!(china_day(t), "2024-02-29");
    }

    #[test]
    fn quotas_against_margins() {
        let m = [("sex", "m", 510.0), ("sex", "f", 490.0)];
        let q = quotas(&m, 100, |_, c| if c == "m" { 40 } else { 60 });
        assert!((q[0].target_share - 0.51).abs() < 1e-12);
        assert!((q[0].expected - 51.0).abs() < 1e-9);
        assert!(
            (q[0].gap_points(100) + 11.0).abs() < 1e-9,
            "men under by 11 points"
        );
        assert!((q[1].gap_points(100) - 11.0).abs() < 1e-9);
    }
}
