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
    /// Up to three of those comments, of different texts (indexes for
    /// `Corpus::comment`).
    pub examples: Vec<usize>,
    /// Words that come with this one: most comments naming one of them
    /// name this word too, so they are one problem, not several rows
    /// (门禁 with 外来人员 and 形同虚设).
    pub related: Vec<String>,
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

    /// The `n` words most named by the comments whose region is `within`,
    /// words that come with a word ranked above them folded into it.
    pub fn keywords(&self, within: impl Fn(usize) -> bool, n: usize) -> Keywords {
        let all = self.comments.len().max(1) as f64;
        let mine: Vec<usize> = (0..self.comments.len())
            .filter(|&i| within(self.comments[i].region))
            .collect();
        let mut counts: FxHashMap<u32, usize> = FxHashMap::default();
        for &i in &mine {
            for &w in &self.of[i] {
                *counts.entry(w).or_default() += 1;
            }
        }
        let score = |w: u32, count: usize| {
            count as f64 * (all / f64::from(self.df[w as usize])).ln().max(0.01)
        };
        // Once is chance; a problem is named by more than one person.
        // Most named first, so that a group is led by its widest word.
        let mut ranked: Vec<(u32, usize)> = counts.into_iter().filter(|(_, c)| *c >= 2).collect();
        ranked.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then(score(b.0, b.1).total_cmp(&score(a.0, a.1)))
                .then(self.words[a.0 as usize].cmp(&self.words[b.0 as usize]))
        });
        // The words that can make the first `n` rows (and cheap to group).
        ranked.truncate(n.saturating_mul(10).clamp(100, 2000));
        let slot: FxHashMap<u32, usize> = ranked
            .iter()
            .enumerate()
            .map(|(k, (w, _))| (*w, k))
            .collect();
        let mut postings: Vec<Vec<usize>> = vec![Vec::new(); ranked.len()];
        for &i in &mine {
            for w in &self.of[i] {
                if let Some(&k) = slot.get(w) {
                    postings[k].push(i);
                }
            }
        }
        let mut rows: Vec<Keyword> = Vec::new();
        // word → the row it leads
        let mut leads: FxHashMap<u32, usize> = FxHashMap::default();
        for (k, &(w, count)) in ranked.iter().enumerate() {
            // The comments naming `w` that also name each row's lead.
            let mut hits: FxHashMap<usize, usize> = FxHashMap::default();
            for &i in &postings[k] {
                for other in &self.of[i] {
                    if let Some(&r) = leads.get(other) {
                        *hits.entry(r).or_default() += 1;
                    }
                }
            }
            let best = hits
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
            if let Some((r, together)) = best
                && together * 5 >= count * 4
            {
                let row = &mut rows[r];
                row.related.push(self.words[w as usize].clone());
                // A group ranks by its most telling word.
                row.score = row.score.max(score(w, row.count));
                continue;
            }
            let mut examples: Vec<usize> = Vec::new();
            for &i in &postings[k] {
                let text = &self.comments[i].text;
                if !examples.iter().any(|&e| self.comments[e].text == *text) {
                    examples.push(i);
                    if examples.len() == 3 {
                        break;
                    }
                }
            }
            leads.insert(w, rows.len());
            rows.push(Keyword {
                word: self.words[w as usize].clone(),
                count,
                score: score(w, count),
                examples,
                related: Vec::new(),
            });
        }
        rows.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.count.cmp(&a.count))
                .then(a.word.cmp(&b.word))
        });
        rows.truncate(n);
        Keywords {
            comments: mine.len(),
            words: rows,
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
        assert!(one.words[0].related.is_empty(), "{one:?}");
        let two = corpus.keywords(|r| r == 2, 10);
        assert_eq!(two.words[0].word, "电信诈骗", "{two:?}");
        assert!(
            two.words.iter().all(|k| k.count >= 2),
            "a single mention is no problem"
        );
        let all = corpus.keywords(|_| true, 1);
        assert_eq!((all.comments, all.words.len()), (7, 1));
        // Words that always come together are one row; the same text twice
        // is one example.
        let c2 = Corpus::new(vec![
            c(1, "小区门禁形同虚设，外来人员随便进出"),
            c(1, "小区门禁形同虚设，外来人员随便进出"),
            c(1, "小区门禁形同虚设"),
            c(1, "电动车飞线充电"),
            c(1, "电动车飞线充电太危险"),
        ]);
        let k = c2.keywords(|_| true, 5);
        assert_eq!(k.words.len(), 2, "{k:?}");
        let gate = k
            .words
            .iter()
            .find(|w| w.related.iter().any(|r| r == "形同虚设") || w.word == "形同虚设")
            .unwrap();
        assert_eq!(gate.count, 3);
        assert_eq!(gate.examples.len(), 2, "{gate:?}");
    }
}
