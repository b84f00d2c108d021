//! What a stored value may be, whatever channel it came through: a count
//! (an element whose unit counts things: 起, 件, 人 …) is a non-negative
//! whole number; every value is within a bound no real statistic reaches;
//! a period has begun and is not far older than the framework; a date has
//! happened. `pingan check`'s range and logic rules judge plausibility
//! later; these refuse what cannot be true at all.

use crate::framework::Element;
use crate::period::{Date, Period};

/// Units that count things: their values are whole and never negative.
pub const COUNT_UNITS: &[&str] = &[
    "个", "人", "件", "处", "批次", "支", "条", "次", "起", "辆", "项", "户", "家", "所", "名",
    "台", "座", "场", "宗", "人次", "户次", "名次",
];

/// The largest count accepted (no province counts a billion of anything).
pub const MAX_COUNT: f64 = 1e9;
/// The largest magnitude of any other value (areas, minutes, scores).
pub const MAX_ABS: f64 = 1e12;
/// Years of history before the framework's own year that may be stored
/// (trends and anomaly checks read earlier years).
pub const HISTORY_YEARS: i32 = 10;

impl Element {
    pub fn is_count(&self) -> bool {
        COUNT_UNITS.contains(&self.unit.as_str())
    }
}

/// A number as a message shows it: huge ones in exponent form.
fn show(v: f64) -> String {
    if v.abs() >= 1e15 {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

/// Why `v` cannot be a value of `e`, if it cannot.
pub fn check_value(e: &Element, v: f64) -> Result<(), String> {
    let shown = show(v);
    if !v.is_finite() {
        return Err(format!("数值 {v} 不是有限数"));
    }
    if e.is_count() {
        if v < 0.0 {
            return Err(format!("计数（{}）不能为负数：{shown}", e.unit));
        }
        if v.fract() != 0.0 {
            return Err(format!("计数（{}）应为整数：{shown}", e.unit));
        }
        if v > MAX_COUNT {
            return Err(format!(
                "计数（{}）{shown} 超出合理范围（最多 {}）",
                e.unit, MAX_COUNT as u64
            ));
        }
    } else if v.abs() > MAX_ABS {
        return Err(format!("数值 {shown} 超出合理范围（绝对值不超过 10¹²）"));
    }
    Ok(())
}

/// Why a value cannot be for `p`, if it cannot: a period not yet begun on
/// `today`, or one more than `HISTORY_YEARS` before `framework_year`.
pub fn check_period(p: Period, today: Date, framework_year: Option<i32>) -> Result<(), String> {
    if p.first_day() > today {
        return Err(format!(
            "期间 {p} 尚未开始（今天是 {}-{:02}-{:02}），不能报送",
            today.year, today.month, today.day
        ));
    }
    if let Some(y) = framework_year
        && p.year() < y - HISTORY_YEARS
    {
        return Err(format!(
            "期间 {p} 早于指标体系（{y} 年）之前 {HISTORY_YEARS} 年，不能报送"
        ));
    }
    Ok(())
}

/// Why a date of an event cannot be, if it cannot: after `today`.
pub fn check_date(d: Date, today: Date, what: &str) -> Result<(), String> {
    if d > today {
        return Err(format!(
            "{what} {}-{:02}-{:02} 晚于今天（{}-{:02}-{:02}）",
            d.year, d.month, d.day, today.year, today.month, today.day
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::default_framework;

    fn element(code: &str) -> Element {
        let fw = default_framework();
        fw.elements[fw.element_index(code).unwrap()].clone()
    }

    #[test]
    fn counts_are_whole_non_negative_and_bounded() {
        let e = element("criminal_cases");
        assert!(e.is_count());
        assert!(check_value(&e, 12.0).is_ok());
        for bad in [-1.0, 1.5, 1e308, 1.2e29, f64::NAN] {
            assert!(check_value(&e, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn other_values_may_be_fractional_within_a_bound() {
        let fw = default_framework();
        let e = fw.elements.iter().find(|e| e.unit == "分").unwrap();
        assert!(!e.is_count());
        assert!(check_value(e, 87.5).is_ok());
        assert!(check_value(e, 1e13).is_err());
    }

    #[test]
    fn periods_have_begun_and_dates_have_happened() {
        let today = Date {
            year: 2026,
            month: 12,
            day: 3,
        };
        assert!(check_period(Period::Month(2026, 12), today, Some(2024)).is_ok());
        assert!(check_period(Period::Year(2026), today, Some(2024)).is_ok());
        assert!(check_period(Period::Month(2027, 1), today, Some(2024)).is_err());
        assert!(check_period(Period::Year(9999), today, Some(2024)).is_err());
        assert!(check_period(Period::Year(2014), today, Some(2024)).is_ok());
        assert!(check_period(Period::Year(2013), today, Some(2024)).is_err());
        let d = Date {
            year: 9999,
            month: 1,
            day: 1,
        };
        assert!(
            check_date(d, today, "受理日期")
                .unwrap_err()
                .starts_with("受理日期 9999-01-01 晚于今天")
        );
        assert!(check_date(today, today, "受理日期").is_ok());
    }
}
