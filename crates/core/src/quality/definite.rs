//! The definite problems (seed §3.4 二审, §6.1 数据溯源, §3.2 时效): values
//! that break a validation rule or range, one key reported differently by
//! two sources, and values submitted after their deadline. Unlike the
//! statistical methods, each of these is a fact about the data, not a
//! probability, and is listed before them in the queue.

use super::breach::Figures;
use super::rules::{Applies, Missing, Operator, RuleSet};
use super::{Ctx, Flag, FlagKind, Observation, days_late, within};
use crate::data::DataSet;
use crate::num::fmt;
use crate::period::{Date, Period};
use crate::resolve::Resolver;
use rustc_hash::FxHashMap;

/// Validation rules and ranges (二审数据逻辑).
pub(super) fn validate(
    cx: &mut Ctx,
    rules: &RuleSet,
    data: &DataSet,
    obs: &[Observation],
    scope: Period,
    figures: &Figures,
) {
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
            // A broken part–whole rule is filed under the figure that moved.
            let (element, why) = figures
                .moved(rule, r, period)
                .unwrap_or((principal, String::new()));
            let message = format!(
                "{}规则 {}「{}」不成立：{} = {}，{} {} = {}（重要程度：{}）{why}",
                cx.head(r, element, period),
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
                element,
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
pub(super) fn cross_source(
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
pub(super) fn timeliness(cx: &mut Ctx, rules: &RuleSet, obs: &[Observation], scope: Period) {
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
