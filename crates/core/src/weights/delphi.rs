//! 德尔菲法 (Delphi): per-round item statistics, Kendall's coefficient of
//! concordance W with its χ² test, expert authority Cr and a consensus
//! verdict per round.
//!
//! Definitions (the textbook ones, so an independent implementation agrees):
//! - item mean, sample SD (ddof = 1), CV = SD / mean, full-mark ratio = share
//!   of the round's experts who gave the top of the scale;
//! - each expert's scores are ranked ascending (the highest score gets rank
//!   n), ties get the average of the ranks they span; R_i = Σ ranks of item i,
//!   S = Σ(R_i − R̄)², W = 12S / (m²(n³ − n) − m·ΣT_j) with T_j = Σ(t³ − t)
//!   over the tie groups of expert j; χ² = m(n − 1)W, df = n − 1,
//!   p = P(χ²_{n−1} ≥ χ²). m = experts, n = items of the round;
//! - authority Cr = (Ca + Cs) / 2.

use rustc_hash::FxHashMap;
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};
use std::collections::BTreeMap;

/// One expert's score of one item in one round, with the line it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    pub line: usize,
    pub round: u32,
    pub expert: String,
    pub item: String,
    pub score: f64,
}

/// One expert's authority: Ca 判断系数 (basis of judgement) and Cs 熟悉程度
/// (familiarity), both in [0, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct Authority {
    pub line: usize,
    pub expert: String,
    pub ca: f64,
    pub cs: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DelphiOptions {
    /// 5 or 10: scores run from 1 to `scale`.
    pub scale: u32,
    /// Significance level of the χ² test of W.
    pub alpha: f64,
    /// An item reaches consensus when its CV is below this.
    pub max_cv: f64,
}

impl Default for DelphiOptions {
    fn default() -> Self {
        DelphiOptions {
            scale: 5,
            alpha: 0.05,
            max_cv: 0.25,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemStats {
    pub item: String,
    pub mean: f64,
    pub sd: f64,
    pub cv: f64,
    pub full_mark_ratio: f64,
    /// R_i: the sum over experts of this item's rank (ascending, so the
    /// larger the sum the more important the panel judged the item).
    pub rank_sum: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundResult {
    pub round: u32,
    pub experts: usize,
    /// Kendall's W with the tie correction.
    pub w: f64,
    pub chi2: f64,
    pub df: usize,
    pub p: f64,
    /// p < alpha.
    pub w_significant: bool,
    /// `w_significant` and no failing item.
    pub consensus: bool,
    /// Items whose CV ≥ max_cv, in item order.
    pub failing_items: Vec<String>,
    pub items: Vec<ItemStats>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuthorityResult {
    pub expert: String,
    pub ca: f64,
    pub cs: f64,
    pub cr: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DelphiResult {
    pub rounds: Vec<RoundResult>,
    pub authority: Vec<AuthorityResult>,
}

/// Which input an error's line belongs to: scores and authority come from
/// different files, and the CLI must name the right one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DelphiFile {
    Scores,
    Authority,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DelphiError {
    #[error("量表应为 5 分制或 10 分制，而不是 {0} 分制")]
    Scale(u32),
    #[error("显著性水平应大于 0 且小于 1，而不是 {0}")]
    Alpha(f64),
    #[error("变异系数阈值应为正数，而不是 {0}")]
    MaxCv(f64),
    #[error("没有任何专家评分")]
    NoScores,
    #[error("{what}名称为空")]
    BlankName {
        line: usize,
        file: DelphiFile,
        what: &'static str,
    },
    #[error("第 {round} 轮专家“{expert}”对“{item}”的评分 {score} 不在 1 到 {scale} 之间")]
    OutOfScale {
        line: usize,
        round: u32,
        expert: String,
        item: String,
        score: f64,
        scale: u32,
    },
    #[error("第 {round} 轮专家“{expert}”对“{item}”重复评分（第 {first_line} 行已有评分）")]
    DuplicateScore {
        line: usize,
        first_line: usize,
        round: u32,
        expert: String,
        item: String,
    },
    #[error("第 {round} 轮只有 {experts} 位专家评分：肯德尔和谐系数至少需要 2 位专家")]
    TooFewExperts {
        line: usize,
        round: u32,
        experts: usize,
    },
    #[error("第 {round} 轮只有 {items} 个条目：肯德尔和谐系数至少需要 2 个条目")]
    TooFewItems {
        line: usize,
        round: u32,
        items: usize,
    },
    #[error(
        "第 {round} 轮专家“{expert}”没有对{}评分：肯德尔和谐系数需要每位专家对本轮全部条目评分",
        quoted(.missing)
    )]
    Incomplete {
        line: usize,
        round: u32,
        expert: String,
        missing: Vec<String>,
    },
    #[error("专家“{expert}”的{what} {value} 不在 0 到 1 之间")]
    AuthorityRange {
        line: usize,
        expert: String,
        what: &'static str,
        value: f64,
    },
    #[error("专家“{expert}”在评分中没有出现，不能给出其权威系数")]
    UnknownExpert { line: usize, expert: String },
    #[error("专家“{expert}”的权威系数重复（第 {first_line} 行已给出）")]
    DuplicateAuthority {
        line: usize,
        first_line: usize,
        expert: String,
    },
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("“{n}”"))
        .collect::<Vec<_>>()
        .join("、")
}

impl DelphiError {
    /// The file and line to put before the message, when the error has one.
    pub fn location(&self) -> Option<(DelphiFile, usize)> {
        use DelphiError::*;
        match self {
            Scale(_) | Alpha(_) | MaxCv(_) | NoScores => None,
            BlankName { line, file, .. } => Some((*file, *line)),
            OutOfScale { line, .. }
            | DuplicateScore { line, .. }
            | TooFewExperts { line, .. }
            | TooFewItems { line, .. }
            | Incomplete { line, .. } => Some((DelphiFile::Scores, *line)),
            AuthorityRange { line, .. }
            | UnknownExpert { line, .. }
            | DuplicateAuthority { line, .. } => Some((DelphiFile::Authority, *line)),
        }
    }
}

/// Kendall's W of one complete score table, tie-corrected.
#[derive(Clone, Debug, PartialEq)]
pub struct Concordance {
    pub w: f64,
    pub chi2: f64,
    pub df: usize,
    pub p: f64,
    /// R_i per item (ascending ranks).
    pub rank_sums: Vec<f64>,
}

/// Average ranks (1-based, ascending) of `xs` and Σ(t³ − t) over its tie
/// groups.
pub fn average_ranks(xs: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut ranks = vec![0.0; xs.len()];
    let mut ties = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && xs[order[end + 1]] == xs[order[start]] {
            end += 1;
        }
        // Positions start..=end (0-based) hold ranks start+1..=end+1.
        let rank = (start + end + 2) as f64 / 2.0;
        for &k in &order[start..=end] {
            ranks[k] = rank;
        }
        let t = (end - start + 1) as f64;
        ties += t * t * t - t;
        start = end + 1;
    }
    (ranks, ties)
}

/// Kendall's W of `table[expert][item]` (every row the same length n ≥ 2,
/// at least 2 rows).
///
/// When the denominator m²(n³ − n) − mΣT is 0 every expert gave all items
/// the same score: the rankings carry no order to agree on, so W is
/// reported as 0, χ² = 0 and p = 1 (no evidence of concordance) rather
/// than NaN.
pub fn kendall_w(table: &[Vec<f64>]) -> Concordance {
    let m = table.len();
    let n = table.first().map_or(0, Vec::len);
    let mut rank_sums = vec![0.0; n];
    let mut ties = 0.0;
    for row in table {
        let (ranks, t) = average_ranks(row);
        for (sum, r) in rank_sums.iter_mut().zip(&ranks) {
            *sum += r;
        }
        ties += t;
    }
    let (mf, nf) = (m as f64, n as f64);
    let mean = mf * (nf + 1.0) / 2.0;
    let s: f64 = rank_sums.iter().map(|r| (r - mean) * (r - mean)).sum();
    let denominator = mf * mf * (nf * nf * nf - nf) - mf * ties;
    let df = n.saturating_sub(1);
    if denominator <= 0.0 {
        return Concordance {
            w: 0.0,
            chi2: 0.0,
            df,
            p: 1.0,
            rank_sums,
        };
    }
    let w = 12.0 * s / denominator;
    let chi2 = mf * (nf - 1.0) * w;
    Concordance {
        w,
        chi2,
        df,
        p: chi2_sf(chi2, df),
        rank_sums,
    }
}

/// P(χ²_df ≥ x), the upper tail through statrs's regularized incomplete
/// gamma.
pub fn chi2_sf(x: f64, df: usize) -> f64 {
    match ChiSquared::new(df as f64) {
        Ok(dist) => dist.sf(x),
        // Only df = 0 is refused; kendall_w never asks for it.
        Err(_) => f64::NAN,
    }
}

struct RoundData {
    first_line: usize,
    /// (expert, item) → (score, line)
    cells: FxHashMap<(usize, usize), (f64, usize)>,
}

/// Every Delphi round of `scores` and the authority of the experts in
/// `authority` (which may be empty).
pub fn analyse(
    scores: &[Score],
    authority: &[Authority],
    opts: &DelphiOptions,
) -> Result<DelphiResult, DelphiError> {
    if opts.scale != 5 && opts.scale != 10 {
        return Err(DelphiError::Scale(opts.scale));
    }
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(DelphiError::Alpha(opts.alpha));
    }
    if !(opts.max_cv > 0.0 && opts.max_cv.is_finite()) {
        return Err(DelphiError::MaxCv(opts.max_cv));
    }
    if scores.is_empty() {
        return Err(DelphiError::NoScores);
    }
    let top = f64::from(opts.scale);

    let mut experts: Vec<&str> = Vec::new();
    let mut expert_id: FxHashMap<&str, usize> = FxHashMap::default();
    let mut items: Vec<&str> = Vec::new();
    let mut item_id: FxHashMap<&str, usize> = FxHashMap::default();
    let mut rounds: BTreeMap<u32, RoundData> = BTreeMap::new();
    for s in scores {
        for (name, what) in [(&s.expert, "专家"), (&s.item, "条目")] {
            if name.trim().is_empty() {
                return Err(DelphiError::BlankName {
                    line: s.line,
                    file: DelphiFile::Scores,
                    what,
                });
            }
        }
        // Written as a negated range test so NaN fails it too.
        if !(s.score >= 1.0 && s.score <= top) {
            return Err(DelphiError::OutOfScale {
                line: s.line,
                round: s.round,
                expert: s.expert.clone(),
                item: s.item.clone(),
                score: s.score,
                scale: opts.scale,
            });
        }
        let e = *expert_id.entry(&s.expert).or_insert_with(|| {
            experts.push(&s.expert);
            experts.len() - 1
        });
        let i = *item_id.entry(&s.item).or_insert_with(|| {
            items.push(&s.item);
            items.len() - 1
        });
        let round = rounds.entry(s.round).or_insert_with(|| RoundData {
            first_line: s.line,
            cells: FxHashMap::default(),
        });
        if let Some(&(_, first_line)) = round.cells.get(&(e, i)) {
            return Err(DelphiError::DuplicateScore {
                line: s.line,
                first_line,
                round: s.round,
                expert: s.expert.clone(),
                item: s.item.clone(),
            });
        }
        round.cells.insert((e, i), (s.score, s.line));
    }

    let authority = check_authority(authority, &expert_id)?;

    let mut results = Vec::with_capacity(rounds.len());
    for (&number, data) in &rounds {
        results.push(analyse_round(number, data, &experts, &items, top, opts)?);
    }
    Ok(DelphiResult {
        rounds: results,
        authority,
    })
}

fn check_authority(
    rows: &[Authority],
    expert_id: &FxHashMap<&str, usize>,
) -> Result<Vec<AuthorityResult>, DelphiError> {
    let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
    let mut out = Vec::with_capacity(rows.len());
    for a in rows {
        if a.expert.trim().is_empty() {
            return Err(DelphiError::BlankName {
                line: a.line,
                file: DelphiFile::Authority,
                what: "专家",
            });
        }
        for (value, what) in [(a.ca, "判断系数 Ca"), (a.cs, "熟悉程度 Cs")] {
            if !(0.0..=1.0).contains(&value) {
                return Err(DelphiError::AuthorityRange {
                    line: a.line,
                    expert: a.expert.clone(),
                    what,
                    value,
                });
            }
        }
        if !expert_id.contains_key(a.expert.as_str()) {
            return Err(DelphiError::UnknownExpert {
                line: a.line,
                expert: a.expert.clone(),
            });
        }
        if let Some(&first_line) = seen.get(a.expert.as_str()) {
            return Err(DelphiError::DuplicateAuthority {
                line: a.line,
                first_line,
                expert: a.expert.clone(),
            });
        }
        seen.insert(&a.expert, a.line);
        out.push(AuthorityResult {
            expert: a.expert.clone(),
            ca: a.ca,
            cs: a.cs,
            cr: (a.ca + a.cs) / 2.0,
        });
    }
    Ok(out)
}

fn analyse_round(
    number: u32,
    data: &RoundData,
    experts: &[&str],
    items: &[&str],
    top: f64,
    opts: &DelphiOptions,
) -> Result<RoundResult, DelphiError> {
    // Ids number names in order of first appearance in the whole file, so
    // sorted ids keep that order even where a round lists things otherwise.
    let mut round_experts: Vec<usize> = data.cells.keys().map(|&(e, _)| e).collect();
    round_experts.sort_unstable();
    round_experts.dedup();
    let mut round_items: Vec<usize> = data.cells.keys().map(|&(_, i)| i).collect();
    round_items.sort_unstable();
    round_items.dedup();

    if round_experts.len() < 2 {
        return Err(DelphiError::TooFewExperts {
            line: data.first_line,
            round: number,
            experts: round_experts.len(),
        });
    }
    if round_items.len() < 2 {
        return Err(DelphiError::TooFewItems {
            line: data.first_line,
            round: number,
            items: round_items.len(),
        });
    }

    let mut table = Vec::with_capacity(round_experts.len());
    for &e in &round_experts {
        let mut row = Vec::with_capacity(round_items.len());
        let mut missing = Vec::new();
        let mut first_line = usize::MAX;
        for &i in &round_items {
            match data.cells.get(&(e, i)) {
                Some(&(score, line)) => {
                    row.push(score);
                    first_line = first_line.min(line);
                }
                None => missing.push(items[i].to_string()),
            }
        }
        if !missing.is_empty() {
            return Err(DelphiError::Incomplete {
                line: first_line,
                round: number,
                expert: experts[e].to_string(),
                missing,
            });
        }
        table.push(row);
    }

    let concordance = kendall_w(&table);
    let m = table.len() as f64;
    let mut stats = Vec::with_capacity(round_items.len());
    for (col, &i) in round_items.iter().enumerate() {
        let mean = table.iter().map(|row| row[col]).sum::<f64>() / m;
        let ss: f64 = table.iter().map(|row| (row[col] - mean).powi(2)).sum();
        let sd = (ss / (m - 1.0)).sqrt();
        let full = table.iter().filter(|row| row[col] == top).count() as f64;
        stats.push(ItemStats {
            item: items[i].to_string(),
            mean,
            sd,
            // Scores are ≥ 1, so the mean is never 0.
            cv: sd / mean,
            full_mark_ratio: full / m,
            rank_sum: concordance.rank_sums[col],
        });
    }
    let failing_items: Vec<String> = stats
        .iter()
        .filter(|s| s.cv >= opts.max_cv)
        .map(|s| s.item.clone())
        .collect();
    let w_significant = concordance.p < opts.alpha;
    Ok(RoundResult {
        round: number,
        experts: table.len(),
        w: concordance.w,
        chi2: concordance.chi2,
        df: concordance.df,
        p: concordance.p,
        w_significant,
        consensus: w_significant && failing_items.is_empty(),
        failing_items,
        items: stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    /// A score table (`rows[expert][item]`) as input rows, line numbers
    /// starting at 2 (after a header), item names I1.., experts E1...
    fn rows(round: u32, table: &[&[f64]]) -> Vec<Score> {
        let mut out = Vec::new();
        for (e, row) in table.iter().enumerate() {
            for (i, &score) in row.iter().enumerate() {
                out.push(Score {
                    line: 2 + out.len(),
                    round,
                    expert: format!("E{}", e + 1),
                    item: format!("I{}", i + 1),
                    score,
                });
            }
        }
        out
    }

    fn score(line: usize, round: u32, expert: &str, item: &str, score: f64) -> Score {
        Score {
            line,
            round,
            expert: expert.into(),
            item: item.into(),
            score,
        }
    }

    fn auth(line: usize, expert: &str, ca: f64, cs: f64) -> Authority {
        Authority {
            line,
            expert: expert.into(),
            ca,
            cs,
        }
    }

    fn run(scores: &[Score]) -> Result<DelphiResult, DelphiError> {
        analyse(scores, &[], &DelphiOptions::default())
    }

    #[test]
    fn average_ranks_share_ties() {
        let (r, t) = average_ranks(&[5.0, 4.0, 4.0, 2.0]);
        assert_eq!(r, vec![4.0, 2.5, 2.5, 1.0]);
        assert_eq!(t, 6.0);
        let (r, t) = average_ranks(&[3.0, 3.0, 3.0]);
        assert_eq!(r, vec![2.0, 2.0, 2.0]);
        assert_eq!(t, 24.0);
        let (r, t) = average_ranks(&[1.0, 3.0, 2.0]);
        assert_eq!(r, vec![1.0, 3.0, 2.0]);
        assert_eq!(t, 0.0);
    }

    /// m = 3 experts, n = 4 items, 5-point scale, a tie in every row.
    ///
    /// ```text
    ///        I1 I2 I3 I4      ascending average ranks      T_j = Σ(t³−t)
    /// E1      5  4  4  2      4    2.5  2.5  1             2³−2 = 6
    /// E2      5  5  3  1      3.5  3.5  2    1             6
    /// E3      4  5  3  3      3    4    1.5  1.5           6
    /// R_i                     10.5 10   6    3.5    (Σ = 30 = m·n(n+1)/2)
    /// ```
    /// R̄ = 7.5; S = 3² + 2.5² + 1.5² + 4² = 9 + 6.25 + 2.25 + 16 = 33.5.
    /// Denominator m²(n³−n) − mΣT = 9·60 − 3·18 = 486.
    /// W = 12·33.5/486 = 402/486 = 67/81 ≈ 0.82716.
    /// χ² = m(n−1)W = 9·67/81 = 67/9 ≈ 7.4444, df = 3.
    /// For df = 3, P(χ² ≥ x) = erfc(√(x/2)) + √(2x/π)·e^(−x/2)
    /// = 0.059003226201432… (scipy.stats.chi2.sf(67/9, 3) gives
    /// 0.059003226201432044) — not significant at 0.05.
    ///
    /// Items: I1 (5,5,4) mean 14/3, SD √(1/3), CV √(1/3)/(14/3) ≈ 0.1237,
    /// full marks 2/3; I4 (2,1,3) mean 2, SD 1, CV 0.5 ≥ 0.25 → fails.
    #[test]
    fn textbook_example_with_ties() {
        let s = rows(
            1,
            &[
                &[5.0, 4.0, 4.0, 2.0],
                &[5.0, 5.0, 3.0, 1.0],
                &[4.0, 5.0, 3.0, 3.0],
            ],
        );
        let r = run(&s).unwrap();
        assert_eq!(r.rounds.len(), 1);
        let round = &r.rounds[0];
        assert_eq!(round.round, 1);
        assert_eq!(round.experts, 3);
        assert!(close(round.w, 67.0 / 81.0, 1e-15), "{}", round.w);
        assert!(close(round.chi2, 67.0 / 9.0, 1e-15), "{}", round.chi2);
        assert_eq!(round.df, 3);
        assert!(rel(round.p, 0.059003226201432044) < 1e-12, "{}", round.p);
        assert!(!round.w_significant);
        assert!(!round.consensus);
        assert_eq!(round.failing_items, vec!["I4".to_string()]);

        let rank_sums: Vec<f64> = round.items.iter().map(|i| i.rank_sum).collect();
        assert_eq!(rank_sums, vec![10.5, 10.0, 6.0, 3.5]);
        let i1 = &round.items[0];
        assert_eq!(i1.item, "I1");
        assert!(close(i1.mean, 14.0 / 3.0, 1e-15));
        assert!(close(i1.sd, (1.0f64 / 3.0).sqrt(), 1e-15));
        assert!(close(i1.cv, (1.0f64 / 3.0).sqrt() / (14.0 / 3.0), 1e-15));
        assert!(close(i1.full_mark_ratio, 2.0 / 3.0, 1e-15));
        let i4 = &round.items[3];
        assert_eq!(
            (i4.mean, i4.sd, i4.cv, i4.full_mark_ratio),
            (2.0, 1.0, 0.5, 0.0)
        );
    }

    #[test]
    fn a_looser_alpha_makes_the_same_w_significant() {
        let s = rows(
            1,
            &[
                &[5.0, 4.0, 4.0, 2.0],
                &[5.0, 5.0, 3.0, 1.0],
                &[4.0, 5.0, 3.0, 3.0],
            ],
        );
        let opts = DelphiOptions {
            alpha: 0.1,
            max_cv: 0.6,
            ..DelphiOptions::default()
        };
        let round = &analyse(&s, &[], &opts).unwrap().rounds[0];
        assert!(round.w_significant);
        assert!(round.failing_items.is_empty());
        assert!(round.consensus);
    }

    /// No ties: E1 (1,2,3), E2 (1,3,2), E3 (2,1,3) are their own ranks.
    /// R = (4, 6, 8), R̄ = 6, S = 4 + 0 + 4 = 8, denominator 9·24 = 216,
    /// W = 96/216 = 4/9, χ² = 3·2·4/9 = 8/3, df = 2, and for df = 2
    /// P(χ² ≥ x) = e^(−x/2) = e^(−4/3) ≈ 0.263597 (scipy: 0.26359713811572677).
    #[test]
    fn no_ties_matches_the_closed_form() {
        let s = rows(1, &[&[1.0, 2.0, 3.0], &[1.0, 3.0, 2.0], &[2.0, 1.0, 3.0]]);
        let round = &run(&s).unwrap().rounds[0];
        assert!(close(round.w, 4.0 / 9.0, 1e-15));
        assert!(close(round.chi2, 8.0 / 3.0, 1e-15));
        assert_eq!(round.df, 2);
        assert!(rel(round.p, (-4.0f64 / 3.0).exp()) < 1e-12);
        assert!(rel(round.p, 0.26359713811572677) < 1e-12);
    }

    /// Four experts ranking five items identically: W = 1, χ² = m(n−1) =
    /// 16, df = 4, p = e^(−8)·(1 + 8) (scipy: 0.003019163651122605).
    #[test]
    fn perfect_agreement() {
        let row: &[f64] = &[1.0, 2.0, 3.0, 4.0, 5.0];
        let s = rows(3, &[row, row, row, row]);
        let round = &run(&s).unwrap().rounds[0];
        assert_eq!(round.round, 3);
        assert!(close(round.w, 1.0, 1e-15));
        assert!(close(round.chi2, 16.0, 1e-15));
        assert_eq!(round.df, 4);
        assert!(rel(round.p, 9.0 * (-8.0f64).exp()) < 1e-12);
        assert!(rel(round.p, 0.003019163651122605) < 1e-12);
        assert!(round.w_significant);
        // Every SD is 0, so every CV is 0.
        assert!(round.consensus);
        assert!(round.items.iter().all(|i| i.sd == 0.0 && i.cv == 0.0));
        assert_eq!(round.items[4].full_mark_ratio, 1.0);
        assert_eq!(round.items[0].full_mark_ratio, 0.0);
    }

    /// Heavy ties, checked against an independent computation: ranks by
    /// scipy.stats.rankdata, the same W formula in numpy, p by
    /// scipy.stats.chi2.sf.
    #[test]
    fn matches_scipy_on_a_heavily_tied_table() {
        let s = rows(
            1,
            &[
                &[5.0, 4.0, 4.0, 5.0, 3.0, 4.0, 5.0],
                &[2.0, 1.0, 2.0, 2.0, 5.0, 5.0, 1.0],
                &[3.0, 5.0, 1.0, 4.0, 1.0, 3.0, 5.0],
                &[2.0, 2.0, 2.0, 4.0, 2.0, 5.0, 3.0],
                &[3.0, 3.0, 3.0, 3.0, 3.0, 5.0, 5.0],
                &[4.0, 4.0, 4.0, 2.0, 5.0, 3.0, 2.0],
            ],
        );
        let round = &run(&s).unwrap().rounds[0];
        assert!(rel(round.w, 0.09305064782096584) < 1e-13, "{}", round.w);
        assert!(rel(round.chi2, 3.34982332155477) < 1e-13, "{}", round.chi2);
        assert_eq!(round.df, 6);
        assert!(rel(round.p, 0.7638308473048459) < 1e-12, "{}", round.p);
    }

    /// Everyone gives every item the same score: each T_j = n³ − n, so the
    /// denominator m²(n³−n) − m·m(n³−n) is 0 and W is undefined. The
    /// convention is W = 0, χ² = 0, p = 1: no evidence of concordance.
    #[test]
    fn all_ties_report_no_concordance() {
        let s = rows(1, &[&[4.0, 4.0, 4.0], &[3.0, 3.0, 3.0]]);
        let round = &run(&s).unwrap().rounds[0];
        assert_eq!((round.w, round.chi2, round.p, round.df), (0.0, 0.0, 1.0, 2));
        assert!(!round.w_significant);
        assert!(!round.consensus);
        assert_eq!(round.items[0].rank_sum, 4.0);
    }

    /// One expert ties everything, the other ranks strictly: ranks (2,2,2)
    /// and (1,2,3), R = (3, 4, 5), S = 2, denominator 4·24 − 2·24 = 48,
    /// W = 24/48 = 1/2.
    #[test]
    fn one_fully_tied_expert_halves_w() {
        let s = rows(1, &[&[3.0, 3.0, 3.0], &[1.0, 2.0, 3.0]]);
        let round = &run(&s).unwrap().rounds[0];
        assert!(close(round.w, 0.5, 1e-15));
        assert!(close(round.chi2, 2.0, 1e-15));
    }

    #[test]
    fn ten_point_scale_stats() {
        // I1: 10, 8, 9 → mean 9, SD 1, CV 1/9, one full mark in three.
        let s = rows(1, &[&[10.0, 2.0], &[8.0, 6.0], &[9.0, 10.0]]);
        let opts = DelphiOptions {
            scale: 10,
            ..DelphiOptions::default()
        };
        let round = &analyse(&s, &[], &opts).unwrap().rounds[0];
        let i1 = &round.items[0];
        assert_eq!((i1.mean, i1.sd), (9.0, 1.0));
        assert!(close(i1.cv, 1.0 / 9.0, 1e-15));
        assert!(close(i1.full_mark_ratio, 1.0 / 3.0, 1e-15));
        // I2: 2, 6, 10 → mean 6, SD 4, CV 2/3.
        let i2 = &round.items[1];
        assert_eq!((i2.mean, i2.sd), (6.0, 4.0));
        assert!(close(i2.cv, 2.0 / 3.0, 1e-15));
        assert_eq!(round.failing_items, vec!["I2".to_string()]);
        // On a 5-point scale the 10s are out of range.
        assert!(matches!(
            run(&s),
            Err(DelphiError::OutOfScale { line: 2, .. })
        ));
    }

    #[test]
    fn rounds_ascend_and_items_keep_first_appearance() {
        let s = vec![
            score(2, 2, "乙", "治安", 5.0),
            score(3, 2, "乙", "信访", 4.0),
            score(4, 2, "甲", "信访", 4.0),
            score(5, 2, "甲", "治安", 3.0),
            score(6, 1, "甲", "消防", 2.0),
            score(7, 1, "甲", "信访", 3.0),
            score(8, 1, "甲", "治安", 4.0),
            score(9, 1, "乙", "治安", 5.0),
            score(10, 1, "乙", "消防", 1.0),
            score(11, 1, "乙", "信访", 3.0),
            score(12, 1, "丙", "信访", 3.0),
            score(13, 1, "丙", "治安", 3.0),
            score(14, 1, "丙", "消防", 3.0),
        ];
        let r = run(&s).unwrap();
        assert_eq!(
            r.rounds.iter().map(|r| r.round).collect::<Vec<_>>(),
            vec![1, 2]
        );
        let names =
            |k: usize| -> Vec<&str> { r.rounds[k].items.iter().map(|i| i.item.as_str()).collect() };
        // Global first appearance: 治安, 信访, 消防; round 2 dropped 消防.
        assert_eq!(names(0), vec!["治安", "信访", "消防"]);
        assert_eq!(names(1), vec!["治安", "信访"]);
        assert_eq!(r.rounds[0].experts, 3);
        assert_eq!(r.rounds[1].experts, 2);
    }

    #[test]
    fn authority_is_the_mean_of_ca_and_cs() {
        let s = rows(1, &[&[1.0, 2.0], &[2.0, 1.0]]);
        let a = vec![auth(2, "E2", 0.8, 0.6), auth(3, "E1", 1.0, 0.9)];
        let r = analyse(&s, &a, &DelphiOptions::default()).unwrap();
        assert_eq!(r.authority.len(), 2);
        assert_eq!(r.authority[0].expert, "E2");
        assert!(close(r.authority[0].cr, 0.7, 1e-15));
        assert_eq!((r.authority[0].ca, r.authority[0].cs), (0.8, 0.6));
        assert!(close(r.authority[1].cr, 0.95, 1e-15));
        assert!(run(&s).unwrap().authority.is_empty());
    }

    #[test]
    fn option_errors() {
        let s = rows(1, &[&[1.0, 2.0], &[2.0, 1.0]]);
        let with = |opts: DelphiOptions| analyse(&s, &[], &opts).unwrap_err();
        let d = DelphiOptions::default();
        assert_eq!(with(DelphiOptions { scale: 7, ..d }), DelphiError::Scale(7));
        assert_eq!(
            with(DelphiOptions { alpha: 0.0, ..d }),
            DelphiError::Alpha(0.0)
        );
        assert!(matches!(
            with(DelphiOptions {
                alpha: f64::NAN,
                ..d
            }),
            DelphiError::Alpha(_)
        ));
        assert_eq!(
            with(DelphiOptions { max_cv: -1.0, ..d }),
            DelphiError::MaxCv(-1.0)
        );
        assert_eq!(
            DelphiError::Scale(7).to_string(),
            "量表应为 5 分制或 10 分制，而不是 7 分制"
        );
        assert_eq!(run(&[]).unwrap_err(), DelphiError::NoScores);
        assert_eq!(DelphiError::NoScores.location(), None);
    }

    #[test]
    fn scores_out_of_scale_name_their_line() {
        for bad in [0.0, 0.99, 5.5, 6.0, -3.0, f64::NAN, f64::INFINITY] {
            let mut s = rows(1, &[&[1.0, 2.0], &[2.0, 1.0]]);
            s[2].score = bad;
            let e = run(&s).unwrap_err();
            assert!(
                matches!(&e, DelphiError::OutOfScale { line: 4, round: 1, expert, item, scale: 5, .. }
                    if expert == "E2" && item == "I1"),
                "{bad}: {e:?}"
            );
            assert_eq!(e.location(), Some((DelphiFile::Scores, 4)));
        }
        let mut s = rows(1, &[&[1.0, 2.0], &[2.0, 1.0]]);
        s[0].score = 6.0;
        assert_eq!(
            run(&s).unwrap_err().to_string(),
            "第 1 轮专家“E1”对“I1”的评分 6 不在 1 到 5 之间"
        );
    }

    #[test]
    fn a_duplicate_score_names_both_lines() {
        let mut s = rows(1, &[&[1.0, 2.0], &[2.0, 1.0]]);
        s.push(score(9, 1, "E1", "I2", 3.0));
        let e = run(&s).unwrap_err();
        assert_eq!(
            e,
            DelphiError::DuplicateScore {
                line: 9,
                first_line: 3,
                round: 1,
                expert: "E1".into(),
                item: "I2".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "第 1 轮专家“E1”对“I2”重复评分（第 3 行已有评分）"
        );
        // The same pair in another round is no duplicate.
        let mut s = rows(1, &[&[1.0, 2.0], &[2.0, 1.0]]);
        s.extend(rows(2, &[&[1.0, 2.0], &[2.0, 1.0]]));
        assert_eq!(run(&s).unwrap().rounds.len(), 2);
    }

    #[test]
    fn a_round_needs_two_experts_and_two_items() {
        let mut s = rows(1, &[&[1.0, 2.0], &[2.0, 1.0]]);
        s.push(score(20, 2, "E1", "I1", 3.0));
        s.push(score(21, 2, "E1", "I2", 3.0));
        let e = run(&s).unwrap_err();
        assert_eq!(
            e,
            DelphiError::TooFewExperts {
                line: 20,
                round: 2,
                experts: 1
            }
        );
        assert_eq!(e.location(), Some((DelphiFile::Scores, 20)));

        let s = rows(4, &[&[1.0], &[2.0], &[3.0]]);
        assert_eq!(
            run(&s).unwrap_err(),
            DelphiError::TooFewItems {
                line: 2,
                round: 4,
                items: 1
            }
        );
    }

    #[test]
    fn an_incomplete_expert_names_every_missing_item() {
        let mut s = rows(1, &[&[1.0, 2.0, 3.0, 4.0], &[2.0, 1.0, 3.0, 4.0]]);
        s.push(score(30, 1, "专家丙", "I3", 2.0));
        s.push(score(31, 1, "专家丙", "I2", 2.0));
        let e = run(&s).unwrap_err();
        assert_eq!(
            e,
            DelphiError::Incomplete {
                line: 30,
                round: 1,
                expert: "专家丙".into(),
                missing: vec!["I1".into(), "I4".into()]
            }
        );
        assert_eq!(
            e.to_string(),
            "第 1 轮专家“专家丙”没有对“I1”、“I4”评分：肯德尔和谐系数需要每位专家对本轮全部条目评分"
        );
    }

    #[test]
    fn blank_names_are_refused() {
        let mut s = rows(1, &[&[1.0, 2.0], &[2.0, 1.0]]);
        s[1].item = " ".into();
        let e = run(&s).unwrap_err();
        assert_eq!(e.to_string(), "条目名称为空");
        assert_eq!(e.location(), Some((DelphiFile::Scores, 3)));
        let s = rows(1, &[&[1.0, 2.0], &[2.0, 1.0]]);
        let e = analyse(&s, &[auth(5, "", 0.5, 0.5)], &DelphiOptions::default()).unwrap_err();
        assert_eq!(e.location(), Some((DelphiFile::Authority, 5)));
    }

    #[test]
    fn authority_errors_name_the_authority_line() {
        let s = rows(1, &[&[1.0, 2.0], &[2.0, 1.0]]);
        let with = |a: Vec<Authority>| analyse(&s, &a, &DelphiOptions::default()).unwrap_err();

        let e = with(vec![auth(2, "E1", 1.2, 0.5)]);
        assert_eq!(e.location(), Some((DelphiFile::Authority, 2)));
        assert_eq!(e.to_string(), "专家“E1”的判断系数 Ca 1.2 不在 0 到 1 之间");
        let e = with(vec![auth(2, "E1", 0.5, f64::NAN)]);
        assert!(matches!(
            e,
            DelphiError::AuthorityRange {
                what: "熟悉程度 Cs",
                ..
            }
        ));
        let e = with(vec![auth(2, "E1", -0.1, 0.5)]);
        assert!(matches!(e, DelphiError::AuthorityRange { line: 2, .. }));

        let e = with(vec![auth(2, "E1", 0.5, 0.5), auth(3, "E9", 0.5, 0.5)]);
        assert_eq!(
            e,
            DelphiError::UnknownExpert {
                line: 3,
                expert: "E9".into()
            }
        );
        assert_eq!(e.location(), Some((DelphiFile::Authority, 3)));

        let e = with(vec![auth(2, "E1", 0.5, 0.5), auth(4, "E1", 0.6, 0.5)]);
        assert_eq!(
            e,
            DelphiError::DuplicateAuthority {
                line: 4,
                first_line: 2,
                expert: "E1".into()
            }
        );
        // Boundaries are allowed.
        let ok = analyse(&s, &[auth(2, "E1", 0.0, 1.0)], &DelphiOptions::default()).unwrap();
        assert_eq!(ok.authority[0].cr, 0.5);
    }

    /// statrs's χ² upper tail against closed forms (even df: e^(−x/2)·
    /// Σ_{k<df/2} (x/2)^k/k!) and scipy.stats.chi2.sf values for odd df.
    #[test]
    fn chi2_upper_tail_is_accurate() {
        for df in [2usize, 4, 6, 10, 20, 40] {
            for x in [0.01, 0.5, 1.0, 3.0, 7.5, 15.0, 40.0, 100.0, 300.0] {
                let h = x / 2.0;
                let mut term = 1.0;
                let mut sum = 1.0;
                for k in 1..df / 2 {
                    term *= h / k as f64;
                    sum += term;
                }
                let exact = (-h).exp() * sum;
                let got = chi2_sf(x, df);
                assert!(rel(got, exact) < 1e-12, "df {df} x {x}: {got} vs {exact}");
            }
        }
        for (x, df, scipy) in [
            (67.0 / 9.0, 3, 0.059003226201432044),
            (3.841458820694124, 1, 0.04999999999999989),
            (50.0, 9, 1.0772382022574693e-07),
            (200.0, 9, 3.312992393909567e-38),
            (0.5, 5, 0.9921232932326296),
            (0.001, 1, 0.9747728793699604),
            (30.0, 1, 4.3204630578274955e-08),
            (120.0, 25, 2.2143060629666975e-14),
            (7.0, 7, 0.42887985755305486),
        ] {
            let got = chi2_sf(x, df);
            assert!(rel(got, scipy) < 1e-12, "df {df} x {x}: {got} vs {scipy}");
        }
        assert_eq!(chi2_sf(0.0, 3), 1.0);
    }

    fn permutation(n: usize) -> impl Strategy<Value = Vec<f64>> {
        Just((1..=n).map(|k| k as f64).collect::<Vec<_>>()).prop_shuffle()
    }

    proptest! {
        /// Without ties the mean pairwise Spearman ρ equals (mW − 1)/(m − 1),
        /// an independent route to W.
        #[test]
        fn w_agrees_with_mean_spearman(
            (n, table) in (2usize..9).prop_flat_map(|n| {
                (Just(n), prop::collection::vec(permutation(n), 2..7))
            })
        ) {
            let c = kendall_w(&table);
            let m = table.len();
            let nf = n as f64;
            let mut rho_sum = 0.0;
            let mut pairs = 0.0;
            for a in 0..m {
                for b in a + 1..m {
                    let d2: f64 = table[a].iter().zip(&table[b]).map(|(x, y)| (x - y).powi(2)).sum();
                    rho_sum += 1.0 - 6.0 * d2 / (nf * (nf * nf - 1.0));
                    pairs += 1.0;
                }
            }
            let rho = rho_sum / pairs;
            let mf = m as f64;
            prop_assert!((rho - (mf * c.w - 1.0) / (mf - 1.0)).abs() < 1e-12);
        }

        /// W in [0, 1], χ² = m(n−1)W, p in [0, 1]; reordering experts changes
        /// nothing; reversing every score leaves W unchanged.
        #[test]
        fn w_is_bounded_and_symmetric(
            table in (2usize..7).prop_flat_map(|n| {
                prop::collection::vec(prop::collection::vec(1u8..=5, n), 2..8)
            })
        ) {
            let table: Vec<Vec<f64>> = table
                .iter()
                .map(|r| r.iter().map(|&x| f64::from(x)).collect())
                .collect();
            let c = kendall_w(&table);
            prop_assert!(c.w >= 0.0 && c.w <= 1.0 + 1e-12, "{}", c.w);
            prop_assert!(c.p >= 0.0 && c.p <= 1.0);
            let m = table.len() as f64;
            let n = table[0].len() as f64;
            prop_assert!((c.chi2 - m * (n - 1.0) * c.w).abs() < 1e-12);

            let mut reversed = table.clone();
            reversed.reverse();
            prop_assert!((kendall_w(&reversed).w - c.w).abs() < 1e-14);
            let mirrored: Vec<Vec<f64>> = table
                .iter()
                .map(|r| r.iter().map(|x| 6.0 - x).collect())
                .collect();
            prop_assert!((kendall_w(&mirrored).w - c.w).abs() < 1e-14);
        }
    }
}
