//! values.csv rows. Hand-rolled number formatting: the file has millions of
//! rows and `format!` per value would dominate the generation time.

use crate::elements::{ELEMENTS, Format, Kind, N_MONTHLY};
use crate::model::Block;

pub(crate) fn uint(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

/// A value stored in units of its last digit (tenths, hundredths).
pub(crate) fn scaled(out: &mut String, v: u64, format: Format) {
    let (div, width) = match format {
        Format::Int => return uint(out, v),
        Format::Tenths => (10, 1),
        Format::Hundredths => (100, 2),
    };
    uint(out, v / div);
    out.push('.');
    let frac = v % div;
    if width == 2 && frac < 10 {
        out.push('0');
    }
    uint(out, frac);
}

/// Rows of one township-year: elements in table order, months within each.
pub(crate) fn block(out: &mut String, code: &str, year: i32, b: &Block, source_col: bool) {
    let y = year.to_string();
    let months: [String; 12] = std::array::from_fn(|m| format!("{y}-{:02}", m + 1));
    for (e, el) in ELEMENTS.iter().enumerate() {
        match el.kind {
            Kind::Flow | Kind::Snapshot => {
                for (m, period) in months.iter().enumerate() {
                    row(
                        out,
                        code,
                        period,
                        el.code,
                        b.monthly[e][m],
                        el.format,
                        source_col,
                    );
                }
            }
            Kind::Rating | Kind::Survey => {
                row(
                    out,
                    code,
                    &y,
                    el.code,
                    b.annual[e - N_MONTHLY],
                    el.format,
                    source_col,
                );
            }
        }
    }
}

fn row(
    out: &mut String,
    code: &str,
    period: &str,
    element: &str,
    v: u64,
    format: Format,
    source_col: bool,
) {
    out.push_str(code);
    out.push(',');
    out.push_str(period);
    out.push(',');
    out.push_str(element);
    out.push(',');
    scaled(out, v, format);
    if source_col {
        out.push(',');
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut s = String::new();
        for (v, f) in [
            (0, Format::Int),
            (1234567, Format::Int),
            (u64::MAX, Format::Int),
            (0, Format::Tenths),
            (875, Format::Tenths),
            (405, Format::Hundredths),
            (400, Format::Hundredths),
            (7, Format::Hundredths),
        ] {
            scaled(&mut s, v, f);
            s.push(' ');
        }
        assert_eq!(s, "0 1234567 18446744073709551615 0.0 87.5 4.05 4.00 0.07 ");
    }
}
