//! Quality control (seed §3.2, §3.4, §6.1, §7.3): validation rules,
//! anomaly detection, cross-source comparison and timeliness over reported
//! values, before any score is official. Pure: the caller brings the values.

pub mod anomaly;
pub mod baseline;
mod breach;
mod definite;
mod episode;
mod exempt;
mod explained;
mod fold;
pub mod intake;
pub mod judge;
mod kin;
mod params;
pub mod rules;
mod runs;
mod share;
pub mod stats;
mod view;

pub use params::Params;
pub use view::{FlagView, Numbers, SummaryView, number};

use crate::data::DataSet;
use crate::framework::{Framework, RegionAgg, TimeAgg};
use crate::period::{Date, Period};
use crate::region::RegionTree;
use anomaly::{Finding, Outcome};
use rules::RuleSet;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// The kinds of flag, with the codes of `pingan check --format json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    Zscore,
    ModZscore,
    Jump,
    RunAboveMean,
    Share,
    Peer,
    Rule,
    CrossSource,
    Timeliness,
}

impl FlagKind {
    pub const ALL: [FlagKind; 9] = [
        FlagKind::Zscore,
        FlagKind::ModZscore,
        FlagKind::Jump,
        FlagKind::RunAboveMean,
        FlagKind::Share,
        FlagKind::Peer,
        FlagKind::Rule,
        FlagKind::CrossSource,
        FlagKind::Timeliness,
    ];

    /// The seed's statistical methods: their flags are the ones the model
    /// of normal judges, with its evidence among their numbers.
    pub fn statistical(self) -> bool {
        matches!(
            self,
            FlagKind::Zscore
                | FlagKind::ModZscore
                | FlagKind::Jump
                | FlagKind::RunAboveMean
                | FlagKind::Share
        )
    }

    pub fn code(self) -> &'static str {
        match self {
            FlagKind::Zscore => "zscore",
            FlagKind::ModZscore => "mod_zscore",
            FlagKind::Jump => "jump",
            FlagKind::RunAboveMean => "run_above_mean",
            FlagKind::Share => "share",
            FlagKind::Peer => "peer",
            FlagKind::Rule => "rule",
            FlagKind::CrossSource => "cross_source",
            FlagKind::Timeliness => "timeliness",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FlagKind::Zscore => "偏离历史均值（z 值）",
            FlagKind::ModZscore => "偏离历史中位数（修正 z 值）",
            FlagKind::Jump => "环比突变",
            FlagKind::RunAboveMean => "连续高于均值",
            FlagKind::Share => "占比突变",
            FlagKind::Peer => "同级地区离群",
            FlagKind::Rule => "逻辑校验不通过",
            FlagKind::CrossSource => "多来源差异（数据溯源）",
            FlagKind::Timeliness => "时效性",
        }
    }

    pub fn parse(s: &str) -> Option<FlagKind> {
        FlagKind::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// One reported value with its provenance.
#[derive(Clone, Debug)]
pub struct Observation {
    pub region: usize,
    pub period: Period,
    pub element: usize,
    pub value: f64,
    pub source: String,
    /// When it was submitted (stored values); files have none.
    pub submitted: Option<Date>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    pub region: usize,
    pub element: usize,
    pub period: Period,
    pub kind: FlagKind,
    pub score: f64,
    /// Chinese, naming the region, element, period and the numbers.
    pub message: String,
    pub numbers: Vec<(String, f64)>,
    /// The validation rule's code, for `rule` flags.
    pub rule: Option<String>,
    /// The sources compared, for `cross_source` flags.
    pub sources: Vec<String>,
}

impl Flag {
    /// The absolute months (year × 12 + month − 1) a monthly flag speaks
    /// of, first and last: a run's are the periods it ran.
    pub(super) fn months(&self) -> Option<(i64, i64)> {
        let (2, m) = series_key(self.period) else {
            return None;
        };
        let n = match self.kind {
            FlagKind::RunAboveMean => number(&self.numbers, "run").unwrap_or(1.0).max(1.0) as i64,
            _ => 1,
        };
        Some((m - n + 1, m))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Reported values in the checked periods.
    pub values: usize,
    /// Series (region × element × granularity) with a value in them.
    pub series: usize,
    /// Flags of each kind.
    pub flags: Vec<(FlagKind, usize)>,
    /// Points each method could not judge: fewer than `min_history`
    /// earlier periods (or `min_peers` siblings).
    pub skipped_short: Vec<(FlagKind, usize)>,
    /// Statistical flags left out because their figures agree with each
    /// other: a whole whose parts moved with it, a part whose whole did.
    pub explained: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub flags: Vec<Flag>,
    pub summary: Summary,
}

/// Whether `p` lies within the checked period (a year covers its quarters and months).
pub fn within(p: Period, scope: Period) -> bool {
    p == scope || matches!(scope, Period::Year(y) if p.year() == y)
}

fn series_key(p: Period) -> (u8, i64) {
    match p {
        Period::Year(y) => (0, y as i64),
        Period::Quarter(y, q) => (1, y as i64 * 4 + q as i64 - 1),
        Period::Month(y, m) => (2, y as i64 * 12 + m as i64 - 1),
    }
}

fn season(gran: u8) -> usize {
    [1, 4, 12][gran as usize]
}

/// How many days a value submitted on `at` is late for `period`, when its
/// values are due `deadline_days` after it ends. `first` is the earliest
/// submission of any value for the period: lateness is measured against a
/// collection that ran, so a period whose very first value came after its
/// deadline was loaded afterwards as history (an office importing past
/// years), and nothing in it is late.
pub fn days_late(period: Period, deadline_days: u32, at: Date, first: Date) -> Option<i64> {
    let due = period.last_day().days() + i64::from(deadline_days);
    (first.days() <= due && at.days() > due).then(|| at.days() - due)
}

struct Ctx<'a> {
    fw: &'a Framework,
    tree: &'a RegionTree,
    flags: Vec<Flag>,
    short: FxHashMap<FlagKind, usize>,
}

impl Ctx<'_> {
    fn head(&self, r: usize, e: usize, p: Period) -> String {
        let reg = self.tree.get(r);
        let el = &self.fw.elements[e];
        let unit = if el.unit.is_empty() {
            String::new()
        } else {
            format!("（{}）", el.unit)
        };
        format!(
            "{}（{}）{}{unit} {}：",
            reg.name,
            reg.code,
            el.name,
            p.label()
        )
    }

    fn push(&mut self, r: usize, e: usize, p: Period, f: Finding) {
        let message = format!("{}{}", self.head(r, e, p), f.detail);
        self.flags.push(Flag {
            region: r,
            element: e,
            period: p,
            kind: f.kind,
            score: f.score,
            message,
            numbers: f.numbers,
            rule: None,
            sources: Vec::new(),
        });
    }

    fn short(&mut self, kind: FlagKind, o: &Outcome) {
        if matches!(o, Outcome::Short) {
            *self.short.entry(kind).or_default() += 1;
        }
    }
}

/// Run every check over `obs` for the periods within `scope`. Where one key
/// has several sources, the first in `obs` is the value the other checks
/// read (callers put the preferred source first).
pub fn check(
    fw: &Framework,
    tree: &RegionTree,
    rules: &RuleSet,
    obs: &[Observation],
    scope: Period,
) -> Report {
    let p = &rules.params;
    let mut cx = Ctx {
        fw,
        tree,
        flags: Vec::new(),
        short: FxHashMap::default(),
    };
    let mut data = DataSet::new(tree.len(), fw.elements.len());
    // Every source of each in-scope key, for the cross-source comparison.
    let mut by_key: FxHashMap<(usize, Period, usize), Vec<usize>> = FxHashMap::default();
    // (region, element, granularity) → (index, value), primary values only.
    let mut series: FxHashMap<(usize, usize, u8), Vec<(i64, f64)>> = FxHashMap::default();
    let mut summary = Summary::default();
    for (i, o) in obs.iter().enumerate() {
        let first = data.insert(o.region, o.period, o.element, o.value).is_ok();
        if within(o.period, scope) {
            by_key
                .entry((o.region, o.period, o.element))
                .or_default()
                .push(i);
        }
        if first {
            let (g, idx) = series_key(o.period);
            series
                .entry((o.region, o.element, g))
                .or_default()
                .push((idx, o.value));
        }
    }

    // Own-history methods, and the values the peer comparison will use.
    // (parent, element, period) → (region, value) of the siblings.
    type PeerKey = (Option<usize>, usize, Period);
    let mut peer_groups: FxHashMap<PeerKey, Vec<(usize, f64)>> = FxHashMap::default();
    let mut keys: Vec<_> = series.keys().copied().collect();
    keys.sort_unstable();
    // Every series' model of normal first: the element's season over all
    // regions, each series' model drawn towards it, the element's typical
    // overdispersion, and how its points spread beyond the model's tails.
    let mut fitted = Vec::with_capacity(keys.len());
    let mut profiles: FxHashMap<(usize, u8), baseline::Profile> = FxHashMap::default();
    // Elements with a fraction anywhere: measured quantities, never counts.
    let mut measured = vec![false; fw.elements.len()];
    for key in keys {
        let (_, e, g) = key;
        let mut pts = std::mem::take(series.get_mut(&key).expect("key"));
        pts.sort_unstable_by_key(|x| x.0);
        let first = pts[0].0;
        let len = (pts[pts.len() - 1].0 - first + 1) as usize;
        let mut dense = vec![None; len];
        for &(idx, v) in &pts {
            dense[(idx - first) as usize] = Some(v);
            measured[e] |= v.fract() != 0.0;
        }
        profiles
            .entry((e, g))
            .or_default()
            .add(&dense, first, season(g), scope.year());
        fitted.push((key, pts, first, dense, None));
    }
    let profiles: FxHashMap<(usize, u8), Vec<f64>> = profiles
        .into_iter()
        .filter_map(|(k, p)| Some((k, p.index()?)))
        .collect();
    let mut alphas: FxHashMap<(usize, u8), Vec<f64>> = FxHashMap::default();
    for ((_, e, g), _, first, dense, model) in &mut fitted {
        let profile = profiles.get(&(*e, *g)).map(|p| p.as_slice());
        *model = baseline::Model::fit(
            dense,
            *first,
            season(*g),
            scope.year(),
            profile,
            !measured[*e],
        );
        if let Some(m) = model.as_mut()
            && fw.elements[*e].time_agg != TimeAgg::Sum
        {
            m.as_stock();
        }
        if let Some(m) = model.as_ref().filter(|m| m.is_count()) {
            alphas.entry((*e, *g)).or_default().push(m.alpha());
        }
    }
    let mut tails = vec![baseline::Tail::default(); fw.elements.len()];
    for ((_, e, g), pts, first, dense, model) in &mut fitted {
        let Some(m) = model.as_mut() else { continue };
        if let Some(a) = alphas.get(&(*e, *g)).and_then(|a| stats::median(a)) {
            m.pool_alpha(a, dense.iter().flatten().count());
        }
        for &(idx, x) in pts.iter() {
            let t = (idx - *first) as usize;
            if within(period_of(*g, idx), scope)
                && let Some(ex) = m.expect(dense, *first, t, t)
            {
                tails[*e].add(m.surprise(x, ex));
            }
        }
    }
    let monthly = share::monthly(&fitted);
    // The rules' part–whole pairs and those the earlier years show.
    let mut pairs = share::pairs(rules, fw);
    let learned = kin::learned(fw, &pairs, &monthly, scope.year());
    pairs.extend(&learned);
    pairs.sort_unstable();
    let shares = episode::all(fw, &pairs, &learned, &rules.params, &monthly, scope);
    for (key, pts, first, dense, model) in &fitted {
        let ((r, e, g), first) = (*key, *first);
        let mut in_scope = false;
        let intensive = fw.elements[e].region_agg != RegionAgg::Sum;
        let stepwise = g == 2 && exempt::stepwise(pts, scope.year());
        for &(idx, x) in pts {
            let t = (idx - first) as usize;
            let period = period_of(g, idx);
            if !within(period, scope) {
                continue;
            }
            in_scope = true;
            summary.values += 1;
            let hist = anomaly::history(dense, t);
            let s = season(g);
            let prev = t.checked_sub(1).and_then(|i| dense[i]);
            let kinds = [
                FlagKind::Zscore,
                FlagKind::ModZscore,
                FlagKind::Jump,
                FlagKind::RunAboveMean,
            ];
            // A stock reported monthly but set once a year (a target, a
            // backlog count): its January is a yearly figure with only a
            // few years behind it, too few to judge; the months that repeat
            // it say nothing more (three of them are not a run).
            let restated = || {
                let jan = t.checked_sub(idx.rem_euclid(12) as usize)?;
                dense[jan]
            };
            if stepwise && (matches!(period, Period::Month(_, 1)) || restated() == Some(x)) {
                for kind in kinds {
                    *cx.short.entry(kind).or_default() += 1;
                }
                *cx.short.entry(FlagKind::Peer).or_default() += 1;
                continue;
            }
            // The same value as the period before was judged when it first
            // appeared; flagging it again each month adds nothing to review.
            let repeated = prev == Some(x);
            // z and modified z are not exempted where the same month a year
            // earlier also departed (the second round did): the model of
            // normal knows the season, and the exemption hid a fraud count of
            // 70 where 19 are usual because the August before was 34.
            let outcomes = [
                if repeated {
                    Outcome::Clear
                } else {
                    anomaly::zscore(&hist, x, p)
                },
                if repeated {
                    Outcome::Clear
                } else {
                    anomaly::mod_zscore(&hist, x, p)
                },
                anomaly::jump(dense, t, s, p),
                exempt::year_level(dense, t, idx, s, p, anomaly::run_above_mean(dense, t, s, p)),
            ];
            let mut found = Vec::new();
            for (kind, o) in kinds.into_iter().zip(outcomes) {
                cx.short(kind, &o);
                if let Outcome::Flag(f) = o {
                    found.push(f);
                }
            }
            let at = judge::At {
                dense,
                first,
                t,
                tail: &tails[e],
            };
            match judge::judge(found, model.as_ref(), at, p) {
                judge::Verdict::Flag(f) => cx.push(r, e, period, f),
                judge::Verdict::Clear => {}
                judge::Verdict::Short(kinds) => {
                    for kind in kinds {
                        *cx.short.entry(kind).or_default() += 1;
                    }
                }
            }
            if repeated {
                continue;
            }
            // Only values that compare across regions of different sizes
            // (means, ratings, survey scores) are compared with siblings;
            // a count is judged against its own history.
            if intensive {
                peer_groups
                    .entry((tree.get(r).parent, e, period))
                    .or_default()
                    .push((r, x));
            }
        }
        if in_scope {
            summary.series += 1;
        }
    }

    summary.explained = explained::explained(fw, &rules.params, &pairs, &monthly, &mut cx.flags);
    for (r, found) in shares {
        cx.add_share(r, found, &monthly);
    }
    cx.flags.retain(|f| !judge::weak(f, p));
    cx.runs_one_item(&monthly);

    let mut groups: Vec<_> = peer_groups.into_iter().collect();
    groups.sort_unstable_by_key(|g| (g.0.0, g.0.1, g.0.2));
    for ((_, e, period), members) in groups {
        let vals: Vec<f64> = members.iter().map(|m| m.1).collect();
        if vals.len() < p.min_peers {
            *cx.short.entry(FlagKind::Peer).or_default() += vals.len();
            continue;
        }
        for (i, f) in anomaly::peers(&vals, p) {
            let r = members[i].0;
            cx.push(r, e, period, f);
        }
    }

    let figures = breach::Figures {
        fw,
        pairs: &pairs,
        monthly: &monthly,
    };
    definite::validate(&mut cx, rules, &data, obs, scope, &figures);
    definite::cross_source(&mut cx, rules, obs, &by_key);
    definite::timeliness(&mut cx, rules, obs, scope);
    fold::fold(&mut cx.flags, rules, &learned, fw);

    cx.flags.sort_by(|a, b| {
        (a.region, a.element, a.period, a.kind).cmp(&(b.region, b.element, b.period, b.kind))
    });
    let mut counts: FxHashMap<FlagKind, usize> = FxHashMap::default();
    for f in &cx.flags {
        *counts.entry(f.kind).or_default() += 1;
    }
    summary.flags = FlagKind::ALL
        .iter()
        .map(|k| (*k, counts.get(k).copied().unwrap_or(0)))
        .collect();
    summary.skipped_short = FlagKind::ALL
        .iter()
        .filter_map(|k| cx.short.get(k).map(|n| (*k, *n)))
        .collect();
    Report {
        flags: cx.flags,
        summary,
    }
}

fn period_of(g: u8, idx: i64) -> Period {
    match g {
        0 => Period::Year(idx as i32),
        1 => Period::Quarter(idx.div_euclid(4) as i32, (idx.rem_euclid(4) + 1) as u8),
        _ => Period::Month(idx.div_euclid(12) as i32, (idx.rem_euclid(12) + 1) as u8),
    }
}

#[cfg(test)]
mod evidence_tests;
#[cfg(test)]
mod placement_tests;
#[cfg(test)]
mod tests;
