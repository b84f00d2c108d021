//! What a Chinese Excel saves as "CSV" is GB18030 (or GBK, its subset);
//! anything that is not valid UTF-8 is read that way.

use std::borrow::Cow;

pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s.strip_prefix('\u{feff}').unwrap_or(s)),
        Err(_) => {
            let (text, _, _) = encoding_rs::GB18030.decode(bytes);
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_and_gb18030() {
        assert_eq!(decode("code,name\n".as_bytes()), "code,name\n");
        assert_eq!(decode("\u{feff}地区".as_bytes()), "地区");
        let (gb, _, _) = encoding_rs::GB18030.encode("平安省,省");
        assert_eq!(decode(&gb), "平安省,省");
    }
}
