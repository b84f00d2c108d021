//! Which figure an item is filed under, where two could be wrong.

use super::tests::{run, steady, tree};
use super::*;
use crate::default_framework;

/// A broken "part ≤ whole" rule is filed under the figure that left its
/// own model: a whole typed far too low, or a part typed far too high.
#[test]
fn a_broken_part_whole_rule_is_filed_under_the_figure_that_moved() {
    let fw = default_framework();
    let tree = tree();
    let (whole, part) = (
        fw.element_index("disputes").unwrap(),
        fw.element_index("disputes_resolved").unwrap(),
    );
    let (t2, t3) = (tree.find("T2").unwrap(), tree.find("T3").unwrap());
    let (dec, sep): (Period, Period) = ("2024-12".parse().unwrap(), "2024-09".parse().unwrap());
    let mut o = steady(&fw, &tree);
    for x in o.out.iter_mut() {
        if x.region == t2 && x.period == dec && x.element == whole {
            x.value = 12.0;
        }
        if x.region == t3 && x.period == sep && x.element == part {
            x.value *= 2.0;
        }
    }
    let r = run(&o, "2024");
    let rule_at = |region, p| {
        r.flags
            .iter()
            .find(|f| f.kind == FlagKind::Rule && f.region == region && f.period == p)
            .unwrap_or_else(|| panic!("{:#?}", r.flags))
    };
    let low = rule_at(t2, dec);
    assert_eq!(low.element, whole, "{}", low.message);
    let name = &fw.elements[whole].name;
    assert!(
        low.message.starts_with(&format!("地区T2（T2）{name}")),
        "{}",
        low.message
    );
    assert!(
        low.message.ends_with(&format!(
            "{name}明显低于其季节规律与近期水平，应先核查{name}"
        )),
        "{}",
        low.message
    );
    let high = rule_at(t3, sep);
    assert_eq!(high.element, part, "{}", high.message);
    let name = &fw.elements[part].name;
    assert!(
        high.message.contains(&format!("应先核查{name}")),
        "{}",
        high.message
    );
}

/// Three months of a share that came back are one item where they
/// complete, as a run is: a run of the series' own that completed a month
/// earlier (a natural high month before the three) becomes a line of it,
/// and the step a shift began with keeps the shift's item.
#[test]
fn an_episode_is_filed_where_its_own_months_say() {
    let fw = default_framework();
    let tree = tree();
    let whole = fw.element_index("disputes").unwrap();
    let t2 = tree.find("T2").unwrap();
    let month = |m: u8| Period::Month(2024, m);
    let abs = |m: i64| 2024 * 12 + m - 1;
    let flag = |kind, m: u8| Flag {
        region: t2,
        element: whole,
        period: month(m),
        kind,
        score: 1.0,
        message: String::new(),
        numbers: vec![("run".into(), 3.0), ("surprise".into(), 5.0)],
        rule: None,
        sources: Vec::new(),
    };
    let episode = |m: u8, span: (i64, i64), shift: bool| share::Found {
        element: whole,
        period: month(m),
        span: (abs(span.0), abs(span.1)),
        shift,
        finding: anomaly::Finding {
            kind: FlagKind::Share,
            score: -40.0,
            numbers: vec![("surprise".into(), 30.0)],
            detail: "占比".into(),
        },
    };
    // Disputes of 1 January 2024 on: 50 a month, then April to June.
    let mut values = vec![Some(50.0); 12];
    let mut placed_with = |flags: Vec<Flag>, found, spring: [f64; 3]| {
        values[3..6].copy_from_slice(&spring.map(Some));
        let series = share::Series {
            first: abs(1),
            dense: &values,
            model: None,
        };
        let monthly: share::Monthly = [((t2, whole), series)].into_iter().collect();
        let mut cx = Ctx {
            fw: &fw,
            tree: &tree,
            flags,
            short: Default::default(),
        };
        cx.add_share(t2, found, &monthly);
        cx.flags
            .iter()
            .map(|f| (f.kind, f.period))
            .collect::<Vec<_>>()
    };
    let mut placed = |flags, found| placed_with(flags, found, [50.0; 3]);
    // June to August came back in September; the series' run completed in July.
    assert_eq!(
        placed(
            vec![flag(FlagKind::RunAboveMean, 7)],
            episode(8, (6, 8), false)
        ),
        vec![(FlagKind::Share, month(8))]
    );
    // From October to the end of the year, begun with a step in October:
    // the jump keeps the item, the run completing in December is its line.
    assert_eq!(
        placed(
            vec![flag(FlagKind::Jump, 10), flag(FlagKind::RunAboveMean, 12)],
            episode(10, (10, 12), true)
        ),
        vec![(FlagKind::Jump, month(10))]
    );
    // Without the step, the run completing with it keeps its month.
    assert_eq!(
        placed(
            vec![flag(FlagKind::RunAboveMean, 12)],
            episode(10, (10, 12), true)
        ),
        vec![(FlagKind::RunAboveMean, month(12))]
    );
    // From April to the end of the year, with the series' own flags in
    // May and a run completing in December: a shift of nine months, not a
    // run of its last three; the item is April's.
    assert_eq!(
        placed(
            vec![flag(FlagKind::Zscore, 5), flag(FlagKind::RunAboveMean, 12)],
            episode(4, (4, 12), true)
        ),
        vec![(FlagKind::Share, month(4))]
    );
    // April alone left the share (May and June were under its
    // materiality), April jumped, and the run of April to June completed
    // in June: three months alike are the run's item; a first month far
    // above the two after it is the jump's.
    let mut run = flag(FlagKind::RunAboveMean, 6);
    run.numbers.push(("mean".into(), 50.0));
    let flags = || vec![flag(FlagKind::Jump, 4), run.clone()];
    assert_eq!(
        placed_with(flags(), episode(4, (4, 4), false), [91.0, 94.0, 91.0]),
        vec![(FlagKind::RunAboveMean, month(6))]
    );
    assert_eq!(
        placed_with(flags(), episode(4, (4, 4), false), [211.0, 65.0, 60.0]),
        vec![(FlagKind::Jump, month(4))]
    );
}
