//! Quality control (seed §3.2, §3.4, §6.1, §7.3): validation rules,
//! anomaly detection, cross-source comparison and timeliness over reported
//! values, before any score is official. Pure: the caller brings the values.

pub mod anomaly;
pub mod baseline;
mod fold;
pub mod intake;
pub mod judge;
pub mod rules;
mod share;
pub mod stats;

use crate::data::DataSet;
use crate::framework::{Framework, RegionAgg};
use crate::num::fmt;
use crate::period::{Date, Period};
use crate::region::RegionTree;
use crate::resolve::Resolver;
use anomaly::{Finding, Outcome};
use rules::{Applies, Missing, Operator, RuleSet};
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

/// Thresholds of the anomaly methods; the `[anomaly]` table of a rules file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// |z| at or above this flags (seed: 3.0).
    pub z: f64,
    /// |modified z| at or above this flags (Iglewicz & Hoaglin: 3.5).
    pub mod_z: f64,
    /// Period-on-period change in percent that counts as a jump.
    pub jump_pct: f64,
    /// …and the smallest absolute change that does…
    pub jump_min_abs: f64,
    /// …and how many robust SDs of the series' usual period-on-period
    /// changes it must be.
    pub jump_noise: f64,
    /// Consecutive periods above the line for the run rule.
    pub run_len: usize,
    /// The run rule's line: mean + this many SD.
    pub run_sd: f64,
    pub peer_mod_z: f64,
    /// Earlier periods a series needs before a method judges it.
    pub min_history: usize,
    /// Sibling regions needed for the peer comparison.
    pub min_peers: usize,
    /// A statistical flag also needs a deviation of at least this share of
    /// the baseline…
    pub min_rel: f64,
    /// …and at least this much in the element's unit.
    pub min_abs: f64,
    /// Two sources differing by more than this percent of the larger open a trace task.
    pub cross_source_pct: f64,
    /// A statistical flag is kept only when the series' model of normal
    /// (season, recent level, counts as counts) gives the value a
    /// probability below 10^-surprise…
    pub surprise: f64,
    /// …and a run, judged as a whole, below 10^-run_surprise.
    pub run_surprise: f64,
    /// A part's share of its whole (占比突变) is flagged when a month's
    /// share is this improbable (−log10 p) given the share before it.
    pub share_surprise: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            z: 3.0,
            mod_z: 3.5,
            jump_pct: 50.0,
            jump_min_abs: 5.0,
            jump_noise: 3.0,
            run_len: 3,
            run_sd: 1.0,
            peer_mod_z: 3.5,
            min_history: 6,
            min_peers: 5,
            min_rel: 0.25,
            min_abs: 3.0,
            cross_source_pct: 5.0,
            surprise: 3.0,
            run_surprise: 2.0,
            share_surprise: 6.0,
        }
    }
}

impl Params {
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("z", self.z),
            ("mod_z", self.mod_z),
            ("jump_pct", self.jump_pct),
            ("peer_mod_z", self.peer_mod_z),
            ("cross_source_pct", self.cross_source_pct),
            ("surprise", self.surprise),
            ("run_surprise", self.run_surprise),
            ("share_surprise", self.share_surprise),
        ];
        for (k, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("[anomaly] 的 {k} 应为正数，而不是 {v}"));
            }
        }
        for (k, v) in [
            ("jump_min_abs", self.jump_min_abs),
            ("jump_noise", self.jump_noise),
            ("run_sd", self.run_sd),
            ("min_rel", self.min_rel),
            ("min_abs", self.min_abs),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("[anomaly] 的 {k} 应为非负数，而不是 {v}"));
            }
        }
        if self.run_len < 2 || self.min_history < 2 || self.min_peers < 3 {
            return Err("[anomaly] 的 run_len、min_history 至少为 2，min_peers 至少为 3".into());
        }
        Ok(())
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
    let shares = share::all(fw, rules, &fitted, scope);
    for (key, pts, first, dense, model) in fitted {
        let (r, e, g) = key;
        let mut in_scope = false;
        let intensive = fw.elements[e].region_agg != RegionAgg::Sum;
        let stepwise = g == 2 && stepwise(&pts, scope.year());
        for &(idx, x) in &pts {
            let t = (idx - first) as usize;
            let period = period_of(g, idx);
            if !within(period, scope) {
                continue;
            }
            in_scope = true;
            summary.values += 1;
            let hist = anomaly::history(&dense, t);
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
            // A deviation the same period of the year before also showed,
            // in the same direction, is the season (安全生产月 in June, the
            // pre-festival peak), not an anomaly of this year.
            let seasonal = |method: fn(&[f64], f64, &Params) -> Outcome, o: Outcome| {
                let Outcome::Flag(f) = &o else { return o };
                if s > 1
                    && let Some(k) = t.checked_sub(s)
                    && let Some(xk) = dense[k]
                    && let Outcome::Flag(g) = method(&anomaly::history(&dense, k), xk, p)
                    && (g.score > 0.0) == (f.score > 0.0)
                {
                    return Outcome::Clear;
                }
                o
            };
            let outcomes = [
                if repeated {
                    Outcome::Clear
                } else {
                    seasonal(anomaly::zscore, anomaly::zscore(&hist, x, p))
                },
                if repeated {
                    Outcome::Clear
                } else {
                    seasonal(anomaly::mod_zscore, anomaly::mod_zscore(&hist, x, p))
                },
                anomaly::jump(&dense, t, s, p),
                anomaly::run_above_mean(&dense, t, s, p),
            ];
            let mut found = Vec::new();
            for (kind, o) in kinds.into_iter().zip(outcomes) {
                cx.short(kind, &o);
                if let Outcome::Flag(f) = o {
                    found.push(f);
                }
            }
            let at = judge::At {
                dense: &dense,
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

    for (r, found) in shares {
        cx.add_share(r, found);
    }

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

    validate(&mut cx, rules, &data, obs, scope);
    cross_source(&mut cx, rules, obs, &by_key);
    timeliness(&mut cx, rules, obs, scope);
    fold::fold(&mut cx.flags, rules, fw);

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

/// Monthly points (index, value) that were constant within every earlier
/// year (at least two years with two or more months each).
fn stepwise(pts: &[(i64, f64)], year: i32) -> bool {
    let mut years = 0;
    let mut i = 0;
    while i < pts.len() {
        let y = pts[i].0.div_euclid(12);
        if y >= year as i64 {
            break;
        }
        let mut j = i;
        while j < pts.len() && pts[j].0.div_euclid(12) == y {
            j += 1;
        }
        if j - i >= 2 {
            if pts[i..j].iter().any(|q| q.1 != pts[i].1) {
                return false;
            }
            years += 1;
        }
        i = j;
    }
    years >= 2
}

fn period_of(g: u8, idx: i64) -> Period {
    match g {
        0 => Period::Year(idx as i32),
        1 => Period::Quarter(idx.div_euclid(4) as i32, (idx.rem_euclid(4) + 1) as u8),
        _ => Period::Month(idx.div_euclid(12) as i32, (idx.rem_euclid(12) + 1) as u8),
    }
}

/// Validation rules and ranges (二审数据逻辑).
fn validate(cx: &mut Ctx, rules: &RuleSet, data: &DataSet, obs: &[Observation], scope: Period) {
    // Ranges, on every reported in-scope value (each source).
    let mut ranges_of: Vec<Vec<usize>> = vec![Vec::new(); cx.fw.elements.len()];
    for (i, r) in rules.ranges.iter().enumerate() {
        for &e in &r.elements {
            ranges_of[e].push(i);
        }
    }
    for o in obs.iter().filter(|o| within(o.period, scope)) {
        for &i in &ranges_of[o.element] {
            let r = &rules.ranges[i];
            let low = r.min.is_some_and(|m| o.value < m);
            let high = r.max.is_some_and(|m| o.value > m);
            if !(low || high) {
                continue;
            }
            let bound = if low { r.min } else { r.max }.unwrap_or(0.0);
            let range = match (r.min, r.max) {
                (Some(a), Some(b)) => format!("{}–{}", fmt(a), fmt(b)),
                (Some(a), None) => format!("不小于 {}", fmt(a)),
                (None, Some(b)) => format!("不大于 {}", fmt(b)),
                (None, None) => String::new(),
            };
            let src = if o.source.is_empty() {
                String::new()
            } else {
                format!("（来源：{}）", o.source)
            };
            let message = format!(
                "{}数值 {}{src} 超出范围规则 {}「{}」的取值范围（{range}）",
                cx.head(o.region, o.element, o.period),
                fmt(o.value),
                r.code,
                r.name
            );
            cx.flags.push(Flag {
                region: o.region,
                element: o.element,
                period: o.period,
                kind: FlagKind::Rule,
                score: o.value - bound,
                message,
                numbers: vec![("value".into(), o.value), ("bound".into(), bound)],
                rule: Some(r.code.clone()),
                sources: vec![o.source.clone()],
            });
        }
    }

    // Rules over expressions, at each (region, period) that reported one of
    // the rule's elements.
    let mut reported: FxHashMap<(usize, Period), Vec<usize>> = FxHashMap::default();
    let mut reporters: Vec<usize> = Vec::new();
    for o in obs.iter().filter(|o| within(o.period, scope)) {
        let v = reported.entry((o.region, o.period)).or_default();
        if !v.contains(&o.element) {
            v.push(o.element);
        }
        reporters.push(o.region);
    }
    reporters.sort_unstable();
    reporters.dedup();
    let mut points: Vec<(usize, Period)> = reported.keys().copied().collect();
    points.sort_unstable();
    let mut resolver = Resolver::new(cx.fw, cx.tree, data);
    for rule in &rules.rules {
        let mut els = rule.left.elements();
        els.extend(rule.right.elements());
        let Some(principal) = rule.principal() else {
            continue;
        };
        let targets: Vec<(usize, Period)> = match rule.applies {
            Applies::Reported => points
                .iter()
                .filter(|k| reported[k].iter().any(|e| els.contains(e)))
                .copied()
                .collect(),
            Applies::Year => match scope {
                Period::Year(_) => reporters.iter().map(|&r| (r, scope)).collect(),
                _ => Vec::new(),
            },
        };
        for (r, period) in targets {
            let mut get = |e: usize, p: Period| match rule.applies {
                Applies::Reported => data.get(r, p, e),
                Applies::Year => resolver.value(r, p, e),
            };
            let present: Vec<bool> = els.iter().map(|&e| get(e, period).is_some()).collect();
            if rule.operator == Operator::CompulsoryPair {
                let left: Vec<usize> = rule.left.elements();
                let mut has = |side: &[usize]| side.iter().any(|&e| get(e, period).is_some());
                let (l, rr) = (has(&left), has(&rule.right.elements()));
                if l != rr {
                    let message = format!(
                        "{}规则 {}「{}」不成立：{} 与 {} 应同时报送，现仅报送了{}",
                        cx.head(r, principal, period),
                        rule.code,
                        rule.name,
                        rule.left_src,
                        rule.right_src,
                        if l { "前者" } else { "后者" }
                    );
                    cx.flags.push(Flag {
                        region: r,
                        element: principal,
                        period,
                        kind: FlagKind::Rule,
                        score: 1.0,
                        message,
                        numbers: Vec::new(),
                        rule: Some(rule.code.clone()),
                        sources: Vec::new(),
                    });
                }
                continue;
            }
            let all_missing = present.iter().all(|x| !x);
            let any_missing = present.iter().any(|x| !x);
            let skip = match rule.missing {
                Missing::SkipIfAny => any_missing,
                Missing::SkipIfAll => all_missing,
                Missing::Never => false,
            };
            if skip {
                continue;
            }
            let mut get0 = |e: usize, p: Period| get(e, p).or(Some(0.0));
            let (l, rv) = (
                rule.left.eval(period, &mut get0),
                rule.right.eval(period, &mut get0),
            );
            let (crate::formula::Eval::Value(l), crate::formula::Eval::Value(rv)) = (l, rv) else {
                continue;
            };
            if rule.operator.holds(l, rv) {
                continue;
            }
            let message = format!(
                "{}规则 {}「{}」不成立：{} = {}，{} {} = {}（重要程度：{}）",
                cx.head(r, principal, period),
                rule.code,
                rule.name,
                rule.left_src,
                fmt(l),
                rule.operator.symbol(),
                rule.right_src,
                fmt(rv),
                rule.importance.label()
            );
            cx.flags.push(Flag {
                region: r,
                element: principal,
                period,
                kind: FlagKind::Rule,
                score: l - rv,
                message,
                numbers: vec![("left".into(), l), ("right".into(), rv)],
                rule: Some(rule.code.clone()),
                sources: Vec::new(),
            });
        }
    }
}

/// 数据溯源: one key reported by several sources that disagree.
fn cross_source(
    cx: &mut Ctx,
    rules: &RuleSet,
    obs: &[Observation],
    by_key: &FxHashMap<(usize, Period, usize), Vec<usize>>,
) {
    let mut keys: Vec<_> = by_key.iter().filter(|(_, v)| v.len() > 1).collect();
    keys.sort_unstable_by_key(|(k, _)| **k);
    for (&(r, period, e), idx) in keys {
        let lo = idx
            .iter()
            .copied()
            .min_by(|&a, &b| obs[a].value.total_cmp(&obs[b].value))
            .expect("non-empty");
        let hi = idx
            .iter()
            .copied()
            .max_by(|&a, &b| obs[a].value.total_cmp(&obs[b].value))
            .expect("non-empty");
        let (a, b) = (&obs[lo], &obs[hi]);
        let larger = a.value.abs().max(b.value.abs());
        let diff = b.value - a.value;
        if larger == 0.0 || diff / larger * 100.0 <= rules.params.cross_source_pct {
            continue;
        }
        let pct = diff / larger * 100.0;
        let name = |s: &str| {
            if s.is_empty() {
                "（未注明来源）".to_string()
            } else {
                s.to_string()
            }
        };
        let message = format!(
            "{}来源“{}”报 {}，来源“{}”报 {}，相差 {}%（超过 {}%），需启动数据溯源",
            cx.head(r, e, period),
            name(&b.source),
            fmt(b.value),
            name(&a.source),
            fmt(a.value),
            fmt((pct * 100.0).round() / 100.0),
            fmt(rules.params.cross_source_pct)
        );
        cx.flags.push(Flag {
            region: r,
            element: e,
            period,
            kind: FlagKind::CrossSource,
            score: pct,
            message,
            numbers: vec![("high".into(), b.value), ("low".into(), a.value)],
            rule: None,
            sources: vec![b.source.clone(), a.source.clone()],
        });
    }
}

/// 三审数据时效: a file's values for periods after the cycle; stored values
/// submitted after the deadline or before their period began.
fn timeliness(cx: &mut Ctx, rules: &RuleSet, obs: &[Observation], scope: Period) {
    let cycle_end = Period::Year(scope.year()).last_day().days();
    // A file may hold several years: a later year counts as another cycle's
    // data when it is substantial, and as stray rows in this cycle's
    // submission when it has under a tenth of this cycle's rows.
    let mut per_year: FxHashMap<i32, usize> = FxHashMap::default();
    for o in obs {
        *per_year.entry(o.period.year()).or_default() += 1;
    }
    let this_cycle = per_year.get(&scope.year()).copied().unwrap_or(0);
    let stray = |y: i32| per_year.get(&y).copied().unwrap_or(0) * 10 < this_cycle;
    let mut first_in: FxHashMap<Period, Date> = FxHashMap::default();
    for o in obs {
        if let Some(at) = o.submitted {
            first_in
                .entry(o.period)
                .and_modify(|x| *x = (*x).min(at))
                .or_insert(at);
        }
    }
    let mut seen = rustc_hash::FxHashSet::default();
    for o in obs {
        let first = o.period.first_day().days();
        let problem = match o.submitted {
            None if first > cycle_end && stray(o.period.year()) => Some((
                (first - cycle_end) as f64,
                format!(
                    "期间不在本测评周期（{} 年）内，不应随本期数据报送",
                    scope.year()
                ),
            )),
            Some(at) if within(o.period, scope) => {
                let at_d = at.days();
                let late = first_in
                    .get(&o.period)
                    .and_then(|&f| days_late(o.period, rules.deadline_days, at, f));
                if let Some(late) = late {
                    Some((
                        late as f64,
                        format!(
                            "逾期报送：应于期末后 {} 天内报送，实际 {} 报送，逾期 {late} 天",
                            rules.deadline_days, at
                        ),
                    ))
                } else if at_d < first {
                    Some((
                        (first - at_d) as f64,
                        format!("报送日期 {at} 早于所属期间开始，数据不可能已经产生"),
                    ))
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some((score, detail)) = problem
            && seen.insert((o.region, o.period, o.element))
        {
            let message = format!("{}{detail}", cx.head(o.region, o.element, o.period));
            cx.flags.push(Flag {
                region: o.region,
                element: o.element,
                period: o.period,
                kind: FlagKind::Timeliness,
                score,
                message,
                numbers: vec![("value".into(), o.value)],
                rule: None,
                sources: vec![o.source.clone()],
            });
        }
    }
}

#[cfg(test)]
mod tests;

/// Numbers behind a flag, serialised as a JSON object in their order.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(from = "std::collections::BTreeMap<String, f64>")]
pub struct Numbers(pub Vec<(String, f64)>);

impl From<std::collections::BTreeMap<String, f64>> for Numbers {
    fn from(m: std::collections::BTreeMap<String, f64>) -> Self {
        Numbers(m.into_iter().collect())
    }
}

/// The number called `name` among a flag's numbers.
pub fn number(numbers: &[(String, f64)], name: &str) -> Option<f64> {
    numbers.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
}

impl Numbers {
    pub fn get(&self, name: &str) -> Option<f64> {
        number(&self.0, name)
    }
}

impl Serialize for Numbers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// A flag by codes, as `pingan check --format json` prints it and the
/// follow-up queue stores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlagView {
    pub region: String,
    pub region_name: String,
    pub element: String,
    pub element_name: String,
    pub period: Period,
    pub kind: FlagKind,
    pub score: f64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    pub numbers: Numbers,
}

impl Flag {
    pub fn view(&self, fw: &Framework, tree: &RegionTree) -> FlagView {
        let r = tree.get(self.region);
        let e = &fw.elements[self.element];
        FlagView {
            region: r.code.clone(),
            region_name: r.name.clone(),
            element: e.code.clone(),
            element_name: e.name.clone(),
            period: self.period,
            kind: self.kind,
            score: self.score,
            message: self.message.clone(),
            rule: self.rule.clone(),
            sources: self.sources.clone(),
            numbers: Numbers(self.numbers.clone()),
        }
    }
}

impl Summary {
    /// `{"values":…,"series":…,"flags":{kind:n},"skipped_short":{kind:n}}`.
    pub fn view(&self) -> SummaryView {
        let map = |v: &[(FlagKind, usize)]| {
            v.iter()
                .map(|(k, n)| (k.code().to_string(), *n))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        SummaryView {
            values: self.values,
            series: self.series,
            flags: map(&self.flags),
            skipped_short: map(&self.skipped_short),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SummaryView {
    pub values: usize,
    pub series: usize,
    pub flags: std::collections::BTreeMap<String, usize>,
    pub skipped_short: std::collections::BTreeMap<String, usize>,
}
