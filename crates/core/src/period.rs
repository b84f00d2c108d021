//! Reporting periods: a year, a quarter or a month (scoring.md §2, §6).

use std::fmt;
use std::str::FromStr;

/// A reporting period. Ordering is by year, then granularity, then index —
/// only used to keep output deterministic, never for semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Year(i32),
    Quarter(i32, u8),
    Month(i32, u8),
}

/// A calendar date, used for region validity (scoring.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("期间“{0}”无法识别：应为 2024、2024-03 或 2024Q1 的形式")]
pub struct PeriodError(pub String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("日期“{0}”无法识别：应为 YYYY 或 YYYY-MM-DD 的形式")]
pub struct DateError(pub String);

const MIN_YEAR: i32 = 1000;
const MAX_YEAR: i32 = 9999;

fn parse_year(s: &str) -> Option<i32> {
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = s.parse().ok()?;
    (MIN_YEAR..=MAX_YEAR).contains(&y).then_some(y)
}

fn parse_two_digits(s: &str) -> Option<u8> {
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let s = raw.trim();
        let err = || PeriodError(raw.to_string());
        if let Some(y) = parse_year(s) {
            return Ok(Period::Year(y));
        }
        if s.len() == 7 && s.is_char_boundary(4) {
            let (y, rest) = s.split_at(4);
            let y = parse_year(y).ok_or_else(err)?;
            if let Some(m) = rest.strip_prefix('-') {
                let m = parse_two_digits(m).ok_or_else(err)?;
                return if (1..=12).contains(&m) {
                    Ok(Period::Month(y, m))
                } else {
                    Err(err())
                };
            }
        }
        if s.len() == 6 && s.is_char_boundary(4) {
            let (y, rest) = s.split_at(4);
            let y = parse_year(y).ok_or_else(err)?;
            let q = rest
                .strip_prefix('Q')
                .or_else(|| rest.strip_prefix('q'))
                .ok_or_else(err)?;
            return match q {
                "1" => Ok(Period::Quarter(y, 1)),
                "2" => Ok(Period::Quarter(y, 2)),
                "3" => Ok(Period::Quarter(y, 3)),
                "4" => Ok(Period::Quarter(y, 4)),
                _ => Err(err()),
            };
        }
        Err(err())
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Year(y) => write!(f, "{y}"),
            Period::Quarter(y, q) => write!(f, "{y}Q{q}"),
            Period::Month(y, m) => write!(f, "{y}-{m:02}"),
        }
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Period {
    pub fn year(self) -> i32 {
        match self {
            Period::Year(y) | Period::Quarter(y, _) | Period::Month(y, _) => y,
        }
    }

    /// The previous period of the same granularity (`prev()` in formulas).
    pub fn prev(self) -> Period {
        match self {
            Period::Year(y) => Period::Year(y - 1),
            Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
            Period::Quarter(y, q) => Period::Quarter(y, q - 1),
            Period::Month(y, 1) => Period::Month(y - 1, 12),
            Period::Month(y, m) => Period::Month(y, m - 1),
        }
    }

    pub fn months(year: i32) -> impl Iterator<Item = Period> {
        (1..=12).map(move |m| Period::Month(year, m))
    }

    pub fn quarters(year: i32) -> impl Iterator<Item = Period> {
        (1..=4).map(move |q| Period::Quarter(year, q))
    }

    pub fn first_day(self) -> Date {
        let (year, month) = match self {
            Period::Year(y) => (y, 1),
            Period::Quarter(y, q) => (y, (q - 1) * 3 + 1),
            Period::Month(y, m) => (y, m),
        };
        Date {
            year,
            month,
            day: 1,
        }
    }

    pub fn last_day(self) -> Date {
        let (year, month) = match self {
            Period::Year(y) => (y, 12),
            Period::Quarter(y, q) => (y, q * 3),
            Period::Month(y, m) => (y, m),
        };
        Date {
            year,
            month,
            day: days_in_month(year, month),
        }
    }

    /// Chinese label for tables and reasons: 2024年, 2024年第1季度, 2024年3月.
    pub fn label(self) -> String {
        match self {
            Period::Year(y) => format!("{y}年"),
            Period::Quarter(y, q) => format!("{y}年第{q}季度"),
            Period::Month(y, m) => format!("{y}年{m}月"),
        }
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// The (year, month, day) of `days` since 1970-01-01 (Howard Hinnant's
/// civil_from_days).
pub fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m as u8, d as u8)
}

pub fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Which end of a year a bare `YYYY` stands for in a validity range.
#[derive(Clone, Copy, Debug)]
pub enum YearEnd {
    Start,
    End,
}

impl Date {
    /// `YYYY` (the first or last day of that year, by `end`) or `YYYY-MM-DD`.
    pub fn parse(raw: &str, end: YearEnd) -> Result<Date, DateError> {
        let s = raw.trim();
        let err = || DateError(raw.to_string());
        if let Some(year) = parse_year(s) {
            return Ok(match end {
                YearEnd::Start => Date {
                    year,
                    month: 1,
                    day: 1,
                },
                YearEnd::End => Date {
                    year,
                    month: 12,
                    day: 31,
                },
            });
        }
        if s.len() != 10 || !s.is_ascii() || &s[4..5] != "-" || &s[7..8] != "-" {
            return Err(err());
        }
        let year = parse_year(&s[..4]).ok_or_else(err)?;
        let month = parse_two_digits(&s[5..7]).ok_or_else(err)?;
        let day = parse_two_digits(&s[8..10]).ok_or_else(err)?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(err());
        }
        Ok(Date { year, month, day })
    }

    /// The date of an RFC 3339 timestamp (`2024-06-03T…`), as the store
    /// keeps submission times.
    pub fn of_timestamp(at: &str) -> Option<Date> {
        at.get(..10)
            .and_then(|d| Date::parse(d, YearEnd::Start).ok())
    }

    /// Days since 1970-01-01 (Hinnant's days_from_civil), for deadlines.
    pub fn days(self) -> i64 {
        let y = self.year as i64 - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = self.month as i64;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + self.day as i64 - 1;
        era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!("2024".parse(), Ok(Period::Year(2024)));
        assert_eq!("2024-03".parse(), Ok(Period::Month(2024, 3)));
        assert_eq!("2024Q1".parse(), Ok(Period::Quarter(2024, 1)));
        for bad in [
            "",
            "24",
            "2024-13",
            "2024-00",
            "2024Q5",
            "2024Q0",
            "2024/03",
            "2024-3",
            "二〇二四",
            "2024-03-01",
            "20245",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn prev_shifts_within_granularity() {
        assert_eq!(Period::Year(2024).prev(), Period::Year(2023));
        assert_eq!(Period::Month(2024, 3).prev(), Period::Month(2024, 2));
        assert_eq!(Period::Month(2024, 1).prev(), Period::Month(2023, 12));
        assert_eq!(Period::Quarter(2024, 1).prev(), Period::Quarter(2023, 4));
    }

    #[test]
    fn dates_and_bounds() {
        assert_eq!(
            Date::parse("2023", YearEnd::End).unwrap().to_string(),
            "2023-12-31"
        );
        assert!(Date::parse("2023-02-29", YearEnd::Start).is_err());
        assert!(Date::parse("2024-02-29", YearEnd::Start).is_ok());
        assert_eq!(
            Period::Quarter(2024, 1).last_day().to_string(),
            "2024-03-31"
        );
        assert_eq!(Period::Month(2024, 2).last_day().to_string(), "2024-02-29");
    }

    proptest! {
        #[test]
        fn display_round_trips(s in "\\PC{0,12}") {
            if let Ok(p) = s.parse::<Period>() {
                prop_assert_eq!(p.to_string().parse::<Period>(), Ok(p));
            }
            let _ = Date::parse(&s, YearEnd::Start);
        }
    }
}
