//! Phone, ID-card and bank-card numbers taken out of what citizens write
//! before it is stored (个人信息保护法: minimum necessary). People put their
//! number in a comment so that someone calls back; the survey is anonymous
//! and its comments are read by many, so the number goes and a mark says
//! that something was there.
//!
//! A number is a run of digits (ASCII or full-width) in which a single
//! hyphen or space may separate groups ("138-1234-5678", "0571 8888 8888").
//! By its digits: 11 starting with 1 (a mobile number, "+86"/"86" before it
//! allowed), 10 to 12 starting with 0 (a landline with its area code), 15,
//! or 18 (17 and a final X) is an ID card; 16 to 19 otherwise a bank card.
//! Shorter runs (years, counts, the 12345 hotline, a local number without
//! its area code) are left alone: too many of them are not personal.

use std::borrow::Cow;

pub const PHONE: &str = "〔电话已隐去〕";
pub const ID_CARD: &str = "〔身份证号已隐去〕";
pub const CARD: &str = "〔卡号已隐去〕";

fn digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '０'..='９' => Some((c as u32 - '０' as u32) as u8),
        _ => None,
    }
}

/// What a run of digits is, if personal.
fn kind(d: &[u8], x_last: bool) -> Option<&'static str> {
    let n = d.len();
    if x_last {
        return (n == 17).then_some(ID_CARD);
    }
    let mobile = |d: &[u8]| d.len() == 11 && d[0] == 1 && (3..=9).contains(&d[1]);
    if mobile(d) || (n == 13 && d[0] == 8 && d[1] == 6 && mobile(&d[2..])) {
        return Some(PHONE);
    }
    match n {
        10..=12 if d[0] == 0 => Some(PHONE),
        15 | 18 => Some(ID_CARD),
        16 | 17 | 19 => Some(CARD),
        _ => None,
    }
}

/// `text` with every phone, ID-card and bank-card number replaced by a
/// mark; borrowed when there was none.
pub fn redact(text: &str) -> Cow<'_, str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `text` already in `out`
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i].1).is_none() {
            i += 1;
            continue;
        }
        // A run: digits, single separators between digits, maybe an X.
        let start = i;
        let mut digits = Vec::new();
        let mut end = i; // one past the run's last char
        let mut x_last = false;
        let mut j = i;
        while j < chars.len() {
            let c = chars[j].1;
            if let Some(v) = digit(c) {
                digits.push(v);
                j += 1;
                end = j;
            } else if (c == '-' || c == ' ')
                && j + 1 < chars.len()
                && digit(chars[j + 1].1).is_some()
                && end == j
            {
                j += 1;
            } else {
                if (c == 'X' || c == 'x') && end == j {
                    x_last = true;
                    end = j + 1;
                }
                break;
            }
        }
        // "+86" belongs to the number it starts.
        let mut from = start;
        if start > 0 && chars[start - 1].1 == '+' {
            from = start - 1;
        }
        // An X that does not end an ID number is a letter after a number.
        let mut found = kind(&digits, x_last);
        if found.is_none() && x_last {
            end -= 1;
            found = kind(&digits, false);
        }
        if let Some(mark) = found {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            let (a, b) = (chars[from].0, chars.get(end).map_or(text.len(), |c| c.0));
            o.push_str(&text[copied..a]);
            o.push_str(mark);
            copied = b;
        }
        i = end.max(i + 1);
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_go_the_rest_stays() {
        for (given, want) in [
            ("请打电话13812345678联系我", "请打电话〔电话已隐去〕联系我"),
            ("电话 138-1234-5678。", "电话 〔电话已隐去〕。"),
            ("+86 13912345678", "〔电话已隐去〕"),
            ("座机0571-88886666", "座机〔电话已隐去〕"),
            ("身份证110101199003071234", "身份证〔身份证号已隐去〕"),
            ("身份证11010119900307123X号", "身份证〔身份证号已隐去〕号"),
            ("卡号6222 0212 3456 7890 123", "卡号〔卡号已隐去〕"),
            ("１３８１２３４５６７８", "〔电话已隐去〕"),
            ("2024年10月8日晚上9点", "2024年10月8日晚上9点"),
            ("2024-10-08 21:00 打了12345", "2024-10-08 21:00 打了12345"),
            ("被骗了 20000 元，110 没人接", "被骗了 20000 元，110 没人接"),
            ("3号楼-2单元", "3号楼-2单元"),
        ] {
            assert_eq!(redact(given), want, "{given}");
        }
        assert!(matches!(redact("路灯不亮"), Cow::Borrowed(_)));
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(s in "\\PC{0,60}") {
            let once = redact(&s).into_owned();
            prop_assert_eq!(redact(&once).into_owned(), once);
        }

        #[test]
        fn a_mobile_number_anywhere_goes(pre in "[\\p{Han}a-z ]{0,10}", n in 0u64..1_000_000_000, post in "[\\p{Han}a-z ]{0,10}") {
            let phone = format!("13{n:09}");
            let t = format!("{pre}{phone}{post}");
            prop_assert!(!redact(&t).contains(&phone));
        }
    }
}
