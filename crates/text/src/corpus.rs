//! The comments of a year, segmented once, and the words most named in any
//! part of the province: per word, the comments that name it (a comment
//! counts once however often it repeats a word), ranked by TF-IDF with the
//! province's comments as the documents, so a word everyone uses everywhere
//! ranks below one that marks a place, and shown with its count.

use rustc_hash::FxHashMap;

/// One comment: where it was made, where it came from (a question's label,
/// 意见箱) and its text.
#[derive(Clone, Debug)]
pub struct Comment {
    /// A region index of the tree it was read with.
    pub region: usize,
    pub source: String,
    pub text: String,
}

pub struct Corpus {
    comments: Vec<Comment>,
    words: Vec<String>,
    /// Per comment, the ids of its words.
    of: Vec<Vec<u32>>,
    /// Per word, the comments in the province that name it.
    df: Vec<u32>,
}

/// A word and how often it was named in the part asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Keyword {
    pub word: String,
    /// Comments naming it.
    pub count: usize,
    /// count × ln(all comments / comments naming it anywhere).
    pub score: f64,
    /// Up to three of those comments (indexes for `Corpus::comment`).
    pub examples: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Keywords {
    /// Comments in the part asked for.
    pub comments: usize,
    pub words: Vec<Keyword>,
}

impl Corpus {
    pub fn new(comments: Vec<Comment>) -> Corpus {
        let segmented = pingan_core::par::map_from(&comments, 512, |c| crate::terms(&c.text));
        let mut ids: FxHashMap<String, u32> = FxHashMap::default();
        let mut words = Vec::new();
        let mut df: Vec<u32> = Vec::new();
        let mut of = Vec::with_capacity(comments.len());
        for terms in segmented {
            let mut mine = Vec::with_capacity(terms.len());
            for t in terms {
                let id = *ids.entry(t).or_insert_with_key(|k| {
                    words.push(k.clone());
                    df.push(0);
                    (words.len() - 1) as u32
                });
                df[id as usize] += 1;
                mine.push(id);
            }
            of.push(mine);
        }
        Corpus {
            comments,
            words,
            of,
            df,
        }
    }

    pub fn len(&self) -> usize {
        self.comments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.comments.is_empty()
    }

    pub fn comment(&self, i: usize) -> &Comment {
        &self.comments[i]
    }

    /// The `n` words most named by the comments whose region is `within`.
    pub fn keywords(&self, within: impl Fn(usize) -> bool, n: usize) -> Keywords {
        let all = self.comments.len().max(1) as f64;
        let mut counts: FxHashMap<u32, (usize, Vec<usize>)> = FxHashMap::default();
        let mut docs = 0;
        for (i, c) in self.comments.iter().enumerate() {
            if !within(c.region) {
                continue;
            }
            docs += 1;
            for &w in &self.of[i] {
                let e = counts.entry(w).or_default();
                e.0 += 1;
                if e.1.len() < 3 {
                    e.1.push(i);
                }
            }
        }
        let mut words: Vec<Keyword> = counts
            .into_iter()
            // Once is chance; a problem is named by more than one person.
            .filter(|(_, (count, _))| *count >= 2)
            .map(|(w, (count, examples))| Keyword {
                word: self.words[w as usize].clone(),
                count,
                score: count as f64 * (all / f64::from(self.df[w as usize])).ln().max(0.01),
                examples,
            })
            .collect();
        words.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.count.cmp(&a.count))
                .then(a.word.cmp(&b.word))
        });
        words.truncate(n);
        Keywords {
            comments: docs,
            words,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(region: usize, text: &str) -> Comment {
        Comment {
            region,
            source: "问卷".into(),
            text: text.into(),
        }
    }

    #[test]
    fn counts_per_part_ranked_by_what_marks_it() {
        let corpus = Corpus::new(vec![
            c(1, "晚上路灯不亮，治安巡逻太少"),
            c(1, "路灯坏了没人修"),
            c(1, "路灯不足，夜间不安全"),
            c(2, "电信诈骗电话太多"),
            c(2, "老人被电信诈骗骗了钱"),
            c(2, "路灯还可以"),
            c(2, "治安巡逻少"),
        ]);
        let one = corpus.keywords(|r| r == 1, 10);
        assert_eq!(one.comments, 3);
        assert_eq!(one.words[0].word, "路灯");
        assert_eq!(one.words[0].count, 3);
        assert_eq!(one.words[0].examples, vec![0, 1, 2]);
        let two = corpus.keywords(|r| r == 2, 10);
        assert_eq!(two.words[0].word, "电信诈骗", "{two:?}");
        assert!(
            two.words.iter().all(|k| k.count >= 2),
            "a single mention is no problem"
        );
        let all = corpus.keywords(|_| true, 1);
        assert_eq!((all.comments, all.words.len()), (7, 1));
    }
}
