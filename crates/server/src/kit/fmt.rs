//! Numbers the way a Chinese report writes them: 分, %, units, no noise.

/// At most `digits` decimals, trailing zeros dropped: 87.50 → "87.5".
pub fn num(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let s = format!("{x:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// Totals and points as a report prints them: always two decimals.
pub fn fixed(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "—".into()
    }
}

pub fn points(x: f64) -> String {
    format!("{}分", num(x, 2))
}

/// A weight (a share of 1) as a percentage with two decimals at most,
/// the same everywhere a weight is shown: 0.0825 → "8.25%".
pub fn weight(w: f64) -> String {
    format!("{}%", num(w * 100.0, 2))
}

pub fn percent(x: f64) -> String {
    format!("{}%", num(x, 1))
}

/// A value with its unit: "12.3%", "1.35 起/10万人", "312 人".
pub fn value(x: Option<f64>, unit: &str) -> String {
    match x {
        None => "—".into(),
        Some(v) if unit == "%" => format!("{}%", num(v, 2)),
        Some(v) if unit.is_empty() => num(v, 2),
        Some(v) => format!("{} {unit}", num(v, 2)),
    }
}

/// A stored time (RFC 3339, UTC) as a reader in China reads it: Beijing
/// time to the minute, `2026-12-03 01:03`. Text that is not a time is
/// shown as it is.
pub fn local_time(at: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(at, &Rfc3339) {
        Ok(t) => {
            let t = t.to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
            format!(
                "{}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => at.to_string(),
    }
}

/// A grade's tag colour.
pub fn grade_class(grade: &str) -> &'static str {
    match grade {
        "优秀" => "ok",
        "良好" => "primary",
        "合格" => "warn",
        _ => "danger",
    }
}

/// This year in China time: the default year of a form.
pub fn this_year() -> i32 {
    pingan_service::ctx::today().year
}

/// Seconds since 1970 as a time in China (UTC+08:00), to the minute.
pub fn china_time(t: f64) -> String {
    let secs = t as i64 + 8 * 3600;
    let (y, m, d) = pingan_core::period::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", s / 3600, s / 60 % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_beijing_time() {
        assert_eq!(local_time("2026-12-02T17:03:03.484Z"), "2026-12-03 01:03");
        assert_eq!(local_time("not a time"), "not a time");
    }

    #[test]
    fn chinese_numbers() {
        assert_eq!(num(87.5, 2), "87.5");
        assert_eq!(num(87.0, 2), "87");
        assert_eq!(num(-0.0001, 2), "0");
        assert_eq!(points(3.456), "3.46分");
        assert_eq!(percent(91.666), "91.7%");
        assert_eq!(value(Some(1.3462), "人/10万人"), "1.35 人/10万人");
        assert_eq!(value(Some(64.0353), "%"), "64.04%");
        assert_eq!(value(None, "%"), "—");
        assert_eq!(num(f64::NAN, 2), "—");
        assert_eq!(fixed(81.0), "81.00");
    }
}
