//! Event records (events.md §1): CSV or JSON Lines, one event version per
//! row. Every row is checked (every problem named by line, nothing kept if
//! any), the latest version of each `event_id` kept, identical repeats of
//! a version counted once and a different row under the same `event_id`
//! and `updated_at` refused.

use crate::decode::decode;
use crate::error::{Collector, InputErrors};
use crate::table::each_record;
use pingan_core::RegionTree;
use pingan_core::events::{Event, Kind, Urgency, time};
use pingan_core::period::Date;
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::Hasher;

/// The columns, in events.md's order.
pub const COLUMNS: [&str; 11] = [
    "event_id",
    "kind",
    "region",
    "category",
    "urgency",
    "departments",
    "reported_at",
    "handled_at",
    "dispatched_at",
    "arrived_at",
    "updated_at",
];

/// What a file held: the latest version of each event with its id.
#[derive(Debug, Default)]
pub struct EventsRead {
    pub events: Vec<Event>,
    pub ids: Vec<String>,
    /// The category of each event (free text, grid events).
    pub categories: Vec<String>,
    /// Data rows in the file.
    pub rows: usize,
    /// Rows that repeated a version exactly.
    pub duplicates: usize,
}

/// One version seen: when it was updated, what it said, where.
struct Version {
    updated: f64,
    digest: u128,
    line: usize,
}

struct Slot {
    /// Index into the output of the latest version.
    at: usize,
    versions: Vec<Version>,
}

fn digest(fields: &[&str; 11]) -> u128 {
    let mut a = FxHasher::default();
    let mut b = FxHasher::default();
    b.write_u8(0x5a);
    for f in fields {
        a.write(f.as_bytes());
        a.write_u8(0xff);
        b.write(f.as_bytes());
        b.write_u8(0xfe);
    }
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

fn china_date(t: f64) -> Date {
    let days = ((t + 8.0 * 3600.0) / 86400.0).floor() as i64;
    let (year, month, day) = pingan_core::period::civil_from_days(days);
    Date { year, month, day }
}

/// A row's event, or everything wrong with it.
pub fn event_of(f: &[&str; 11], tree: &RegionTree) -> Result<Event, Vec<String>> {
    let mut bad = Vec::new();
    let [
        id,
        kind,
        region,
        _category,
        urgency,
        departments,
        reported,
        handled,
        dispatched,
        arrived,
        updated,
    ] = *f;
    let required = |name: &str, v: &str, bad: &mut Vec<String>| {
        if v.is_empty() {
            bad.push(format!("缺少 {name}"));
        }
    };
    required("event_id", id, &mut bad);
    let kind_v = Kind::parse(kind);
    if kind.is_empty() {
        bad.push("缺少 kind".into());
    } else if kind_v.is_none() {
        bad.push(format!("未知的 kind“{kind}”：应为 grid、fire 或 medical"));
    }
    let when = |name: &str, v: &str, bad: &mut Vec<String>| -> Option<f64> {
        if v.is_empty() {
            return None;
        }
        let t = time(v);
        if t.is_none() {
            bad.push(format!(
                "{name}“{v}”不是时间：应为带时区的 RFC 3339 或 YYYY-MM-DD HH:MM:SS（北京时间）"
            ));
        }
        t
    };
    required("reported_at", reported, &mut bad);
    required("updated_at", updated, &mut bad);
    let reported_t = when("reported_at", reported, &mut bad);
    let handled_t = when("handled_at", handled, &mut bad);
    let dispatched_t = when("dispatched_at", dispatched, &mut bad);
    let arrived_t = when("arrived_at", arrived, &mut bad);
    let updated_t = when("updated_at", updated, &mut bad);
    let region_i = if region.is_empty() {
        bad.push("缺少 region".into());
        None
    } else {
        match tree.find(region) {
            Some(r) if !tree.children(r).is_empty() => {
                bad.push(format!(
                    "地区“{region}”不是乡镇（街道）：事件应记在基层地区"
                ));
                None
            }
            Some(r) => {
                if let Some(t) = reported_t {
                    let d = china_date(t);
                    let g = tree.get(r);
                    if g.valid_from.is_some_and(|from| from > d)
                        || g.valid_to.is_some_and(|to| to < d)
                    {
                        bad.push(format!("地区“{region}”在上报时间 {reported} 不在有效期内"));
                    }
                }
                Some(r)
            }
            None => {
                bad.push(format!("未知的地区“{region}”"));
                None
            }
        }
    };
    let mut urgency_v = None;
    let mut departments_v = 0;
    match kind_v {
        Some(Kind::Grid) => {
            if urgency.is_empty() {
                bad.push("网格事件缺少 urgency".into());
            } else {
                urgency_v = Urgency::parse(urgency);
                if urgency_v.is_none() {
                    bad.push(format!(
                        "未知的 urgency“{urgency}”：应为 一般、紧急 或 特急"
                    ));
                }
            }
            if departments.is_empty() {
                bad.push("网格事件缺少 departments".into());
            } else {
                match departments.parse::<u32>() {
                    Ok(n) if n >= 1 => departments_v = n,
                    _ => bad.push(format!("departments“{departments}”应为不小于 1 的整数")),
                }
            }
        }
        Some(Kind::Fire | Kind::Medical) => {
            required("dispatched_at", dispatched, &mut bad);
            required("arrived_at", arrived, &mut bad);
            if let (Some(d), Some(a)) = (dispatched_t, arrived_t)
                && a < d
            {
                bad.push(format!(
                    "arrived_at（{arrived}）早于 dispatched_at（{dispatched}）"
                ));
            }
        }
        None => {}
    }
    if let (Some(r), Some(h)) = (reported_t, handled_t)
        && h < r
    {
        bad.push(format!(
            "handled_at（{handled}）早于 reported_at（{reported}）"
        ));
    }
    match (kind_v, region_i, reported_t, updated_t, bad.is_empty()) {
        (Some(kind), Some(region), Some(reported), Some(updated), true) => Ok(Event {
            kind,
            region,
            urgency: urgency_v,
            departments: departments_v,
            reported,
            handled: handled_t,
            dispatched: dispatched_t,
            arrived: arrived_t,
            updated,
        }),
        _ => Err(bad),
    }
}

/// Keeps the latest version of each event.
struct Keeper<'t> {
    tree: &'t RegionTree,
    slots: FxHashMap<String, Slot>,
    out: EventsRead,
}

impl Keeper<'_> {
    fn row(&mut self, errs: &mut Collector, line: usize, f: &[&str; 11]) {
        self.out.rows += 1;
        let e = match event_of(f, self.tree) {
            Ok(e) => e,
            Err(m) => {
                for m in m {
                    errs.push(Some(line), m);
                }
                return;
            }
        };
        let d = digest(f);
        let updated = e.updated;
        match self.slots.get_mut(f[0]) {
            None => {
                let at = self.out.events.len();
                self.out.events.push(e);
                self.out.ids.push(f[0].to_string());
                self.out.categories.push(f[3].to_string());
                self.slots.insert(
                    f[0].to_string(),
                    Slot {
                        at,
                        versions: vec![Version {
                            updated,
                            digest: d,
                            line,
                        }],
                    },
                );
            }
            Some(slot) => {
                if let Some(v) = slot.versions.iter().find(|v| v.updated == updated) {
                    if v.digest == d {
                        self.out.duplicates += 1;
                    } else {
                        errs.push(
                            Some(line),
                            format!(
                                "事件“{}”在同一 updated_at（{}）有两行内容不同（另见第 {} 行）",
                                f[0], f[10], v.line
                            ),
                        );
                    }
                    return;
                }
                let latest = self.out.events[slot.at].updated;
                slot.versions.push(Version {
                    updated,
                    digest: d,
                    line,
                });
                if updated > latest {
                    self.out.events[slot.at] = e;
                    self.out.categories[slot.at] = f[3].to_string();
                }
            }
        }
    }
}

/// Where each column is in the header, or what is wrong with it.
fn columns(head: &[&str], errs: &mut Collector) -> Option<[usize; 11]> {
    let mut at = [usize::MAX; 11];
    for (i, h) in head.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}');
        match COLUMNS.iter().position(|c| *c == h) {
            Some(j) if at[j] == usize::MAX => at[j] = i,
            Some(_) => errs.push(Some(1), format!("表头中“{h}”重复")),
            None => errs.push(
                Some(1),
                format!("未知的列“{h}”：应为 {}", COLUMNS.join(",")),
            ),
        }
    }
    for (j, c) in COLUMNS.iter().enumerate() {
        if at[j] == usize::MAX {
            errs.push(Some(1), format!("表头缺少列 {c}"));
        }
    }
    errs.errors.is_empty().then_some(at)
}

fn json_line(keeper: &mut Keeper, errs: &mut Collector, line: usize, text: &str) {
    let v: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return errs.push(Some(line), format!("不是 JSON：{e}")),
    };
    let Some(obj) = v.as_object() else {
        return errs.push(Some(line), "每行应为一个 JSON 对象");
    };
    let mut owned: [String; 11] = Default::default();
    for (k, v) in obj {
        let Some(j) = COLUMNS.iter().position(|c| c == k) else {
            errs.push(Some(line), format!("未知的键“{k}”"));
            continue;
        };
        owned[j] = match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.trim().to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            other => {
                errs.push(
                    Some(line),
                    format!("“{k}”应为文本、数字或 null，实际是 {other}"),
                );
                continue;
            }
        };
    }
    let f: [&str; 11] = std::array::from_fn(|j| owned[j].as_str());
    keeper.row(errs, line, &f);
}

/// The events of `bytes` (CSV or JSON Lines, by the first character).
pub fn read_events(file: &str, bytes: &[u8], tree: &RegionTree) -> Result<EventsRead, InputErrors> {
    let text = decode(bytes);
    let mut errs = Collector::new(file);
    let mut keeper = Keeper {
        tree,
        slots: FxHashMap::default(),
        out: EventsRead::default(),
    };
    let body = text.trim_start_matches('\u{feff}');
    if body.trim_start().starts_with('{') {
        for (i, l) in body.lines().enumerate() {
            if !l.trim().is_empty() {
                json_line(&mut keeper, &mut errs, i + 1, l);
            }
            if errs.full() {
                break;
            }
        }
    } else {
        let mut cols: Option<[usize; 11]> = None;
        each_record(body, &mut errs, |errs, line, rec| {
            let fields: Vec<&str> = rec
                .iter()
                .map(|b| std::str::from_utf8(b).unwrap_or("\u{fffd}").trim())
                .collect();
            let Some(at) = cols else {
                cols = columns(&fields, errs);
                return cols.is_some();
            };
            let f: [&str; 11] = std::array::from_fn(|j| fields.get(at[j]).copied().unwrap_or(""));
            keeper.row(errs, line, &f);
            true
        });
        if cols.is_none() && errs.errors.is_empty() {
            errs.push(None, "文件为空：缺少表头");
        }
    }
    errs.finish(keeper.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tree() -> RegionTree {
        crate::read_regions(
            "regions.csv",
            "code,name,parent,level\n990000,省,,province\n990100,市,990000,city\n990101,县,990100,county\n990101001,镇,990101,township\n990101002,乡,990101,township\n".as_bytes(),
        )
        .unwrap()
    }

    const HEAD: &str = "event_id,kind,region,category,urgency,departments,reported_at,handled_at,dispatched_at,arrived_at,updated_at\n";

    #[test]
    fn latest_versions_duplicates_and_errors_by_line() {
        let csv = format!(
            "{HEAD}\
             a,grid,990101001,纠纷,一般,1,2024-01-02 08:00:00,,,,2024-01-02 08:00:00\n\
             a,grid,990101001,纠纷,一般,1,2024-01-02 08:00:00,2024-01-02 09:00:00,,,2024-01-02 09:00:00\n\
             a,grid,990101001,纠纷,一般,1,2024-01-02 08:00:00,2024-01-02 09:00:00,,,2024-01-02 09:00:00\n\
             b,fire,990101002,,,,2024-01-03 08:00:00,,2024-01-03 08:01:00,2024-01-03 08:13:00,2024-01-03T01:00:00Z\n"
        );
        let r = read_events("e.csv", csv.as_bytes(), &tree()).unwrap();
        assert_eq!((r.rows, r.events.len(), r.duplicates), (4, 2, 1));
        assert!(r.events[0].handled.is_some(), "the latest version is kept");
        let bad = format!(
            "{HEAD}\
             a,grid,990101001,纠纷,一般,1,2024-01-02 08:00:00,,,,2024-01-02 08:00:00\n\
             a,grid,990101001,纠纷,紧急,1,2024-01-02 08:00:00,,,,2024-01-02 08:00:00\n\
             c,boat,990101001,,,,2024-01-02 08:00:00,,,,2024-01-02 08:00:00\n\
             d,grid,990101,x,一般,1,2024-01-02 08:00:00,,,,2024-01-02 08:00:00\n\
             e,grid,990101001,x,很急,0,2024-13-02 08:00:00,,,,2024-01-02 08:00:00\n\
             f,medical,990101001,,,,2024-01-02 08:00:00,,2024-01-02 08:05:00,2024-01-02 08:01:00,2024-01-02 09:00:00\n\
             g,grid,990101001,x,一般,1,2024-01-02 08:00:00,2024-01-01 08:00:00,,,2024-01-02 09:00:00\n"
        );
        let e = read_events("e.csv", bad.as_bytes(), &tree())
            .unwrap_err()
            .to_string();
        for want in [
            "e.csv:3: 事件“a”在同一 updated_at",
            "e.csv:4: 未知的 kind“boat”",
            "e.csv:5: 地区“990101”不是乡镇",
            "e.csv:6: reported_at“2024-13-02 08:00:00”不是时间",
            "e.csv:6: 未知的 urgency“很急”",
            "e.csv:6: departments“0”",
            "e.csv:7: arrived_at",
            "e.csv:8: handled_at",
        ] {
            assert!(e.contains(want), "{want} in\n{e}");
        }
    }

    #[test]
    fn json_lines_read_as_csv() {
        let jsonl = "{\"event_id\":\"a\",\"kind\":\"grid\",\"region\":\"990101001\",\"category\":null,\"urgency\":\"特急\",\"departments\":2,\"reported_at\":\"2024-01-02T00:00:00Z\",\"handled_at\":\"2024-01-02 08:30:00\",\"dispatched_at\":null,\"arrived_at\":\"\",\"updated_at\":\"2024-01-02 09:00:00\"}\n";
        let r = read_events("e.jsonl", jsonl.as_bytes(), &tree()).unwrap();
        assert_eq!(r.events.len(), 1);
        assert!(
            r.events[0].timely(),
            "08:00 China time reported, 08:30 handled: at the deadline"
        );
        let e = read_events("e.jsonl", b"{\"event_id\": [1]}\nnot json\n", &tree())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("e.jsonl:1:") && e.contains("e.jsonl:2: 不是 JSON"),
            "{e}"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = read_events("x.csv", &bytes, &tree());
        }

        #[test]
        fn arbitrary_rows_never_panic(rows in proptest::collection::vec("[a-z0-9,:\\- 一般紧急特]{0,80}", 0..8)) {
            let text = format!("{HEAD}{}", rows.join("\n"));
            let _ = read_events("x.csv", text.as_bytes(), &tree());
        }
    }
}
