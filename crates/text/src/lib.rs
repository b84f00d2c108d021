//! Citizens' comments read as problems (issue 18, seed §7.3): the free text
//! of the questionnaire and of the opinion box, segmented with jieba plus
//! the product's own 平安建设 dictionary (`dict/pingan.dict`: 网格员,
//! 电信诈骗, 飞线充电 … stay one word) and stop words (`dict/stopwords.txt`,
//! written for this product, under its licence), counted per region as the
//! problems people name most. Numbers were taken out before storage
//! (`pingan_core::redact`); their marks are no words.

mod corpus;

pub use corpus::{Comment, Corpus, Keyword, Keywords};

use jieba_rs::Jieba;
use rustc_hash::FxHashSet;
use std::sync::OnceLock;

/// The domain dictionary, in jieba's format (word, frequency, part of speech).
pub const DICT: &str = include_str!("../dict/pingan.dict");
/// Words that name no problem, one per line (`#` starts a comment).
pub const STOP_WORDS: &str = include_str!("../dict/stopwords.txt");

fn jieba() -> &'static Jieba {
    static J: OnceLock<Jieba> = OnceLock::new();
    J.get_or_init(|| {
        let mut j = Jieba::new();
        for line in DICT.lines().filter(|l| !l.starts_with('#')) {
            let mut f = line.split_whitespace();
            if let Some(word) = f.next() {
                let freq = f.next().and_then(|n| n.parse().ok());
                j.add_word(word, freq, f.next());
            }
        }
        j
    })
}

fn stop_words() -> &'static FxHashSet<&'static str> {
    static S: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    S.get_or_init(|| {
        STOP_WORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// A word worth counting: two characters or more, some of them letters
/// (not a number, not punctuation), not a stop word.
fn counts(word: &str) -> bool {
    word.chars().count() >= 2
        && word.chars().any(char::is_alphabetic)
        && !stop_words().contains(word)
}

/// The words of `text` that can name a problem, each once, in the order
/// they first appear.
pub fn terms(text: &str) -> Vec<String> {
    let mut clean = text.to_string();
    for mark in [
        pingan_core::redact::PHONE,
        pingan_core::redact::ID_CARD,
        pingan_core::redact::CARD,
    ] {
        clean = clean.replace(mark, " ");
    }
    let mut seen = FxHashSet::default();
    jieba()
        .cut(&clean, true)
        .into_iter()
        .map(|t| t.word.trim())
        .filter(|w| counts(w) && seen.insert(*w))
        .map(str::to_string)
        .collect()
}

/// Load the dictionary now, not in the first request that needs it.
pub fn warm_up() {
    let _ = terms("平安建设");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn domain_words_stay_whole_and_noise_goes() {
        let t = terms("小区里飞线充电很多，电动车乱停乱放，希望加强夜间巡逻！电话〔电话已隐去〕");
        for w in ["飞线充电", "电动车", "乱停乱放", "夜间巡逻"] {
            assert!(t.iter().any(|x| x == w), "{w} in {t:?}");
        }
        for w in ["希望", "加强", "很多", "电话已隐去", "隐去", "，"] {
            assert!(!t.iter().any(|x| x == w), "{w} not in {t:?}");
        }
        assert_eq!(
            terms("路灯路灯路灯")
                .iter()
                .filter(|w| *w == "路灯")
                .count(),
            1
        );
        assert!(terms("2024 12345 ！！").is_empty());
    }

    proptest! {
        #[test]
        fn any_text_segments(s in "\\PC{0,80}") {
            for w in terms(&s) {
                prop_assert!(w.chars().count() >= 2);
            }
        }
    }
}
