//! Scores, totals, grades and ranks for every region valid in a period
//! (scoring.md §4, §5, §7).

use crate::data::DataSet;
use crate::formula::Eval;
use crate::framework::{Framework, MissingPolicy, NotApplicable, Placed};
use crate::num::round_half_away;
use crate::period::Period;
use crate::region::{Level, RegionTree};
use crate::resolve::Resolver;
use crate::rules::{Assessment, Ctx, Rule, Share};
use rustc_hash::FxHashMap;

mod output;
pub use output::{IndicatorResult, PartScore, RegionResult, ScoreError, ScoreReport};

/// An indicator's value for one region before points are given.
enum State {
    Value(f64),
    /// Why, and whether it is a zero denominator counted as missing.
    Missing(String, bool),
    NotApplicable,
}

/// Regions scored in one run and their peer groups.
struct Cohort {
    regions: Vec<usize>,
    /// For each scored region: members (positions in `regions`) of its peer group.
    peers: Vec<std::sync::Arc<Vec<usize>>>,
    level_peers: Vec<std::sync::Arc<Vec<usize>>>,
}

impl Cohort {
    fn new(tree: &RegionTree, period: Period, level: Option<Level>) -> Cohort {
        let regions: Vec<usize> = (0..tree.len())
            .filter(|&i| {
                let r = tree.get(i);
                r.valid_in(period) && level.is_none_or(|l| r.level == l)
            })
            .collect();
        let mut groups: FxHashMap<(Option<usize>, Level), Vec<usize>> = FxHashMap::default();
        let mut levels: FxHashMap<Level, Vec<usize>> = FxHashMap::default();
        for (k, &i) in regions.iter().enumerate() {
            let r = tree.get(i);
            groups.entry((r.parent, r.level)).or_default().push(k);
            levels.entry(r.level).or_default().push(k);
        }
        let groups: FxHashMap<_, _> = groups
            .into_iter()
            .map(|(k, v)| (k, std::sync::Arc::new(v)))
            .collect();
        let levels: FxHashMap<_, _> = levels
            .into_iter()
            .map(|(k, v)| (k, std::sync::Arc::new(v)))
            .collect();
        let peers = regions
            .iter()
            .map(|&i| groups[&(tree.get(i).parent, tree.get(i).level)].clone())
            .collect();
        let level_peers = regions
            .iter()
            .map(|&i| levels[&tree.get(i).level].clone())
            .collect();
        Cohort {
            regions,
            peers,
            level_peers,
        }
    }
}

/// Look up every benchmark a rule needs for the period, refusing to score
/// without one (an input error, scoring.md §6).
fn benchmarks<'f>(
    fw: &'f Framework,
    placed: &[Placed<'f>],
    data: &DataSet,
    period: Period,
) -> Result<Vec<Option<(&'f str, f64)>>, ScoreError> {
    placed
        .iter()
        .map(|p| {
            let Some(b) = p.indicator.benchmark else {
                return Ok(None);
            };
            let bm = &fw.benchmarks[b];
            let err_fields = || (bm.code.clone(), bm.name.clone(), p.indicator.code.clone());
            match data.benchmark(b, period) {
                None => {
                    let (benchmark, name, indicator) = err_fields();
                    Err(ScoreError::MissingBenchmark {
                        benchmark,
                        name,
                        period,
                        indicator,
                    })
                }
                Some(v) if v == 0.0 && p.indicator.rule.relative() => {
                    let (benchmark, name, indicator) = err_fields();
                    Err(ScoreError::ZeroBenchmark {
                        benchmark,
                        name,
                        period,
                        indicator,
                    })
                }
                Some(v) => Ok(Some((bm.name.as_str(), v))),
            }
        })
        .collect()
}

fn evaluate(
    resolver: &mut Resolver,
    fw: &Framework,
    p: &Placed,
    region: usize,
    period: Period,
) -> State {
    let ind = p.indicator;
    let eval = ind
        .formula
        .eval(period, &mut |e, per| resolver.value(region, per, e));
    match eval {
        Eval::Value(v) if v < 0.0 && matches!(ind.rule, Rule::Proportional(_)) => State::Missing(
            format!("值为负数（{}），无法按比例计分", crate::num::fmt(v)),
            false,
        ),
        Eval::Value(v) => State::Value(v),
        Eval::NotApplicable => match ind.not_applicable {
            NotApplicable::Full => State::NotApplicable,
            NotApplicable::Missing => {
                State::Missing("不适用（分母为0），按未报送处理".into(), true)
            }
        },
        Eval::Missing(list) => {
            let parts: Vec<String> = list
                .iter()
                .map(|&(e, per)| resolver.explain_missing(region, per, e))
                .collect();
            let _ = fw;
            State::Missing(parts.join("；"), false)
        }
    }
}

fn part(code: &str, name: &str, points: f64, max: f64) -> PartScore {
    PartScore {
        code: code.to_string(),
        points,
        max,
        percent: if max > 0.0 { points / max * 100.0 } else { 0.0 },
        name: name.to_string(),
    }
}

/// rank = 1 + peers with a strictly higher rounded total.
pub(crate) fn rank_in(members: &[usize], rounded: &[f64], k: usize) -> (usize, usize, bool) {
    let me = rounded[k];
    let rank = 1 + members.iter().filter(|&&o| rounded[o] > me).count();
    let n = members.len();
    (rank, n, n >= 4 && rank > n - 3)
}

/// The indicator values of every scored region, before any points: the
/// part of scoring that weights cannot change.
pub struct Evaluation<'f> {
    fw: &'f Framework,
    tree: &'f RegionTree,
    period: Period,
    placed: Vec<Placed<'f>>,
    bench: Vec<Option<(&'f str, f64)>>,
    cohort: Cohort,
    /// states[j][k]: indicator j for scored region k.
    states: Vec<Vec<State>>,
}

/// Resolve every indicator of every region valid in `period` (only those of
/// `level`, when given; peers are always of one level, so this changes no
/// number).
/// Whether `data`'s benchmarks allow scoring `period` at all: the same
/// refusal `evaluate_all` gives first, available before any value is read
/// (a month or quarter usually has no benchmark).
pub fn check_benchmarks(fw: &Framework, data: &DataSet, period: Period) -> Result<(), ScoreError> {
    benchmarks(fw, &fw.indicators(), data, period).map(|_| ())
}

pub fn evaluate_all<'f>(
    fw: &'f Framework,
    tree: &'f RegionTree,
    data: &DataSet,
    period: Period,
    level: Option<Level>,
) -> Result<Evaluation<'f>, ScoreError> {
    let placed = fw.indicators();
    let bench = benchmarks(fw, &placed, data, period)?;
    let cohort = Cohort::new(tree, period, level);
    let regions = &cohort.regions;
    let threads = crate::par::threads().min(placed.len());
    let states = if threads < 2 || regions.len() * placed.len() < 4096 {
        let mut resolver = Resolver::new(fw, tree, data);
        placed
            .iter()
            .map(|p| {
                regions
                    .iter()
                    .map(|&r| evaluate(&mut resolver, fw, p, r, period))
                    .collect()
            })
            .collect()
    } else {
        // The indicators dealt over the cores in turn, each thread with a
        // resolver of its own (an element two threads both read is rolled
        // up by each): the states are the same however many threads.
        let placed = &placed;
        std::thread::scope(|s| {
            let parts: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        let mut resolver = Resolver::new(fw, tree, data);
                        placed
                            .iter()
                            .enumerate()
                            .skip(t)
                            .step_by(threads)
                            .map(|(j, p)| {
                                let row: Vec<State> = regions
                                    .iter()
                                    .map(|&r| evaluate(&mut resolver, fw, p, r, period))
                                    .collect();
                                (j, row)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut states: Vec<Vec<State>> = (0..placed.len()).map(|_| Vec::new()).collect();
            for part in parts {
                for (j, row) in part.join().unwrap_or_else(|e| std::panic::resume_unwind(e)) {
                    states[j] = row;
                }
            }
            states
        })
    };
    Ok(Evaluation {
        fw,
        tree,
        period,
        placed,
        bench,
        cohort,
        states,
    })
}

impl<'f> Evaluation<'f> {
    pub fn framework(&self) -> &'f Framework {
        self.fw
    }

    pub fn region(&self, index: usize) -> &'f crate::region::Region {
        self.tree.get(index)
    }

    /// Scored regions (indices into the tree), in file order.
    pub fn regions(&self) -> &[usize] {
        &self.cohort.regions
    }

    /// For each scored region, the positions (in `regions()`) of its peers,
    /// itself included.
    pub fn peer_groups(&self) -> Vec<Vec<usize>> {
        self.cohort
            .peers
            .iter()
            .map(|g| g.as_ref().clone())
            .collect()
    }

    pub fn indicators(&self) -> &[Placed<'f>] {
        &self.placed
    }

    /// Values of indicator `j` for the peers of every region (only for rules
    /// that compare peers), computed once per peer group.
    fn peer_values(&self, j: usize) -> Vec<std::rc::Rc<Vec<f64>>> {
        let empty = std::rc::Rc::new(Vec::new());
        if !self.placed[j].indicator.rule.needs_peers() {
            return vec![empty; self.cohort.regions.len()];
        }
        let col = &self.states[j];
        let mut cache: FxHashMap<*const Vec<usize>, std::rc::Rc<Vec<f64>>> = FxHashMap::default();
        self.cohort
            .peers
            .iter()
            .map(|members| {
                cache
                    .entry(std::sync::Arc::as_ptr(members))
                    .or_insert_with(|| {
                        std::rc::Rc::new(
                            members
                                .iter()
                                .filter_map(|&o| match col[o] {
                                    State::Value(x) => Some(x),
                                    _ => None,
                                })
                                .collect(),
                        )
                    })
                    .clone()
            })
            .collect()
    }

    fn ctx<'a>(&'a self, j: usize, peers: &'a [f64]) -> Ctx<'a> {
        let p = &self.placed[j];
        Ctx {
            max: p.max,
            unit: &p.indicator.unit,
            benchmark: self.bench[j],
            peers,
        }
    }

    /// Indicator j's value for scored region k (None: missing or not
    /// applicable).
    pub fn value(&self, j: usize, k: usize) -> Option<f64> {
        match self.states[j][k] {
            State::Value(v) => Some(v),
            _ => None,
        }
    }

    /// What indicator j's rule would say of region k had its value been
    /// `v`, the peers' values as they are (risk thresholds).
    pub fn assess_at(&self, j: usize, k: usize, v: f64) -> Assessment {
        let peers: Vec<f64> = if self.placed[j].indicator.rule.needs_peers() {
            self.cohort.peers[k]
                .iter()
                .filter(|&&o| o != k)
                .filter_map(|&o| self.value(j, o))
                .chain(std::iter::once(v))
                .collect()
        } else {
            Vec::new()
        };
        self.placed[j]
            .indicator
            .rule
            .assess(v, &self.ctx(j, &peers))
    }

    /// assessments[k][j]: how indicator j's points depend on its full
    /// points for region k; None when it is missing.
    pub fn assessments(&self) -> Vec<Vec<Option<Assessment>>> {
        let n = self.cohort.regions.len();
        let mut out: Vec<Vec<Option<Assessment>>> = (0..n)
            .map(|_| Vec::with_capacity(self.placed.len()))
            .collect();
        for j in 0..self.placed.len() {
            let peers = self.peer_values(j);
            for (k, row) in out.iter_mut().enumerate() {
                row.push(match &self.states[j][k] {
                    State::Value(v) => Some(
                        self.placed[j]
                            .indicator
                            .rule
                            .assess(*v, &self.ctx(j, &peers[k])),
                    ),
                    State::NotApplicable => Some(Assessment {
                        share: Share::Fraction(1.0),
                        veto: false,
                    }),
                    State::Missing(..) => None,
                });
            }
        }
        out
    }

    /// Indicator j's result for every scored region, with its reasons in
    /// words when `words` says so.
    fn column(&self, j: usize, exclude: bool, words: Words) -> Vec<IndicatorResult> {
        let p = &self.placed[j];
        let ind = p.indicator;
        let peers = self.peer_values(j);
        (0..self.cohort.regions.len())
            .map(|k| {
                let mut res = IndicatorResult {
                    code: ind.code.clone(),
                    value: None,
                    points: 0.0,
                    max: p.max,
                    missing: false,
                    not_applicable: false,
                    reasons: Vec::new(),
                    name: ind.name.clone(),
                    unit: ind.unit.clone(),
                    provisional: ind.provisional,
                    veto: false,
                };
                match &self.states[j][k] {
                    State::NotApplicable => {
                        res.not_applicable = true;
                        res.points = p.max;
                    }
                    State::Missing(why, not_applicable) => {
                        res.missing = true;
                        res.not_applicable = *not_applicable;
                        if words == Words::None {
                            return res;
                        }
                        let effect = if exclude {
                            "不计入总分"
                        } else {
                            "不得分"
                        };
                        res.reasons.push(format!("未报送，{effect}：{why}"));
                    }
                    State::Value(v) if words == Words::None => {
                        res.value = Some(*v);
                        (res.points, res.veto) = ind.rule.points(*v, &self.ctx(j, &peers[k]));
                    }
                    State::Value(v) => {
                        let out = ind.rule.score(*v, &self.ctx(j, &peers[k]));
                        res.value = Some(*v);
                        res.points = out.points;
                        res.reasons = out.reasons;
                        res.veto = out.veto;
                    }
                }
                res
            })
            .collect()
    }

    /// Points, reasons, totals, grades and ranks.
    pub fn score(&self) -> ScoreReport {
        self.score_with(Words::Reasons)
    }

    /// Points, totals, grades and ranks; the indicators' reasons only when
    /// `words` asks for them (every number is the same either way).
    pub fn score_with(&self, words: Words) -> ScoreReport {
        let (fw, tree, placed) = (self.fw, self.tree, &self.placed);
        let n = self.cohort.regions.len();
        let exclude = fw.missing == MissingPolicy::Exclude;
        // One column per indicator, the columns dealt over the cores (each
        // computed whole by one thread, so the numbers do not depend on
        // how many there are), then turned into one row per region.
        let js: Vec<usize> = (0..placed.len()).collect();
        let threads = if n * placed.len() < 4096 {
            1
        } else {
            crate::par::threads()
        };
        let columns = crate::par::in_turn(&js, threads, |&j| self.column(j, exclude, words));
        let mut columns: Vec<_> = columns.into_iter().map(Vec::into_iter).collect();
        let indicators: Vec<Vec<IndicatorResult>> = (0..n)
            .map(|_| {
                columns
                    .iter_mut()
                    .map(|c| c.next().expect("one result per region"))
                    .collect()
            })
            .collect();
        let cohort = &self.cohort;
        let period = self.period;
        let mut results = Vec::with_capacity(n);
        let mut totals = Vec::with_capacity(n);
        for (k, inds) in indicators.into_iter().enumerate() {
            let mut domains = Vec::new();
            let mut dimensions = Vec::new();
            let mut at = 0;
            for d in &fw.dimensions {
                let (mut dp, mut dm) = (0.0, 0.0);
                for m in &d.domains {
                    let slice = &inds[at..at + m.indicators.len()];
                    at += m.indicators.len();
                    let mp: f64 = slice.iter().map(|i| i.points).sum();
                    let mm: f64 = slice.iter().map(|i| i.max).sum();
                    domains.push(part(&m.code, &m.name, mp, mm));
                    dp += mp;
                    dm += mm;
                }
                dimensions.push(part(&d.code, &d.name, dp, dm));
            }
            let total = if exclude {
                let present: f64 = inds.iter().filter(|i| !i.missing).map(|i| i.max).sum();
                let got: f64 = inds.iter().map(|i| i.points).sum();
                if present > 0.0 {
                    got / present * fw.total
                } else {
                    0.0
                }
            } else {
                dimensions.iter().map(|d| d.points).sum()
            };
            let veto = inds.iter().any(|i| i.veto);
            let grade = if veto {
                fw.veto_grade
            } else {
                fw.grade_for(total)
            };
            let r = tree.get(cohort.regions[k]);
            totals.push(total);
            results.push(RegionResult {
                region: r.code.clone(),
                name: r.name.clone(),
                level: r.level.code().to_string(),
                parent: r.parent.map(|p| tree.get(p).code.clone()),
                total,
                max: fw.total,
                grade: fw.grades[grade].name.clone(),
                veto,
                rank: 0,
                peers: 0,
                bottom: false,
                level_rank: 0,
                level_peers: 0,
                level_bottom: false,
                dimensions,
                domains,
                indicators: inds,
                deductions: Vec::new(),
            });
        }
        let rounded: Vec<f64> = totals
            .iter()
            .map(|&t| round_half_away(t, fw.rank_decimals))
            .collect();
        for (k, res) in results.iter_mut().enumerate() {
            (res.rank, res.peers, res.bottom) = rank_in(&cohort.peers[k], &rounded, k);
            (res.level_rank, res.level_peers, res.level_bottom) =
                rank_in(&cohort.level_peers[k], &rounded, k);
        }
        ScoreReport {
            framework: fw.code.clone(),
            period,
            results,
        }
    }
}

/// Whether a score report carries each indicator's reasons in words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Words {
    Reasons,
    /// Numbers only: the reasons are left empty.
    None,
}

/// Score every region valid in `period` (only those of `level`, when given;
/// peers are always of one level, so this changes no number).
pub fn score(
    fw: &Framework,
    tree: &RegionTree,
    data: &DataSet,
    period: Period,
    level: Option<Level>,
) -> Result<ScoreReport, ScoreError> {
    Ok(evaluate_all(fw, tree, data, period, level)?.score())
}
