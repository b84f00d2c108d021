//! Free text from users (notes, reasons, comments, sources, ids): one rule
//! for every channel. Text is normalised to NFC, so the same words typed on
//! two systems compare equal; characters that hide or reorder what a reader
//! sees (controls, bidirectional overrides, zero-width marks) are refused
//! rather than silently dropped, so nothing stored differs from what was
//! sent except by normalisation; each field has a length limit in
//! characters (docs/limits.md lists them).

use unicode_normalization::UnicodeNormalization;

/// One kind of free-text field and its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The field as a user knows it (备注, 来源 …).
    pub label: &'static str,
    /// Most characters (after normalisation).
    pub max_chars: usize,
    /// Line breaks allowed (a note may have several lines; an id may not).
    pub multiline: bool,
}

/// A note, reason or comment: a paragraph or a few.
pub const NOTE: Field = Field {
    label: "说明",
    max_chars: 2000,
    multiline: true,
};
/// A value's or a case's source (报送来源): a short name.
pub const SOURCE: Field = Field {
    label: "来源",
    max_chars: 100,
    multiline: false,
};
/// An identifier typed by a user (案件编号, a checklist item, a name).
pub const SHORT: Field = Field {
    label: "名称",
    max_chars: 200,
    multiline: false,
};

impl Field {
    /// The same limits under another label (the form's own word).
    pub const fn named(self, label: &'static str) -> Field {
        Field { label, ..self }
    }
}

/// Characters a reader cannot see or that reorder what they see: C0/C1
/// controls (tab and line breaks allowed in multi-line fields), the
/// bidirectional embeddings, overrides and isolates, zero-width marks and
/// the byte-order mark.
fn hidden(c: char, multiline: bool) -> bool {
    match c {
        '\n' | '\t' => !multiline,
        '\r' => !multiline,
        c if c.is_control() => true,
        '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM/RLM
        | '\u{202A}'..='\u{202E}' // embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // isolates
        | '\u{FEFF}' => true,
        _ => false,
    }
}

/// How a hidden character is named in a message.
fn describe(c: char) -> String {
    match c {
        '\0' => "空字符（NUL）".into(),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            format!("文字方向控制字符（U+{:04X}）", c as u32)
        }
        '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' => {
            format!("零宽字符（U+{:04X}）", c as u32)
        }
        '\n' | '\r' => "换行".into(),
        _ => format!("控制字符（U+{:04X}）", c as u32),
    }
}

/// A message as a reader will see it: hidden characters quoted from the
/// input (a NUL in a region code, a bidi override in a name) written out
/// as `[U+0000]`, so the message shows where the input is wrong instead
/// of hiding it too. Line breaks stay.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| hidden(c, true)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c, true) {
            out.push_str(&format!("[U+{:04X}]", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The text as it will be stored: trimmed, NFC, CRLF as LF; or why not.
pub fn clean(field: Field, s: &str) -> Result<String, String> {
    let s = s.trim();
    if let Some(c) = s.chars().find(|c| hidden(*c, field.multiline)) {
        return Err(format!("{}不能含有{}", field.label, describe(c)));
    }
    let out: String = s.replace("\r\n", "\n").nfc().collect();
    let n = out.chars().count();
    if n > field.max_chars {
        return Err(format!(
            "{}过长：{} 个字符，最多 {} 个",
            field.label, n, field.max_chars
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_hidden_characters() {
        assert_eq!(visible("地区“9901\u{0}01”"), "地区“9901[U+0000]01”");
        assert_eq!(
            visible("名称“a\u{202E}b”\n第二行"),
            "名称“a[U+202E]b”\n第二行"
        );
        assert!(matches!(visible("平常"), std::borrow::Cow::Borrowed(_)));
    }
    use proptest::prelude::*;

    #[test]
    fn refuses_what_hides_or_reorders_text() {
        for bad in [
            "a\0b",
            "a\u{202E}b",
            "a\u{200B}b",
            "\u{FEFF}x y",
            "a\u{7}b",
            "a\u{2066}b",
        ] {
            let e = clean(NOTE, bad).unwrap_err();
            assert!(e.starts_with("说明不能含有"), "{bad:?}: {e}");
        }
        assert!(clean(SOURCE, "a\nb").unwrap_err().contains("换行"));
        assert_eq!(clean(NOTE, " 两行\r\n说明 ").unwrap(), "两行\n说明");
    }

    #[test]
    fn normalises_to_nfc_and_counts_characters() {
        assert_eq!(clean(SHORT, "e\u{301}").unwrap(), "\u{e9}");
        assert!(clean(NOTE, &"字".repeat(2000)).is_ok());
        let e = clean(NOTE, &"字".repeat(2001)).unwrap_err();
        assert_eq!(e, "说明过长：2001 个字符，最多 2000 个");
        assert!(
            clean(NOTE.named("关闭原因"), &"x".repeat(2_000_001))
                .unwrap_err()
                .starts_with("关闭原因过长")
        );
    }

    proptest! {
        #[test]
        fn what_is_kept_has_nothing_hidden(s in ".{0,64}") {
            if let Ok(t) = clean(NOTE, &s) {
                prop_assert!(!t.chars().any(|c| hidden(c, true)));
                prop_assert!(t.chars().count() <= NOTE.max_chars);
                prop_assert_eq!(clean(NOTE, &t), Ok(t.clone()));
            }
        }
    }
}
