//! Event records (events.md §1): CSV or JSON Lines, one event version per
//! row. Every row is checked (every problem named by line, nothing kept if
//! any), the latest version of each `event_id` kept, identical repeats of
//! a version counted once and a different row under the same `event_id`
//! and `updated_at` refused.

use crate::error::{Collector, InputErrors};
use crate::table::each_record;
use pingan_core::RegionTree;
use pingan_core::events::{Event, Kind, Urgency, time};
use pingan_core::period::Date;
use rustc_hash::{FxHashMap, FxHasher};
use std::borrow::Cow;
use std::hash::Hasher;

mod parts;
mod stream;
pub use stream::{Aggregated, Streamed, aggregate_bytes, aggregate_stream};

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

/// What a file held: the latest version of each event with its id and
/// category, borrowed from the text where they can be.
#[derive(Debug, Default)]
pub struct EventsRead<'a> {
    pub events: Vec<Event>,
    pub ids: Vec<Cow<'a, str>>,
    /// The category of each event (free text, grid events).
    pub categories: Vec<Cow<'a, str>>,
    /// The digest of each event's latest row (all its fields as written),
    /// and that row's line.
    pub digests: Vec<u128>,
    pub lines: Vec<usize>,
    /// Data rows in the file.
    pub rows: usize,
    /// Rows that repeated a version exactly.
    pub duplicates: usize,
}

/// One version seen: when it was updated, what it said, where.
#[derive(Clone, Copy)]
struct Version {
    updated: f64,
    digest: u128,
    line: usize,
}

struct Slot {
    /// Index into the output of the latest version.
    at: usize,
    first: Version,
    /// Versions after the first (most events have one).
    more: Vec<Version>,
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
#[derive(Default)]
struct Keeper<'a> {
    slots: FxHashMap<Cow<'a, str>, Slot>,
    out: EventsRead<'a>,
}

/// A row checked (on any thread): its line, fields, event and digest.
type Checked<'a> = (usize, [Cow<'a, str>; 3], Result<Event, Vec<String>>, u128);

fn check<'a>(line: usize, f: &[Cow<'a, str>; 11], tree: &RegionTree) -> Checked<'a> {
    let s: [&str; 11] = std::array::from_fn(|j| f[j].as_ref());
    (
        line,
        [f[0].clone(), f[3].clone(), f[10].clone()],
        event_of(&s, tree),
        digest(&s),
    )
}

impl<'a> Keeper<'a> {
    fn reserve(&mut self, rows: usize) {
        self.slots.reserve(rows);
        self.out.events.reserve(rows);
        self.out.ids.reserve(rows);
        self.out.categories.reserve(rows);
        self.out.digests.reserve(rows);
        self.out.lines.reserve(rows);
    }

    fn row(&mut self, errs: &mut Collector, c: Checked<'a>) {
        let (line, [id, category, updated_text], e, d) = c;
        self.out.rows += 1;
        let e = match e {
            Ok(e) => e,
            Err(m) => {
                for m in m {
                    errs.push(Some(line), m);
                }
                return;
            }
        };
        let updated = e.updated;
        let v = Version {
            updated,
            digest: d,
            line,
        };
        match self.slots.get_mut(&id) {
            None => {
                let at = self.out.events.len();
                self.out.events.push(e);
                self.out.ids.push(id.clone());
                self.out.categories.push(category);
                self.out.digests.push(d);
                self.out.lines.push(line);
                self.slots.insert(
                    id,
                    Slot {
                        at,
                        first: v,
                        more: Vec::new(),
                    },
                );
            }
            Some(slot) => {
                if let Some(seen) = std::iter::once(&slot.first)
                    .chain(&slot.more)
                    .find(|s| s.updated == updated)
                {
                    if seen.digest == d {
                        self.out.duplicates += 1;
                    } else {
                        errs.push(
                            Some(line),
                            format!(
                                "事件“{id}”在同一 updated_at（{updated_text}）有两行内容不同（另见第 {} 行）",
                                seen.line
                            ),
                        );
                    }
                    return;
                }
                slot.more.push(v);
                if updated > self.out.events[slot.at].updated {
                    self.out.events[slot.at] = e;
                    self.out.categories[slot.at] = category;
                    self.out.digests[slot.at] = d;
                    self.out.lines[slot.at] = line;
                }
            }
        }
    }
}

/// Where each column is in the header, or what is wrong with it.
fn columns(head: &[&str], errs: &mut Collector) -> Option<[usize; 11]> {
    if let Some(m) = head
        .first()
        .and_then(|h| crate::table::not_text(h.as_bytes()))
    {
        errs.push(Some(1), m.to_string());
        return None;
    }
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
    let missing: Vec<&str> = COLUMNS
        .iter()
        .zip(at)
        .filter(|(_, i)| *i == usize::MAX)
        .map(|(c, _)| *c)
        .collect();
    if !missing.is_empty() {
        errs.push(Some(1), format!("表头缺少列 {}", missing.join(",")));
    }
    errs.errors.is_empty().then_some(at)
}

fn json_line(
    keeper: &mut Keeper<'_>,
    errs: &mut Collector,
    tree: &RegionTree,
    line: usize,
    text: &str,
) {
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
    let f: [Cow<'_, str>; 11] = owned.map(Cow::Owned);
    keeper.row(errs, check(line, &f, tree));
}

/// Rows checked on every core at a time; then kept in file order.
const BLOCK: usize = 1 << 16;

/// The events of `text` (CSV or JSON Lines, by the first character; see
/// `crate::decode` for the bytes of a file).
pub fn read_events<'a>(
    file: &str,
    text: &'a str,
    tree: &RegionTree,
) -> Result<EventsRead<'a>, InputErrors> {
    let mut errs = Collector::new(file);
    let mut keeper = Keeper {
        slots: FxHashMap::default(),
        out: EventsRead::default(),
    };
    let body = text.trim_start_matches('\u{feff}');
    if body.trim_start().starts_with('{') {
        for (i, l) in body.lines().enumerate() {
            if !l.trim().is_empty() {
                json_line(&mut keeper, &mut errs, tree, i + 1, l);
            }
            if errs.full() {
                break;
            }
        }
        return errs.finish(keeper.out);
    }
    let mut cols: Option<[usize; 11]> = None;
    let mut block: Vec<(usize, [Cow<'a, str>; 11])> = Vec::with_capacity(BLOCK);
    let flush = |block: &mut Vec<(usize, [Cow<'a, str>; 11])>,
                 keeper: &mut Keeper<'a>,
                 errs: &mut Collector| {
        let checked = pingan_core::par::map(block, |(line, f)| check(*line, f, tree));
        for c in checked {
            keeper.row(errs, c);
        }
        block.clear();
    };
    // A file without quotes (the usual one) is read on every core, its
    // fields borrowed from the text; otherwise the csv crate unquotes them
    // into owned text.
    if memchr::memchr(b'"', body.as_bytes()).is_none() {
        let read = parts::read(body, tree, &mut errs);
        return errs.finish(read);
    }
    // Sized for the file (a row is about 110 bytes), so that a large file's
    // events are not rehashed again and again.
    keeper.reserve(body.len() / 110);
    let mut take = |errs: &mut Collector,
                    line: usize,
                    rec: &mut dyn FnMut(usize) -> Cow<'a, str>,
                    n: usize|
     -> bool {
        let Some(at) = cols else {
            let head: Vec<String> = (0..n).map(|j| rec(j).into_owned()).collect();
            let head: Vec<&str> = head.iter().map(String::as_str).collect();
            cols = columns(&head, errs);
            return cols.is_some();
        };
        let f: [Cow<'a, str>; 11] = std::array::from_fn(|j| {
            if at[j] < n {
                rec(at[j])
            } else {
                Cow::Borrowed("")
            }
        });
        block.push((line, f));
        if block.len() == BLOCK {
            flush(&mut block, &mut keeper, errs);
        }
        !errs.full()
    };
    each_record(body, &mut errs, |errs, line, rec| {
        let mut get = |j: usize| Cow::Owned(String::from_utf8_lossy(rec[j]).trim().to_string());
        take(errs, line, &mut get, rec.len())
    });
    flush(&mut block, &mut keeper, &mut errs);
    if cols.is_none() && errs.errors.is_empty() {
        errs.push(None, "文件为空：缺少表头");
    }
    errs.finish(keeper.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(in crate::events) fn tree() -> RegionTree {
        crate::read_regions(
            "regions.csv",
            "code,name,parent,level\n990000,省,,province\n990100,市,990000,city\n990101,县,990100,county\n990101001,镇,990101,township\n990101002,乡,990101,township\n".as_bytes(),
        )
        .unwrap()
    }

    pub(in crate::events) const HEAD: &str = "event_id,kind,region,category,urgency,departments,reported_at,handled_at,dispatched_at,arrived_at,updated_at\n";

    #[test]
    fn latest_versions_duplicates_and_errors_by_line() {
        let csv = format!(
            "{HEAD}\
             a,grid,990101001,纠纷,一般,1,2024-01-02 08:00:00,,,,2024-01-02 08:00:00\n\
             a,grid,990101001,纠纷,一般,1,2024-01-02 08:00:00,2024-01-02 09:00:00,,,2024-01-02 09:00:00\n\
             a,grid,990101001,纠纷,一般,1,2024-01-02 08:00:00,2024-01-02 09:00:00,,,2024-01-02 09:00:00\n\
             b,fire,990101002,,,,2024-01-03 08:00:00,,2024-01-03 08:01:00,2024-01-03 08:13:00,2024-01-03T01:00:00Z\n"
        );
        let r = read_events("e.csv", &csv, &tree()).unwrap();
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
        let e = read_events("e.csv", &bad, &tree()).unwrap_err().to_string();
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

    /// A workbook given as the events file: said so, its bytes not printed.
    #[test]
    fn a_workbook_is_said_to_be_one() {
        let e = read_events(
            "e.csv",
            "PK\u{3}\u{4}\u{14}\0[Content_Types].xml,x\n",
            &tree(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("e.csv:1: 这是 Excel 工作簿"), "{e}");
        assert!(!e.contains("Content_Types"), "{e}");
    }

    #[test]
    fn json_lines_read_as_csv() {
        let jsonl = "{\"event_id\":\"a\",\"kind\":\"grid\",\"region\":\"990101001\",\"category\":null,\"urgency\":\"特急\",\"departments\":2,\"reported_at\":\"2024-01-02T00:00:00Z\",\"handled_at\":\"2024-01-02 08:30:00\",\"dispatched_at\":null,\"arrived_at\":\"\",\"updated_at\":\"2024-01-02 09:00:00\"}\n";
        let r = read_events("e.jsonl", jsonl, &tree()).unwrap();
        assert_eq!(r.events.len(), 1);
        assert!(
            r.events[0].timely(),
            "08:00 China time reported, 08:30 handled: at the deadline"
        );
        let e = read_events("e.jsonl", "{\"event_id\": [1]}\nnot json\n", &tree())
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
            let _ = read_events("x.csv", &crate::decode(&bytes), &tree());
        }

        #[test]
        fn arbitrary_rows_never_panic(rows in proptest::collection::vec("[a-z0-9,:\\- 一般紧急特]{0,80}", 0..8)) {
            let text = format!("{HEAD}{}", rows.join("\n"));
            let _ = read_events("x.csv", &text, &tree());
        }
    }
}
